package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// CPU accounting from /proc, so a run on a shared machine says who used
// the cores: the server's process tree, the load generator, and the rest.

// clockTick is USER_HZ, the unit of /proc's CPU times (100 on Linux).
const clockTick = 100.0

type cpuSample struct {
	at      time.Time
	tree    float64 // CPU seconds of the server's process and its children
	machine float64 // busy CPU seconds of the whole machine
}

// cpuShare is CPU use over an interval, in cores.
type cpuShare struct{ server, client, others float64 }

func sampleCPU(pid int) cpuSample {
	return cpuSample{at: time.Now(), tree: treeCPU(pid), machine: machineBusy()}
}

// since returns the cores used between before and s; client is the load
// generator's CPU seconds over the interval.
func (s cpuSample) since(before cpuSample, client float64) cpuShare {
	wall := s.at.Sub(before.at).Seconds()
	server := (s.tree - before.tree) / wall
	c := client / wall
	return cpuShare{server: server, client: c, others: max(0, (s.machine-before.machine)/wall-server-c)}
}

// procCPU returns a process's user+system CPU seconds and its parent.
func procCPU(pid string) (float64, string) {
	b, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return 0, ""
	}
	// The command name (field 2) may hold spaces: fields count from its ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, ""
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, ""
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / clockTick, f[1]
}

// treeCPU returns the CPU seconds of pid and its descendants (gunicorn's
// workers, or the server under taskset).
func treeCPU(pid int) float64 {
	entries, _ := os.ReadDir("/proc")
	parent := map[string]string{}
	cpu := map[string]float64{}
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		c, pp := procCPU(e.Name())
		parent[e.Name()], cpu[e.Name()] = pp, c
	}
	root := strconv.Itoa(pid)
	var total float64
	for p, c := range cpu {
		for q := p; q != "" && q != "0"; q = parent[q] {
			if q == root {
				total += c
				break
			}
		}
	}
	return total
}

// machineBusy returns the machine's busy CPU seconds (all but idle and
// iowait) from /proc/stat.
func machineBusy() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	var busy float64
	for i, v := range f[1:] {
		x, _ := strconv.ParseFloat(v, 64)
		if i == 3 || i == 4 || i >= 8 { // idle, iowait; guest times are in user already
			continue
		}
		busy += x
	}
	return busy / clockTick
}

// reniceTree sets the nice value of every thread of pid and its
// descendants (Linux's nice is per thread).
func reniceTree(pid, nice int) error {
	entries, _ := os.ReadDir("/proc")
	parent := map[string]string{}
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err == nil {
			_, parent[e.Name()] = procCPU(e.Name())
		}
	}
	root := strconv.Itoa(pid)
	for p := range parent {
		in := false
		for q := p; q != "" && q != "0"; q = parent[q] {
			if q == root {
				in = true
				break
			}
		}
		if !in {
			continue
		}
		tasks, _ := os.ReadDir(filepath.Join("/proc", p, "task"))
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice); err != nil {
				return fmt.Errorf("nice %d: %w", nice, err)
			}
		}
	}
	return nil
}
