package experiments

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"
)

// Kind is the type of a dataset column.
type Kind int

const (
	// Numeric columns hold float64 values, NaN for missing.
	Numeric Kind = iota
	// Categorical columns hold string levels; a missing value has no level.
	Categorical
)

// String returns "numeric" or "categorical".
func (k Kind) String() string {
	switch k {
	case Numeric:
		return "numeric"
	case Categorical:
		return "categorical"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// column is one dataset column. Numeric columns use nums; categorical ones
// use codes into levels (sorted), with -1 for missing.
type column struct {
	name   string
	kind   Kind
	nums   []float64
	codes  []int32
	levels []string
	// numbered: a categorical column ReadCSV made categorical because a
	// value is not a number, whose numbers are levels in Go's shortest
	// form (NumberLevel). Other categorical columns (named in
	// CSVOptions.Categorical, made from strings) hold their values as
	// written.
	numbered bool
}

func (c *column) len() int {
	if c.kind == Numeric {
		return len(c.nums)
	}
	return len(c.codes)
}

func (c *column) missing(i int) bool {
	if c.kind == Numeric {
		return math.IsNaN(c.nums[i])
	}
	return c.codes[i] < 0
}

// allMissing reports whether every value of the column is missing (true
// for no rows).
func (c *column) allMissing() bool {
	for i := range c.len() {
		if !c.missing(i) {
			return false
		}
	}
	return true
}

// value returns row i as float64 (numeric) or string (categorical), nil if
// missing.
func (c *column) value(i int) any {
	if c.missing(i) {
		return nil
	}
	if c.kind == Numeric {
		return c.nums[i]
	}
	return c.levels[c.codes[i]]
}

func (c *column) clone() *column {
	return &column{name: c.name, kind: c.kind, nums: slices.Clone(c.nums),
		codes: slices.Clone(c.codes), levels: slices.Clone(c.levels), numbered: c.numbered}
}

// take returns a new column with the rows idx, in that order, its
// values in the slab's next slice (see slab).
func (c *column) take(idx []int, sl *slab) *column {
	out := &column{name: c.name, kind: c.kind, levels: c.levels, numbered: c.numbered}
	if c.kind == Numeric {
		out.nums = sl.nextNums()
		for j, i := range idx {
			out.nums[j] = c.nums[i]
		}
	} else {
		out.codes = sl.nextCodes()
		for j, i := range idx {
			out.codes[j] = c.codes[i]
		}
		out.levels = slices.Clone(c.levels)
	}
	return out
}

// slab holds the values of a new table's columns, numeric and
// categorical, in one array of each kind, column after column: one
// allocation for the table instead of one per column, and the table in
// one range of memory (which a tracker watching the data for writes
// covers at once). Each column's slice ends at its own end: an append to
// it never runs into the next column.
type slab struct {
	rows  int
	nums  []float64
	codes []int32
}

// newSlab makes the slab of a table of rows rows and cols's kinds.
func newSlab(rows int, cols []*column) *slab {
	nn := 0
	for _, c := range cols {
		if c.kind == Numeric {
			nn++
		}
	}
	return &slab{rows: rows, nums: make([]float64, nn*rows), codes: make([]int32, (len(cols)-nn)*rows)}
}

func (s *slab) nextNums() []float64 {
	v := s.nums[:s.rows:s.rows]
	s.nums = s.nums[s.rows:]
	return v
}

func (s *slab) nextCodes() []int32 {
	v := s.codes[:s.rows:s.rows]
	s.codes = s.codes[s.rows:]
	return v
}

// into copies c's values into the slab's next slice.
func (c *column) into(sl *slab) {
	if c.kind == Numeric {
		c.nums = append(sl.nextNums()[:0], c.nums...)
	} else {
		c.codes = append(sl.nextCodes()[:0], c.codes...)
	}
}

// Dataset is a column-oriented table: numeric columns of float64 (NaN for
// missing) and categorical columns of string levels. The zero value is an
// empty dataset ready for AddFloats and AddStrings.
//
// Methods that select (Select, Drop, Head, Rows, Sample, ...) return new
// datasets; the cleaning methods (DropMissing, Impute, Dedup, DropConstant)
// change the dataset in place, like pandas' inplace=True.
type Dataset struct {
	cols []*column
	rows int
}

// NewDataset returns an empty dataset.
func NewDataset() *Dataset { return &Dataset{} }

// orEmpty returns ds, or an empty dataset for nil: what a failed ReadCSV
// leaves in a notebook variable, which a cell may then look at.
func (ds *Dataset) orEmpty() *Dataset {
	if ds == nil {
		return &Dataset{}
	}
	return ds
}

// Shape returns the number of rows and columns (0, 0 for a nil dataset).
func (ds *Dataset) Shape() (rows, cols int) {
	ds = ds.orEmpty()
	return ds.rows, len(ds.cols)
}

// Len returns the number of rows.
func (ds *Dataset) Len() int { return ds.orEmpty().rows }

// Columns returns the column names in order.
func (ds *Dataset) Columns() []string {
	ds = ds.orEmpty()
	out := make([]string, len(ds.cols))
	for i, c := range ds.cols {
		out[i] = c.name
	}
	return out
}

func (ds *Dataset) index(name string) int {
	for i, c := range ds.cols {
		if c.name == name {
			return i
		}
	}
	return -1
}

func (ds *Dataset) col(name string) (*column, error) {
	if ds == nil {
		return nil, fmt.Errorf("experiments: column %q of a nil dataset (did reading it fail?)", name)
	}
	i := ds.index(name)
	if i < 0 {
		var encoded []string
		for _, c := range ds.cols {
			if strings.HasPrefix(c.name, name+"=") {
				encoded = append(encoded, c.name)
			}
		}
		if encoded != nil {
			return nil, fmt.Errorf("experiments: no column %q: a one-hot encoder replaced it by %v (list the columns to encode in OneHotEncoder.Columns, or let a Pipeline keep the target apart)", name, encoded)
		}
		return nil, fmt.Errorf("experiments: no column %q (columns: %v)", name, ds.Columns())
	}
	return ds.cols[i], nil
}

// Kind returns the kind of the named column.
func (ds *Dataset) Kind(name string) (Kind, error) {
	c, err := ds.col(name)
	if err != nil {
		return 0, err
	}
	return c.kind, nil
}

// Floats returns the values of a numeric column (NaN for missing). The
// slice is the dataset's own storage: writes to it change the dataset.
func (ds *Dataset) Floats(name string) ([]float64, error) {
	c, err := ds.col(name)
	if err != nil {
		return nil, err
	}
	if c.kind != Numeric {
		return nil, fmt.Errorf("experiments: column %q is categorical, not numeric", name)
	}
	return c.nums, nil
}

// Strings returns a column's values as strings: levels for a categorical
// column, numbers in their shortest form for a numeric one; missing values
// are "".
func (ds *Dataset) Strings(name string) ([]string, error) {
	c, err := ds.col(name)
	if err != nil {
		return nil, err
	}
	out := make([]string, c.len())
	for i := range out {
		switch {
		case c.missing(i):
		case c.kind == Numeric:
			out[i] = strconv.FormatFloat(c.nums[i], 'g', -1, 64)
		default:
			out[i] = c.levels[c.codes[i]]
		}
	}
	return out, nil
}

// Levels returns the sorted levels of a categorical column. XY encodes a
// categorical target as the index of its level in this list.
func (ds *Dataset) Levels(name string) ([]string, error) {
	c, err := ds.col(name)
	if err != nil {
		return nil, err
	}
	if c.kind != Categorical {
		return nil, fmt.Errorf("experiments: column %q is numeric, it has no levels", name)
	}
	return slices.Clone(c.levels), nil
}

func (ds *Dataset) add(c *column) error {
	if c.name == "" {
		return fmt.Errorf("experiments: add column: empty name")
	}
	if ds.index(c.name) >= 0 {
		return fmt.Errorf("experiments: add column %q: a column with that name exists", c.name)
	}
	if len(ds.cols) > 0 && c.len() != ds.rows {
		return fmt.Errorf("experiments: add column %q: %d rows, dataset has %d", c.name, c.len(), ds.rows)
	}
	ds.cols = append(ds.cols, c)
	ds.rows = c.len()
	return nil
}

// AddFloats appends a numeric column (a copy of values; NaN is missing).
func (ds *Dataset) AddFloats(name string, values []float64) error {
	return ds.add(&column{name: name, kind: Numeric, nums: slices.Clone(values)})
}

// AddStrings appends a categorical column; "" is missing.
func (ds *Dataset) AddStrings(name string, values []string) error {
	return ds.add(categorical(name, values))
}

// AddLevels appends a categorical column whose levels are exactly
// levels, which must be sorted and distinct, with no "" (as Levels
// returns them): levels no row uses are kept, so the column encodes the
// way the one it was taken from did. "" is missing; a value not among
// levels is an error.
func (ds *Dataset) AddLevels(name string, values, levels []string) error {
	for i, l := range levels {
		if l == "" || (i > 0 && levels[i-1] >= l) {
			return fmt.Errorf("experiments: add column %q: levels must be sorted, distinct and not empty (level %d is %q)", name, i, l)
		}
	}
	codes := make([]int32, len(values))
	for i, v := range values {
		if v == "" {
			codes[i] = -1
			continue
		}
		k, ok := slices.BinarySearch(levels, v)
		if !ok {
			return fmt.Errorf("experiments: add column %q: row %d has %q, which is not one of its %d levels", name, i, v, len(levels))
		}
		codes[i] = int32(k)
	}
	return ds.add(&column{name: name, kind: Categorical, codes: codes, levels: slices.Clone(levels)})
}

// categorical builds a categorical column with sorted levels.
func categorical(name string, values []string) *column {
	idx := map[string]int32{}
	var levels []string
	codes := make([]int32, len(values))
	for i, v := range values {
		if v == "" {
			codes[i] = -1
			continue
		}
		k, ok := idx[v]
		if !ok {
			k = int32(len(levels))
			idx[v] = k
			levels = append(levels, v)
		}
		codes[i] = k
	}
	c := &column{name: name, kind: Categorical, codes: codes, levels: levels}
	c.sortLevels()
	return c
}

// sortLevels sorts levels and renumbers codes to match.
func (c *column) sortLevels() {
	if slices.IsSorted(c.levels) {
		return
	}
	order := make([]int, len(c.levels))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return c.levels[order[a]] < c.levels[order[b]] })
	remap := make([]int32, len(order))
	sorted := make([]string, len(order))
	for newi, old := range order {
		remap[old] = int32(newi)
		sorted[newi] = c.levels[old]
	}
	for i, k := range c.codes {
		if k >= 0 {
			c.codes[i] = remap[k]
		}
	}
	c.levels = sorted
}

// FromColumns builds a dataset from named columns. Each column is a
// []float64 (NaN missing), []float32, []int, []int64, []bool (as 0/1) or
// []string ("" missing, categorical). The values are copied.
func FromColumns(names []string, columns ...any) (*Dataset, error) {
	if len(names) != len(columns) {
		return nil, fmt.Errorf("experiments: from columns: %d names for %d columns", len(names), len(columns))
	}
	ds := &Dataset{}
	for i, v := range columns {
		var err error
		switch x := v.(type) {
		case []float64:
			err = ds.AddFloats(names[i], x)
		case []float32:
			f := make([]float64, len(x))
			for j, e := range x {
				f[j] = float64(e)
			}
			err = ds.AddFloats(names[i], f)
		case []int:
			f := make([]float64, len(x))
			for j, e := range x {
				f[j] = float64(e)
			}
			err = ds.AddFloats(names[i], f)
		case []int64:
			f := make([]float64, len(x))
			for j, e := range x {
				f[j] = float64(e)
			}
			err = ds.AddFloats(names[i], f)
		case []bool:
			f := make([]float64, len(x))
			for j, e := range x {
				if e {
					f[j] = 1
				}
			}
			err = ds.AddFloats(names[i], f)
		case []string:
			err = ds.AddStrings(names[i], x)
		default:
			err = fmt.Errorf("experiments: from columns: column %q has type %T, want []float64, []float32, []int, []int64, []bool or []string", names[i], v)
		}
		if err != nil {
			return nil, err
		}
	}
	return ds, nil
}

// FromMatrix builds a numeric dataset from the columns of X. With nil
// names the columns are named c0, c1, ...
func FromMatrix(X mat.Matrix, names []string) (*Dataset, error) {
	if X == nil {
		return nil, fmt.Errorf("experiments: from matrix: nil matrix")
	}
	r, c := X.Dims()
	if names == nil {
		names = defaultNames(c)
	}
	if len(names) != c {
		return nil, fmt.Errorf("experiments: from matrix: %d names for %d columns", len(names), c)
	}
	ds := &Dataset{}
	for j := 0; j < c; j++ {
		col := make([]float64, r)
		mat.Col(col, j, X)
		if err := ds.add(&column{name: names[j], kind: Numeric, nums: col}); err != nil {
			return nil, err
		}
	}
	ds.rows = r
	return ds, nil
}

func defaultNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "c" + strconv.Itoa(i)
	}
	return out
}

// Copy returns a deep copy of the dataset.
func (ds *Dataset) Copy() *Dataset {
	out := &Dataset{rows: ds.rows, cols: make([]*column, len(ds.cols))}
	sl := newSlab(ds.rows, ds.cols)
	for i, c := range ds.cols {
		f := *c
		f.levels = slices.Clone(c.levels)
		f.into(sl) // the values' copy
		out.cols[i] = &f
	}
	return out
}

// Rows returns a new dataset with the given rows, in that order (repeats
// allowed).
func (ds *Dataset) Rows(idx []int) (*Dataset, error) {
	for _, i := range idx {
		if i < 0 || i >= ds.rows {
			return nil, fmt.Errorf("experiments: rows: index %d out of range [0,%d)", i, ds.rows)
		}
	}
	return ds.take(idx), nil
}

// Filter returns the rows i for which keep(i) is true, in order, like a
// boolean mask in pandas:
//
//	age, _ := ds.Floats("age")
//	adults := ds.Filter(func(i int) bool { return age[i] >= 18 })
func (ds *Dataset) Filter(keep func(row int) bool) *Dataset {
	ds = ds.orEmpty()
	var idx []int
	for i := 0; i < ds.rows; i++ {
		if keep(i) {
			idx = append(idx, i)
		}
	}
	return ds.take(idx)
}

func (ds *Dataset) take(idx []int) *Dataset {
	out := &Dataset{rows: len(idx), cols: make([]*column, len(ds.cols))}
	sl := newSlab(len(idx), ds.cols)
	for i, c := range ds.cols {
		out.cols[i] = c.take(idx, sl)
	}
	return out
}

func rangeIdx(lo, hi int) []int {
	idx := make([]int, 0, max(hi-lo, 0))
	for i := lo; i < hi; i++ {
		idx = append(idx, i)
	}
	return idx
}

// Head returns the first n rows (all if fewer); a negative n returns all
// but the last -n, as pandas does.
func (ds *Dataset) Head(n int) *Dataset {
	ds = ds.orEmpty()
	if n < 0 {
		n += ds.rows
	}
	return ds.take(rangeIdx(0, min(max(n, 0), ds.rows)))
}

// Tail returns the last n rows (all if fewer); a negative n returns all
// but the first -n, as pandas does.
func (ds *Dataset) Tail(n int) *Dataset {
	ds = ds.orEmpty()
	if n < 0 {
		n += ds.rows
	}
	return ds.take(rangeIdx(max(ds.rows-max(n, 0), 0), ds.rows))
}

// Select returns a dataset with the named columns, in that order.
func (ds *Dataset) Select(names ...string) (*Dataset, error) {
	out := &Dataset{rows: ds.rows}
	for _, n := range names {
		c, err := ds.col(n)
		if err != nil {
			return nil, fmt.Errorf("experiments: select: %w", unwrapPrefix(err))
		}
		if out.index(n) >= 0 {
			return nil, fmt.Errorf("experiments: select: column %q named twice", n)
		}
		out.cols = append(out.cols, c.clone())
	}
	return out, nil
}

// Drop returns a dataset without the named columns.
func (ds *Dataset) Drop(names ...string) (*Dataset, error) {
	drop := map[string]bool{}
	for _, n := range names {
		if ds.index(n) < 0 {
			return nil, fmt.Errorf("experiments: drop: no column %q (columns: %v)", n, ds.Columns())
		}
		drop[n] = true
	}
	out := &Dataset{rows: ds.rows}
	for _, c := range ds.cols {
		if !drop[c.name] {
			out.cols = append(out.cols, c.clone())
		}
	}
	return out, nil
}

// Matrix returns every column as a row-major matrix. All columns must be
// numeric (encode categorical ones with OneHotEncoder first); missing
// values stay NaN.
func (ds *Dataset) Matrix() (*mat.Dense, error) {
	X, err := matrixOf(ds.rows, ds.cols)
	if err != nil {
		return nil, fmt.Errorf("experiments: matrix: %w", err)
	}
	return X, nil
}

// matrixOf lays the columns out as a row-major matrix of rows rows.
func matrixOf(rows int, cols []*column) (*mat.Dense, error) {
	if rows == 0 || len(cols) == 0 {
		return nil, fmt.Errorf("dataset is empty (%d rows, %d columns)", rows, len(cols))
	}
	for _, c := range cols {
		if c.kind != Numeric {
			return nil, fmt.Errorf("column %q is categorical: encode it with OneHotEncoder or drop it", c.name)
		}
	}
	p := len(cols)
	data := make([]float64, rows*p)
	// A block of rows at a time, every column in turn: the block's rows
	// stay in cache while each column's stretch is read in order.
	const block = 256
	for lo := 0; lo < rows; lo += block {
		hi := min(lo+block, rows)
		for j, c := range cols {
			for i, v := range c.nums[lo:hi] {
				data[(lo+i)*p+j] = v
			}
		}
	}
	return mat.NewDense(rows, p, data), nil
}

// XY splits the dataset into a feature matrix (every column but target,
// which must all be numeric) and the target values. A categorical target is
// encoded as the index of each value's level (see Levels); a target with
// missing values is an error.
//
// Level indexes are this dataset's own: a test set read from another file
// may lack a level and number the others differently. Encode it with the
// training set's levels instead (levels, _ := train.Levels("species"),
// then test.Codes("species", levels)), or with a fitted pipeline's:
// test.Codes("species", pipe.TargetLevels()).
//
// Tracking records fits on X (and on the parts SplitXY makes of it)
// under the dataset's column names rather than c0, c1, ..., y: the
// package remembers the names of the last matrices XY returned, without
// keeping them alive.
func (ds *Dataset) XY(target string) (*mat.Dense, []float64, error) {
	t, err := ds.col(target)
	if err != nil {
		return nil, nil, fmt.Errorf("experiments: xy: %w", unwrapPrefix(err))
	}
	y := make([]float64, ds.rows)
	for i := range y {
		if t.missing(i) {
			return nil, nil, fmt.Errorf("experiments: xy: target %q is missing at row %d (drop those rows with DropMissing)", target, i)
		}
		if t.kind == Numeric {
			y[i] = t.nums[i]
		} else {
			y[i] = float64(t.codes[i])
		}
	}
	// The features straight from the columns: a copy of the dataset
	// without the target first would double what is written.
	feats := make([]*column, 0, len(ds.cols))
	for _, c := range ds.cols {
		if c != t {
			feats = append(feats, c)
		}
	}
	X, err := matrixOf(ds.rows, feats)
	if err != nil {
		return nil, nil, fmt.Errorf("experiments: xy: %w", unwrapPrefix(err))
	}
	// So that tracking records fits on X under these names.
	names := make([]string, len(feats))
	for j, c := range feats {
		names[j] = c.name
	}
	nameMatrix(X, y, names, target)
	return X, y, nil
}

// Codes encodes a categorical column as indexes into the given levels
// (for instance the training set's, or a pipeline's TargetLevels), so
// labels read from different files compare as numbers. A value not in
// levels, or missing, is an error.
//
// A numeric column's labels are its values: with nil levels (the
// TargetLevels of a pipeline fitted on a numeric target) Codes returns
// them as they are, as the pipeline predicts them; with levels, a value
// is coded by its decimal text ("1" for 1).
func (ds *Dataset) Codes(column string, levels []string) ([]float64, error) {
	c, err := ds.col(column)
	if err != nil {
		return nil, fmt.Errorf("experiments: codes: %w", unwrapPrefix(err))
	}
	if c.kind != Categorical {
		return numericCodes(column, c.nums, levels)
	}
	pos := make(map[string]int, len(levels))
	for i, l := range levels {
		pos[l] = i
	}
	mapped := make([]float64, len(c.levels))
	for k, l := range c.levels {
		i, ok := pos[l]
		if !ok {
			i = -1
		}
		mapped[k] = float64(i)
	}
	out := make([]float64, len(c.codes))
	for i, k := range c.codes {
		if k < 0 {
			return nil, fmt.Errorf("experiments: codes: column %q is missing at row %d", column, i)
		}
		if out[i] = mapped[k]; out[i] < 0 {
			return nil, fmt.Errorf("experiments: codes: column %q has level %q at row %d, not among %v", column, c.levels[k], i, levels)
		}
	}
	return out, nil
}

// numericCodes is Codes for a numeric column of values nums.
func numericCodes(column string, nums []float64, levels []string) ([]float64, error) {
	pos := make(map[string]int, len(levels))
	for i, l := range levels {
		pos[l] = i
	}
	out := make([]float64, len(nums))
	for i, v := range nums {
		if math.IsNaN(v) {
			return nil, fmt.Errorf("experiments: codes: column %q is missing at row %d", column, i)
		}
		if levels == nil {
			out[i] = v
			continue
		}
		k, ok := pos[strconv.FormatFloat(v, 'g', -1, 64)]
		if !ok {
			return nil, fmt.Errorf("experiments: codes: column %q has %v at row %d, not among %v", column, v, i, levels)
		}
		out[i] = float64(k)
	}
	return out, nil
}

// unwrapPrefix drops the "experiments: " prefix of an error made in this
// package so that wrapping it does not repeat it.
func unwrapPrefix(err error) error {
	const p = "experiments: "
	if s := err.Error(); len(s) > len(p) && s[:len(p)] == p {
		return plainError(s[len(p):])
	}
	return err
}

type plainError string

func (e plainError) Error() string { return string(e) }
