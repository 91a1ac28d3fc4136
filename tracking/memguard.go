package tracking

import (
	"bytes"
	"cmp"
	"reflect"
	"runtime"
	"slices"
	"unsafe"
	"weak"

	"github.com/gopherlab/gopherlab/experiments"
)

// memGuard knows, without reading it all, that the memory a seen table's
// values were last found equal to still holds them. A notebook fits
// model after model on the same matrix: comparing a megabyte again
// before each fit costs tens of microseconds, a tenth of a small fit,
// where asking the kernel whether its pages were written costs one to a
// few (see pageWatch). A small region (a target vector) may share its
// pages with other objects, whose writes make it look written: it is
// then compared with the bytes it must hold. Where the kernel cannot
// watch, there is no guard and the data is compared.
type memGuard struct {
	view    reflect.Type // the type of the data's view: how mem makes values
	regions []guardedRegion
	watches []guardWatch
}

// guardWatch watches the pages of some regions (indexes into
// memGuard.regions). Pages a small region shares with other objects may
// be written by them: such a region also keeps the bytes it must hold,
// compared when its pages look written.
type guardWatch struct {
	w       *pageWatch
	regions []int
	small   bool // its regions have want
}

// guardedRegion is one of the views DataMemory returned, by address and
// length, and the object holding it: while that object lives, the same
// address is the same memory. A small region has the bytes it must hold.
type guardedRegion struct {
	addr  uintptr
	n     int
	alive weak.Pointer[byte]
	want  []byte
}

const (
	// guardPage is the smallest page size of the kernels watched.
	guardPage = 4096
	// minWatched is the fewest bytes of pages in a range that is not
	// small: a small range's regions also keep the bytes they must
	// hold, compared when a neighbour's write marks their pages.
	minWatched = 16 * guardPage
	// maxGuardWatches bounds the page ranges a guard asks about, and
	// maxGuardCompared the bytes its small regions keep: data in many
	// scattered allocations (a dataset's columns made one by one) is
	// compared as fast by DataEqual.
	maxGuardWatches  = 4
	maxGuardCompared = 64 << 10
)

// guardMemory starts guarding src's data, read from mem (its DataMemory),
// as holding data (a row-major copy of it). Regions are watched in
// whole pages, those next to each other (a table's columns in one
// allocation) in one range; the regions of a range of fewer than
// minWatched bytes also keep the bytes they must hold, compared when
// their pages look written. It returns nil when the kernel
// cannot watch the memory, or it is in too many ranges or has too much
// to compare, or it is not Go's memory. The caller checks, after arming,
// that the memory holds data (holds): writes before the watch began go
// unseen.
func guardMemory(src *experiments.TrackEvent, mem [][]byte, data []float64) *memGuard {
	if len(mem) == 0 {
		return nil
	}
	g := &memGuard{view: reflect.TypeOf(src.Data), regions: make([]guardedRegion, len(mem))}
	type span struct {
		start, end uintptr
		regions    []int
	}
	var spans []span
	for i, b := range mem {
		if len(b) == 0 {
			continue
		}
		p := unsafe.SliceData(b)
		if !goMemory(p) {
			return nil
		}
		a := uintptr(unsafe.Pointer(p))
		g.regions[i] = guardedRegion{addr: a, n: len(b), alive: weak.Make(p)}
		spans = append(spans, span{a &^ (guardPage - 1), (a + uintptr(len(b)) + guardPage - 1) &^ (guardPage - 1), []int{i}})
	}
	slices.SortFunc(spans, func(x, y span) int { return cmp.Compare(x.start, y.start) })
	merged := spans[:0]
	for _, s := range spans {
		if n := len(merged); n > 0 && s.start <= merged[n-1].end {
			m := &merged[n-1]
			m.end = max(m.end, s.end)
			m.regions = append(m.regions, s.regions...)
			continue
		}
		merged = append(merged, s)
	}
	if len(merged) > maxGuardWatches {
		return nil
	}
	compared := 0
	for _, s := range merged {
		gw := guardWatch{regions: s.regions, small: s.end-s.start < minWatched}
		if gw.small {
			for _, i := range s.regions {
				want := src.DataMemoryOf(data, i)
				if compared += len(want); want == nil || compared > maxGuardCompared {
					g.release()
					return nil
				}
				g.regions[i].want = want
			}
		}
		if gw.w = watchPages(s.start, s.end); gw.w == nil {
			g.release()
			return nil
		}
		g.watches = append(g.watches, gw)
	}
	return g
}

// goMemory reports whether p points into memory Go allocated (the heap
// or a package variable), which a weak pointer can follow; memory mapped
// by other means has no object to follow.
func goMemory(p *byte) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	// AddCleanup panics, where weak.Make would abort the process, on a
	// pointer outside Go's memory.
	runtime.AddCleanup(p, func(struct{}) {}, struct{}{}).Stop()
	return true
}

// holds reports whether ev's data, read from mem (its DataMemory), is
// read the same way from the memory g guards (matches), which still
// holds what it held when g was armed: its pages unwritten since, or,
// for small regions whose pages were written (by their neighbours, as a
// rule), the bytes they must hold (unwritten).
func (g *memGuard) holds(ev *experiments.TrackEvent, mem [][]byte) bool {
	return g.matches(ev, mem) && g.unwritten(mem)
}

// matches is the part of holds that reads no data and asks the kernel
// nothing.
func (g *memGuard) matches(ev *experiments.TrackEvent, mem [][]byte) bool {
	if g == nil || len(mem) != len(g.regions) || reflect.TypeOf(ev.Data) != g.view {
		return false
	}
	for i, b := range mem {
		r := &g.regions[i]
		if len(b) != r.n || len(b) > 0 && (uintptr(unsafe.Pointer(unsafe.SliceData(b))) != r.addr || r.alive.Value() == nil) {
			return false
		}
	}
	return true
}

// unwritten is the rest of holds, for memory g matches.
func (g *memGuard) unwritten(mem [][]byte) bool {
	var buf [maxGuardWatches]*pageWatch
	var clean [maxGuardWatches]bool
	ws := buf[:len(g.watches)]
	for i, gw := range g.watches {
		ws[i] = gw.w
	}
	cleanWatches(ws, clean[:len(ws)])
	for i, gw := range g.watches {
		if clean[i] {
			continue
		}
		if !gw.small {
			return false
		}
		for _, r := range gw.regions {
			if !bytes.Equal(mem[r], g.regions[r].want) {
				return false
			}
		}
	}
	return true
}

// release stops watching g's memory.
func (g *memGuard) release() {
	if g == nil {
		return
	}
	for _, gw := range g.watches {
		gw.w.release()
	}
	g.watches = nil
}
