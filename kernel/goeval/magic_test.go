package goeval

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestMagics(t *testing.T) {
	s := newSession(t)

	s.run("%help")
	if !strings.Contains(s.out.String(), "%timeit") || !strings.Contains(s.out.String(), "%env") {
		t.Errorf("%%help: %q", s.out.String())
	}

	// %packages lists what cells can import, as the ImportError says.
	for _, tc := range []struct {
		code      string
		want, not []string
	}{
		{"%packages", []string{"Cells can import these", "standard library (", " bufio ", " strings", "gonum ("}, nil},
		{"%packages floats", []string{"gonum.org/v1/gonum/floats\n"}, []string{"strings", "Cells can"}},
		{"%packages nosuchthing", []string{`no importable package path contains "nosuchthing"`}, nil},
	} {
		s.out.Reset()
		s.run(tc.code)
		for _, w := range tc.want {
			if !strings.Contains(s.out.String(), w) {
				t.Errorf("%s: output lacks %q:\n%s", tc.code, w, s.out.String())
			}
		}
		for _, w := range tc.not {
			if strings.Contains(s.out.String(), w) {
				t.Errorf("%s: output has %q:\n%s", tc.code, w, s.out.String())
			}
		}
	}
	if ce := s.fail(`import "github.com/nobody/nothing"`); !strings.Contains(ce.Value, "%packages lists them") {
		t.Errorf("ImportError: %v", ce.Value)
	}

	s.out.Reset()
	s.run("%env GOEVAL_MAGIC=hello world")
	s.run("%env GOEVAL_MAGIC")
	if got := s.out.String(); got != "env: GOEVAL_MAGIC=hello world\nhello world\n" {
		t.Errorf("%%env: %q", got)
	}
	if os.Getenv("GOEVAL_MAGIC") != "hello world" {
		t.Errorf("env not set")
	}
	s.out.Reset()
	s.run("%env")
	if !strings.Contains(s.out.String(), "GOEVAL_MAGIC=hello world\n") {
		t.Errorf("%%env list lacks the variable")
	}
	if ce := s.fail("%env GOEVAL_NOT_SET_ANYWHERE"); ce.Name != "UsageError" {
		t.Errorf("unset variable: %v", ce)
	}
	// Cells see the real environment.
	if got := s.text("import \"os\"\nos.Getenv(\"GOEVAL_MAGIC\")"); got != `"hello world"` {
		t.Errorf("os.Getenv in a cell: %s", got)
	}

	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	dir := t.TempDir()
	s.out.Reset()
	s.run("%cd " + dir)
	real, _ := filepath.EvalSymlinks(dir)
	if got := strings.TrimSpace(s.out.String()); got != dir && got != real {
		t.Errorf("%%cd printed %q, want %q", got, dir)
	}
	if got := s.text("os.Getwd()"); got != strconv.Quote(dir) && got != strconv.Quote(real) {
		t.Errorf("os.Getwd() after %%cd shows %s, want %q", got, dir)
	}
	if ce := s.fail("%cd /does/not/exist"); ce.Name != "UsageError" {
		t.Errorf("%%cd to nowhere: %v", ce)
	}
	if ce := s.fail("%nosuchmagic"); !strings.Contains(ce.Value, "not found") {
		t.Errorf("unknown magic: %v", ce)
	}

	// %reset, then magic lines followed by Go code in the same cell.
	s.run("x := 1")
	s.out.Reset()
	o := s.run("%reset\n%env GOEVAL_R=1\n\nx := 2\nx * 21")
	if !o.HasResult || o.Result.Data["text/plain"] != "42" {
		t.Errorf("magics then code: %v", o.Result.Data)
	}
}

func TestTimeMagics(t *testing.T) {
	s := newSession(t)
	s.run("func work() int { n := 0; for i := 0; i < 1000; i++ { n += i }; return n }")
	o := s.run("%time\nv := work()\nv")
	if !o.HasResult || o.Result.Data["text/plain"] != "499500" {
		t.Errorf("%%time result: %v", o.Result.Data)
	}
	if !regexp.MustCompile(`(?m)^CPU times: user .+, sys: .+, total: .+\nWall time: [0-9.]+ (s|ms|µs|ns)\n$`).MatchString(s.out.String()) {
		t.Errorf("%%time output: %q", s.out.String())
	}
	if got := s.text("v"); got != "499500" {
		t.Errorf("%%time body's variables are kept: %s", got)
	}
	s.out.Reset()
	s.run("%time v2 := work()")
	if !strings.Contains(s.out.String(), "Wall time:") || s.text("v2") != "499500" {
		t.Errorf("%%time on one line: %q", s.out.String())
	}

	// Below code: the code above runs first, then the rest is timed.
	s.out.Reset()
	o = s.run("import \"sort\"\nxs := []int{3, 1, 2}\nfor i := range xs {\n\txs[i] *= 10\n}\n%time sort.Ints(xs)\nxs")
	if !strings.Contains(s.out.String(), "Wall time:") || !o.HasResult || o.Result.Data["text/plain"] != "[10 20 30]" {
		t.Errorf("%%time below code: %q, result %v", s.out.String(), o.Result.Data)
	}
	s.out.Reset()
	s.run("k := 5\n%timeit -n 2 -r 1 k++")
	if !strings.Contains(s.out.String(), "per loop") || s.text("k") != "7" {
		t.Errorf("%%timeit below code: %q, k = %s", s.out.String(), s.text("k"))
	}
	// A failing line above stops the cell before the timing.
	s.out.Reset()
	if ce := s.fail("nope()\n%time work()"); !strings.Contains(ce.Value, "undefined: nope") || strings.Contains(s.out.String(), "Wall time") {
		t.Errorf("failing code above %%time: %v, output %q", ce.Value, s.out.String())
	}

	s.out.Reset()
	s.run("%timeit -n 20 -r 3 work()")
	re := regexp.MustCompile(`^[0-9.]+ (s|ms|µs|ns) ± [0-9.]+ (s|ms|µs|ns) per loop \(mean ± std\. dev\. of 3 runs, 20 loops each\)\n$`)
	if !re.MatchString(s.out.String()) {
		t.Errorf("%%timeit output: %q", s.out.String())
	}
	s.out.Reset()
	start := time.Now()
	s.run("%%timeit\nz := work()\n_ = z")
	re = regexp.MustCompile(`per loop \(mean ± std\. dev\. of 7 runs, ([0-9,]+) loops? each\)\n$`)
	m := re.FindStringSubmatch(s.out.String())
	if m == nil {
		t.Fatalf("%%timeit auto output: %q", s.out.String())
	}
	if n := strings.ReplaceAll(m[1], ",", ""); !regexp.MustCompile(`^(1|2|5)0*$`).MatchString(n) {
		t.Errorf("loops %s not in the 1, 2, 5, 10, ... series", m[1])
	}
	if d := time.Since(start); d < 7*200*time.Millisecond {
		t.Errorf("%%timeit took %v, less than 7 runs of 0.2 s", d)
	}
	if ce := s.fail("%timeit z"); ce == nil {
		t.Errorf("%%timeit of an undefined name succeeded (z was local)")
	}
	// The code timed is the cell's as rewritten: a loop over an int.
	s.out.Reset()
	s.run("%timeit -n 2 -r 1 for i := range 3 { _ = i }")
	if !strings.Contains(s.out.String(), "per loop") {
		t.Errorf("%%timeit of a range over an int: %q", s.out.String())
	}
	if ce := s.fail("%timeit func f() {}"); ce.Name != "UsageError" {
		t.Errorf("%%timeit of a declaration: %v", ce)
	}
	// Interrupting %timeit.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := s.Execute(ctx, "%timeit for {}"); !errors.Is(err, ErrInterrupted) {
		t.Errorf("interrupted %%timeit: %v", err)
	}
}

func TestFormatTime(t *testing.T) {
	tests := []struct {
		s    float64
		want string
	}{
		{0.0132, "13.2 ms"},
		{2.5, "2.5 s"},
		{0.000245, "245 µs"},
		{3e-8, "30 ns"},
		{0, "0 ns"},
		{125, "2min 5s"},
		{1e-12, "0.001 ns"},
		// Rounding up to the next unit: not "1e+03 µs".
		{0.0009996, "1 ms"},
		{0.9999, "1 s"},
		{999.7e-9, "1 µs"},
	}
	for _, tc := range tests {
		if got := formatTime(tc.s); got != tc.want {
			t.Errorf("formatTime(%v) = %q, want %q", tc.s, got, tc.want)
		}
	}
	if got := thousands(1234567); got != "1,234,567" {
		t.Errorf("thousands = %q", got)
	}
}

func TestShell(t *testing.T) {
	s := newSession(t)
	o := s.run("!echo out; echo err >&2\n!exit 3\nx := 1\nx")
	if s.out.String() != "out\n" {
		t.Errorf("stdout %q", s.out.String())
	}
	if got := s.err.String(); !strings.Contains(got, "err\n") || !strings.Contains(got, "exit status 3") {
		t.Errorf("stderr %q", got)
	}
	if !o.HasResult || o.Result.Data["text/plain"] != "1" {
		t.Errorf("Go after shell lines: %v", o.Result.Data)
	}
	// Output streams while the command runs.
	w := &syncBuffer{}
	s2 := newSession(t, func(o *Options) { o.Stdout = w })
	done := make(chan struct{})
	go func() {
		defer close(done)
		s2.run("!echo first; sleep 1; echo second")
	}()
	deadline := time.Now().Add(900 * time.Millisecond)
	for !strings.Contains(w.String(), "first") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(w.String(), "first") || strings.Contains(w.String(), "second") {
		t.Errorf("output not streamed: %q", w.String())
	}
	<-done
	// Interrupting a command kills it.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := s.Execute(ctx, "!sleep 30"); !errors.Is(err, ErrInterrupted) {
		t.Errorf("interrupted command: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("interrupt took %v", d)
	}
}

func TestRegisterMagic(t *testing.T) {
	s := newSession(t)
	s.RegisterMagic("double", "print twice the value of a Go expression", func(ctx context.Context, s *Session, args string) error {
		o, err := s.Execute(ctx, "("+args+") * 2")
		if err != nil {
			return err
		}
		_, err = s.Stdout().Write([]byte(o.Result.Data["text/plain"].(string) + "\n"))
		return err
	})
	s.run("n := 4")
	s.run("%double n + 1")
	if got := s.out.String(); got != "10\n" {
		t.Errorf("custom magic printed %q", got)
	}
	s.RegisterMagic("triple", "%triple EXPR: print three times the value", func(context.Context, *Session, string) error { return nil })
	s.out.Reset()
	s.run("%help")
	help := s.out.String()
	if !strings.Contains(help, "  %double            print twice the value of a Go expression\n") ||
		!strings.Contains(help, "  %triple EXPR       print three times the value\n") {
		t.Errorf("%%help does not list %%double and %%triple by their usage:\n%s", help)
	}
	// A magic's error is prefixed with its name once, even when the
	// error names it already.
	s.RegisterMagic("picky", "fails", func(ctx context.Context, s *Session, args string) error {
		if args == "self" {
			return errors.New("tracking: %picky: want on or off")
		}
		return errors.New("want on or off")
	})
	for arg, want := range map[string]string{"self": "tracking: %picky: want on or off", "x": "%picky: want on or off"} {
		if ce := s.fail("%picky " + arg); ce.Value != want {
			t.Errorf("%%picky %s: %q, want %q", arg, ce.Value, want)
		}
	}
}

func TestHelpQuery(t *testing.T) {
	s := newSession(t)
	s.run("import \"strings\"\n// Add adds.\nfunc Add(a, b int) int { return a + b }")
	tests := []struct {
		code, want string
	}{
		{"strings.Repeat?", "func strings.Repeat(s string, count int) string"},
		{"?strings.Repeat", "copies of the string s"},
		{"Add?", "func Add(a, b int) int"},
		{"Add??", "return a + b"},
		{"strings?", "package strings"},
		{"len?", "func len(v Type) int"},
	}
	for _, tc := range tests {
		o := s.run(tc.code)
		if len(o.Payload) != 1 {
			t.Errorf("%q: payload %v", tc.code, o.Payload)
			continue
		}
		p := o.Payload[0]
		text, _ := p["data"].(map[string]any)["text/plain"].(string)
		if p["source"] != "page" || p["start"] != 0 || !strings.Contains(text, tc.want) {
			t.Errorf("%q: payload %v, want text with %q", tc.code, p, tc.want)
		}
	}
	s.out.Reset()
	o := s.run("nothingHere?")
	if len(o.Payload) != 0 || !strings.Contains(s.out.String(), "Object `nothingHere` not found.") {
		t.Errorf("unknown name: %v %q", o.Payload, s.out.String())
	}
}

// TestMagicsInOrder: a magic or shell line below Go code runs after the
// code above it and before the code below, as in IPython; a line that
// Go itself owns (in a raw string, a block, an expression continued from
// the line above) is not a magic.
func TestMagicsInOrder(t *testing.T) {
	cases := []struct {
		name, code string
		out        string // what the cell prints
		result     string // its result's text/plain
		fail       string // a CellError whose name and value contain this
	}{
		{name: "shell between prints",
			code: "import \"fmt\"\nfmt.Println(\"one\")\n!echo two\nfmt.Println(\"three\")",
			out:  "one\ntwo\nthree\n"},
		{name: "env set for the code below",
			code: "import \"os\"\nbefore := os.Getenv(\"GOEVAL_MID\")\n%env GOEVAL_MID=set\nbefore + \"|\" + os.Getenv(\"GOEVAL_MID\")",
			out:  "env: GOEVAL_MID=set\n", result: `"|set"`},
		{name: "magic after a declaration below it is used",
			code: "func twice(x int) int { return 2 * x }\n%env GOEVAL_MID2=1\ntwice(21)",
			out:  "env: GOEVAL_MID2=1\n", result: "42"},
		{name: "percent line in a raw string",
			code: "s := `\n%d items\n!not a command\n`\nlen(s)", result: "25"},
		{name: "not after an operator",
			code: "a, b := true, false\nok := a &&\n\t!b\nok", result: "true"},
		{name: "inside a block is Go's",
			code: "for i := 0; i < 1; i++ {\n%env GOEVAL_MID3=1\n}", fail: "not inside a block"},
		{name: "below %time is Go's",
			code: "%time\nx := 1\n%pwd\n_ = x", fail: "not below %time"},
		{name: "an error above stops the cell before the magic",
			code: "x := undefinedName\n%env GOEVAL_MID4=1", fail: "undefined"},
		{name: "an error below keeps its line number",
			code: "x := 1\n%env GOEVAL_MID5=1\n_ = x\nundefinedThing", fail: "line 4"},
		{name: "%% after code",
			code: "x := 1\n%%\n_ = x", fail: "first line"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSession(t)
			if c.fail != "" {
				ce := s.fail(c.code)
				if all := ce.Name + ": " + ce.Value + "\n" + strings.Join(ce.Traceback, "\n"); !strings.Contains(all, c.fail) {
					t.Errorf("error %s, want it to say %q", all, c.fail)
				}
				return
			}
			if got := s.text(c.code); got != c.result {
				t.Errorf("result %q, want %q", got, c.result)
			}
			if got := s.out.String(); got != c.out {
				t.Errorf("output %q, want %q", got, c.out)
			}
		})
	}
	if os.Getenv("GOEVAL_MID4") != "" {
		t.Errorf("the magic below a failing line ran")
	}
}

// TestEnvOwnedByMagic checks that %env of a variable a magic owns
// (GOPHERLAB_DB, owned by %tracking) says to use the magic and runs it,
// and that other variables are only set.
func TestEnvOwnedByMagic(t *testing.T) {
	s := newSession(t)
	var got []string
	s.RegisterMagic("store", "%store PATH: switch the store", func(_ context.Context, _ *Session, args string) error {
		got = append(got, args)
		return os.Setenv("GOEVAL_OWNED", "/abs/"+args)
	})
	s.SetEnvMagic("GOEVAL_OWNED", "store")
	t.Cleanup(func() { os.Unsetenv("GOEVAL_OWNED"); os.Unsetenv("GOEVAL_FREE") })
	tests := []struct {
		cell     string
		says     string
		magicArg string // "" if the magic must not run
		env, val string
	}{
		{"%env GOEVAL_OWNED=other.db", "use %store PATH to change it (running %store other.db)", "other.db", "GOEVAL_OWNED", "/abs/other.db"},
		{"%env GOEVAL_OWNED 'b.db'", "use %store PATH", "b.db", "GOEVAL_OWNED", "/abs/b.db"},
		{"%env GOEVAL_FREE=1", "env: GOEVAL_FREE=1", "", "GOEVAL_FREE", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.cell, func(t *testing.T) {
			got = nil
			s.out.Reset()
			s.run(tt.cell)
			if !strings.Contains(s.out.String(), tt.says) {
				t.Errorf("output %q lacks %q", s.out.String(), tt.says)
			}
			if tt.magicArg == "" && got != nil || tt.magicArg != "" && (len(got) != 1 || got[0] != tt.magicArg) {
				t.Errorf("magic ran with %q, want %q", got, tt.magicArg)
			}
			if v := os.Getenv(tt.env); v != tt.val {
				t.Errorf("$%s = %q, want %q", tt.env, v, tt.val)
			}
		})
	}
}
