package experiments

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// CSVOptions controls ReadCSV. The zero value reads a file with a header
// line, detects the delimiter and infers column types.
type CSVOptions struct {
	// NoHeader says the first line is data; columns are then named c0,
	// c1, ... unless Names is set.
	NoHeader bool
	// Names names the columns, replacing the header when there is one.
	Names []string
	// Comma is the field delimiter. 0 detects it from the first lines,
	// skipping blank and comment lines (',', ';', '\t' or runs of white
	// space); ' ' splits on runs of spaces and tabs (no quoting), like
	// pandas' delim_whitespace.
	Comma rune
	// Comment, if not 0, starts comment lines, which are skipped.
	Comment rune
	// SkipRows is the number of lines skipped before the header (or the
	// first data line).
	SkipRows int
	// MaxRows, if positive, stops after that many data rows.
	MaxRows int
	// Missing lists extra tokens that mean a missing value, besides "",
	// NA, N/A, NaN, null, None and #N/A (in any case).
	Missing []string
	// Categorical names columns read as categorical even when every value
	// is a number (class labels such as 0, 1, 2, codes such as 02134),
	// each value a level as written. In a column that is categorical
	// because some of its values are not numbers, the numbers are levels
	// in Go's shortest form ("02134" and "2134.0" are both "2134"), so
	// that a number is one level wherever it stands in the file.
	Categorical []string
}

// ReadCSV reads a CSV file into a dataset. A column whose values all parse
// as numbers (or are missing) is numeric; any other column is categorical.
// Gzip-compressed files are decompressed. Errors name the line and column
// at fault.
func ReadCSV(path string, opts ...CSVOptions) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("experiments: read csv: %w", err)
	}
	defer f.Close()
	ds, err := readCSV(f, firstOpts(opts), fileSize(f))
	if err != nil {
		return nil, fmt.Errorf("experiments: read csv %s: %w", path, err)
	}
	return ds, nil
}

// ReadCSVFrom reads CSV text from r into a dataset, as ReadCSV does.
func ReadCSVFrom(r io.Reader, opts ...CSVOptions) (*Dataset, error) {
	if r == nil {
		return nil, fmt.Errorf("experiments: read csv: nil reader")
	}
	var size int64 = -1
	if l, ok := r.(interface{ Len() int }); ok {
		size = int64(l.Len())
	}
	ds, err := readCSV(r, firstOpts(opts), size)
	if err != nil {
		return nil, fmt.Errorf("experiments: read csv: %w", err)
	}
	return ds, nil
}

func firstOpts(opts []CSVOptions) CSVOptions {
	if len(opts) > 0 {
		return opts[0]
	}
	return CSVOptions{}
}

// fileSize is f's size, or for a gzip file the size of its content as
// its trailer states it (modulo 4 GiB), or -1. It only sizes the columns
// up front: a wrong figure costs memory or copies, never values.
func fileSize(f *os.File) int64 {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return -1
	}
	var magic [2]byte
	if _, err := f.ReadAt(magic[:], 0); err != nil || magic != [2]byte{0x1f, 0x8b} || st.Size() < 18 {
		return st.Size()
	}
	var trailer [4]byte
	if _, err := f.ReadAt(trailer[:], st.Size()-4); err != nil {
		return -1
	}
	return int64(binary.LittleEndian.Uint32(trailer[:]))
}

// estimateRows guesses the data rows of an input of size bytes (-1:
// unknown) from the lines in head, its first bytes; whole says head is
// all of it. The guess errs a little high: one allocation per column
// then holds them all, where growing chunk by chunk allocates about three
// times as much, which a fresh process pays for in page faults.
func estimateRows(head []byte, whole bool, size int64) int {
	lines := bytes.Count(head, []byte{'\n'})
	switch {
	case whole:
		return lines + 1
	case size <= int64(len(head)) || lines == 0:
		return 0
	}
	est := size / int64(len(head)) * int64(lines) // whole lines in head per byte, scaled
	est += est/32 + 16
	return int(min(est, 1<<31))
}

var defaultMissing = []string{"", "na", "n/a", "nan", "-nan", "null", "none", "#n/a"}

// colBuilder accumulates one column while reading, numeric until a value
// that is not a number shows up.
type colBuilder struct {
	name     string
	numeric  bool
	rows     int // the rows expected, to size the values up front
	nums     growing[float64]
	codes    growing[int32]
	levelIdx map[string]int32
	levels   []string
	// numbered: the column turned categorical after numbers, which
	// became levels in Go's shortest form; later numbers take that form
	// too, so that one number is one level wherever it stands.
	numbered bool
}

func (b *colBuilder) addLevel(s string) {
	k, ok := b.levelIdx[s]
	if !ok {
		k = int32(len(b.levels))
		b.levelIdx[s] = k
		b.levels = append(b.levels, s)
	}
	b.codes.add(k)
}

// toCategorical turns the numbers read so far into levels, in Go's
// shortest form (their spelling was not kept).
func (b *colBuilder) toCategorical() {
	b.numeric, b.numbered = false, true
	b.levelIdx = map[string]int32{}
	b.codes.reserve(b.rows)
	b.nums.each(func(v float64) {
		if math.IsNaN(v) {
			b.codes.add(-1)
			return
		}
		b.addLevel(strconv.FormatFloat(v, 'g', -1, 64))
	})
	b.nums = growing[float64]{}
}

// growing collects a column's values in chunks of growing size: appending
// to one slice would allocate about five times the column (Go grows large
// slices by a quarter) and copy it four times over.
type growing[T any] struct {
	full [][]T // filled chunks
	cur  []T   // the chunk being filled
	n    int   // values in full
}

// Chunk sizes: small for small files, bounded so that the last chunk
// wastes little.
const (
	minChunk = 256
	maxChunk = 1 << 16
)

// reserve makes room for n values before the first is added.
func (g *growing[T]) reserve(n int) {
	if g.cur == nil && n > 0 {
		g.cur = make([]T, 0, n)
	}
}

func (g *growing[T]) add(v T) {
	if len(g.cur) == cap(g.cur) {
		g.grow()
	}
	g.cur = append(g.cur, v)
}

func (g *growing[T]) grow() {
	if g.cur != nil {
		g.full = append(g.full, g.cur)
		g.n += len(g.cur)
	}
	g.cur = make([]T, 0, min(max(2*cap(g.cur), minChunk), maxChunk))
}

// into appends the values to dst, which has room for them.
func (g *growing[T]) into(dst []T) []T {
	for _, c := range g.full {
		dst = append(dst, c...)
	}
	return append(dst, g.cur...)
}

func (g *growing[T]) each(f func(T)) {
	for _, c := range g.full {
		for _, v := range c {
			f(v)
		}
	}
	for _, v := range g.cur {
		f(v)
	}
}

type csvReader struct {
	opts    CSVOptions
	missing map[string]bool
	cols    []*colBuilder
	line0   int // lines consumed before the CSV reader started
	rows    int // estimated data rows (0: unknown)
	// maxMissing is the length of the longest missing-value token.
	maxMissing int
	// digitMissing is set when a missing-value token starts with a
	// digit (a sentinel such as "999").
	digitMissing bool
}

func (c *csvReader) isMissing(s string) bool {
	// The common cases, long values and short numbers, skip the case
	// folding and the lookup.
	if len(s) > c.maxMissing || len(s) > 0 && '0' <= s[0] && s[0] <= '9' && !c.digitMissing {
		return false
	}
	return c.missing[strings.ToLower(s)]
}

func (c *csvReader) add(j int, field string) {
	b := c.cols[j]
	s := strings.TrimSpace(field)
	if c.isMissing(s) {
		if b.numeric {
			b.nums.add(math.NaN())
		} else {
			b.codes.add(-1)
		}
		return
	}
	if b.numeric {
		if v, ok := parseNumber(s); ok {
			b.nums.add(v)
			return
		}
		b.toCategorical()
	} else if b.numbered {
		if v, ok := parseNumber(s); ok {
			s = strconv.FormatFloat(v, 'g', -1, 64)
		}
	}
	b.addLevel(s)
}

// parseNumber parses a field as a number the way CSV readers elsewhere
// (pandas, numpy) do: strconv.ParseFloat also takes Go literal syntax,
// digit separators ("2020_01", "1_000") and hex floats ("0x1p-2"), which
// in a CSV file are text such as codes or periods. "inf", "infinity" and
// their signed forms are numbers (±Inf); "nan" never gets here, being a
// missing-value token. Out-of-range values become ±Inf or 0.
func parseNumber(s string) (float64, bool) {
	if v, ok := parseShortDecimal(s); ok {
		return v, true
	}
	t := s
	if len(t) > 0 && (t[0] == '+' || t[0] == '-') {
		t = t[1:]
	}
	if len(t) > 1 && t[0] == '0' && t[1]|0x20 == 'x' || strings.IndexByte(t, '_') >= 0 {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil || errors.Is(err, strconv.ErrRange)
}

// NumberLevel returns the level ReadCSV gives the field s in a column it
// read as categorical after it had held numbers (a column whose later
// values are not numbers): a number, as the reader parses one, in Go's
// shortest form ("007", "7.0" and " 7" are all "7"). ok is false when s
// is not a number: it is then its own level. A server fed raw values
// reads them with it as the notebook's pipeline was fitted on them.
func NumberLevel(s string) (level string, ok bool) {
	v, ok := parseNumber(strings.TrimSpace(s))
	if !ok || math.IsNaN(v) {
		return "", false
	}
	return strconv.FormatFloat(v, 'g', -1, 64), true
}

// exactPow10 holds the powers of ten that float64 represents exactly.
var exactPow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseShortDecimal parses the common field, an optionally signed
// decimal of at most 15 digits without exponent ("3", "-0.25", "5."),
// several times faster than strconv.ParseFloat and to the same bit: the
// digits make an integer below 2^53 and the power of ten is exact, so
// one correctly rounded division gives the correctly rounded value
// (strconv's own exact path). Anything else is left to ParseFloat.
func parseShortDecimal(s string) (float64, bool) {
	i, neg := 0, false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg, i = s[0] == '-', 1
	}
	var m uint64
	digits, frac, dot := 0, 0, false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			m = m*10 + uint64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	if digits == 0 || digits > 15 {
		return 0, false
	}
	v := float64(m) / exactPow10[frac]
	if neg {
		v = -v
	}
	return v, true
}

func readCSV(r io.Reader, opts CSVOptions, size int64) (*Dataset, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 1<<16)
	}
	head, err := br.Peek(br.Size())
	rows := estimateRows(head, err != nil, size)
	if opts.MaxRows > 0 {
		rows = min(rows, opts.MaxRows+1)
	}
	if err := checkText(br); err != nil {
		return nil, err
	}
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xef, 0xbb, 0xbf}) {
		br.Discard(3)
	}
	c := &csvReader{opts: opts, missing: map[string]bool{}, rows: rows}
	for _, m := range defaultMissing {
		c.missing[m] = true
	}
	for _, m := range opts.Missing {
		c.missing[strings.ToLower(strings.TrimSpace(m))] = true
	}
	for m := range c.missing {
		c.maxMissing = max(c.maxMissing, len(m))
		c.digitMissing = c.digitMissing || len(m) > 0 && '0' <= m[0] && m[0] <= '9'
	}
	for i := 0; i < opts.SkipRows; i++ {
		if _, err := br.ReadString('\n'); err != nil {
			if err == io.EOF {
				return nil, fmt.Errorf("no data: input has only %d lines, SkipRows is %d", i, opts.SkipRows)
			}
			return nil, err
		}
		c.line0++
	}
	comma := opts.Comma
	if comma == 0 {
		comma = sniffDelimiter(br, opts.Comment)
	}
	var next func() ([]string, int, error) // record, its line, error
	if comma == ' ' {
		next = c.whitespaceRecords(br)
	} else {
		next = c.csvRecords(br, comma)
	}

	rows = 0
	width := -1
	line1 := 0 // the first record's line, which set width
	for {
		rec, line, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if width < 0 {
			width, line1 = len(rec), line
			if err := c.start(rec, line); err != nil {
				return nil, err
			}
			if !opts.NoHeader {
				continue
			}
		}
		if len(rec) != width {
			return nil, fmt.Errorf("line %d: %d fields, expected %d like line %d (ragged rows)", line, len(rec), width, line1)
		}
		for j, f := range rec {
			c.add(j, f)
		}
		rows++
		if opts.MaxRows > 0 && rows >= opts.MaxRows {
			break
		}
	}
	if width < 0 {
		return nil, fmt.Errorf("no data: empty input")
	}
	ds := &Dataset{rows: rows}
	for _, b := range c.cols {
		col := &column{name: b.name, kind: Numeric}
		if !b.numeric {
			col = &column{name: b.name, kind: Categorical, levels: b.levels, numbered: b.numbered}
		}
		ds.cols = append(ds.cols, col)
	}
	sl := newSlab(rows, ds.cols)
	for j, b := range c.cols {
		col := ds.cols[j]
		if b.numeric {
			col.nums = b.nums.into(sl.nextNums()[:0])
			continue
		}
		col.codes = b.codes.into(sl.nextCodes()[:0])
		col.sortLevels()
	}
	for _, n := range opts.Categorical {
		if _, err := ds.col(n); err != nil {
			return nil, fmt.Errorf("CSVOptions.Categorical names column %q, which is not in the file (columns: %v)", n, ds.Columns())
		}
	}
	return ds, nil
}

// start sets up the columns from the first record (the header unless
// NoHeader).
func (c *csvReader) start(rec []string, line int) error {
	names := c.opts.Names
	if names != nil && len(names) != len(rec) {
		return fmt.Errorf("line %d: %d fields, but CSVOptions.Names has %d names", line, len(rec), len(names))
	}
	seen := map[string]int{}
	for j := range rec {
		var name string
		switch {
		case names != nil:
			name = names[j]
		case c.opts.NoHeader:
			name = "c" + strconv.Itoa(j)
		default:
			name = strings.TrimSpace(rec[j])
		}
		if name == "" {
			name = "c" + strconv.Itoa(j)
		}
		if k, dup := seen[name]; dup {
			return fmt.Errorf("line %d, column %d: duplicate column name %q (also column %d)", line, j+1, name, k+1)
		}
		seen[name] = j
		b := &colBuilder{name: name, numeric: true, rows: c.rows}
		if slices.Contains(c.opts.Categorical, name) {
			// Levels as written: "02134" stays "02134".
			b.numeric, b.levelIdx = false, map[string]int32{}
			b.codes.reserve(c.rows)
		} else {
			b.nums.reserve(c.rows)
		}
		c.cols = append(c.cols, b)
	}
	return nil
}

func (c *csvReader) csvRecords(br *bufio.Reader, comma rune) func() ([]string, int, error) {
	cr := csv.NewReader(br)
	cr.Comma = comma
	cr.Comment = c.opts.Comment
	cr.FieldsPerRecord = -1 // checked here, to report it our way
	cr.ReuseRecord = true
	return func() ([]string, int, error) {
		rec, err := cr.Read()
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, 0, fmt.Errorf("line %d, column %d: %v", pe.Line+c.line0, pe.Column, pe.Err)
			}
			return nil, 0, err
		}
		line, _ := cr.FieldPos(0)
		return rec, line + c.line0, nil
	}
}

func (c *csvReader) whitespaceRecords(br *bufio.Reader) func() ([]string, int, error) {
	line := c.line0
	var rec []string
	return func() ([]string, int, error) {
		for {
			s, err := br.ReadString('\n')
			if s == "" && err != nil {
				return nil, 0, err
			}
			line++
			t := strings.TrimSpace(s)
			if t == "" || (c.opts.Comment != 0 && strings.HasPrefix(t, string(c.opts.Comment))) {
				if err != nil {
					return nil, 0, err
				}
				continue
			}
			rec = rec[:0]
			for _, f := range strings.Fields(t) {
				rec = append(rec, f)
			}
			return rec, line, nil
		}
	}
}

// checkText rejects binary input early with a clear message instead of a
// confusing parse error deep in the file.
func checkText(br *bufio.Reader) error {
	head, _ := br.Peek(8192)
	if i := bytes.IndexByte(head, 0); i >= 0 {
		return fmt.Errorf("not a CSV text file: NUL byte at offset %d (binary data?)", i)
	}
	for i := 0; i < len(head); {
		r, size := utf8.DecodeRune(head[i:])
		if r == utf8.RuneError && size == 1 {
			if len(head)-i < utf8.UTFMax && !utf8.FullRune(head[i:]) {
				break // a rune cut by the end of the peeked block
			}
			return fmt.Errorf("not a CSV text file: invalid UTF-8 at offset %d", i)
		}
		i += size
	}
	return nil
}

// sniffLines is how many data lines sniffDelimiter looks at.
const sniffLines = 10

// sniffDelimiter guesses the delimiter from the first data lines (up to
// sniffLines, within what br can peek), skipping blank and comment lines:
// of ',', '\t' and ';', the one that splits the first line into more than
// one field (outside quotes) and the most other lines into as many, ties
// going to more fields, then to that order; else white space if it splits
// the first line; else ','. Several lines rather than the first alone
// keep a title or a stray ';' in a header from deciding, and agreeing
// with the first line (the header) is what reading needs.
func sniffDelimiter(br *bufio.Reader, comment rune) rune {
	head, err := br.Peek(br.Size())
	// Without an error the buffer is full and its last line may be cut.
	recs := sniffRecords(head, comment, true, err != nil)
	best, bestN, bestAgree := rune(0), 0, 0
	for _, d := range []byte{',', '\t', ';'} {
		if len(recs) == 0 || rune(d) == comment {
			continue
		}
		n := countFields(recs[0], d)
		if n < 2 {
			continue
		}
		agree := 0
		for _, rec := range recs {
			if countFields(rec, d) == n {
				agree++
			}
		}
		if agree > bestAgree || agree == bestAgree && n > bestN {
			best, bestN, bestAgree = rune(d), n, agree
		}
	}
	if best != 0 {
		return best
	}
	// White space splitting knows no quotes, so lines are physical lines.
	if lines := sniffRecords(head, comment, false, err != nil); len(lines) > 0 && len(bytes.Fields(lines[0])) > 1 {
		return ' '
	}
	return ','
}

// sniffRecords returns the first sniffLines records of head that are not
// blank or comments (comment first, after blanks). With quoted, newlines
// inside double quotes do not end a record. Unless whole (head holds the
// end of the input), a last record without its newline is cut and left
// out, but for the first: a cut line is better than none.
func sniffRecords(head []byte, comment rune, quoted, whole bool) [][]byte {
	var recs [][]byte
	for len(head) > 0 && len(recs) < sniffLines {
		end, inQuotes := -1, false
	scan:
		for i, b := range head {
			switch {
			case b == '"' && quoted:
				inQuotes = !inQuotes
			case b == '\n' && !inQuotes:
				end = i
				break scan
			}
		}
		var rec []byte
		if end < 0 {
			if !whole && len(recs) > 0 {
				break
			}
			rec, head = head, nil
		} else {
			rec, head = head[:end], head[end+1:]
		}
		t := bytes.TrimSpace(rec)
		if r, _ := utf8.DecodeRune(t); len(t) == 0 || comment != 0 && r == comment {
			continue
		}
		recs = append(recs, rec)
	}
	return recs
}

// countFields counts the fields of rec split on d outside double quotes.
func countFields(rec []byte, d byte) int {
	n, inQuotes := 1, false
	for _, b := range rec {
		switch {
		case b == '"':
			inQuotes = !inQuotes
		case b == d && !inQuotes:
			n++
		}
	}
	return n
}
