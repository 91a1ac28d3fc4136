package tracking

import (
	"os"
	"sync"
)

// owner identifies the process that runs a run. A pid alone is not enough
// to tell whether that process is still alive, because pids are reused; the
// process start time (and the boot it belongs to) make the identity unique.
type owner struct {
	pid   int
	start int64  // process start time in clock ticks since boot; 0 if unknown
	boot  string // boot id; "" if unknown
	host  string
}

var (
	selfOnce  sync.Once
	selfOwner owner
)

// self returns the identity of the current process.
func self() owner {
	selfOnce.Do(func() {
		host, _ := os.Hostname()
		pid := os.Getpid()
		selfOwner = owner{pid: pid, start: processStart(pid), boot: bootID(), host: host}
	})
	return selfOwner
}

// ownerState tells what is known about the process that owns a run.
type ownerState int

const (
	ownerAlive   ownerState = iota // the very process is running
	ownerGone                      // the process is certainly gone
	ownerUnknown                   // cannot tell (other host, unsupported OS)
)

// check reports whether the process described by o still runs. Only
// processes on this host can be checked.
func (o owner) check() ownerState {
	me := self()
	if o.host != me.host || o.pid <= 0 {
		return ownerUnknown
	}
	if o.boot != "" && me.boot != "" && o.boot != me.boot {
		return ownerGone // the machine rebooted since
	}
	switch processAlive(o.pid) {
	case ownerGone:
		return ownerGone
	case ownerUnknown:
		return ownerUnknown
	}
	if processZombie(o.pid) {
		return ownerGone
	}
	if o.start != 0 {
		if st := processStart(o.pid); st != 0 && st != o.start {
			return ownerGone // the pid now belongs to another process
		}
	}
	return ownerAlive
}
