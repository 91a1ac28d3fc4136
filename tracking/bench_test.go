package tracking

import (
	"path/filepath"
	"testing"
)

// BenchmarkLogMetric measures one LogMetric call including its share of
// the batched writes.
func BenchmarkLogMetric(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	r, _ := s.StartRun("bench", nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.LogMetric("loss", float64(i), i)
	}
	r.Finish()
}

// BenchmarkFlush1000 measures writing one batch of 1000 points.
func BenchmarkFlush1000(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.SetBatching(1<<30, 0)
	r, _ := s.StartRun("bench", nil)
	step := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for j := 0; j < 1000; j++ {
			r.LogMetric("loss", float64(step), step)
			step++
		}
		b.StartTimer()
		if err := r.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	r.Finish()
}
