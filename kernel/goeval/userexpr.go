package goeval

import (
	"context"
	"fmt"
	"go/parser"
	"strings"
	"time"

	"github.com/gopherlab/gopherlab/display"
)

// Evaluate evaluates one Go expression in the session's state and returns
// its value rendered, as execute_request's user_expressions asks (the
// frontend's way to read variables after a cell, e.g. for a status bar).
// Only expressions are accepted: a statement, a declaration or a magic is
// a SyntaxError, so that reading a value can never change the session
// beyond what the expression itself does. It does not count as a cell.
func (s *Session) Evaluate(ctx context.Context, expr string) (display.Bundle, error) {
	if strings.TrimSpace(expr) == "" {
		return display.Bundle{}, &CellError{Name: "SyntaxError", Value: "empty expression",
			Traceback: []string{red("SyntaxError") + ": empty expression"}}
	}
	if _, err := parser.ParseExpr(expr); err != nil {
		msg := "not a Go expression: " + strings.TrimPrefix(err.Error(), "1:")
		return display.Bundle{}, &CellError{Name: "SyntaxError", Value: msg,
			Traceback: []string{red("SyntaxError") + ": " + msg}}
	}
	if ctx.Value(inCellKey{}) != s {
		s.mu.Lock()
		defer s.mu.Unlock()
		if err := s.waitStuck(ctx); err != nil {
			return display.Bundle{}, err
		}
		ctx = context.WithValue(ctx, inCellKey{}, s)
	}
	// Cell number 0 is never a real cell's: an expression does not take
	// the place of the last cell's source in later tracebacks.
	out, err := s.evaluateGuarded(ctx, expr)
	if err != nil {
		return display.Bundle{}, err
	}
	if !out.HasResult {
		msg := expr + " (no value) used as value"
		return display.Bundle{}, &CellError{Name: "TypeError", Value: msg,
			Traceback: []string{red("TypeError") + ": " + msg}}
	}
	return out.Result, nil
}

// evaluateGuarded runs expr as Go, never as a magic or a shell command
// (`!done` is Go's negation here), recovering a panic of the kernel's
// own code as executeGuarded does.
func (s *Session) evaluateGuarded(ctx context.Context, expr string) (out Outcome, err error) {
	defer func() {
		if r := recover(); r != nil {
			msg := fmt.Sprintf("goeval failed on this expression: %v", r)
			out, err = Outcome{}, &CellError{Name: "InternalError", Value: msg, Traceback: []string{red("InternalError") + ": " + msg}}
		}
	}()
	start := time.Now()
	out, err = s.runGo(ctx, s.current(), s.cell(0, expr))
	out.Elapsed = time.Since(start)
	return out, err
}
