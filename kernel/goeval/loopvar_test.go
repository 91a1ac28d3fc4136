package goeval

import (
	"strings"
	"testing"
)

func TestPerIterationRewrite(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"closure in a three-clause loop", "for i := 0; i < 3; i++ {\n\tfs = append(fs, func() int { return i })\n}",
			"for i := 0; i < 3; i++ {i := i;\n\tfs = append(fs, func() int { return i })\n}"},
		{"goroutine in a range loop", "for k, v := range m {\n\tgo use(k, v)\n}", "for k, v := range m {k, v := k, v;\n\tgo use(k, v)\n}"},
		{"address in a range loop", "for _, v := range xs { ps = append(ps, &v) }", "for _, v := range xs {v := v; ps = append(ps, &v) }"},
		{"inside a function", "func f() {\n\tfor _, v := range xs {\n\t\tdefer g(v)\n\t}\n}", "func f() {\n\tfor _, v := range xs {v := v;\n\t\tdefer g(v)\n\t}\n}"},
		{"nothing kept", "for i := 0; i < 3; i++ {\n\tsum += i\n}", ""},
		{"the body changes the variable", "for i := 0; i < 9; i++ {\n\ti++\n\tfs = append(fs, func() int { return i })\n}", ""},
		{"the body takes its address", "for i := 0; i < 9; i++ {\n\tp := &i\n\t*p += 2\n}", ""},
		{"assigned, not defined", "for i = 0; i < 3; i++ {\n\tgo use(i)\n}", ""},
		{"blank names", "for range xs {\n\tgo use()\n}", ""},
		{"syntax error", "for i := 0; i < 3; i++ {\n\tgo use(i)\n", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, added, prs := perIteration(1, tc.src)
			want := tc.want
			if want == "" {
				want = tc.src
			}
			if got != want {
				t.Errorf("perIteration(%q) =\n%q\nwant\n%q", tc.src, got, want)
			}
			// Unchanged code that parses comes with its parse.
			if unchanged := tc.want == "" && tc.name != "syntax error"; unchanged != (prs != nil) {
				t.Errorf("parse returned: %v, want %v", prs != nil, unchanged)
			}
			c := &cellCode{src: got, added: added}
			if w := c.written(0, len(got)); w != tc.src {
				t.Errorf("written = %q, want the cell's text %q", w, tc.src)
			}
		})
	}
}

// Loops give each iteration its own variables, as Go 1.22 does.
func TestPerIterationLoops(t *testing.T) {
	s := newSession(t)
	s.run("import (\n\t\"fmt\"\n\t\"strings\"\n\t\"sync\"\n)")
	tests := []struct {
		cell, expr, want string
	}{
		{"var fs []func() int\nfor i := 0; i < 3; i++ {\n\tfs = append(fs, func() int { return i })\n}\nvar got []int\nfor _, f := range fs {\n\tgot = append(got, f())\n}", "got", "[0 1 2]"},
		{"var b strings.Builder\nvar gs []func()\nfor _, c := range []string{\"a\", \"b\", \"c\"} {\n\tgs = append(gs, func() { b.WriteString(c) })\n}\nfor _, g := range gs {\n\tg()\n}", "b.String()", `"abc"`},
		// Goroutines indexing with the loop variable: with one shared
		// variable they wrote res[4] and took the session down.
		{"res := make([]int, 4)\nvar wg sync.WaitGroup\nfor i := 0; i < 4; i++ {\n\twg.Add(1)\n\tgo func() {\n\t\tdefer wg.Done()\n\t\tres[i] = i * i\n\t}()\n}\nwg.Wait()", "res", "[0 1 4 9]"},
		{"var ps []*string\nfor _, v := range []string{\"x\", \"y\"} {\n\tps = append(ps, &v)\n}", "*ps[0] + *ps[1]", `"xy"`},
		{"func squares(n int) []func() int {\n\tvar out []func() int\n\tfor i := 0; i < n; i++ {\n\t\tout = append(out, func() int { return i * i })\n\t}\n\treturn out\n}", "squares(3)[2]()", "4"},
		// A body that changes its variable keeps the loop's own.
		{"n := 0\nfor i := 0; i < 6; i++ {\n\ti++\n\tdefer func() {}()\n\tn++\n}", "n", "3"},
	}
	for _, tc := range tests {
		s.run(tc.cell)
		if got := s.text(tc.expr); got != tc.want {
			t.Errorf("after\n%s\n%s = %s, want %s", tc.cell, tc.expr, got, tc.want)
		}
	}
	// What the cell shows of itself is what it wrote.
	s.run("func loops() int {\n\tt := 0\n\tfor _, v := range []int{1, 2} {\n\t\tdefer func() { t += v }()\n\t}\n\treturn t\n}")
	found, data := s.Inspect("loops", 5, 1)
	if text, _ := data["text/plain"].(string); !found || !strings.Contains(text, "for _, v := range []int{1, 2} {\n") {
		t.Errorf("loops?? shows\n%s", text)
	}
	ce := s.fail("for i := 0; i < 2; i++ {\n\tgo func() { _ = i }()\n\tundefinedThing()\n}")
	if tb := strings.Join(ce.Traceback, "\n"); strings.Contains(tb, "i := i") || !strings.Contains(tb, "undefinedThing()") {
		t.Errorf("traceback shows the rewritten loop or not the line:\n%s", tb)
	}
}
