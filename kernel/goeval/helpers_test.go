package goeval

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopherlab/gopherlab/display"
	"github.com/gopherlab/gopherlab/kernel/symbols"
	"github.com/traefik/yaegi/interp"
)

// syncBuffer is a bytes.Buffer safe for the interpreter's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func (b *syncBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b.Reset()
}

// testSymbols is the kernel's table, with display added when the symbols
// package does not ship it yet.
func testSymbols() interp.Exports {
	const key = "github.com/gopherlab/gopherlab/display/display"
	all := symbols.All()
	if _, ok := all[key]; ok {
		return all
	}
	ex := interp.Exports{}
	for k, v := range all {
		ex[k] = v
	}
	ex[key] = map[string]reflect.Value{
		"Bundle":     reflect.ValueOf((*display.Bundle)(nil)),
		"Render":     reflect.ValueOf(display.Render),
		"RenderText": reflect.ValueOf(display.RenderText),
	}
	return ex
}

type testSession struct {
	*Session
	t        testing.TB
	out, err *syncBuffer
}

func newSession(t testing.TB, mod ...func(*Options)) *testSession {
	t.Helper()
	out, errw := &syncBuffer{}, &syncBuffer{}
	opts := Options{Symbols: testSymbols(), Stdout: out, Stderr: errw, Stdin: strings.NewReader(""), Grace: 300 * time.Millisecond}
	for _, m := range mod {
		m(&opts)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return &testSession{Session: s, t: t, out: out, err: errw}
}

// run executes code and fails the test on error.
func (ts *testSession) run(code string) Outcome {
	ts.t.Helper()
	o, err := ts.Execute(context.Background(), code)
	if err != nil {
		var ce *CellError
		if errors.As(err, &ce) {
			ts.t.Fatalf("Execute(%q): %v\n%s\nstderr: %s", code, err, strings.Join(ce.Traceback, "\n"), ts.err.String())
		}
		ts.t.Fatalf("Execute(%q): %v", code, err)
	}
	return o
}

// fail executes code and returns its *CellError, failing the test if
// there is none.
func (ts *testSession) fail(code string) *CellError {
	ts.t.Helper()
	_, err := ts.Execute(context.Background(), code)
	var ce *CellError
	if !errors.As(err, &ce) {
		ts.t.Fatalf("Execute(%q) = %v, want a *CellError", code, err)
	}
	if ce.Traceback == nil {
		ts.t.Fatalf("Execute(%q): nil traceback", code)
	}
	return ce
}

// text is the text/plain of a cell's result ("" without one).
func (ts *testSession) text(code string) string {
	ts.t.Helper()
	o := ts.run(code)
	if !o.HasResult {
		return ""
	}
	s, _ := o.Result.Data["text/plain"].(string)
	return s
}
