package gocell

import "testing"

func TestMagicLine(t *testing.T) {
	for _, tt := range []struct {
		t, above string
		want     bool
	}{
		{"%time", "", true},
		{"%env X=1", "x := 1\n", true},
		{"!ls", "if x {\n}\n", true},
		{"!b", "ok := a &&\n", false},
		{"%env X=1", "s := `\n", false},
		{"%env X=1", "f(\n", false},
		{"x := 1", "", false},
	} {
		if got := MagicLine(tt.t, tt.above); got != tt.want {
			t.Errorf("MagicLine(%q, %q) = %v", tt.t, tt.above, got)
		}
	}
}
