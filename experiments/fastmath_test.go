package experiments

import (
	"math"
	"testing"
)

// ulps is the distance between a and b in units in the last place.
func ulps(a, b float64) float64 {
	if a == b {
		return 0
	}
	return math.Abs(a-b) / math.Abs(math.Nextafter(b, math.Inf(1))-b)
}

func TestExpNegLog1pUnit(t *testing.T) {
	r := newRand(11)
	var as []float64
	for _, a := range []float64{0, 1e-300, 1e-20, 1e-9, 0.1, 0.34657359, 0.5, 0.88137359, 1, 2, 10, 36, 100, 699.9, 700} {
		as = append(as, a)
	}
	for i := 0; i < 200000; i++ {
		as = append(as, r.ExpFloat64()*float64(1+i%40))
	}
	worstExp, worstLog := 0.0, 0.0
	for _, a := range as {
		e := expNeg(a)
		if u := ulps(e, math.Exp(-a)); u > worstExp {
			worstExp = u
		}
		if u := ulps(log1pUnit(e), math.Log1p(e)); u > worstLog {
			worstLog = u
		}
	}
	if worstExp > 2 || worstLog > 2 {
		t.Errorf("worst error: expNeg %.1f ulp, log1pUnit %.1f ulp (want ≤ 2)", worstExp, worstLog)
	}
	if e := expNeg(1e6); e != math.Exp(-700) {
		t.Errorf("expNeg(1e6) = %v, want the e^-700 floor", e)
	}
	if !math.IsNaN(expNeg(math.NaN())) {
		t.Error("expNeg(NaN) is not NaN")
	}
	for _, e := range []float64{0, 1, 0.41421356237309503, 0.41421356237309515, 1e-310} {
		if u := ulps(log1pUnit(e), math.Log1p(e)); u > 2 {
			t.Errorf("log1pUnit(%v) = %v, want %v", e, log1pUnit(e), math.Log1p(e))
		}
	}
}

var sinkF float64

func BenchmarkLogisticTerm(b *testing.B) {
	for i := 0; i < b.N; i++ {
		l, d := logisticTerm(float64(i%200)/50-2, float64(1-2*(i%2)))
		sinkF += l + d
	}
}

func BenchmarkLogisticTermMath(b *testing.B) {
	for i := 0; i < b.N; i++ {
		z, s := float64(i%200)/50-2, float64(1-2*(i%2))
		t := s * z
		e := math.Exp(-math.Abs(t))
		sinkF += max(t, 0) + math.Log1p(e) + s/(1+e)
	}
}

func TestLogTermsRows4(t *testing.T) {
	r := newRand(13)
	var z, s, d [4]float64
	worstL, worstD := 0.0, 0.0
	for i := 0; i < 100000; i++ {
		for l := range z {
			z[l] = r.NormFloat64() * float64(1+i%30)
			s[l] = float64(1 - 2*r.IntN(2))
			if i%97 == 0 {
				z[l] = []float64{0, math.Copysign(0, -1), 800, -800, 1e-300}[l%5]
			}
		}
		loss := logTermsRows4(&z, &s, &d)
		var want float64
		for l := range z {
			wl, wd := logisticTerm(z[l], s[l])
			want += wl
			if u := ulps(d[l], wd); u > worstD && math.Abs(wd) > 1e-300 {
				worstD = u
			}
		}
		if u := ulps(loss, want); u > worstL && want > 1e-300 {
			worstL = u
		}
	}
	t.Logf("worst: loss %.2f ulp, derivative %.2f ulp (assembly %v)", worstL, worstD, haveAsmKernel)
	if worstL > 4 || worstD > 4 {
		t.Errorf("worst error against logisticTerm: loss %.1f ulp, derivative %.1f ulp", worstL, worstD)
	}
}

// TestLogTermsRowsBatch checks that a batch gives each row what a call
// for its group of four gives, bit for bit: the logistic loss's sums
// must not depend on how rows are batched.
func TestLogTermsRowsBatch(t *testing.T) {
	r := newRand(17)
	for _, n := range []int{4, 8, 64} {
		z, s := make([]float64, n), make([]float64, n)
		for i := range z {
			z[i] = r.NormFloat64() * 10
			s[i] = float64(1 - 2*r.IntN(2))
		}
		d, loss := make([]float64, n), make([]float64, n)
		logTermsRows(z, s, d, loss)
		for g := 0; g < n; g += 4 {
			var d4, l4 [4]float64
			logTermsRows(z[g:g+4], s[g:g+4], d4[:], l4[:])
			for l := range d4 {
				if math.Float64bits(d4[l]) != math.Float64bits(d[g+l]) || math.Float64bits(l4[l]) != math.Float64bits(loss[g+l]) {
					t.Fatalf("n=%d row %d: batch gave %v %v, four at a time %v %v", n, g+l, loss[g+l], d[g+l], l4[l], d4[l])
				}
			}
		}
	}
}

// TestExpNegRows checks the batch exponential of the multinomial loss
// (assembly where the CPU has it) against math.Exp.
func TestExpNegRows(t *testing.T) {
	r := newRand(19)
	a := make([]float64, 4096)
	for i := range a {
		a[i] = math.Abs(r.NormFloat64()) * float64(1+i%40)
	}
	a[0], a[1], a[2], a[3] = 0, 700, 745, 1e-300
	e := make([]float64, len(a))
	expNegRows(a, e)
	worst := 0.0
	for i, v := range a {
		want := math.Exp(-min(v, 700))
		if u := ulps(e[i], want); u > worst {
			worst = u
		}
	}
	t.Logf("worst %.2f ulp (assembly %v)", worst, haveAsmKernel)
	if worst > 4 || e[0] != 1 {
		t.Errorf("worst error against math.Exp %.1f ulp; e^0 = %v", worst, e[0])
	}
}
