package goeval

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestEvaluate(t *testing.T) {
	ts := newSession(t)
	ts.run("x := 21\ndone := false\nfunc f() {}\nvar n int")
	tests := []struct {
		expr     string
		want     string // text/plain of the value
		errName  string // or the error's name
		errMatch string
	}{
		{expr: "x * 2", want: "42"},
		{expr: `"a" + "b"`, want: `"ab"`},
		{expr: "!done", want: "true"}, // Go, not a shell command
		{expr: "x := 3", errName: "SyntaxError", errMatch: "not a Go expression"},
		{expr: "%env", errName: "SyntaxError"},
		{expr: "", errName: "SyntaxError", errMatch: "empty"},
		{expr: "f()", errName: "TypeError", errMatch: "no value"},
		{expr: "undefinedName + 1", errName: "CompileError"},
	}
	for _, tt := range tests {
		b, err := ts.Evaluate(context.Background(), tt.expr)
		if tt.errName != "" {
			var ce *CellError
			if !errors.As(err, &ce) {
				t.Errorf("Evaluate(%q) = %v, %v; want a %s", tt.expr, b.Data, err, tt.errName)
				continue
			}
			if tt.errName != "CompileError" && ce.Name != tt.errName || !strings.Contains(ce.Value, tt.errMatch) {
				t.Errorf("Evaluate(%q) error %s: %s; want %s containing %q", tt.expr, ce.Name, ce.Value, tt.errName, tt.errMatch)
			}
			continue
		}
		if err != nil {
			t.Errorf("Evaluate(%q): %v", tt.expr, err)
			continue
		}
		if got := b.Data["text/plain"]; got != tt.want {
			t.Errorf("Evaluate(%q) = %v, want %q", tt.expr, got, tt.want)
		}
	}
	// Evaluating leaves the session as it was: the next cell sees the
	// same state and its own errors still point at its own lines.
	if got := ts.text("x"); got != "21" {
		t.Errorf("x after Evaluate = %q, want 21", got)
	}
}
