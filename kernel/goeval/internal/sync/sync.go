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

	"github.com/gopherlab/gopherlab/internal/interrupt"
)

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
	stop := interrupt.Done()
	if stop == nil {
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
	case <-stop:
	}
}
