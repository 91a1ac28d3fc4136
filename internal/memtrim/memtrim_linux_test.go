package memtrim

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// mapFile maps a fresh n-byte file read-only and private, as the loader
// maps a program's code, and touches every page of it.
func mapFile(t *testing.T, n int) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(path, bytes.Repeat([]byte{7}, n), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := syscall.Mmap(int(f.Fd()), 0, n, syscall.PROT_READ, syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(b) })
	sink += touch(b)
	return b
}

// sink keeps the compiler from dropping touch's reads.
var sink int

func touch(b []byte) (sum int) {
	for i := 0; i < len(b); i += 4096 {
		sum += int(b[i])
	}
	return sum
}

// residentKB is the Rss smaps reports for the mapping that starts at b.
func residentKB(t *testing.T, b []byte) int {
	t.Helper()
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skipf("no smaps: %v", err)
	}
	start := fmt.Sprintf("%x-", uintptr(unsafe.Pointer(&b[0])))
	sc := bufio.NewScanner(bytes.NewReader(smaps))
	in := false
	for sc.Scan() {
		line := sc.Text()
		if len(line) > len(start) && line[:len(start)] == start {
			in = true
			continue
		}
		if in && len(line) > 4 && line[:4] == "Rss:" {
			f := bytes.Fields([]byte(line))
			n, _ := strconv.Atoi(string(f[1]))
			return n
		}
	}
	t.Fatalf("mapping %s not in smaps", start)
	return 0
}

func TestTrimDropsCleanFilePages(t *testing.T) {
	const size = 2 << 20
	b := mapFile(t, size)
	if err := Trim(); err != nil {
		t.Fatal(err)
	}
	if kb := residentKB(t, b); kb != 0 {
		t.Errorf("%d kB of a clean read-only file mapping resident after Trim, want 0", kb)
	}
	if got, want := touch(b), 7*(size/4096); got != want {
		t.Fatalf("after Trim the mapping reads %d, want %d", got, want)
	}
}

func TestTrimmerWaitsForIdle(t *testing.T) {
	const size = 4 << 20
	b := mapFile(t, size)
	if kb := residentKB(t, b); kb < size>>10 {
		t.Fatalf("mapped file: %d kB resident after touching %d kB", kb, size>>10)
	}
	tr := New(30 * time.Millisecond)
	tr.Busy()
	tr.Busy() // nested: the control channel during a cell
	tr.Idle()
	time.Sleep(200 * time.Millisecond)
	if kb := residentKB(t, b); kb < size>>10 {
		t.Fatalf("trimmed while busy: %d kB of %d kB resident", kb, size>>10)
	}
	tr.Idle()
	deadline := time.Now().Add(5 * time.Second)
	for residentKB(t, b) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("not trimmed within 5s of Idle: %d kB resident", residentKB(t, b))
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The pages come back, unchanged.
	if got, want := touch(b), 7*(size/4096); got != want {
		t.Fatalf("after trim the mapping reads %d, want %d", got, want)
	}
	var zero *Trimmer // a nil Trimmer is a no-op
	zero.Busy()
	zero.Idle()
}

// A private mapping with a page of its own (written after mapping, as the
// dynamic linker does to relocated data before making it read-only) keeps
// its contents.
func TestTrimKeepsPrivateCopies(t *testing.T) {
	const size = 1 << 20
	path := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(path, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(b)
	b[0] = 42
	if err := syscall.Mprotect(b, syscall.PROT_READ); err != nil {
		t.Fatal(err)
	}
	if err := Trim(); err != nil {
		t.Fatal(err)
	}
	if b[0] != 42 {
		t.Fatalf("a relocated read-only page lost its contents: %d", b[0])
	}
}
