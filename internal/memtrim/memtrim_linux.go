package memtrim

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// dropFilePages applies MADV_DONTNEED to every private, non-writable,
// file-backed mapping of the process whose resident pages are all clean
// copies of the file (the executable's code and read-only data, shared
// libraries' code). For such a mapping the call only unmaps pages: the
// next access maps them again from the page cache, unchanged.
//
// A mapping holding a private copy of a page is left alone: dropping it
// would bring back the file's bytes. That is the case of writable data,
// and of read-only data the dynamic linker relocated before making it
// read-only (RELRO), which is why smaps, not maps, is read.
func dropFilePages() error {
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return fmt.Errorf("memtrim: %w", err)
	}
	for _, m := range cleanFileMappings(smaps) {
		// An error (a mapping that went away, a locked one) only means
		// that this mapping stays resident.
		syscall.Syscall(syscall.SYS_MADVISE, m.start, m.end-m.start, syscall.MADV_DONTNEED)
	}
	return nil
}

type mapping struct{ start, end uintptr }

// cleanFileMappings parses /proc/self/smaps: a header line per mapping,
//
//	00400000-00c00000 r-xp 00000000 08:01 1234  /usr/bin/gopherlab
//
// followed by "Key: value kB" lines. It keeps private mappings that are
// readable, not writable, backed by a file (not [heap], [stack], [vdso] or
// anonymous memory) and have no anonymous (copied) pages.
func cleanFileMappings(smaps []byte) []mapping {
	var out []mapping
	var cur mapping
	candidate := false
	flush := func() {
		if candidate {
			out = append(out, cur)
		}
		candidate = false
	}
	sc := bufio.NewScanner(bytes.NewReader(smaps))
	for sc.Scan() {
		line := sc.Bytes()
		f := bytes.Fields(line)
		if len(f) == 0 {
			continue
		}
		if key, ok := bytes.CutSuffix(f[0], []byte(":")); ok {
			// A field of the current mapping.
			if !candidate || len(f) < 2 {
				continue
			}
			switch string(key) {
			case "Anonymous", "AnonHugePages":
				// A private copy of a page (copy on write) is
				// anonymous memory. Dirty pages of the page cache
				// (a file written and not yet on disk) are the
				// file's own and stay in the cache.
				if string(f[1]) != "0" {
					candidate = false
				}
			}
			continue
		}
		flush()
		lo, hi, ok := bytes.Cut(f[0], []byte("-"))
		if !ok || len(f) < 6 {
			continue // anonymous memory
		}
		perms, path := f[1], f[5]
		if len(perms) < 4 || perms[0] != 'r' || perms[1] == 'w' || perms[3] != 'p' || path[0] != '/' {
			continue
		}
		start, err1 := strconv.ParseUint(string(lo), 16, 64)
		end, err2 := strconv.ParseUint(string(hi), 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		cur, candidate = mapping{uintptr(start), uintptr(end)}, true
	}
	flush()
	return out
}
