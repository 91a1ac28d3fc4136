package goeval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gopherlab/gopherlab/internal/gocell"
)

// executeCell runs a cell: "name?" help, or its lines in order. Magic and
// shell lines may stand anywhere at the top level of the cell, as in
// IPython: the Go code above such a line runs first, then the line, then
// the rest. %time and %timeit time the rest of the cell.
func (s *Session) executeCell(ctx context.Context, n int, code string) (out Outcome, err error) {
	defer func() { err = magicHint(err, code) }()
	st := s.current()
	if target, detail, ok := helpQuery(code); ok {
		return s.pageHelp(st, target, detail), nil
	}
	lines := strings.SplitAfter(code, "\n")
	start := 0     // the first line of Go code not run yet
	noCode := true // no Go code in lines[start:i]
	for i := 0; i < len(lines); i++ {
		t := strings.TrimSpace(lines[i])
		if !gocell.MagicLine(lines, start, i) {
			if t != "" && !strings.HasPrefix(t, "//") {
				noCode = false
			}
			continue
		}
		if !noCode {
			if name, _ := splitMagic(t); strings.HasPrefix(t, "%%") && name == "" {
				return Outcome{}, usageError(fmt.Sprintf("line %d: %%%% (the cell is main's body) goes on the cell's first line", i+1))
			}
			if _, err := s.runGo(ctx, st, s.cell(n, linesOnly(lines, start, i))); err != nil {
				return Outcome{}, err
			}
			noCode = true
		}
		start = i + 1
		if strings.HasPrefix(t, "!") {
			if err := s.shell(ctx, strings.TrimSpace(t[1:])); err != nil {
				return Outcome{}, err
			}
			continue
		}
		name, args := splitMagic(t)
		switch name {
		case "time", "timeit":
			return s.timeFrom(ctx, st, n, lines, i, name, args)
		case "":
			// GoNB's "%%": the cell is the body of main, run now, with
			// the line's words as its arguments.
			if args != "" {
				defer setArgs(st.in, strings.Fields(args))()
			}
			continue
		}
		if err := s.lineMagic(ctx, name, args); err != nil {
			return Outcome{}, err
		}
		st = s.current() // %reset replaces it
	}
	return s.runGo(ctx, st, s.cell(n, linesOnly(lines, start, len(lines))))
}

var errLineRE = regexp.MustCompile(`\(line (\d+), column \d+\)$`)

// magicHint adds to a syntax error on a line that looks like a magic or a
// shell command why it was taken for Go.
func magicHint(err error, code string) error {
	var ce *CellError
	if !errors.As(err, &ce) || ce.Name != "SyntaxError" {
		return err
	}
	m := errLineRE.FindStringSubmatch(ce.Value)
	if m == nil {
		return err
	}
	n, _ := strconv.Atoi(m[1])
	lines := strings.Split(code, "\n")
	if n < 1 || n > len(lines) {
		return err
	}
	if t := strings.TrimSpace(lines[n-1]); !strings.HasPrefix(t, "%") && !strings.HasPrefix(t, "!") {
		return err
	}
	ce.Traceback = append(ce.Traceback, "A magic or !command is a line of its own where a statement may stand at the top level of the cell: not inside a block, not continuing an expression, and not below %time or %timeit, which time the rest of the cell.")
	return ce
}

// linesOnly joins lines[from:to] with every other line left blank, so
// that the code keeps its line numbers in the cell, and lets a cell's
// func main run (GoNB).
func linesOnly(lines []string, from, to int) string {
	var b strings.Builder
	for k, l := range lines {
		if k < from || k >= to {
			l = blankLine(l)
		}
		b.WriteString(l)
	}
	src := b.String()
	if strings.Contains(src, "main") {
		src, _ = rewriteMain(src)
	}
	return src
}

// timeFrom runs %time or %timeit (name, with args) on line i of a cell:
// the code timed is the rest of that line and the lines below, at their
// own positions in the cell.
func (s *Session) timeFrom(ctx context.Context, st *state, n int, lines []string, i int, name, args string) (Outcome, error) {
	lines = slices.Clone(lines)
	line := lines[i]
	k := strings.Index(line, "%")
	k += 1 + strings.Index(line[k+1:], name) + len(name)
	lines[i] = strings.Repeat(" ", k) + line[k:]
	for j := 0; j < i; j++ {
		lines[j] = blankLine(lines[j])
	}
	body := strings.Join(lines, "")
	if name == "time" {
		return s.timeCell(ctx, st, n, body)
	}
	return Outcome{}, s.timeit(ctx, st, n, body, args)
}

// blankLine keeps only a line's line break.
func blankLine(l string) string {
	if strings.HasSuffix(l, "\n") {
		return "\n"
	}
	return ""
}

// splitMagic splits "%name args" (or "%%name args").
func splitMagic(t string) (name, args string) {
	t = strings.TrimPrefix(strings.TrimPrefix(t, "%"), "%")
	name, args, _ = strings.Cut(t, " ")
	return name, strings.TrimSpace(args)
}

var helpQueryRE = regexp.MustCompile(`^\s*(\?{0,2})\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*(\?{0,2})\s*$`)

// helpQuery recognizes IPython's "name?", "name??", "?name" and "??name".
func helpQuery(code string) (target string, detail int, ok bool) {
	m := helpQueryRE.FindStringSubmatch(code)
	if m == nil || (m[1] == "") == (m[3] == "") {
		return "", 0, false
	}
	q := m[1] + m[3]
	return m[2], len(q) - 1, true
}

// pageHelp answers "name?" with a pager payload, as IPython does.
func (s *Session) pageHelp(st *state, target string, detail int) Outcome {
	found, data := s.inspectExpr(st, target, detail)
	if !found {
		fmt.Fprintf(s.opts.Stdout, "Object `%s` not found.\n", target)
		return Outcome{}
	}
	return Outcome{Payload: []map[string]any{{
		"source": "page",
		"data":   map[string]any{"text/plain": data["text/plain"]},
		"start":  0,
	}}}
}

// listPackages writes the import paths cells can use, containing filter:
// grouped by where they come from, or one per line when filtered.
func (s *Session) listPackages(out io.Writer, filter string) {
	paths := s.importable()
	if filter != "" {
		n := 0
		for _, p := range paths {
			if strings.Contains(p, filter) {
				fmt.Fprintln(out, p)
				n++
			}
		}
		if n == 0 {
			fmt.Fprintf(out, "no importable package path contains %q (%%packages lists all %d)\n", filter, len(paths))
		}
		return
	}
	groups := []struct {
		name  string
		match func(string) bool
		paths []string
	}{
		{"gopherlab", func(p string) bool { return strings.HasPrefix(p, "github.com/gopherlab/") }, nil},
		{"gonum/plot", func(p string) bool { return strings.HasPrefix(p, "gonum.org/v1/plot") }, nil},
		{"gonum", func(p string) bool { return strings.HasPrefix(p, "gonum.org/") }, nil},
		{"other modules", func(p string) bool { return strings.Contains(strings.SplitN(p, "/", 2)[0], ".") }, nil},
		{"standard library", func(string) bool { return true }, nil},
	}
	for _, p := range paths {
		for i := range groups {
			if groups[i].match(p) {
				groups[i].paths = append(groups[i].paths, p)
				break
			}
		}
	}
	fmt.Fprintf(out, "Cells can import these %d packages, compiled into the kernel:\n", len(paths))
	for i := len(groups) - 1; i >= 0; i-- {
		g := groups[i]
		if len(g.paths) == 0 {
			continue
		}
		fmt.Fprintf(out, "\n%s (%d):\n", g.name, len(g.paths))
		line := " "
		for _, p := range g.paths {
			if len(line)+1+len(p) > 100 {
				fmt.Fprintln(out, line)
				line = " "
			}
			line += " " + p
		}
		fmt.Fprintln(out, line)
	}
}

func usageError(msg string) *CellError {
	return &CellError{Name: "UsageError", Value: msg, Traceback: []string{red("UsageError") + ": " + msg}}
}

const builtinMagicsHelp = `gopherlab cells are Go: imports, declarations and statements, in any mix.
The value of a final expression is shown as the cell's result.

Magics and !commands are lines of their own, anywhere outside Go's blocks: the code
above one runs first, then the line, then the rest of the cell.
  %help              this help (also %magic, %lsmagic)
  %packages [TEXT]   list the packages cells can import (those whose path contains TEXT)
  %reset             start a fresh interpreter (forget every name)
  %time              run the rest of the cell (this line on) and print its CPU and wall time
  %timeit [-n N] [-r R] code
                     run code (the rest of the line and of the cell) repeatedly and print
                     the mean and standard deviation of the time per loop, like IPython
  %env               list environment variables; %env NAME shows one; %env NAME=value sets one
  %cd DIR            change the working directory (no DIR: home) and print it
  %pwd               print the working directory
  !command           run a shell command line with /bin/sh, streaming its output
  %% [ARGS]          (GoNB) the cell is the body of main, run now, with os.Args[1:] = ARGS;
                     a cell's func main also runs once, when the cell runs
  name? / name??     documentation (with ?? also the source) of a package, member or
                     session name, in the pager (a cell of its own); Shift-Tab in the
                     notebook shows the same anywhere

Limits of the interpreter (yaegi, Go <= 1.22 semantics): no range over int or functions,
types and methods cannot be redefined (%reset instead), only the compiled packages the
kernel ships can be imported.`

// builtinMagics are the magics lineMagic and the cell runner know.
var builtinMagics = []string{"cd", "env", "help", "lsmagic", "magic", "packages", "pwd", "reset", "time", "timeit"}

// magicNames lists the magics a cell may start with, registered ones
// (%autolog, %tracking) included, for completion.
func (s *Session) magicNames() []string {
	s.meta.RLock()
	defer s.meta.RUnlock()
	names := append([]string(nil), builtinMagics...)
	for n := range s.magics {
		names = append(names, n)
	}
	return names
}

// lineMagic runs a magic other than %time and %timeit.
func (s *Session) lineMagic(ctx context.Context, name, args string) error {
	out := s.opts.Stdout
	switch name {
	case "help", "magic", "lsmagic":
		io.WriteString(out, builtinMagicsHelp+"\n")
		s.meta.RLock()
		names := sortedKeys(s.magics)
		if len(names) > 0 {
			fmt.Fprintln(out, "\nMore magics:")
			for _, n := range names {
				// A help that starts with its usage ("%autolog [on|off]:
				// ...") puts it in the name's column, as above.
				use, text := "%"+n, s.magics[n].help
				if u, rest, ok := strings.Cut(text, ": "); ok && strings.HasPrefix(u, use) {
					use, text = u, rest
				}
				if len(use) > 17 {
					fmt.Fprintf(out, "  %s\n  %-18s %s\n", use, "", text)
				} else {
					fmt.Fprintf(out, "  %-18s %s\n", use, text)
				}
			}
		}
		s.meta.RUnlock()
		return nil
	case "packages":
		s.listPackages(out, strings.TrimSpace(args))
		return nil
	case "reset":
		if err := s.reset(); err != nil {
			return usageError(err.Error())
		}
		return nil
	case "env":
		return s.envMagic(ctx, args)
	case "cd":
		dir := args
		if dir == "" || dir == "~" {
			h, err := os.UserHomeDir()
			if err != nil {
				return usageError(err.Error())
			}
			dir = h
		} else if strings.HasPrefix(dir, "~/") {
			if h, err := os.UserHomeDir(); err == nil {
				dir = h + dir[1:]
			}
		}
		dir = unquote(dir)
		if err := os.Chdir(dir); err != nil {
			return usageError(err.Error())
		}
		fallthrough
	case "pwd":
		wd, err := os.Getwd()
		if err != nil {
			return usageError(err.Error())
		}
		fmt.Fprintln(out, wd)
		return nil
	}
	s.meta.RLock()
	m, ok := s.magics[name]
	s.meta.RUnlock()
	if !ok {
		return usageError(fmt.Sprintf("Line magic function `%%%s` not found (see %%help).", name))
	}
	if err := m.fn(ctx, s, args); err != nil {
		var ce *CellError
		var stuck *StuckError
		if errors.As(err, &ce) || errors.As(err, &stuck) {
			return err
		}
		msg := err.Error()
		if !strings.Contains(msg, "%"+name+":") { // the error may name the magic itself
			msg = "%" + name + ": " + msg
		}
		return usageError(msg)
	}
	return nil
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// envMagic implements %env like IPython.
func (s *Session) envMagic(ctx context.Context, args string) error {
	out := s.opts.Stdout
	if args == "" {
		env := os.Environ()
		sort.Strings(env)
		for _, e := range env {
			fmt.Fprintln(out, e)
		}
		return nil
	}
	name, value, set := strings.Cut(args, "=")
	if !set {
		name, value, set = strings.Cut(args, " ")
	}
	name = strings.TrimSpace(name)
	if !set {
		v, ok := os.LookupEnv(name)
		if !ok {
			return usageError("Environment does not have key: " + name)
		}
		fmt.Fprintln(out, v)
		return nil
	}
	value = unquote(strings.TrimSpace(value))
	s.meta.RLock()
	owner := s.envOwners[name]
	_, owned := s.magics[owner]
	s.meta.RUnlock()
	if owned {
		fmt.Fprintf(out, "env: %s is a setting of %%%s, read already: use %%%s PATH to change it (running %%%s %s)\n", name, owner, owner, owner, value)
		return s.lineMagic(ctx, owner, value)
	}
	if err := os.Setenv(name, value); err != nil {
		return usageError(err.Error())
	}
	fmt.Fprintf(out, "env: %s=%s\n", name, value)
	return nil
}

// shell runs a command line with /bin/sh, its output going to the
// session's writers as it comes. A failing command is reported on stderr;
// it does not fail the cell (as in IPython).
func (s *Session) shell(ctx context.Context, line string) error {
	if line == "" {
		return nil
	}
	if ctx.Err() != nil {
		return errStopped()
	}
	cmd := exec.Command("/bin/sh", "-c", line)
	cmd.Stdout, cmd.Stderr = s.opts.Stdout, s.opts.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // to stop its children too
	cmd.WaitDelay = 500 * time.Millisecond                // a background child may hold the pipes
	if err := cmd.Start(); err != nil {
		return usageError("!" + line + ": " + err.Error())
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return errStopped()
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		fmt.Fprintf(s.opts.Stderr, "(%s)\n", ee.ProcessState)
		return nil
	}
	if err != nil {
		fmt.Fprintf(s.opts.Stderr, "!%s: %v\n", line, err)
	}
	return nil
}

func cpuTimes() (user, sys time.Duration) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// timeCell implements %time: run the body, then print its times.
func (s *Session) timeCell(ctx context.Context, st *state, n int, body string) (Outcome, error) {
	u0, s0 := cpuTimes()
	t0 := time.Now()
	out, err := s.runGo(ctx, st, s.cell(n, body))
	wall := time.Since(t0)
	u1, s1 := cpuTimes()
	if err != nil {
		return out, err
	}
	user, sys := u1-u0, s1-s0
	fmt.Fprintf(s.opts.Stdout, "CPU times: user %s, sys: %s, total: %s\nWall time: %s\n",
		formatTime(user.Seconds()), formatTime(sys.Seconds()), formatTime((user + sys).Seconds()), formatTime(wall.Seconds()))
	return out, nil
}

// formatTime formats seconds like IPython's _format_time.
func formatTime(t float64) string {
	if t >= 60 {
		var parts []string
		left := t
		for _, u := range []struct {
			suffix string
			length float64
		}{{"d", 86400}, {"h", 3600}, {"min", 60}, {"s", 1}} {
			if v := int(left / u.length); v > 0 {
				left = math.Mod(left, u.length)
				parts = append(parts, strconv.Itoa(v)+u.suffix)
			}
			if left < 1 {
				break
			}
		}
		return strings.Join(parts, " ")
	}
	units := []string{"s", "ms", "µs", "ns"}
	scale := []float64{1, 1e3, 1e6, 1e9}
	order := 3
	if t > 0 {
		order = min(-int(math.Floor(math.Floor(math.Log10(t))/3)), 3)
		order = max(order, 0)
	}
	v := strconv.FormatFloat(t*scale[order], 'g', 3, 64)
	if strings.Contains(v, "e+") && order > 0 {
		// 999.6 µs rounds to 1000, which %g writes 1e+03: 1 ms.
		order--
		v = strconv.FormatFloat(t*scale[order], 'g', 3, 64)
	}
	return v + " " + units[order]
}

// timeit implements %timeit [-n N] [-r R]: it compiles the code once and
// runs it in batches, choosing the batch size like IPython (the first of
// 1, 2, 5, 10, 20, 50, ... loops that takes at least 0.2 s).
func (s *Session) timeit(ctx context.Context, st *state, n int, body, args string) error {
	number, repeat := 0, 7
	// Options come first on the magic's line; they are blanked in body.
	for {
		f := strings.Fields(args)
		if len(f) < 2 || (f[0] != "-n" && f[0] != "-r") {
			break
		}
		v, err := strconv.Atoi(f[1])
		if err != nil || v < 1 {
			return usageError("%timeit: " + f[0] + " needs a positive number")
		}
		if f[0] == "-n" {
			number = v
		} else {
			repeat = v
		}
		i := strings.Index(body, f[0])
		j := i + strings.Index(body[i:], f[1]) + len(f[1])
		body = body[:i] + strings.Repeat(" ", j-i) + body[j:]
		args = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(args, f[0])), f[1]))
	}
	c := s.cell(n, body)
	runs := groupRuns(gocell.Split(c.src)) // as rewritten (see Session.cell)
	if len(runs) == 0 {
		return usageError("%timeit needs code to time")
	}
	prs := make([]*parsedRun, len(runs))
	for i, r := range runs {
		if r.decl {
			return usageError("%timeit times statements; declare functions and types in another cell")
		}
		pr, err := parseRun(c, r)
		if err != nil {
			return err
		}
		prs[i] = pr
	}
	if err := s.checkCell(st, c, prs); err != nil {
		return err
	}
	disposable := !strings.Contains(body, "func")
	if !disposable {
		s.meta.Lock()
		st.cells[n] = body
		s.meta.Unlock()
	}
	start, end := runs[0].start, runs[len(runs)-1].end
	line, col := c.pos(start)
	// In a function, so that := makes locals, not globals. Each
	// execution of the program runs its init in a fresh frame (a
	// function literal would copy the whole global frame each time).
	src := "func init() {" + directive(n, line, col) + c.src[start:end] + "\n}"
	st.tap.take()
	fset := st.in.FileSet()
	base := fset.Base()
	prog, err := compileSafe(st.in, src)
	st.keep.compiled()
	if disposable {
		// Nothing of the code runs after %timeit.
		defer st.dropFiles(filesFrom(fset, base))
	}
	if err != nil {
		return s.convert(st, c, prs[0], err, st.tap.take())
	}
	st.keep.prepare()
	batch := func(loops int) (time.Duration, error) {
		// Each batch starts with the garbage of the previous ones
		// collected, so that batches of the same size take the same time
		// (and the one that sets the size is not slower than the rest).
		runtime.GC()
		var d time.Duration
		err := s.executeFunc(ctx, st, func() error {
			t0 := time.Now()
			for i := 0; i < loops; i++ {
				if _, err := st.in.Execute(prog); err != nil {
					return err
				}
				if ctx.Err() != nil {
					return nil // stopped: executeFunc reports it
				}
			}
			d = time.Since(t0)
			return nil
		})
		if err != nil {
			return 0, s.convert(st, c, prs[0], err, st.tap.take())
		}
		return d, nil
	}
	if number == 0 {
	autorange: // 1, 2, 5, 10, 20, 50, ... loops
		for i := 1; i < 1e9; i *= 10 {
			for _, j := range []int{1, 2, 5} {
				number = i * j
				d, err := batch(number)
				if err != nil {
					return err
				}
				if d >= 200*time.Millisecond {
					break autorange
				}
			}
		}
	}
	per := make([]float64, repeat)
	for i := range per {
		d, err := batch(number)
		if err != nil {
			return err
		}
		per[i] = d.Seconds() / float64(number)
	}
	var mean, dev float64
	for _, v := range per {
		mean += v
	}
	mean /= float64(repeat)
	for _, v := range per {
		dev += (v - mean) * (v - mean)
	}
	dev = math.Sqrt(dev / float64(repeat))
	fmt.Fprintf(s.opts.Stdout, "%s ± %s per loop (mean ± std. dev. of %d run%s, %s loop%s each)\n",
		formatTime(mean), formatTime(dev), repeat, plural(repeat), thousands(number), plural(number))
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// thousands formats n with comma separators, as Python's "{:,}".
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
