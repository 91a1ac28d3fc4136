//go:build linux && (amd64 || arm64)

package tracking

import (
	"os"
	"slices"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Linux keeps, for memory a process registers with userfaultfd in
// asynchronous write-protect mode, one bit per page saying whether the
// page was written since the process last asked, and answers a question
// about a megabyte in about a microsecond (the PAGEMAP_SCAN ioctl of
// /proc/self/pagemap, Linux 6.7). Writes are not stopped or delayed: the
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
	pagemap *os.File
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
	pm, err := os.Open("/proc/self/pagemap")
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
	// Protect every page and forget earlier writes: from here on, a
	// written page reports it.
	if !w.scanLocked(pmScanWPMatching) {
		w.unregisterLocked()
		return nil
	}
	watcher.watches = append(watcher.watches, w)
	return w
}

// scanLocked runs PAGEMAP_SCAN over w with the given flags; it reports
// false if the kernel failed or, when only asking, if a page of w was
// written since it was armed. watcher.mu must be held.
func (w *pageWatch) scanLocked(flags uint64) bool {
	var found pageRegion
	arg := pmScanArg{
		size:  uint64(unsafe.Sizeof(pmScanArg{})),
		flags: flags | pmScanCheckWPAsync,
		start: uint64(w.start), end: uint64(w.end),
		vec: uint64(uintptr(unsafe.Pointer(&found))), vecLen: 1,
		categoryMask: pageIsWritten, returnMask: pageIsWritten,
	}
	n, _, errno := unix.Syscall(unix.SYS_IOCTL, watcher.pagemap.Fd(), pagemapScan, uintptr(unsafe.Pointer(&arg)))
	if errno != 0 {
		return false
	}
	return flags&pmScanWPMatching != 0 || n == 0 && arg.walkEnd == uint64(w.end)
}

// clean reports whether no page of w was written since it was armed.
func (w *pageWatch) clean() bool {
	watcher.mu.Lock()
	defer watcher.mu.Unlock()
	return w.armed && w.scanLocked(0)
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

func (w *pageWatch) debugWritten() (uint64, uint64, uintptr, uint64) {
	watcher.mu.Lock()
	defer watcher.mu.Unlock()
	var found pageRegion
	arg := pmScanArg{
		size:  uint64(unsafe.Sizeof(pmScanArg{})),
		flags: pmScanCheckWPAsync,
		start: uint64(w.start), end: uint64(w.end),
		vec: uint64(uintptr(unsafe.Pointer(&found))), vecLen: 1,
		categoryMask: pageIsWritten, returnMask: pageIsWritten,
	}
	n, _, errno := unix.Syscall(unix.SYS_IOCTL, watcher.pagemap.Fd(), pagemapScan, uintptr(unsafe.Pointer(&arg)))
	return found.start, found.end, n, uint64(errno)
}
