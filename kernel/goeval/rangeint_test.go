package goeval

import (
	"strings"
	"testing"
)

// The loop's variable is the counter itself (no copy per iteration,
// which made a small loop twice as slow) exactly when the body cannot
// tell it from a copy.
func TestRangeIntCounter(t *testing.T) {
	s := newSession(t)
	s.run("i := 2")
	for _, tt := range []struct {
		code string
		fast bool
	}{
		{"for i := range 3 { s += i }", true},
		{"for i := range 3 { i := i * 10; _ = i }", true},
		{"for i := range 3 { i += 10 }", false},
		{"for i := range 3 { i++ }", false},
		{"for i := range 3 { p := &i; _ = p }", false},
		{"for i := range 3 { f := func() int { return i }; _ = f }", false},
		{"for i := range 3 { go use(i) }", false},
		{"for i := range 3 { defer use(i) }", false},
		{"for i := range i { s += i }", false}, // the bound reads the outer i
		{"for i := range 3 { for i = range []int{1} {} }", false},
		{"for i := range 3 { for _, i := range []int{1} { _ = i } }", true},
	} {
		out, _ := s.rangeInts(s.current(), 1, tt.code)
		fast := strings.HasPrefix(out, "for i, "+rangeEnd+" := int(0), ")
		copied := strings.Contains(out, "i := "+rangeCounter+"; {")
		if fast != tt.fast || copied == tt.fast {
			t.Errorf("%q became %q; want the counter to be i: %v", tt.code, out, tt.fast)
		}
	}
}
