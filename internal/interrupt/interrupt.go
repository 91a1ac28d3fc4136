// Package interrupt lets long compiled work notice that the notebook cell
// running it was interrupted.
//
// The interpreter stops interpreted code at an interrupt, but a call into
// compiled code (a forest's fit, a grid search) runs to its end: past the
// kernel's grace period the session would be restarted, and its
// variables lost. The kernel hands each cell's stop channel to Set, and
// the work's loops ask Requested between their steps (a tree, a fold, an
// iteration), returning early with Err. Outside the kernel nothing sets
// it, and Requested is always false.
package interrupt

import (
	"errors"
	"sync/atomic"
)

// stop holds the channel closed when the running cell is interrupted.
var stop atomic.Pointer[chan struct{}]

// Set makes Requested true once ch is closed; the kernel calls it as each
// cell starts. A process runs one notebook session, so one channel serves.
func Set(ch *chan struct{}) { stop.Store(ch) }

// Done returns the channel closed when the running cell is interrupted,
// nil (never ready) outside the kernel.
func Done() <-chan struct{} {
	if p := stop.Load(); p != nil {
		return *p
	}
	return nil
}

// Requested reports whether the running cell has been interrupted. It
// costs an atomic load and a channel poll: cheap enough to ask per tree,
// fold or iteration.
func Requested() bool {
	p := stop.Load()
	if p == nil {
		return false
	}
	select {
	case <-*p:
		return true
	default:
		return false
	}
}

// Err is what interrupted work returns (wrapped with what it was doing).
var Err = errors.New("interrupted")
