package goeval

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"
)

// benchCells are the cells the benchmarks run: the same cell again and
// again, and cells that differ each time (so nothing can be reused).
//
//	go test -run '^$' -bench 'Execute|Retained' -benchtime 5000x ./kernel/goeval
var benchCells = []struct {
	name string
	code func(i int) string
}{
	{"1+1", func(int) string { return "1+1" }},
	{"x := 1", func(int) string { return "x := 1" }},
	{"x", func(int) string { return "x" }},
	{"x+i", func(i int) string { return fmt.Sprintf("x + %d", i) }},
	{"y := i", func(i int) string { return fmt.Sprintf("y := %d", i) }},
	{"f(i)", func(i int) string { return fmt.Sprintf("f(%d)", i) }},
	// Calls of panic are rewritten (see rewritePanics).
	{"err check", func(i int) string {
		return fmt.Sprintf("z, err := f(%d), error(nil)\nif err != nil {\n\tpanic(err)\n}\nz", i)
	}},
}

func benchSession(b testing.TB) *Session {
	var out syncBuffer
	s, err := New(Options{Symbols: testSymbols(), Stdout: &out, Stderr: &out})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.Execute(context.Background(), "x := 1\nfunc f(n int) int { return n * 2 }"); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkExecute measures one cell in-process: splitting, checks,
// evaluation and result rendering.
func BenchmarkExecute(b *testing.B) {
	for _, c := range benchCells {
		b.Run(c.name, func(b *testing.B) {
			s := benchSession(b)
			runCells(b, s, c.code)
		})
	}
}

// BenchmarkExecuteLate is BenchmarkExecute after 3000 cells have run: the
// cost of a cell must not grow with the session.
func BenchmarkExecuteLate(b *testing.B) {
	for _, c := range benchCells {
		b.Run(c.name, func(b *testing.B) {
			s := benchSession(b)
			for i := 0; i < 3000; i++ {
				if _, err := s.Execute(context.Background(), fmt.Sprintf("x + %d", i)); err != nil {
					b.Fatal(err)
				}
			}
			runCells(b, s, c.code)
		})
	}
}

// runCells runs b.N cells and reports their median time (p50-ns) besides
// the mean.
func runCells(b *testing.B, s *Session, code func(int) string) {
	times := make([]time.Duration, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := s.Execute(context.Background(), code(i)); err != nil {
			b.Fatal(err)
		}
		times[i] = time.Since(t0)
	}
	b.StopTimer()
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Nanoseconds()), "p50-ns")
}

func heapInuse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// BenchmarkRetained reports how much heap each cell keeps for good
// (B/cell-retained: HeapInuse after a GC, growth per cell). Run it with
// many iterations (-benchtime 5000x) for a stable figure.
func BenchmarkRetained(b *testing.B) {
	for _, c := range benchCells {
		b.Run(c.name, func(b *testing.B) {
			s := benchSession(b)
			for i := 0; i < 100; i++ { // warm up caches and tables
				if _, err := s.Execute(context.Background(), c.code(-i-1)); err != nil {
					b.Fatal(err)
				}
			}
			h0 := heapInuse()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.Execute(context.Background(), c.code(i)); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			h1 := heapInuse()
			b.ReportMetric(float64(int64(h1)-int64(h0))/float64(b.N), "B/cell-retained")
			runtime.KeepAlive(s)
		})
	}
}
