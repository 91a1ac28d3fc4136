// Package memtrim gives an idle process's memory back to the system, the
// way a kernel that sits idle between cells should: after a quiet period
// the clean pages of the program's code and read-only data leave the
// process's working set (they stay in the page cache, shared with every
// other process running the same binary, and come back on the next touch
// as minor faults), and free heap returns to the operating system.
//
// A freshly started Go program of gopherlab's size maps far more of its
// binary than it uses: package initialisation touches code all over it,
// and the kernel maps whole large folios of a file the page cache read in
// bulk. Trimming makes resident memory what the idle process really uses.
package memtrim

import (
	"fmt"
	"os"
	"runtime/debug"
	"sync"
	"time"
)

// Trimmer trims once a process has been idle for a while: Busy and Idle
// bracket each piece of work (they may nest), and Delay after the last
// Idle the process is trimmed. The zero value never trims; use New.
type Trimmer struct {
	mu    sync.Mutex
	delay time.Duration
	busy  int
	timer *time.Timer
}

// New returns a Trimmer that trims after delay of idleness, and arms it:
// the process counts as idle from now. A delay <= 0 disables it.
func New(delay time.Duration) *Trimmer {
	t := &Trimmer{delay: delay}
	if delay > 0 {
		t.timer = time.AfterFunc(delay, t.fire)
	}
	return t
}

// Busy marks the start of work: no trim happens until the matching Idle.
func (t *Trimmer) Busy() {
	if t == nil || t.timer == nil {
		return
	}
	t.mu.Lock()
	t.busy++
	t.timer.Stop()
	t.mu.Unlock()
}

// Idle marks the end of work started with Busy.
func (t *Trimmer) Idle() {
	if t == nil || t.timer == nil {
		return
	}
	t.mu.Lock()
	if t.busy > 0 {
		t.busy--
	}
	if t.busy == 0 {
		t.timer.Reset(t.delay)
	}
	t.mu.Unlock()
}

// Activity adapts the Trimmer to callbacks of the form func(busy bool).
func (t *Trimmer) Activity(busy bool) {
	if busy {
		t.Busy()
	} else {
		t.Idle()
	}
}

func (t *Trimmer) fire() {
	t.mu.Lock()
	idle := t.busy == 0
	t.mu.Unlock()
	if idle {
		Trim()
	}
}

// Trim returns free heap to the system and drops the process's clean
// file-backed pages from its working set. It is safe at any time: the
// pages dropped are read-only copies of files.
func Trim() error {
	debug.FreeOSMemory()
	return dropFilePages()
}

// IdleDelay is how long gopherlab's processes wait, idle, before they
// trim: GOPHERLAB_IDLE_TRIM as a Go duration ("2s"), "off" for never,
// one second by default or when the value is not one (the kernel refuses
// to start with such a value: see ParseIdleDelay).
func IdleDelay() time.Duration {
	d, err := ParseIdleDelay(os.Getenv("GOPHERLAB_IDLE_TRIM"))
	if err != nil {
		return time.Second
	}
	return d
}

// ParseIdleDelay reads a GOPHERLAB_IDLE_TRIM value: "" for the default
// (one second), "off" or "0" for never, or a Go duration ("2s").
func ParseIdleDelay(v string) (time.Duration, error) {
	switch v {
	case "":
		return time.Second, nil
	case "off", "0":
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("GOPHERLAB_IDLE_TRIM=%q: want a duration such as 2s or 500ms, or off", v)
	}
	return d, nil
}
