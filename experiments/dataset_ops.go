package experiments

import (
	"fmt"
	"hash/maphash"
	"html"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gopherlab/gopherlab/display"
)

// newRand returns the package's random source for a seed: every random
// choice (sampling, splits, bootstraps, initialisation) goes through it so
// results depend only on the seed.
func newRand(seed int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
}

// Describe summarizes each column, like pandas' describe(include="all"):
// one row per column with its type, count, missing values, mean, std, min,
// max (numeric) or number of levels and most frequent level (categorical).
func (ds *Dataset) Describe() *Dataset {
	ds = ds.orEmpty()
	n := len(ds.cols)
	names := make([]string, n)
	types := make([]string, n)
	count := make([]float64, n)
	missing := make([]float64, n)
	mean := make([]float64, n)
	std := make([]float64, n)
	minv := make([]float64, n)
	maxv := make([]float64, n)
	levels := make([]float64, n)
	top := make([]string, n)
	for j, c := range ds.cols {
		names[j], types[j] = c.name, c.kind.String()
		mean[j], std[j], minv[j], maxv[j], levels[j] = math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()
		if c.kind == Numeric {
			var s, k float64
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, v := range c.nums {
				if math.IsNaN(v) {
					continue
				}
				k++
				s += v
				lo, hi = min(lo, v), max(hi, v)
			}
			count[j], missing[j] = k, float64(len(c.nums))-k
			if k > 0 {
				m := s / k
				var ss float64
				for _, v := range c.nums {
					if !math.IsNaN(v) {
						ss += (v - m) * (v - m)
					}
				}
				mean[j], minv[j], maxv[j] = m, lo, hi
				if k > 1 {
					std[j] = math.Sqrt(ss / (k - 1))
				}
			}
			continue
		}
		freq := make([]int, len(c.levels))
		var k float64
		for _, code := range c.codes {
			if code >= 0 {
				freq[code]++
				k++
			}
		}
		count[j], missing[j] = k, float64(len(c.codes))-k
		// Levels the rows use, as pandas' unique counts values: a part
		// of a split keeps every level of the whole, to encode alike.
		used := 0
		for _, f := range freq {
			if f > 0 {
				used++
			}
		}
		levels[j] = float64(used)
		best := -1
		for l, f := range freq {
			if best < 0 || f > freq[best] {
				best = l
			}
		}
		if best >= 0 {
			top[j] = c.levels[best]
		}
	}
	out, _ := FromColumns(
		[]string{"column", "type", "count", "missing", "mean", "std", "min", "max", "levels", "top"},
		names, types, count, missing, mean, std, minv, maxv, levels, top)
	// Column names and types are labels, not categories: keep row order.
	out.cols[0] = &column{name: "column", kind: Categorical, codes: seqCodes(n), levels: names}
	return out
}

func seqCodes(n int) []int32 {
	c := make([]int32, n)
	for i := range c {
		c[i] = int32(i)
	}
	return c
}

// maxShownRows is the number of rows Render, HTML and String show before
// eliding the middle (first and last half), like pandas.
const maxShownRows = 20

// shownRows returns the row indexes shown, -1 standing for the elision.
func (ds *Dataset) shownRows() []int {
	if ds.rows <= maxShownRows {
		return rangeIdx(0, ds.rows)
	}
	idx := rangeIdx(0, maxShownRows/2)
	idx = append(idx, -1)
	return append(idx, rangeIdx(ds.rows-maxShownRows/2, ds.rows)...)
}

// maxShownColumns is how many columns a dataset shows, the first and
// last half around a "..." column, as pandas' display.max_columns.
const maxShownColumns = 20

// shownCols returns the columns a dataset shows, nil standing for those
// left out.
func (ds *Dataset) shownCols() []*column {
	if len(ds.cols) <= maxShownColumns {
		return ds.cols
	}
	out := slices.Clone(ds.cols[:maxShownColumns/2])
	out = append(out, nil)
	return append(out, ds.cols[len(ds.cols)-maxShownColumns/2:]...)
}

func (c *column) format(i int) string {
	switch v := c.value(i).(type) {
	case nil:
		if c.kind == Numeric {
			return "NaN"
		}
		return ""
	case float64:
		return formatNum(v)
	case string:
		return v
	}
	return ""
}

// formatNum prints up to 6 significant digits, keeping ".0" on whole
// numbers as pandas does.
func formatNum(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	s := strconv.FormatFloat(v, 'g', 6, 64)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return s
}

// HTML returns the dataset as a pandas-style HTML table (first and last
// rows of a long dataset, with its shape).
func (ds *Dataset) HTML() string {
	ds = ds.orEmpty()
	var b strings.Builder
	b.WriteString(`<div><style scoped>.dataframe tbody tr th{vertical-align:top}.dataframe thead th{text-align:right}.dataframe td.cat{text-align:left}</style>` + "\n")
	b.WriteString(`<table border="1" class="dataframe">` + "\n<thead>\n<tr style=\"text-align: right;\"><th></th>")
	cols := ds.shownCols()
	for _, c := range cols {
		if c == nil {
			b.WriteString("<th>...</th>")
			continue
		}
		fmt.Fprintf(&b, `<th title="%s">%s</th>`, c.kind, html.EscapeString(c.name))
	}
	b.WriteString("</tr>\n</thead>\n<tbody>\n")
	for _, i := range ds.shownRows() {
		if i < 0 {
			b.WriteString("<tr><th>...</th>" + strings.Repeat("<td>...</td>", len(cols)) + "</tr>\n")
			continue
		}
		fmt.Fprintf(&b, "<tr><th>%d</th>", i)
		for _, c := range cols {
			switch {
			case c == nil:
				b.WriteString("<td>...</td>")
			case c.kind == Categorical:
				b.WriteString(`<td class="cat">` + html.EscapeString(c.format(i)) + "</td>")
			default:
				b.WriteString("<td>" + c.format(i) + "</td>")
			}
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody>\n</table>\n")
	fmt.Fprintf(&b, "<p>%d rows × %d columns</p></div>", ds.rows, len(ds.cols))
	return b.String()
}

// String returns the dataset as aligned text (first and last rows of a
// long dataset, with its shape).
func (ds *Dataset) String() string {
	ds = ds.orEmpty()
	shown := ds.shownRows()
	grid := make([][]string, 0, len(shown)+1)
	head := []string{""}
	cols := ds.shownCols()
	for _, c := range cols {
		if c == nil {
			head = append(head, "...")
			continue
		}
		head = append(head, textCell(c.name))
	}
	grid = append(grid, head)
	for _, i := range shown {
		row := make([]string, 0, len(cols)+1)
		if i < 0 {
			row = append(row, "..")
			for range cols {
				row = append(row, "...")
			}
		} else {
			row = append(row, strconv.Itoa(i))
			for _, c := range cols {
				if c == nil {
					row = append(row, "...")
					continue
				}
				row = append(row, textCell(c.format(i)))
			}
		}
		grid = append(grid, row)
	}
	return alignText(grid) + fmt.Sprintf("\n\n[%d rows x %d columns]", ds.rows, len(ds.cols))
}

func textCell(s string) string {
	s = strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", " ").Replace(s)
	if utf8.RuneCountInString(s) > 40 {
		s = string([]rune(s)[:37]) + "..."
	}
	return s
}

// alignText right-aligns every column but the first.
func alignText(grid [][]string) string {
	var widths []int
	for _, row := range grid {
		for c, s := range row {
			if c >= len(widths) {
				widths = append(widths, 0)
			}
			widths[c] = max(widths[c], utf8.RuneCountInString(s))
		}
	}
	var b strings.Builder
	for r, row := range grid {
		if r > 0 {
			b.WriteByte('\n')
		}
		var ln strings.Builder
		for c, s := range row {
			pad := strings.Repeat(" ", widths[c]-utf8.RuneCountInString(s))
			if c == 0 {
				ln.WriteString(s + pad)
			} else {
				ln.WriteString("  " + pad + s)
			}
		}
		b.WriteString(strings.TrimRight(ln.String(), " "))
	}
	return b.String()
}

// Render returns the dataset's display bundle (HTML and text), so a
// dataset that is a cell's result shows as a table.
func (ds *Dataset) Render() display.Bundle {
	return display.Bundle{
		Data:     map[string]any{"text/html": ds.HTML(), "text/plain": ds.String()},
		Metadata: map[string]any{},
	}
}

// Sample returns n rows drawn without replacement, in random order.
func (ds *Dataset) Sample(n int, seed int64) (*Dataset, error) {
	if n < 0 || n > ds.rows {
		return nil, fmt.Errorf("experiments: sample: n=%d out of range [0,%d]", n, ds.rows)
	}
	return ds.take(newRand(seed).Perm(ds.rows)[:n]), nil
}

// SampleFrac returns a fraction of the rows (rounded), drawn without
// replacement.
func (ds *Dataset) SampleFrac(frac float64, seed int64) (*Dataset, error) {
	if !(frac >= 0 && frac <= 1) {
		return nil, fmt.Errorf("experiments: sample: fraction %v out of range [0,1]", frac)
	}
	return ds.Sample(int(math.Round(frac*float64(ds.rows))), seed)
}

// StratifiedSample returns a fraction of the rows of each group of the
// named column (its levels, or distinct values for a numeric column), so
// the sample keeps the column's proportions. Missing values form a group.
func (ds *Dataset) StratifiedSample(column string, frac float64, seed int64) (*Dataset, error) {
	if !(frac >= 0 && frac <= 1) {
		return nil, fmt.Errorf("experiments: stratified sample: fraction %v out of range [0,1]", frac)
	}
	keys, err := ds.groupKeys(column)
	if err != nil {
		return nil, fmt.Errorf("experiments: stratified sample: %w", unwrapPrefix(err))
	}
	r := newRand(seed)
	var idx []int
	for _, g := range groups(keys) {
		r.Shuffle(len(g), func(i, j int) { g[i], g[j] = g[j], g[i] })
		idx = append(idx, g[:int(math.Round(frac*float64(len(g))))]...)
	}
	sort.Ints(idx)
	return ds.take(idx), nil
}

// groupKeys returns one float key per row identifying its group in column.
func (ds *Dataset) groupKeys(column string) ([]float64, error) {
	c, err := ds.col(column)
	if err != nil {
		return nil, err
	}
	if c.kind == Numeric {
		return c.nums, nil
	}
	k := make([]float64, len(c.codes))
	for i, v := range c.codes {
		k[i] = float64(v)
	}
	return k, nil
}

// groups returns the row indexes of each distinct key (NaN keys form one
// group), groups ordered by key.
func groups(keys []float64) [][]int {
	m := map[float64][]int{}
	var nan []int
	for i, k := range keys {
		if math.IsNaN(k) {
			nan = append(nan, i)
			continue
		}
		m[k] = append(m[k], i)
	}
	ks := make([]float64, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	out := make([][]int, 0, len(ks)+1)
	for _, k := range ks {
		out = append(out, m[k])
	}
	if nan != nil {
		out = append(out, nan)
	}
	return out
}

// DropMissing removes, in place, the rows with a missing value in any of
// the named columns (every column if none are named), and returns how many
// rows it removed.
func (ds *Dataset) DropMissing(columns ...string) (int, error) {
	cols := ds.cols
	if len(columns) > 0 {
		cols = nil
		for _, n := range columns {
			c, err := ds.col(n)
			if err != nil {
				return 0, fmt.Errorf("experiments: drop missing: %w", unwrapPrefix(err))
			}
			cols = append(cols, c)
		}
	}
	var keep []int
	for i := 0; i < ds.rows; i++ {
		ok := true
		for _, c := range cols {
			if c.missing(i) {
				ok = false
				break
			}
		}
		if ok {
			keep = append(keep, i)
		}
	}
	removed := ds.rows - len(keep)
	if removed > 0 {
		*ds = *ds.take(keep)
	}
	return removed, nil
}

// Impute fills, in place, the missing values of the named columns (every
// column with missing values if none are named). Strategy is "mean"
// (default), "median" or "most_frequent" for numeric columns; categorical
// columns always take their most frequent level.
func (ds *Dataset) Impute(strategy string, columns ...string) error {
	switch strategy {
	case "", "mean", "median", "most_frequent":
	default:
		return fmt.Errorf("experiments: impute: unknown strategy %q (want mean, median or most_frequent)", strategy)
	}
	cols := ds.cols
	if len(columns) > 0 {
		cols = nil
		for _, n := range columns {
			c, err := ds.col(n)
			if err != nil {
				return fmt.Errorf("experiments: impute: %w", unwrapPrefix(err))
			}
			cols = append(cols, c)
		}
	}
	for _, c := range cols {
		if c.kind == Categorical {
			freq := make([]int, len(c.levels))
			for _, k := range c.codes {
				if k >= 0 {
					freq[k]++
				}
			}
			best := -1
			for l, f := range freq {
				if f > 0 && (best < 0 || f > freq[best]) {
					best = l
				}
			}
			if best < 0 {
				if len(c.codes) > 0 && len(columns) > 0 {
					return fmt.Errorf("experiments: impute: column %q has no values", c.name)
				}
				continue
			}
			for i, k := range c.codes {
				if k < 0 {
					c.codes[i] = int32(best)
				}
			}
			continue
		}
		fill, ok := fillValue(c.nums, strategy)
		if !ok {
			if len(c.nums) > 0 && len(columns) > 0 {
				return fmt.Errorf("experiments: impute: column %q has no values", c.name)
			}
			continue
		}
		for i, v := range c.nums {
			if math.IsNaN(v) {
				c.nums[i] = fill
			}
		}
	}
	return nil
}

// fillValue computes an imputation statistic over the non-NaN values.
func fillValue(v []float64, strategy string) (float64, bool) {
	vals := make([]float64, 0, len(v))
	for _, x := range v {
		if !math.IsNaN(x) {
			vals = append(vals, x)
		}
	}
	if len(vals) == 0 {
		return 0, false
	}
	switch strategy {
	case "median":
		slices.Sort(vals)
		n := len(vals)
		if n%2 == 1 {
			return vals[n/2], true
		}
		return (vals[n/2-1] + vals[n/2]) / 2, true
	case "most_frequent":
		// Smallest of the most frequent values, as scikit-learn does.
		slices.Sort(vals)
		best, bestN := vals[0], 0
		for i := 0; i < len(vals); {
			j := i
			for j < len(vals) && vals[j] == vals[i] {
				j++
			}
			if j-i > bestN {
				best, bestN = vals[i], j-i
			}
			i = j
		}
		return best, true
	}
	var s float64
	for _, x := range vals {
		s += x
	}
	return s / float64(len(vals)), true
}

// Dedup removes, in place, rows that repeat an earlier row exactly (NaN
// equal to NaN), and returns how many it removed.
func (ds *Dataset) Dedup() int {
	seed := maphash.MakeSeed()
	seen := map[uint64][]int{}
	var keep []int
	var buf []byte
	for i := 0; i < ds.rows; i++ {
		buf = buf[:0]
		for _, c := range ds.cols {
			if c.kind == Numeric {
				v := c.nums[i]
				bits := math.Float64bits(v)
				if math.IsNaN(v) {
					bits = 0x7ff8000000000001
				} else if v == 0 {
					bits = 0 // -0 == 0
				}
				buf = append(buf, byte(bits), byte(bits>>8), byte(bits>>16), byte(bits>>24),
					byte(bits>>32), byte(bits>>40), byte(bits>>48), byte(bits>>56))
			} else {
				k := uint32(c.codes[i])
				buf = append(buf, byte(k), byte(k>>8), byte(k>>16), byte(k>>24))
			}
		}
		h := maphash.Bytes(seed, buf)
		dup := false
		for _, j := range seen[h] {
			if ds.sameRow(i, j) {
				dup = true
				break
			}
		}
		if !dup {
			seen[h] = append(seen[h], i)
			keep = append(keep, i)
		}
	}
	removed := ds.rows - len(keep)
	if removed > 0 {
		*ds = *ds.take(keep)
	}
	return removed
}

func (ds *Dataset) sameRow(i, j int) bool {
	for _, c := range ds.cols {
		if c.kind == Numeric {
			a, b := c.nums[i], c.nums[j]
			if a != b && !(math.IsNaN(a) && math.IsNaN(b)) {
				return false
			}
		} else if c.codes[i] != c.codes[j] {
			return false
		}
	}
	return true
}

// DropConstant removes, in place, the columns with a single distinct value
// (missing counts as a value; an all-missing column is constant), and
// returns their names.
func (ds *Dataset) DropConstant() []string {
	var dropped []string
	var kept []*column
	for _, c := range ds.cols {
		constant := true
		for i := 1; i < c.len(); i++ {
			if c.kind == Numeric {
				a, b := c.nums[i], c.nums[0]
				if a != b && !(math.IsNaN(a) && math.IsNaN(b)) {
					constant = false
					break
				}
			} else if c.codes[i] != c.codes[0] {
				constant = false
				break
			}
		}
		if constant {
			dropped = append(dropped, c.name)
		} else {
			kept = append(kept, c)
		}
	}
	ds.cols = kept
	if len(kept) == 0 {
		ds.rows = 0
	}
	return dropped
}
