// Package sync holds the sync.WaitGroup that notebook cells get: the
// standard one, whose Wait also ends when the cell is interrupted.
//
// A cell that waits for its goroutines waits in compiled code, which the
// interpreter cannot stop: interrupting it cost the session (the worker
// was restarted after the grace period), although the goroutines it
// waited for, interpreted, had stopped at the interrupt. Its package is
// named sync so that %v and %T show sync.WaitGroup.
package sync

import (
	stdsync "sync"
	"sync/atomic"
)

// stop holds the channel closed when the code running now is interrupted
// (SetStop). A worker runs one session: a process running several sees
// the stop of the one that last started code.
var stop atomic.Pointer[chan struct{}]

// SetStop makes Wait end when ch is closed; the evaluator calls it each
// time it runs a cell.
func SetStop(ch *chan struct{}) { stop.Store(ch) }

// A WaitGroup is a sync.WaitGroup whose Wait ends early when the running
// cell is interrupted. Its zero value is ready to use.
type WaitGroup struct {
	wg stdsync.WaitGroup
}

// Add adds delta, which may be negative, to the counter, as
// sync.WaitGroup.Add.
func (w *WaitGroup) Add(delta int) { w.wg.Add(delta) }

// Done decrements the counter by one.
func (w *WaitGroup) Done() { w.wg.Done() }

// Go calls f in a new goroutine and adds that task to the group.
func (w *WaitGroup) Go(f func()) { w.wg.Go(f) }

// Wait blocks until the counter is zero, or until the running cell is
// interrupted: the interpreter then stops the cell at the statement after
// Wait, and the goroutines it started at their next interpreted step.
func (w *WaitGroup) Wait() {
	p := stop.Load()
	if p == nil {
		w.wg.Wait()
		return
	}
	done := make(chan struct{})
	go func() {
		w.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-*p:
	}
}
