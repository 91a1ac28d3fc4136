//go:build linux && (amd64 || arm64)

package tracking

import (
	"slices"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Linux keeps, for memory a process registers with userfaultfd in
// asynchronous write-protect mode, one bit per page saying whether the
// page was written since the process last asked, and answers a question
// about a megabyte in a microsecond, a few from cold caches (the
// PAGEMAP_SCAN ioctl of /proc/self/pagemap, Linux 6.7). Writes are not
// stopped or delayed: the
// first write to a watched page takes one minor fault that clears its
// protection and sets its bit. (The feature was added for emulators of
// Windows' write watches and for checkpointing tools.)

// The kernel's ABI (linux/userfaultfd.h, linux/fs.h).
const (
	uffdUserModeOnly     = 1
	uffdAPI              = 0xaa
	uffdioAPI            = 0xc018aa3f // _IOWR(0xaa, 0x3f, struct uffdio_api)
	uffdioRegister       = 0xc020aa00 // _IOWR(0xaa, 0x00, struct uffdio_register)
	uffdioUnregister     = 0x8010aa01 // _IOR(0xaa, 0x01, struct uffdio_range)
	uffdFeatureWPUnpopul = 1 << 13
	uffdFeatureWPAsync   = 1 << 15
	uffdioRegisterModeWP = 1 << 1
	pagemapScan          = 0xc0606610 // _IOWR('f', 16, struct pm_scan_arg)
	pmScanWPMatching     = 1 << 0
	pmScanCheckWPAsync   = 1 << 1
	pageIsWPAllowed      = 1 << 0
	pageIsWritten        = 1 << 1
)

type uffdioAPIArg struct{ api, features, ioctls uint64 }

type uffdioRegisterArg struct{ start, len, mode, ioctls uint64 }

type uffdioRange struct{ start, len uint64 }

type pmScanArg struct {
	size, flags, start, end, walkEnd, vec, vecLen, maxPages uint64
	categoryInverted, categoryMask, categoryAnyofMask       uint64
	returnMask                                              uint64
}

type pageRegion struct{ start, end, categories uint64 }

// watcher is the process's userfaultfd and pagemap, opened on first use,
// and the page ranges registered with them. A page is in at most one
// watch: arming a range supersedes the watches it overlaps, whose
// answers would otherwise be reset under them.
var watcher struct {
	once    sync.Once
	ok      bool
	uffd    int
	pagemap int // /proc/self/pagemap, open for good
	mu      sync.Mutex
	watches []*pageWatch
}

// pageWatch is a registered range of whole pages.
type pageWatch struct {
	start, end uintptr
	armed      bool // registered and not superseded (watcher.mu)
}

func openWatcher() {
	fd, _, errno := unix.Syscall(unix.SYS_USERFAULTFD, unix.O_CLOEXEC|unix.O_NONBLOCK, 0, 0)
	if errno == unix.EPERM || errno == unix.EACCES {
		// Without the privilege to handle the kernel's own faults
		// (vm.unprivileged_userfaultfd=0), a process may still watch
		// the faults of its user code; the kernel resolves asynchronous
		// write protection itself either way.
		fd, _, errno = unix.Syscall(unix.SYS_USERFAULTFD, unix.O_CLOEXEC|unix.O_NONBLOCK|uffdUserModeOnly, 0, 0)
	}
	if errno != 0 {
		return
	}
	api := uffdioAPIArg{api: uffdAPI, features: uffdFeatureWPAsync | uffdFeatureWPUnpopul}
	if ioctl(int(fd), uffdioAPI, unsafe.Pointer(&api)) != nil || api.features&uffdFeatureWPAsync == 0 {
		unix.Close(int(fd))
		return
	}
	pm, err := unix.Open("/proc/self/pagemap", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(int(fd))
		return
	}
	watcher.uffd, watcher.pagemap, watcher.ok = int(fd), pm, true
}

func ioctl(fd int, req uintptr, arg unsafe.Pointer) error {
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg)); errno != 0 {
		return errno
	}
	return nil
}

// watchPages registers the pages from start to end (page-aligned) and
// starts watching them for writes; nil when this kernel or process
// cannot.
func watchPages(start, end uintptr) *pageWatch {
	if start >= end {
		return nil
	}
	watcher.once.Do(openWatcher)
	if !watcher.ok {
		return nil
	}
	watcher.mu.Lock()
	defer watcher.mu.Unlock()
	kept := watcher.watches[:0]
	for _, w := range watcher.watches {
		if w.start < end && start < w.end {
			w.unregisterLocked()
			continue
		}
		kept = append(kept, w)
	}
	clear(watcher.watches[len(kept):])
	watcher.watches = kept
	reg := uffdioRegisterArg{start: uint64(start), len: uint64(end - start), mode: uffdioRegisterModeWP}
	if ioctl(watcher.uffd, uffdioRegister, unsafe.Pointer(&reg)) != nil {
		return nil
	}
	w := &pageWatch{start: start, end: end, armed: true}
	if !w.armLocked() {
		w.unregisterLocked()
		return nil
	}
	watcher.watches = append(watcher.watches, w)
	return w
}

// armLocked write-protects every page of w, forgetting earlier writes:
// from here on, a written page reports it. watcher.mu must be held.
func (w *pageWatch) armLocked() bool {
	arg := pmScanArg{
		size:  uint64(unsafe.Sizeof(pmScanArg{})),
		flags: pmScanWPMatching | pmScanCheckWPAsync,
		start: uint64(w.start), end: uint64(w.end),
		categoryMask: pageIsWritten, returnMask: pageIsWritten,
	}
	return ioctl(watcher.pagemap, pagemapScan, unsafe.Pointer(&arg)) == nil
}

// cleanWatches sets clean[i] to whether no page of ws[i] was written
// since it was armed, asking the kernel once about the range they all
// lie in: the scan looks at watched pages only, skipping the memory in
// between, and reports written ones (a watch is taken as written when
// the reports ran out before reaching it).
func cleanWatches(ws []*pageWatch, clean []bool) {
	watcher.mu.Lock()
	defer watcher.mu.Unlock()
	lo, hi := ^uintptr(0), uintptr(0)
	for _, w := range ws {
		lo, hi = min(lo, w.start), max(hi, w.end)
	}
	var found [8]pageRegion
	arg := pmScanArg{
		size:  uint64(unsafe.Sizeof(pmScanArg{})),
		start: uint64(lo), end: uint64(hi),
		vec: uint64(uintptr(unsafe.Pointer(&found[0]))), vecLen: uint64(len(found)),
		categoryMask: pageIsWritten | pageIsWPAllowed, returnMask: pageIsWritten,
	}
	// A scan takes microseconds and never blocks: a raw system call,
	// without telling the scheduler.
	n, _, errno := unix.RawSyscall(unix.SYS_IOCTL, uintptr(watcher.pagemap), pagemapScan, uintptr(unsafe.Pointer(&arg)))
	if errno != 0 {
		clear(clean) // n is not a count then
		return
	}
	for i, w := range ws {
		clean[i] = w.armed && uint64(w.end) <= arg.walkEnd
		for _, r := range found[:min(int(n), len(found))] {
			if r.start < uint64(w.end) && uint64(w.start) < r.end {
				clean[i] = false
			}
		}
	}
}

// release stops watching w's pages.
func (w *pageWatch) release() {
	watcher.mu.Lock()
	defer watcher.mu.Unlock()
	if !w.armed {
		return
	}
	w.unregisterLocked()
	watcher.watches = slices.DeleteFunc(watcher.watches, func(v *pageWatch) bool { return v == w })
}

func (w *pageWatch) unregisterLocked() {
	w.armed = false
	r := uffdioRange{start: uint64(w.start), len: uint64(w.end - w.start)}
	_ = ioctl(watcher.uffd, uffdioUnregister, unsafe.Pointer(&r))
}
