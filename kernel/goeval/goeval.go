// Package goeval turns notebook cells into evaluations by the yaegi Go
// interpreter, and answers the questions a notebook asks about them:
// completion, inspection and whether a cell is complete. It owns the
// session's interpreter and what the session has defined; it knows nothing
// of Jupyter messages (kernel/worker runs it in a child process and
// forwards its output and results).
//
// A cell is Go as written in a notebook: imports, declarations and
// statements mixed. Execute cuts it into runs of declarations and runs of
// statements (yaegi accepts one or the other per evaluation), evaluates
// them in order and maps error positions back to the cell's own lines.
// Names defined by a cell stay visible in later cells.
//
// The value of a final expression statement is the cell's result:
//
//   - a bare expression that is not a call shows its value (6*7 shows 42);
//   - a call shows its value when it returns exactly one value; a call
//     whose last result is an error shows the error when it is not nil
//     (strconv.Atoi("x") shows the error), else, with two results, the
//     first (strconv.Atoi("42") shows 42, cm.Plot() the plot), except
//     for the byte counts of printing, scanning, reading and writing
//     (fmt.Println(x), w.Write(b), io.Copy(w, r) show nothing); other
//     calls with several results, and f() with no result, show nothing;
//   - copy, print, println, panic, close, delete and clear show nothing;
//   - a nil interface value shows nothing (like None in IPython): a call
//     returning a nil error is silent, a non-nil error shows its text.
//
// The result is rendered by display.Render; values of types declared in
// cells that implement display.Renderer or HTML, Markdown, SVG, PNG, JPEG,
// Latex, JSON, String or Error methods are rendered through those methods.
//
// Lines at the top of a cell that start with % or ! are magics and shell
// commands (see %help). "name?" and "name??" show documentation in a pager.
//
// yaegi v0.16.1 (Go <= 1.22 semantics) has traps that Execute works around
// or turns into clear errors:
//
//   - functions are bound to what they call when compiled: redefining f,
//     or redeclaring a variable, compiles again the functions that use it
//     (methods cannot be redefined, so they keep the old one: a note says
//     so);
//   - types and methods cannot be redefined: an identical redefinition is
//     skipped, a different one is an error asking for %reset or a new name;
//   - x := ...x... with an existing x would read a new, zero x: it runs
//     through temporaries;
//   - range over an int or a function crashes yaegi: it is an error
//     (detected statically, or recovered);
//   - a top-level defer or func main would run after every later cell: an
//     error;
//   - importing twice, or naming a variable like an imported package,
//     breaks yaegi silently: duplicates are skipped, clashes are errors.
//
// A cell keeps for the session what it declares, not what it computed on
// the way: yaegi keeps the temporaries of code run at the top level in
// global slots for good (and copies them all as the session grows), so
// results and statements run in the body of a func init, and definitions
// (x := f(), var x = f()) are compiled to declare the variables, then set
// from a func init. A cell identical to a recent one runs its compiled
// program again, until a cell redeclares something it uses (frame.go and
// exec.go say more).
//
// Interrupting a cell (cancelling Execute's context) stops interpreted
// code, and goroutines earlier cells started, and keeps the session's
// state. Compiled code ignores it: if the cell has not stopped after the
// grace period, Execute returns a *StuckError and the process should be
// restarted. A panic in a goroutine started by a cell, or a stack
// overflow, ends the process (Go offers no way to recover those).
package goeval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gopherlab/gopherlab/display"
	"github.com/traefik/yaegi/interp"
)

// Options configures a Session.
type Options struct {
	// Symbols are the compiled packages cells can import, in yaegi's
	// "path/name" form (kernel/symbols.Symbols in the kernel).
	Symbols interp.Exports
	// Stdout and Stderr receive what cells print (fmt.Print*, println,
	// log.*, os.Stdout and os.Stderr in cells, shell commands, magics).
	// They default to the process's os.Stdout and os.Stderr.
	Stdout, Stderr io.Writer
	// Stdin is what cells read (fmt.Scan*, os.Stdin). Defaults to os.Stdin.
	Stdin io.Reader
	// Dir, when set, is the working directory New changes to. The working
	// directory belongs to the process, as %cd does.
	Dir string
	// Grace is how long Execute waits for a cancelled cell to stop before
	// giving up with a *StuckError (default 1s).
	Grace time.Duration
}

// Outcome is what a successful Execute produced besides printed output.
type Outcome struct {
	// HasResult is true when the cell ended with an expression that has a
	// value to show; Result is that value rendered (text/plain always set).
	HasResult bool
	Result    display.Bundle
	// Payload holds Jupyter payloads, such as the pager page of "name?".
	Payload []map[string]any
	// Elapsed is the wall time Execute took.
	Elapsed time.Duration
}

// ErrInterrupted is matched (errors.Is) by the error Execute returns when
// its context was cancelled and the cell stopped.
var ErrInterrupted = errors.New("interrupted")

// CellError is a cell's failure as Jupyter shows it: compile and syntax
// errors, panics (the session stays usable), unsupported code, magics'
// usage errors, and interrupts (Name "Interrupted", matching
// ErrInterrupted). Traceback is never nil.
type CellError struct {
	Name      string   // Jupyter's ename: "SyntaxError", "TypeError", "Interrupted", ...
	Value     string   // Jupyter's evalue: the message, with its location if known
	Traceback []string // the lines Jupyter shows, with ANSI colors
	Err       error    // the underlying error, if any
}

// Error returns "Name: Value".
func (e *CellError) Error() string { return e.Name + ": " + e.Value }

// Unwrap returns Err.
func (e *CellError) Unwrap() error { return e.Err }

// StuckError reports that a cancelled cell did not stop within the grace
// period: compiled code (a long call into a compiled package) ignores
// cancellation and is still running in the background. The session must
// not be trusted any more; the process running it should be restarted.
// A later Execute on the same session first waits for that code to end.
type StuckError struct {
	Grace time.Duration // how long Execute waited for the cell to stop
}

// Error says that the cell did not stop within Grace and that the kernel
// must restart.
func (e *StuckError) Error() string {
	return fmt.Sprintf("the cell was interrupted but did not stop within %v (compiled code does not see interrupts); the kernel must restart", e.Grace)
}

// Unwrap returns ErrInterrupted, so that errors.Is matches it.
func (e *StuckError) Unwrap() error { return ErrInterrupted }

// MagicFunc implements a %name magic. args is the rest of the magic's
// line. It runs inside Execute; it may call s.Execute with the ctx it was
// given to evaluate Go code in the session, and print to s.Stdout().
type MagicFunc func(ctx context.Context, s *Session, args string) error

type magic struct {
	help string
	fn   MagicFunc
}

// Session is one notebook's interpreter and what its cells defined. Its
// methods are safe for concurrent use; cells execute one at a time, and
// Complete, Inspect and IsComplete answer while a cell runs.
type Session struct {
	opts  Options
	pkgs  map[string]string // import path -> package name, of opts.Symbols
	count int               // cells executed, numbering their sources
	shown map[int]int       // count → the number the frontend showed for that cell (WithCount)

	mu       sync.Mutex              // held by Execute and Reset
	running  chan struct{}           // closed when a stuck evaluation finally ends
	parsed   map[string][]*parsedRun // parses of recent cells, by source
	rewrites map[string]rewrite      // loop rewrites of recent cells, by source as written

	meta      sync.RWMutex // guards st (the pointer and its tracked names) and magics
	st        *state
	magics    map[string]magic
	envOwners map[string]string // environment variable -> magic that sets it (SetEnvMagic)
}

type inCellKey struct{}

// New starts a session: a fresh interpreter with opts.Symbols.
func New(opts Options) (*Session, error) {
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.Stdin == nil {
		opts.Stdin = os.Stdin
	}
	if opts.Grace <= 0 {
		opts.Grace = time.Second
	}
	if opts.Dir != "" {
		if err := os.Chdir(opts.Dir); err != nil {
			return nil, fmt.Errorf("goeval: %w", err)
		}
	}
	// Makes os.Stdin/Stdout/Stderr in cells the writers above even when
	// they are not files. yaegi reads it in interp.New.
	if err := os.Setenv("YAEGI_SPECIAL_STDIO", "1"); err != nil {
		return nil, fmt.Errorf("goeval: %w", err)
	}
	s := &Session{opts: opts, pkgs: map[string]string{}, magics: map[string]magic{}}
	for key := range opts.Symbols {
		dir, name := splitKey(key)
		if dir == "" || dir == hookPath || strings.HasPrefix(dir, "github.com/traefik/yaegi/") {
			continue
		}
		s.pkgs[dir] = name
	}
	st, err := s.newState()
	if err != nil {
		return nil, err
	}
	s.st = st
	return s, nil
}

// splitKey splits a symbol table key "import/path/name".
func splitKey(key string) (path, name string) {
	i := strings.LastIndex(key, "/")
	if i <= 0 {
		return "", ""
	}
	return key[:i], key[i+1:]
}

// Stdout is where the session's cells print.
func (s *Session) Stdout() io.Writer { return s.opts.Stdout }

// Stderr is where the session's cells print errors.
func (s *Session) Stderr() io.Writer { return s.opts.Stderr }

// RegisterMagic adds (or replaces) the magic %name, listed by %help with
// its one-line help.
func (s *Session) RegisterMagic(name, help string, fn MagicFunc) {
	s.meta.Lock()
	defer s.meta.Unlock()
	s.magics[strings.TrimPrefix(name, "%")] = magic{help: help, fn: fn}
}

// SetEnvMagic makes "%env NAME=value" say to use "%magic value" and run
// it: NAME is a setting that a registered magic owns, read when the
// session started (GOPHERLAB_DB, the tracking store that %tracking
// switches), so setting the variable alone would change nothing. The
// magic is expected to set NAME itself.
func (s *Session) SetEnvMagic(name, magic string) {
	s.meta.Lock()
	defer s.meta.Unlock()
	if s.envOwners == nil {
		s.envOwners = map[string]string{}
	}
	s.envOwners[name] = strings.TrimPrefix(magic, "%")
}

// Reset replaces the interpreter with a fresh one with the same options:
// every name the session defined is gone.
func (s *Session) Reset() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reset()
}

func (s *Session) reset() error {
	st, err := s.newState()
	if err != nil {
		return err
	}
	s.meta.Lock()
	s.st = st
	s.meta.Unlock()
	return nil
}

// Execute runs one cell. On success it returns the cell's result, if any;
// on failure a *CellError (or a *StuckError, see there). Output goes to
// the session's writers as it is produced.
func (s *Session) Execute(ctx context.Context, code string) (Outcome, error) {
	start := time.Now()
	if ctx.Value(inCellKey{}) != s {
		// Not called from a magic of this session's running cell.
		s.mu.Lock()
		defer s.mu.Unlock()
		if err := s.waitStuck(ctx); err != nil {
			return Outcome{Elapsed: time.Since(start)}, err
		}
		ctx = context.WithValue(ctx, inCellKey{}, s)
	}
	s.count++
	shown := s.count
	if n, ok := ctx.Value(countKey{}).(int); ok {
		shown = n
	}
	if s.shown == nil {
		s.shown = map[int]int{}
	}
	s.shown[s.count] = shown
	out, err := s.executeGuarded(ctx, s.count, code)
	out.Elapsed = time.Since(start)
	return out, err
}

type countKey struct{}

// WithCount tells Execute the number the frontend shows for the cell
// (its In [n], the execution count), for the messages that name a cell;
// 0 for an execution the frontend does not number (silent, or not kept
// in history). Without it, cells are numbered in the order they run.
func WithCount(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, countKey{}, n)
}

// cellName names the cell run n-th as the frontend showed it: "cell
// [5]", or what it was when it had no number.
func (s *Session) cellName(n int) string {
	if c := s.shownCount(n); c > 0 {
		return fmt.Sprintf("cell [%d]", c)
	}
	return "a cell run without a number (silent, or not kept in history)"
}

// shownCount is the number the frontend showed for the cell run n-th, 0
// for none.
func (s *Session) shownCount(n int) int {
	if c, ok := s.shown[n]; ok {
		return c
	}
	return n
}

// executeGuarded runs a cell; a panic of the kernel's own code (not the
// cell's, which becomes a CellError where it happens) fails the cell
// instead of the process.
func (s *Session) executeGuarded(ctx context.Context, n int, code string) (out Outcome, err error) {
	defer func() {
		if r := recover(); r != nil {
			msg := fmt.Sprintf("goeval failed on this cell: %v", r)
			out, err = Outcome{}, &CellError{Name: "InternalError", Value: msg, Traceback: []string{red("InternalError") + ": " + msg}}
		}
	}()
	return s.executeCell(ctx, n, code)
}

// waitStuck waits for code left running by an earlier stuck cell, so that
// two cells never run at once.
func (s *Session) waitStuck(ctx context.Context) error {
	if s.running == nil {
		return nil
	}
	select {
	case <-s.running:
		s.running = nil
		return nil
	case <-ctx.Done():
		return interruptedError()
	}
}

func interruptedError() *CellError {
	return &CellError{
		Name:      "Interrupted",
		Value:     "the cell was interrupted",
		Traceback: []string{red("Interrupted") + ": the cell was interrupted"},
		Err:       ErrInterrupted,
	}
}

// current returns the session's state.
func (s *Session) current() *state {
	s.meta.RLock()
	defer s.meta.RUnlock()
	return s.st
}

// importable returns the import paths cells can import, sorted.
func (s *Session) importable() []string {
	paths := make([]string, 0, len(s.pkgs))
	for p := range s.pkgs {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths
}

// exported returns the symbol table entry for path.name, if any.
func (s *Session) exported(path, name string) (reflect.Value, bool) {
	pkg, ok := s.pkgs[path]
	if !ok {
		return reflect.Value{}, false
	}
	v, ok := s.opts.Symbols[path+"/"+pkg][name]
	return v, ok
}
