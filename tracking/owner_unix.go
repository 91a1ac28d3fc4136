//go:build unix

package tracking

import (
	"errors"
	"syscall"
)

// processAlive probes pid with signal 0.
func processAlive(pid int) ownerState {
	err := syscall.Kill(pid, 0)
	switch {
	case err == nil, errors.Is(err, syscall.EPERM):
		return ownerAlive
	case errors.Is(err, syscall.ESRCH):
		return ownerGone
	}
	return ownerUnknown
}
