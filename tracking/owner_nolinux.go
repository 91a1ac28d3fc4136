//go:build !linux

package tracking

// processStart is not available on this system: crash detection falls back
// to checking that the pid is alive.
func processStart(pid int) int64 { return 0 }

func bootID() string { return "" }

func processZombie(pid int) bool { return false }
