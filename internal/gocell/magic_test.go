package gocell

import (
	"strings"
	"testing"
)

func TestMagicLine(t *testing.T) {
	for _, tt := range []struct {
		t, above string
		from     int // lines of above left out of the scan
		want     bool
	}{
		{"%time", "", 0, true},
		{"%env X=1", "x := 1\n", 0, true},
		{"!ls", "if x {\n}\n", 0, true},
		{"!b", "ok := a &&\n", 0, false},
		{"%env X=1", "s := `\n", 0, false},
		{"%env X=1", "f(\n", 0, false},
		{"x := 1", "", 0, false},
		{"  %env X=1", "x := 1\n", 0, true},
		{"%env X=1", "f(\n", 1, true}, // the scan starts after the line left out
	} {
		lines := strings.SplitAfter(tt.above+tt.t, "\n")
		if got := MagicLine(lines, tt.from, len(lines)-1); got != tt.want {
			t.Errorf("MagicLine(%q above %q from %d) = %v", tt.t, tt.above, tt.from, got)
		}
	}
}
