package tracking

import (
	"slices"

	"github.com/gopherlab/gopherlab/experiments"
)

// seenTable is a table the autologger's writer has hashed, kept with its
// values: a notebook fits and scores many models on the same training
// and test data, and an event whose data equals a seen table (compared
// in Track, reading memory instead of copying it) shares the table's
// values and digest instead of being copied and hashed again. Its fields
// do not change once it is in Autologger.seen; refs and evicted are
// guarded by the Autologger's mu.
type seenTable struct {
	rows, cols int
	columns    []string
	levels     [][]string
	data       []float64 // owned: no event's buffer
	digest     csvDigest

	refs    int  // queued entries and Tracks using data
	evicted bool // no longer in seen: data is free once refs is 0
	// guard, when not nil, knows that the memory an event's data was
	// last read from still holds these values (see memGuard).
	guard *memGuard
}

// maxSeenTables is how many tables the writer remembers: two, for the
// training and test data a cell alternates between.
const maxSeenTables = 2

func (t *seenTable) sameShape(columns []string, nr, nc int, levels [][]string) bool {
	if t.rows != nr || t.cols != nc || len(t.levels) != len(levels) {
		return false
	}
	// A matrix's names are one list shared by its events: the same
	// list needs no comparing.
	if len(columns) == 0 || len(t.columns) != len(columns) || &t.columns[0] != &columns[0] {
		if !slices.Equal(t.columns, columns) {
			return false
		}
	}
	for j := range levels {
		if (t.levels[j] == nil) != (levels[j] == nil) || !slices.Equal(t.levels[j], levels[j]) {
			return false
		}
	}
	return true
}

// seenTableFor returns the seen table whose values ev's data equals, bit
// for bit, pinned (see unpinLocked), or nil, and whether the table's
// guard vouched for it (guardedTableFor) instead. It compares without
// holding a.mu: the candidates are pinned meanwhile, so none of their
// buffers can become the spare that a copy writes into.
func (a *Autologger) seenTableFor(ev *experiments.TrackEvent, columns []string, nr, nc int) (t *seenTable, guarded bool) {
	if t := a.guardedTableFor(ev, columns, nr, nc); t != nil {
		return t, true
	}
	a.mu.Lock()
	var cands [maxSeenTables]*seenTable
	n := 0
	for _, t := range a.seen {
		if t.sameShape(columns, nr, nc, ev.Levels) {
			t.refs++
			cands[n] = t
			n++
		}
	}
	a.mu.Unlock()
	if n == 0 {
		return nil, false
	}
	var hit *seenTable
	for _, t := range cands[:n] {
		if ev.DataEqual(t.data) {
			hit = t
			break
		}
	}
	a.mu.Lock()
	for _, t := range cands[:n] {
		if t != hit {
			a.unpinLocked(t)
		}
	}
	a.mu.Unlock()
	return hit, false
}

// guardedTableFor returns, pinned, the seen table whose guard holds the
// memory ev's data is read from, or nil: that memory was not written
// since it was found equal to the table, so it still is.
func (a *Autologger) guardedTableFor(ev *experiments.TrackEvent, columns []string, nr, nc int) *seenTable {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.guardedTableLocked(ev, columns, nr, nc)
}

// guardedTableLocked is guardedTableFor with a.mu held.
func (a *Autologger) guardedTableLocked(ev *experiments.TrackEvent, columns []string, nr, nc int) *seenTable {
	if t, mem := a.guardMatchLocked(ev, columns, nr, nc); t != nil && t.guard.unwritten(mem) {
		t.refs++
		a.guarded++
		return t
	}
	return nil
}

// guardMatchLocked returns the seen table whose guard matches ev's data
// (memGuard.matches: the kernel is not asked whether it was written), or
// nil, and the data's memory; a.mu must be held.
func (a *Autologger) guardMatchLocked(ev *experiments.TrackEvent, columns []string, nr, nc int) (*seenTable, [][]byte) {
	var mem [][]byte
	for _, t := range a.seen {
		if t.guard == nil || !t.sameShape(columns, nr, nc, ev.Levels) {
			continue
		}
		if mem == nil {
			mem = ev.DataMemory()
		}
		if t.guard.matches(ev, mem) {
			return t, mem
		}
	}
	return nil, nil
}

// guardTable watches the memory e's data was read from, if it still
// holds t's values, so that the next event reading it shares t without
// comparing. It runs on the writer, after the cell, while the cell's
// code may have changed the data since: the watch starts first, and the
// guard is kept only if the comparison after it finds t's values and
// no page was written meanwhile.
func (a *Autologger) guardTable(t *seenTable, e *autologEntry) {
	read := e.read
	e.read = nil
	if read == nil || !guardsData {
		return
	}
	src := &experiments.TrackEvent{Data: read}
	mem := src.DataMemory()
	a.mu.Lock()
	held := t.guard.holds(src, mem)
	a.mu.Unlock()
	if held {
		return
	}
	g := guardMemory(src, mem, t.data)
	if g == nil {
		return
	}
	if !src.DataEqual(t.data) || !g.holds(src, mem) {
		g.release()
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if t.evicted {
		g.release()
		return
	}
	t.guard.release()
	t.guard = g
}

// unpinLocked releases a use of t's data; a.mu must be held.
func (a *Autologger) unpinLocked(t *seenTable) {
	t.refs--
	a.reuseLocked(t)
}

// reuseLocked makes an evicted table's buffer, once unused, the spare
// Track copies into; a.mu must be held.
func (a *Autologger) reuseLocked(t *seenTable) {
	if t.evicted && t.refs == 0 && cap(t.data) > cap(a.spare) {
		a.spare = t.data[:0]
	}
}

// entryDigest returns the SHA-256 and size of the CSV form of e's data
// (columns named as given), and a function that makes the CSV. It runs
// on the writer only. The data of an entry that shares a seen table
// has that table's digest; other data is hashed, and its buffer, taken
// from e, is remembered as the most recent table.
func (a *Autologger) entryDigest(e *autologEntry, columns []string) (sum string, size int, content func() []byte) {
	levels := e.ev.Levels
	data, nr, nc := e.data, e.rows, e.cols
	if t := e.table; t != nil {
		a.mu.Lock()
		if i := slices.Index(a.seen, t); i > 0 {
			copy(a.seen[1:i+1], a.seen[:i])
			a.seen[0] = t
		}
		a.mu.Unlock()
		a.guardTable(t, e)
		return t.digest.sum, t.digest.size, func() []byte { return denseCSV(columns, nr, nc, data, levels) }
	}
	sum, size, content = denseSum(columns, nr, nc, data, levels)
	// The names and levels are the entry's own copies (see snapshot),
	// which nothing changes: the table keeps them as they are.
	t := &seenTable{rows: nr, cols: nc, columns: columns, levels: levels, data: data, digest: csvDigest{sum, size}}
	a.mu.Lock()
	if len(a.seen) == maxSeenTables {
		old := a.seen[maxSeenTables-1]
		a.seen = a.seen[:maxSeenTables-1]
		old.evicted = true
		old.guard.release()
		old.guard = nil
		a.reuseLocked(old)
	}
	a.seen = slices.Insert(a.seen, 0, t)
	e.data = nil // the table's now
	a.mu.Unlock()
	a.guardTable(t, e)
	return sum, size, content
}
