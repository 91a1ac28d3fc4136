package experiments

import (
	"syscall"
	"testing"
	"time"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestCPULarge(t *testing.T) {
	XL, yL := synthClf(160000, 50)
	for _, c := range []struct{ name string; f func() }{
		{"logreg", func() { p := NewPipeline(&StandardScaler{}, &LogisticRegression{MaxIter: 1000}); p.Fit(XL, yL); n, _ := p.Steps[1].Estimator.(*LogisticRegression).NIter(); t.Log("iters", n) }},
		{"scaler", func() { (&StandardScaler{}).FitTransform(XL) }},
		{"ridge", func() { (&Ridge{}).Fit(XL, yL) }},
		{"kmeans", func() { k := &KMeans{K: 8, NInit: 1}; k.Fit(XL, nil); t.Log("iters", k.NIter()) }},
	} {
		best, bestW := time.Hour, time.Hour
		for i := 0; i < 2; i++ {
			t0, w0 := cpuTime(), time.Now(); c.f(); best = min(best, cpuTime()-t0); bestW = min(bestW, time.Since(w0))
		}
		t.Logf("%s cpu %v wall %v", c.name, best, bestW)
	}
}
