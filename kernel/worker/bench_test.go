package worker

import (
	"context"
	"testing"

	"github.com/gopherlab/gopherlab/kernel"
)

// BenchmarkExecute measures one cell round trip through the child process
// (request pipe, evaluation, reply), without ZeroMQ.
func BenchmarkExecute(b *testing.B) {
	for _, code := range []string{"1+1", "x := 1"} {
		b.Run(code, func(b *testing.B) {
			e := newEngine(b)
			out := &recorder{}
			e.Execute(context.Background(), kernel.ExecuteRequest{Code: code}, out)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if r := e.Execute(context.Background(), kernel.ExecuteRequest{Code: code}, out); r.Status != "ok" {
					b.Fatalf("%+v", r)
				}
			}
		})
	}
}
