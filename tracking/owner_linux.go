package tracking

import (
	"os"
	"strconv"
	"strings"
)

// processStart returns the start time of process pid in clock ticks since
// boot (field 22 of /proc/PID/stat), or 0 if it cannot be read.
func processStart(pid int) int64 {
	f := statFields(pid)
	// f[0] is field 3 (state), so field 22 is f[19].
	if len(f) < 20 {
		return 0
	}
	v, err := strconv.ParseInt(f[19], 10, 64)
	if err != nil {
		return 0
	}
	return v
}

// processZombie reports whether pid has exited but was not yet reaped by
// its parent: it still answers signal 0 but will never write again.
func processZombie(pid int) bool {
	f := statFields(pid)
	return len(f) > 0 && (f[0] == "Z" || f[0] == "X")
}

// statFields returns the fields of /proc/PID/stat from field 3 on.
func statFields(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	// The command name (field 2) is in parentheses and may itself hold
	// spaces and parentheses: split after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

// bootID returns the kernel's id for the current boot, or "".
func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
