//go:build !unix

package tracking

// processAlive cannot probe processes on this system, so runs are never
// marked KILLED automatically here.
func processAlive(pid int) ownerState { return ownerUnknown }
