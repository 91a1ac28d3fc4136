package experiments

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"

	"github.com/gopherlab/gopherlab/internal/atomicfile"
)

// WriteCSV writes the dataset as CSV with a header row: numbers in the
// shortest form that reads back to the same float64 (±Inf as +Inf and
// -Inf), levels as they are (quoted where CSV needs it), missing values
// as empty fields. ReadCSV reads it back to an equal dataset, except that
// a categorical column whose levels all read as numbers comes back
// numeric unless named in CSVOptions.Categorical, and a level spelled
// like a missing-value token ("NA") comes back missing.
func (ds *Dataset) WriteCSV(w io.Writer) error {
	ds = ds.orEmpty()
	bw := bufio.NewWriter(w)
	cw := csv.NewWriter(bw)
	rec := ds.Columns()
	if err := cw.Write(rec); err != nil {
		return fmt.Errorf("experiments: write csv: %w", err)
	}
	var buf []byte
	for i := 0; i < ds.rows; i++ {
		for j, c := range ds.cols {
			switch {
			case c.missing(i):
				rec[j] = ""
			case c.kind == Numeric:
				buf = strconv.AppendFloat(buf[:0], c.nums[i], 'g', -1, 64)
				if c.nums[i] > 0 && len(buf) == 3 && string(buf) == "Inf" {
					buf = append([]byte{'+'}, buf...)
				}
				rec[j] = string(buf)
			default:
				rec[j] = c.levels[c.codes[i]]
			}
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("experiments: write csv: line %d: %w", i+2, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("experiments: write csv: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("experiments: write csv: %w", err)
	}
	return nil
}

// WriteCSVFile writes the dataset to a CSV file (see WriteCSV), replacing
// it only once the whole file is written.
func (ds *Dataset) WriteCSVFile(path string) error {
	if err := atomicfile.Write(path, 0o644, ds.WriteCSV); err != nil {
		return fmt.Errorf("experiments: write csv %s: %w", path, err)
	}
	return nil
}

// ValueCounts counts the rows of each value of a column, like pandas'
// value_counts: a dataset of the values (levels, or numbers) and their
// "count", most frequent first (ties in order of value),
// with missing values last as a missing value when there are any.
func (ds *Dataset) ValueCounts(name string) (*Dataset, error) {
	c, err := ds.col(name)
	if err != nil {
		return nil, fmt.Errorf("experiments: value counts: %w", unwrapPrefix(err))
	}
	if name == "count" {
		return nil, fmt.Errorf(`experiments: value counts: the counts go in a column named "count": count a column of another name`)
	}
	type group struct {
		row, n int // first row with the value, rows with it
	}
	var groups []group
	at := map[any]int{}
	missing := 0
	for i := 0; i < ds.rows; i++ {
		if c.missing(i) {
			missing++
			continue
		}
		var key any
		if c.kind == Numeric {
			key = c.nums[i]
		} else {
			key = c.codes[i]
		}
		g, ok := at[key]
		if !ok {
			g = len(groups)
			at[key] = g
			groups = append(groups, group{row: i})
		}
		groups[g].n++
	}
	sort.SliceStable(groups, func(a, b int) bool {
		if groups[a].n != groups[b].n {
			return groups[a].n > groups[b].n
		}
		i, j := groups[a].row, groups[b].row
		if c.kind == Numeric {
			return c.nums[i] < c.nums[j]
		}
		return c.levels[c.codes[i]] < c.levels[c.codes[j]]
	})
	idx := make([]int, len(groups))
	counts := make([]float64, len(groups))
	for k, g := range groups {
		idx[k], counts[k] = g.row, float64(g.n)
	}
	if missing > 0 {
		for i := 0; i < ds.rows; i++ {
			if c.missing(i) {
				idx = append(idx, i)
				counts = append(counts, float64(missing))
				break
			}
		}
	}
	out := &Dataset{rows: len(idx), cols: []*column{c.take(idx, newSlab(len(idx), []*column{c}))}}
	if err := out.AddFloats("count", counts); err != nil {
		return nil, fmt.Errorf("experiments: value counts: %w", err)
	}
	return out, nil
}
