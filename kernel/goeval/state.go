package goeval

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"sync"
	"time"
	_ "unsafe" // for go:linkname

	"github.com/traefik/yaegi/interp"
)

// state is one interpreter and what the session's cells declared in it.
// Reset replaces it whole.
type state struct {
	in    *interp.Interpreter
	col   *collector
	tap   *panicTap
	empty *interp.Program // run before each evaluation to arm cancellation

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

// declInfo is one top-level declaration made by a cell.
type declInfo struct {
	name string
	kind string // func, method, type, var, const
	src  string // the declaration as written (doc comment included)
	norm string // its tokens, to tell an identical redefinition
	doc  string
	typ  string // declared type of a variable, when written
	// generic is set for a type with type parameters.
	generic bool
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
	if _, err := evalSafe(in, "import "+hookImport+" "+strconv.Quote(hookPath)); err != nil {
		return nil, fmt.Errorf("goeval: import hooks: %w", err)
	}
	empty, err := compileSafe(in, "")
	if err != nil {
		return nil, fmt.Errorf("goeval: start interpreter: %w", err)
	}
	st.in, st.empty = in, empty
	return st, nil
}

// internalError is a panic of yaegi itself, caught while compiling.
type internalError struct{ value any }

func (e *internalError) Error() string { return fmt.Sprint(e.value) }

func compileSafe(in *interp.Interpreter, src string) (prog *interp.Program, err error) {
	defer func() {
		if r := recover(); r != nil {
			prog, err = nil, &internalError{r}
		}
	}()
	return in.Compile(src)
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
// program arms the signal (a fresh channel) before each evaluation.
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

// executeFunc is execute for any function running interpreted code.
func (s *Session) executeFunc(ctx context.Context, st *state, fn func() error) error {
	if ctx.Err() != nil {
		return errStopped()
	}
	if _, err := st.in.ExecuteWithContext(context.Background(), st.empty); err != nil {
		return fmt.Errorf("arm interrupt: %w", err)
	}
	done := make(chan struct{})
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
