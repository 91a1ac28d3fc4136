package goeval

import (
	"context"
	"testing"
)

// BenchmarkExecute measures one cell in-process: splitting, checks,
// evaluation and result rendering.
func BenchmarkExecute(b *testing.B) {
	for _, code := range []string{"1+1", "x := 1", "x"} {
		b.Run(code, func(b *testing.B) {
			var out syncBuffer
			s, err := New(Options{Symbols: testSymbols(), Stdout: &out, Stderr: &out})
			if err != nil {
				b.Fatal(err)
			}
			s.Execute(context.Background(), "x := 1")
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.Execute(context.Background(), code); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
