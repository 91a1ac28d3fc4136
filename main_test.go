package main

import (
	"io"
	"os"
	"strings"
	"testing"
)

// stdout runs f and returns what it printed on standard output.
func stdout(t *testing.T, f func() error) (string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	ferr := f()
	os.Stdout = old
	w.Close()
	return <-done, ferr
}

// gopherlab help COMMAND shows every flag of the command, as its -h does.
func TestHelpListsFlags(t *testing.T) {
	for _, tt := range []struct {
		cmd  string
		want []string
	}{
		{"export", []string{"-beam", "-db", "-model", "-name", "-run", "-all"}},
		{"run", []string{"-timeout", "-allow-errors"}},
		{"report", []string{"-metric", "-top"}},
		{"version", []string{"usage: gopherlab version"}},
		{"kernel", []string{"usage: gopherlab kernel", "CONNECTION_FILE", "-log-level"}},
	} {
		out, err := stdout(t, func() error { return runHelp([]string{tt.cmd}) })
		if err != nil {
			t.Errorf("help %s: %v", tt.cmd, err)
		}
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("help %s lacks %q:\n%s", tt.cmd, w, out)
			}
		}
	}
	for _, name := range []string{"nosuch", "worker"} { // worker is the kernel's own
		if _, err := stdout(t, func() error { return runHelp([]string{name}) }); err == nil {
			t.Errorf("help %s: no error", name)
		}
	}
	if _, err := stdout(t, func() error { return runKernel(nil) }); err == nil || !strings.HasPrefix(err.Error(), "kernel: want one connection file") {
		t.Errorf("kernel without a connection file: %v", err)
	}
	// A malformed setting stops the kernel with a message, as a bad
	// -log-level does, rather than meaning something else silently.
	t.Setenv("GOPHERLAB_IDLE_TRIM", "bogus")
	if _, err := stdout(t, func() error { return runKernel([]string{"conn.json"}) }); err == nil || !strings.Contains(err.Error(), `GOPHERLAB_IDLE_TRIM="bogus"`) {
		t.Errorf("kernel with GOPHERLAB_IDLE_TRIM=bogus: %v", err)
	}
	t.Setenv("GOPHERLAB_IDLE_TRIM", "")
	t.Setenv("GOPHERLAB_KERNEL_PROCS", "abc")
	if _, err := stdout(t, func() error { return runKernel([]string{"conn.json"}) }); err == nil || !strings.Contains(err.Error(), `GOPHERLAB_KERNEL_PROCS="abc": want a positive number`) {
		t.Errorf("kernel with GOPHERLAB_KERNEL_PROCS=abc: %v", err)
	}
}
