package goeval

import (
	"bytes"
	"context"
	"fmt"
	"go/scanner"
	"go/token"
	"io"
	"log"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	_ "unsafe" // for go:linkname

	"github.com/traefik/yaegi/interp"

	"github.com/gopherlab/gopherlab/internal/interrupt"
	cellsync "github.com/gopherlab/gopherlab/kernel/goeval/internal/sync"
)

// state is one interpreter and what the session's cells declared in it.
// Reset replaces it whole.
type state struct {
	in    *interp.Interpreter
	stop  atomic.Pointer[chan struct{}] // closed when the running cell is interrupted (see sleep)
	col   *collector
	tap   *panicTap
	empty *interp.Program // run to arm cancellation
	armed bool            // cancellation is armed (see executeFunc)
	keep  *frameKeeper    // trims the interpreter's global frame

	// units keeps compiled units to run again for identical cells (the
	// same "1+1" or "x := 1" each time): kept programs refer to the
	// globals, functions and types as they were compiled, so any unit
	// that may declare or redeclare something empties it.
	units map[string]*cachedUnit
	// alias is the cell a kept program running now was compiled for.
	alias int
	// showKey is the richTypes key showName was declared for; showOK
	// says the declaration compiled.
	showKey string
	showOK  bool
	// rich and richKey are richTypes' answer for declGen (declarations
	// tracked so far).
	rich             []string
	richKey          string
	richGen, declGen int
	// unset holds the variables a cell declared but never set, because
	// the code defining them failed to compile: yaegi keeps them, with
	// zero values, which later cells must not take for results.
	unset map[string]unsetVar

	// Guarded by Session.meta (written by Execute, read by Complete and
	// Inspect).
	imports map[string]string // local name -> import path
	dots    []string          // dot-imported paths
	funcs   map[string]*declInfo
	methods map[string]*declInfo // "Type.Method"
	types   map[string]*declInfo
	vars    map[string]*declInfo // variables and constants, := included
	cells   map[int]string       // cell sources by number, for tracebacks
}

// unsetVar says which cell failed to set a variable, and why.
type unsetVar struct {
	cell int
	why  string
}

// declInfo is one top-level declaration made by a cell.
type declInfo struct {
	name string
	kind string // func, method, type, var, const
	src  string // the declaration as written (doc comment included)
	norm string // its tokens, to tell an identical redefinition
	doc  string
	typ  string // declared type of a variable, when written
	// generic is set for a type or function with type parameters;
	// embeds for a struct type with embedded fields.
	generic, embeds bool
	// iface is set for an interface type.
	iface bool
	// results is the number of a function's results.
	results int
	// class is what a variable's or constant's type, or a function's
	// single result, needs from the result hooks (see static.go).
	class class
	// refs are the identifiers a function's declaration mentions.
	refs            map[string]bool
	cell, line, col int // where src starts
}

func (s *Session) newState() (*state, error) {
	st := &state{
		col:     &collector{},
		tap:     &panicTap{w: s.opts.Stderr},
		imports: map[string]string{},
		funcs:   map[string]*declInfo{},
		methods: map[string]*declInfo{},
		types:   map[string]*declInfo{},
		vars:    map[string]*declInfo{},
		cells:   map[int]string{},
		units:   map[string]*cachedUnit{},
		declGen: 1,
	}
	in := interp.New(interp.Options{
		Stdin:        s.opts.Stdin,
		Stdout:       s.opts.Stdout,
		Stderr:       st.tap,
		Args:         []string{"gopherlab"},
		Unrestricted: true, // os.Getenv, os/exec and friends act on the real process
	})
	if err := in.Use(s.opts.Symbols); err != nil {
		return nil, fmt.Errorf("goeval: load symbols: %w", err)
	}
	if err := in.Use(hookExports(st.col)); err != nil {
		return nil, fmt.Errorf("goeval: load hooks: %w", err)
	}
	if _, err := evalSafe(in, "import ("+hookImport+" "+strconv.Quote(hookPath)+"; "+panicHook+" "+strconv.Quote(hookPath)+")"); err != nil {
		return nil, fmt.Errorf("goeval: import hooks: %w", err)
	}
	if _, ok := s.opts.Symbols["time/time"]; ok {
		// time.Sleep in a cell ends when the cell is interrupted: the
		// compiled Sleep would not, and a cell sleeping past the grace
		// period would cost the session.
		if err := in.Use(interp.Exports{"time/time": {"Sleep": reflect.ValueOf(st.sleep)}}); err != nil {
			return nil, fmt.Errorf("goeval: load symbols: %w", err)
		}
	}
	if _, ok := s.opts.Symbols["sync/sync"]; ok {
		// So does a wait for goroutines: those, interpreted, stop at
		// the interrupt, but the compiled Wait would wait for them
		// forever.
		if err := in.Use(interp.Exports{"sync/sync": {"WaitGroup": reflect.ValueOf((*cellsync.WaitGroup)(nil))}}); err != nil {
			return nil, fmt.Errorf("goeval: load symbols: %w", err)
		}
	}
	never := make(chan struct{})
	st.stop.Store(&never)
	empty, err := compileSafe(in, "")
	if err != nil {
		return nil, fmt.Errorf("goeval: start interpreter: %w", err)
	}
	st.in, st.empty = in, empty
	st.keep = newFrameKeeper(in)
	return st, nil
}

// cachedUnit is a compiled unit kept to run again.
type cachedUnit struct {
	prog *interp.Program
	cell int // the cell it was compiled for, where its positions are
	// files are the program's source files in yaegi's file set, to
	// remove once the program is dropped (none to keep them).
	files []*token.File
	// refs are the identifiers of its source: the program is dropped when
	// one of them is declared again.
	refs map[string]bool
}

// dropUnits empties state.units.
func (st *state) dropUnits() {
	for _, cu := range st.units {
		st.dropFiles(cu.files)
	}
	clear(st.units)
}

// forget drops the kept programs that refer to one of names (they are
// bound to what the names were when they were compiled).
func (st *state) forget(names []string) {
	for key, cu := range st.units {
		for _, n := range names {
			if cu.refs[n] {
				st.dropFiles(cu.files)
				delete(st.units, key)
				break
			}
		}
	}
}

// identifiers returns the set of identifiers in Go source src.
func identifiers(src string) map[string]bool {
	ids := map[string]bool{}
	var sc scanner.Scanner
	fset := token.NewFileSet()
	sc.Init(fset.AddFile("", fset.Base(), len(src)), []byte(src), nil, 0)
	for {
		_, tok, lit := sc.Scan()
		switch tok {
		case token.EOF:
			return ids
		case token.IDENT:
			ids[lit] = true
		}
	}
}

// dropFiles removes source files from yaegi's file set, which otherwise
// keeps every file it parsed for the session (line tables included).
// Positions in them cannot be shown afterwards: only files of code that
// cannot run again are dropped.
func (st *state) dropFiles(files []*token.File) {
	fset := st.in.FileSet()
	for _, f := range files {
		fset.RemoveFile(f)
	}
}

// filesFrom returns the files yaegi parsed since fset.Base() was base
// (it parses a source twice: for build constraints, then whole).
func filesFrom(fset *token.FileSet, base int) []*token.File {
	var files []*token.File
	for {
		f := fset.File(token.Pos(base))
		if f == nil || f.Base() != base {
			return files
		}
		files = append(files, f)
		base += f.Size() + 1
	}
}

// maxUnits bounds state.units.
const maxUnits = 32

// cached reports whether a program is kept for key.
func (st *state) cached(key string) bool {
	return key != "" && st.units[key] != nil
}

// global returns the storage of the global variable name.
func (st *state) global(name string) (reflect.Value, bool) {
	if st.keep.ok {
		return st.keep.global(name)
	}
	v, ok := st.globals()[name]
	return v, ok
}

// internalError is a panic of yaegi itself, caught while compiling.
type internalError struct{ value any }

func (e *internalError) Error() string { return fmt.Sprint(e.value) }

func compileSafe(in *interp.Interpreter, src string) (prog *interp.Program, err error) {
	// yaegi reports some failures with log.Panic, which prints its message
	// through the standard logger (the cell's stderr) before panicking:
	// while compiling, the logger writes to a buffer, passed on afterwards
	// without the panic's message.
	var logged bytes.Buffer
	out := log.Writer()
	log.SetOutput(&logged)
	defer func() {
		r := recover()
		log.SetOutput(out)
		text := logged.String()
		if r != nil {
			prog, err = nil, &internalError{r}
			text = dropLines(text, fmt.Sprint(r))
		}
		io.WriteString(out, text)
	}()
	return in.Compile(src)
}

// dropLines returns text without its lines that end with msg.
func dropLines(text, msg string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(text, "\n") {
		if !strings.HasSuffix(strings.TrimSuffix(l, "\n"), msg) {
			b.WriteString(l)
		}
	}
	return b.String()
}

func evalSafe(in *interp.Interpreter, src string) (v reflect.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &internalError{r}
		}
	}()
	return in.Eval(src)
}

// yaegi's cancellation is EvalWithContext/ExecuteWithContext, which return
// as soon as the context is done while the evaluation goroutine they
// started keeps running (compiled code does not notice the stop signal).
// Execute must know when the cell's code has really ended, so it runs the
// program on its own goroutine and sends the stop signal itself with the
// interpreter's (unexported) stop method. ExecuteWithContext on an empty
// program arms the signal (a fresh channel), before the first evaluation
// and after each stop (which closes the channel).
//
//go:linkname interpStop github.com/traefik/yaegi/interp.(*Interpreter).stop
func interpStop(*interp.Interpreter)

// errStopped is returned by execute when the context was cancelled and the
// code stopped within the grace period.
func errStopped() error { return interruptedError() }

// execute runs a compiled program, stopping it when ctx is cancelled. It
// returns errStopped() if it was stopped, a *StuckError if it did not stop
// within the grace period, or the program's own error.
func (s *Session) execute(ctx context.Context, st *state, prog *interp.Program) error {
	return s.executeFunc(ctx, st, func() error {
		_, err := st.in.Execute(prog)
		return err
	})
}

// sleep is time.Sleep for cells: it returns early when the cell running
// is interrupted (and the interpreter, stopped, then ends the cell), as
// it does for the goroutines of earlier cells: yaegi's stop is
// interpreter-wide too.
func (st *state) sleep(d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-*st.stop.Load():
	}
}

// executeFunc is execute for any function running interpreted code.
func (s *Session) executeFunc(ctx context.Context, st *state, fn func() error) error {
	if ctx.Err() != nil {
		return errStopped()
	}
	if !st.armed {
		if _, err := st.in.ExecuteWithContext(context.Background(), st.empty); err != nil {
			return fmt.Errorf("arm interrupt: %w", err)
		}
		st.armed = true
	}
	done := make(chan struct{})
	stop := make(chan struct{})
	st.stop.Store(&stop)
	interrupt.Set(&stop)
	var err error
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				err = interp.Panic{Value: r}
			}
		}()
		err = fn()
	}()
	select {
	case <-done:
		return err
	case <-ctx.Done():
	}
	interpStop(st.in)
	close(stop)
	st.armed = false
	t := time.NewTimer(s.opts.Grace)
	defer t.Stop()
	select {
	case <-done:
		return errStopped()
	case <-t.C:
		s.running = done
		return &StuckError{Grace: s.opts.Grace}
	}
}

// panicTap is the interpreter's stderr. yaegi prints one line per
// interpreted frame as a panic unwinds ("LINE:COL: panic: main.f(...)");
// the tap keeps those for the traceback instead of printing them.
type panicTap struct {
	w     io.Writer
	mu    sync.Mutex
	lines []string
}

var panicLineRE = regexp.MustCompile(`^(?:_\.go:)?\d+:\d+: panic: \S*\n?$`)

func (t *panicTap) Write(p []byte) (int, error) {
	if panicLineRE.Match(p) {
		t.mu.Lock()
		t.lines = append(t.lines, string(p))
		t.mu.Unlock()
		return len(p), nil
	}
	return t.w.Write(p)
}

// take returns and clears the captured lines.
func (t *panicTap) take() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.lines
	t.lines = nil
	return l
}

// globals is interp.Globals made safe: after a failed compilation the
// scope may list a variable whose storage was never allocated, which makes
// Globals index out of range until the next execution grows the frame.
// Executing the empty program grows it.
func (st *state) globals() (g map[string]reflect.Value) {
	for try := 0; try < 2; try++ {
		func() {
			defer func() {
				if recover() != nil {
					g = nil
				}
			}()
			g = st.in.Globals()
		}()
		if g != nil {
			return g
		}
		evalSafe(st.in, "")
	}
	return map[string]reflect.Value{}
}
