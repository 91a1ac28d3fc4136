package tracking

import (
	"bytes"
	"slices"
	"unsafe"
)

// seenTable is a table the autologger's writer has hashed, kept with its
// values so that the same table logged again is recognized by comparing
// the values (a memcmp, a tenth of the time hashing them takes): a
// notebook fits and scores many models on the same training and test
// data.
type seenTable struct {
	rows, cols int
	columns    []string
	levels     [][]string
	data       []float64 // owned: no event's buffer
	digest     csvDigest
}

// maxSeenTables is how many tables the writer remembers: two, for the
// training and test data a cell alternates between.
const maxSeenTables = 2

func (t *seenTable) same(columns []string, nr, nc int, data []float64, levels [][]string) bool {
	if t.rows != nr || t.cols != nc || !slices.Equal(t.columns, columns) || len(t.levels) != len(levels) {
		return false
	}
	for j := range levels {
		if (t.levels[j] == nil) != (levels[j] == nil) || !slices.Equal(t.levels[j], levels[j]) {
			return false
		}
	}
	// The values' bits, so NaN matches NaN and -0 differs from 0, as in
	// the CSV.
	return bytes.Equal(floatBytes(t.data), floatBytes(data))
}

func floatBytes(v []float64) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 8*len(v))
}

// entryDigest returns the SHA-256 and size of the CSV form of e's data
// (columns named as given), and a function that makes the CSV. It runs
// on the writer only. A table not seen recently is hashed and its
// buffer, taken from e, is remembered; the table it evicts becomes the
// spare buffer Track copies into.
func (a *Autologger) entryDigest(e *autologEntry, columns []string) (sum string, size int, content func() []byte) {
	levels := e.ev.Levels
	data, nr, nc := e.data, e.rows, e.cols
	content = func() []byte { return denseCSV(columns, nr, nc, data, levels) }
	for i, t := range a.seen {
		if t.same(columns, nr, nc, data, levels) {
			copy(a.seen[1:i+1], a.seen[:i])
			a.seen[0] = t
			return t.digest.sum, t.digest.size, content
		}
	}
	sum, size, content = denseSum(columns, nr, nc, data, levels)
	t := &seenTable{rows: nr, cols: nc, columns: slices.Clone(columns), data: data, digest: csvDigest{sum, size}}
	if levels != nil {
		t.levels = make([][]string, len(levels))
		for j, l := range levels {
			t.levels[j] = slices.Clone(l)
		}
	}
	var evicted *seenTable
	if len(a.seen) == maxSeenTables {
		evicted = a.seen[maxSeenTables-1]
		a.seen = a.seen[:maxSeenTables-1]
	}
	a.seen = slices.Insert(a.seen, 0, t)
	a.mu.Lock()
	e.data = nil // the table's now
	if evicted != nil && cap(evicted.data) > cap(a.spare) {
		a.spare = evicted.data[:0]
	}
	a.mu.Unlock()
	return sum, size, content
}
