package experiments

import "math"

// Branch-free exp and log1p for the logistic loss, where every row needs
// exp(-|t|) and log1p of the result: the math package's versions branch
// on special cases and ranges, and the branches, unpredictable on data,
// cost more than the arithmetic. The polynomials are the math package's
// (from FreeBSD's msun); results agree with math.Exp and math.Log1p to a
// couple of ulps.

// expNeg returns e^-a for a ≥ 0 (NaN for NaN). Below e^-700 ≈ 1e-304 it
// returns e^-700 instead of a smaller or subnormal value: the loss sums
// and sigmoids that use it do not change at that size.
func expNeg(a float64) float64 {
	const (
		ln2Hi = 6.93147180369123816490e-01
		ln2Lo = 1.90821492927058770002e-10
		log2e = 1.44269504088896338700e+00
		p1    = 1.66666666666666657415e-01
		p2    = -2.77777777770155933842e-03
		p3    = 6.61375632143793436117e-05
		p4    = -1.65339022054652515390e-06
		p5    = 4.13813679705723846039e-08
	)
	x := -min(a, 700)
	k := int64(log2e*x - 0.5) // round to nearest (x ≤ 0)
	kf := float64(k)
	hi := x - kf*ln2Hi
	lo := kf * ln2Lo
	r := hi - lo
	t := r * r
	c := r - t*(p1+t*(p2+t*(p3+t*(p4+t*p5))))
	y := 1 - ((lo - (r*c)/(2-c)) - hi)
	return y * math.Float64frombits(uint64(k+1023)<<52) // y·2^k, k ≥ -1010
}

// log1pUnit returns log(1+e) for e in [0, 1].
func log1pUnit(e float64) float64 {
	const (
		ln2Hi = 6.93147180369123816490e-01
		ln2Lo = 1.90821492927058770002e-10
		l1    = 6.666666666666735130e-01
		l2    = 3.999999999940941908e-01
		l3    = 2.857142874366239149e-01
		l4    = 2.222219843214978396e-01
		l5    = 1.818357216161805012e-01
		l6    = 1.531383769920937332e-01
		l7    = 1.479819860511658591e-01
	)
	// 1+e = 2^k·(1+f) with f in [√2/2-1, √2-1): k = 0 and f = e exactly
	// below √2-1, else k = 1 and f = (e-1)/2. The sign of √2-1-e picks.
	big := uint64(int64(math.Float64bits(0.41421356237309503-e)) >> 63)
	f := math.Float64frombits(math.Float64bits((e-1)*0.5)&big | math.Float64bits(e)&^big)
	k := math.Float64frombits(math.Float64bits(1) & big)
	s := f / (2 + f)
	s2 := s * s
	s4 := s2 * s2
	t1 := s2 * (l1 + s4*(l3+s4*(l5+s4*l7)))
	t2 := s4 * (l2 + s4*(l4+s4*l6))
	R := t1 + t2
	hfsq := 0.5 * f * f
	return k*ln2Hi - ((hfsq - (s*(hfsq+R) + k*ln2Lo)) - f)
}
