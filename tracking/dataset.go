package tracking

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// Dataset roles used by convention; any non-empty role is accepted.
const (
	RoleTrain = "train"
	RoleEval  = "eval"
	RoleTest  = "test"
)

// DatasetInfo describes a dataset given as raw bytes. For Format "csv"
// with Rows and Cols left at 0, they are counted from the content (the
// first record is taken as the header).
type DatasetInfo struct {
	Format  string   // "csv", "json", "parquet", ...; "" means "bytes"
	Rows    int      // records, a CSV header not counted
	Cols    int      // fields per record
	Columns []string // column names; for counted CSV, nil means the header's
}

// Dataset is a stored dataset: its description and exact content.
type Dataset struct {
	SHA256  string    // hex SHA-256 of the content
	Format  string    // "csv" for logged tables; as given to LogDatasetBytes
	Rows    int       // records, a CSV header not counted; 0 if not given
	Cols    int       // fields per record; 0 if not given
	Columns []string  // column names; empty if none were given
	Size    int64     // uncompressed bytes
	Created time.Time // when the content was first stored (ms precision)
	Content []byte    // exactly the bytes that were logged
}

// DatasetInput is a dataset used by a run, in a role.
type DatasetInput struct {
	RunID   string   // run that used the dataset
	Role    string   // RoleTrain, RoleEval, RoleTest or another non-empty role
	Name    string   // the name the run gave the dataset
	SHA256  string   // hex SHA-256 of the dataset's content
	Format  string   // as in Dataset
	Rows    int      // as in Dataset
	Cols    int      // as in Dataset
	Columns []string // column names, as in Dataset
	Size    int64    // uncompressed bytes
	// Levels[j] lists the levels of column j when the run used it as
	// categorical (the snapshot has the levels' text), nil for a numeric
	// column; Levels is nil when every column was numeric, and for inputs
	// logged before schema version 4.
	Levels [][]string
}

// Matrix is the part of gonum's mat.Matrix that LogDatasetMatrix needs;
// any *mat.Dense satisfies it.
type Matrix interface {
	Dims() (r, c int)
	At(i, j int) float64
}

// LogDataset records a numeric table as an input of the run in role
// (train, eval, test, ...). rows[i][j] is the value of column j in row i;
// columns may be nil (then c0, c1, ... are used). The table is stored once
// per distinct content, as canonical CSV, and its SHA-256 is returned:
// Store.Dataset restores it exactly.
func (r *Run) LogDataset(role, name string, columns []string, rows [][]float64) (string, error) {
	cols := len(columns)
	if cols == 0 && len(rows) > 0 {
		cols = len(rows[0])
	}
	for i, row := range rows {
		if len(row) != cols {
			return "", fmt.Errorf("tracking: run %s: dataset %q: row %d has %d values, want %d", r.id, name, i, len(row), cols)
		}
	}
	return r.logTable(role, name, columns, len(rows), cols, func(i, j int) float64 { return rows[i][j] })
}

// LogDatasetMatrix records a matrix (for example a gonum *mat.Dense) like
// LogDataset.
func (r *Run) LogDatasetMatrix(role, name string, columns []string, m Matrix) (string, error) {
	if m == nil {
		return "", fmt.Errorf("tracking: run %s: dataset %q: nil matrix", r.id, name)
	}
	nr, nc := m.Dims()
	if len(columns) != 0 && len(columns) != nc {
		return "", fmt.Errorf("tracking: run %s: dataset %q: %d column names for %d columns", r.id, name, len(columns), nc)
	}
	return r.logTable(role, name, columns, nr, nc, m.At)
}

func (r *Run) logTable(role, name string, columns []string, nr, nc int, at func(i, j int) float64) (string, error) {
	columns = columnsOr(columns, nc)
	if len(columns) != nc {
		return "", fmt.Errorf("tracking: run %s: dataset %q: %d column names for %d columns", r.id, name, len(columns), nc)
	}
	content := appendCSVHeader(nil, columns)
	for i := 0; i < nr; i++ {
		for j := 0; j < nc; j++ {
			if j > 0 {
				content = append(content, ',')
			}
			content = appendNumber(content, at(i, j))
		}
		content = append(content, '\n')
	}
	return r.logDataset(role, name, content, DatasetInfo{Format: "csv", Rows: nr, Cols: nc, Columns: columns})
}

// columnsOr returns columns, or when there are none the default names of
// nc columns: c0, c1, ... (as experiments names a matrix's).
func columnsOr(columns []string, nc int) []string {
	if len(columns) > 0 {
		return columns
	}
	columns = make([]string, nc)
	for j := range columns {
		columns[j] = "c" + strconv.Itoa(j)
	}
	return columns
}

// appendCSVHeader appends the header record as encoding/csv writes it
// (names may need quoting; numbers never do, so the rows are formatted
// directly, byte for byte what csv.Writer would write).
func appendCSVHeader(b []byte, columns []string) []byte {
	var hb bytes.Buffer
	w := csv.NewWriter(&hb)
	w.Write(columns) // a bytes.Buffer does not fail
	w.Flush()
	return append(b, hb.Bytes()...)
}

// denseCSV formats a row-major table as the canonical CSV of logTable.
// A column with levels (see TrackEvent.Levels) holds level codes; it is
// written as the levels' text, a missing value (NaN) as an empty field,
// so the snapshot reads as the table the user saw.
func denseCSV(columns []string, nr, nc int, data []float64, levels [][]string) []byte {
	// Most values print in under 20 bytes; one allocation is the rule.
	b := appendCSVHeader(make([]byte, 0, 20*len(data)+64), columns)
	for i := 0; i < nr; i++ {
		for j, x := range data[i*nc : (i+1)*nc] {
			if j > 0 {
				b = append(b, ',')
			}
			if j < len(levels) && levels[j] != nil {
				b = appendLevel(b, x, levels[j], nc == 1)
				continue
			}
			b = appendNumber(b, x)
		}
		b = append(b, '\n')
	}
	return b
}

// appendNumber appends x as strconv.AppendFloat(b, x, 'g', -1, 64) does.
// Counts, codes, labels and pixels are whole numbers, which that formats
// as the integer when under 1e6 (above, it writes an exponent): those
// take the integer path, several times faster.
func appendNumber(b []byte, x float64) []byte {
	if k := int64(x); float64(k) == x && -1e6 < x && x < 1e6 && (k != 0 || !math.Signbit(x)) {
		return strconv.AppendInt(b, k, 10)
	}
	return strconv.AppendFloat(b, x, 'g', -1, 64)
}

// appendLevel appends the level a code stands for, quoted as csv.Writer
// quotes it; a missing value is an empty field, written "" when it is
// the whole record (a blank line is no record to a CSV reader). A code
// out of range is written as the number, which the reader refuses.
func appendLevel(b []byte, code float64, levels []string, alone bool) []byte {
	k := int(code)
	switch {
	case code != code:
		if alone {
			b = append(b, '"', '"')
		}
		return b
	case float64(k) != code || k < 0 || k >= len(levels):
		return appendNumber(b, code)
	}
	l := levels[k]
	if !fieldNeedsQuotes(l) {
		return append(b, l...)
	}
	b = append(b, '"')
	for i := 0; i < len(l); i++ {
		if l[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, l[i])
	}
	return append(b, '"')
}

// fieldNeedsQuotes is csv.Writer's rule for a comma separator.
func fieldNeedsQuotes(f string) bool {
	if f == "" {
		return false
	}
	if f == `\.` || strings.ContainsAny(f, "\",\r\n") {
		return true
	}
	r, _ := utf8.DecodeRuneInString(f)
	return unicode.IsSpace(r)
}

// csvDigests remembers, per process, the SHA-256 and size of the CSV a
// table formats to, keyed by a SHA-256 of its raw values: a fit on data
// already seen costs hashing 8 bytes a value, not formatting it all.
var csvDigests struct {
	sync.Mutex
	m map[[sha256.Size]byte]csvDigest
}

type csvDigest struct {
	sum  string
	size int
}

// maxCSVDigests bounds the memo; it is emptied when full.
const maxCSVDigests = 256

// rawKey hashes a table's shape, column names, levels and values
// exactly.
func rawKey(columns []string, nr, nc int, data []float64, levels [][]string) [sha256.Size]byte {
	h := sha256.New()
	var hdr [16]byte
	binary.LittleEndian.PutUint64(hdr[:8], uint64(nr))
	binary.LittleEndian.PutUint64(hdr[8:], uint64(nc))
	h.Write(hdr[:])
	for _, c := range columns {
		binary.LittleEndian.PutUint64(hdr[:8], uint64(len(c)))
		h.Write(hdr[:8])
		io.WriteString(h, c)
	}
	for j, ls := range levels {
		if ls == nil {
			continue
		}
		binary.LittleEndian.PutUint64(hdr[:8], uint64(j))
		binary.LittleEndian.PutUint64(hdr[8:], uint64(len(ls)))
		h.Write(hdr[:])
		for _, l := range ls {
			binary.LittleEndian.PutUint64(hdr[:8], uint64(len(l)))
			h.Write(hdr[:8])
			io.WriteString(h, l)
		}
	}
	if len(data) > 0 {
		// The values' memory as bytes: this key never leaves the
		// process, so the machine's byte order is fine.
		h.Write(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(data))), 8*len(data)))
	}
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// logDenseDataset is LogDatasetMatrix for a row-major copy of a table
// whose categorical columns (levels[j] not nil) hold level codes. The
// CSV is only formatted when this process has not seen the values
// before or the store does not have them yet. digest, if not nil,
// replaces denseSum (the autologger's recognizes the tables it logged
// last by their values).
func (r *Run) logDenseDataset(role, name string, columns []string, nr, nc int, data []float64, levels [][]string, digest func(columns []string) (string, int, func() []byte)) (string, error) {
	columns = columnsOr(columns, nc)
	if len(columns) != nc || len(data) != nr*nc || (levels != nil && len(levels) != nc) {
		return "", fmt.Errorf("tracking: run %s: dataset %q: %d column names, %d level lists and %d values for %d×%d", r.id, name, len(columns), len(levels), len(data), nr, nc)
	}
	if digest == nil {
		digest = func(columns []string) (string, int, func() []byte) { return denseSum(columns, nr, nc, data, levels) }
	}
	sum, size, content := digest(columns)
	info := DatasetInfo{Format: "csv", Rows: nr, Cols: nc, Columns: columns}
	return r.logDatasetSum(role, name, sum, size, content, info, levels)
}

// denseSum returns the SHA-256 and size of a dense table's CSV form, and
// a function that makes the CSV. Digests of recent tables are remembered
// by their raw bytes, so a table logged again costs a hash of its
// floats, not CSV formatting.
func denseSum(columns []string, nr, nc int, data []float64, levels [][]string) (sum string, size int, content func() []byte) {
	key := rawKey(columns, nr, nc, data, levels)
	csvDigests.Lock()
	d, ok := csvDigests.m[key]
	csvDigests.Unlock()
	if ok {
		return d.sum, d.size, func() []byte { return denseCSV(columns, nr, nc, data, levels) }
	}
	c := denseCSV(columns, nr, nc, data, levels)
	h := sha256.Sum256(c)
	d = csvDigest{hex.EncodeToString(h[:]), len(c)}
	csvDigests.Lock()
	if csvDigests.m == nil || len(csvDigests.m) >= maxCSVDigests {
		csvDigests.m = map[[sha256.Size]byte]csvDigest{}
	}
	csvDigests.m[key] = d
	csvDigests.Unlock()
	return d.sum, d.size, func() []byte { return c }
}

// LogDatasetBytes records raw dataset content (a CSV file, a JSON
// document, ...) as an input of the run in role, stored once by SHA-256.
func (r *Run) LogDatasetBytes(role, name string, content []byte, info DatasetInfo) (string, error) {
	if info.Format == "" {
		info.Format = "bytes"
	}
	if info.Format == "csv" && info.Rows == 0 && info.Cols == 0 {
		recs, err := csv.NewReader(bytes.NewReader(content)).ReadAll()
		if err != nil {
			return "", fmt.Errorf("tracking: run %s: dataset %q: %w", r.id, name, err)
		}
		if len(recs) > 0 {
			info.Cols = len(recs[0])
			info.Rows = len(recs) - 1
			if info.Columns == nil {
				info.Columns = recs[0]
			}
		}
	}
	return r.logDataset(role, name, content, info)
}

func (r *Run) logDataset(role, name string, content []byte, info DatasetInfo) (string, error) {
	h := sha256.Sum256(content)
	return r.logDatasetSum(role, name, hex.EncodeToString(h[:]), len(content), func() []byte { return content }, info, nil)
}

// logDatasetSum records the dataset of the given SHA-256 and size as an
// input; content is called for the bytes only when the store lacks them.
// levels, when not nil, are the levels of its categorical columns, kept
// with the input: the CSV has each value's text, the levels say which
// columns were categorical and which levels no row used.
func (r *Run) logDatasetSum(role, name, sum string, size int, content func() []byte, info DatasetInfo, levels [][]string) (string, error) {
	if role == "" {
		return "", fmt.Errorf("tracking: run %s: dataset %q: empty role", r.id, name)
	}
	r.mu.Lock()
	err := r.checkOpenLocked()
	r.mu.Unlock()
	if err != nil {
		return "", err
	}
	columns := info.Columns
	if columns == nil {
		columns = []string{}
	}
	schema, err := json.Marshal(columns)
	if err != nil {
		return "", err
	}
	var levelsJSON []byte
	if levels != nil {
		if levelsJSON, err = json.Marshal(levels); err != nil {
			return "", err
		}
	}
	s := r.store
	// Compress outside the write lock, and only if the content is new.
	var exists int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM datasets WHERE sha256 = ?`, sum).Scan(&exists); err != nil {
		return "", s.wrap("log dataset in", err)
	}
	var packed []byte
	if exists == 0 {
		c := content()
		if len(c) != size {
			return "", fmt.Errorf("tracking: run %s: dataset %q: content is %d bytes, want %d", r.id, name, len(c), size)
		}
		if packed, err = pack(c); err != nil {
			return "", err
		}
	}
	err = s.writeTx(func(tx *sql.Tx) error {
		if packed != nil {
			if _, err := tx.Exec(`INSERT INTO datasets (sha256, rows, cols, schema, format, size, content, created)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(sha256) DO NOTHING`,
				sum, info.Rows, info.Cols, string(schema), info.Format, size, packed, nowMillis()); err != nil {
				return err
			}
		}
		_, err := tx.Exec(`INSERT INTO run_inputs (run_id, dataset_sha256, role, name, levels) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT(run_id, role, name) DO UPDATE SET dataset_sha256 = excluded.dataset_sha256, levels = excluded.levels`,
			r.id, sum, role, name, string(levelsJSON))
		return err
	})
	if err != nil {
		return "", s.wrap("log dataset in", err)
	}
	return sum, nil
}

// pack gzips a dataset's content as fast as it can: datasets are written
// while notebooks run. CSV of measured values (17 significant digits)
// gains little from matching repeats, so Huffman coding alone compresses
// it about as well as any level, ten times faster than the fastest; CSV
// of counts or codes is full of repeats, for which the fastest level is
// both fast and far smaller. A sample decides.
func pack(content []byte) ([]byte, error) {
	level := gzip.BestSpeed
	if sample := content[:min(len(content), 64<<10)]; len(sample) < len(content) {
		huff, err := gzipLevel(nil, sample, gzip.HuffmanOnly)
		if err != nil {
			return nil, err
		}
		fast, err := gzipLevel(nil, sample, gzip.BestSpeed)
		if err != nil {
			return nil, err
		}
		if len(huff) < len(fast) {
			level = gzip.HuffmanOnly
		}
	}
	return gzipLevel(make([]byte, 0, len(content)/2), content, level)
}

func gzipLevel(dst, content []byte, level int) ([]byte, error) {
	zb := bytes.NewBuffer(dst)
	zw, err := gzip.NewWriterLevel(zb, level)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(content); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return zb.Bytes(), nil
}

// Dataset returns a stored dataset with its exact content, found by its
// SHA-256 or a unique prefix of it (at least 6 hex digits).
func (s *Store) Dataset(sha string) (*Dataset, error) {
	s.catchUp()
	sha = strings.ToLower(strings.TrimSpace(sha))
	if len(sha) < 6 {
		return nil, fmt.Errorf("tracking: dataset %q: give at least 6 hex digits of the SHA-256", sha)
	}
	rows, err := s.db.Query(`SELECT sha256, rows, cols, schema, format, size, content, created FROM datasets
		WHERE sha256 >= ? AND sha256 < ? LIMIT 2`, sha, sha+"g")
	if err != nil {
		return nil, s.wrap("read dataset in", err)
	}
	defer rows.Close()
	var d *Dataset
	var packed []byte
	for rows.Next() {
		if d != nil {
			return nil, fmt.Errorf("tracking: dataset %q: prefix matches more than one dataset", sha)
		}
		d = &Dataset{}
		var schema string
		var created int64
		if err := rows.Scan(&d.SHA256, &d.Rows, &d.Cols, &schema, &d.Format, &d.Size, &packed, &created); err != nil {
			return nil, s.wrap("read dataset in", err)
		}
		d.Created = millisTime(created)
		if err := json.Unmarshal([]byte(schema), &d.Columns); err != nil {
			return nil, fmt.Errorf("tracking: dataset %s: schema: %w", d.SHA256, err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("read dataset in", err)
	}
	if d == nil {
		return nil, fmt.Errorf("tracking: dataset %s: %w", sha, ErrNotFound)
	}
	zr, err := gzip.NewReader(bytes.NewReader(packed))
	if err != nil {
		return nil, fmt.Errorf("tracking: dataset %s: %w: %v", d.SHA256, ErrCorrupt, err)
	}
	d.Content, err = io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("tracking: dataset %s: %w: %v", d.SHA256, ErrCorrupt, err)
	}
	if h := sha256.Sum256(d.Content); hex.EncodeToString(h[:]) != d.SHA256 {
		return nil, fmt.Errorf("tracking: dataset %s: %w: content does not match its SHA-256", d.SHA256, ErrCorrupt)
	}
	return d, nil
}

// Float64s parses a dataset logged with LogDataset or LogDatasetMatrix
// (or any numeric CSV with a header) back into rows of values.
func (d *Dataset) Float64s() ([][]float64, error) {
	if d.Format != "csv" {
		return nil, fmt.Errorf("tracking: dataset %s is %q, not csv", d.SHA256, d.Format)
	}
	recs, err := csv.NewReader(bytes.NewReader(d.Content)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("tracking: dataset %s: %w", d.SHA256, err)
	}
	if len(recs) == 0 {
		return nil, nil
	}
	out := make([][]float64, len(recs)-1)
	for i, rec := range recs[1:] {
		row := make([]float64, len(rec))
		for j, f := range rec {
			v, err := strconv.ParseFloat(f, 64)
			if err != nil {
				return nil, fmt.Errorf("tracking: dataset %s: row %d column %d: %w", d.SHA256, i+1, j+1, err)
			}
			row[j] = v
		}
		out[i] = row
	}
	return out, nil
}

// Inputs lists the datasets a run (an id or unique id prefix) used.
func (s *Store) Inputs(runID string) ([]DatasetInput, error) {
	s.catchUp()
	runID, err := s.runID(runID)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Query(`SELECT i.run_id, i.role, i.name, d.sha256, d.format, d.rows, d.cols, d.schema, d.size, i.levels
		FROM run_inputs i JOIN datasets d ON d.sha256 = i.dataset_sha256
		WHERE i.run_id = ? ORDER BY i.role, i.name`, runID)
	if err != nil {
		return nil, s.wrap("list inputs in", err)
	}
	defer rows.Close()
	var out []DatasetInput
	for rows.Next() {
		var in DatasetInput
		var schema, levels string
		if err := rows.Scan(&in.RunID, &in.Role, &in.Name, &in.SHA256, &in.Format, &in.Rows, &in.Cols, &schema, &in.Size, &levels); err != nil {
			return nil, s.wrap("list inputs in", err)
		}
		if err := json.Unmarshal([]byte(schema), &in.Columns); err != nil {
			return nil, fmt.Errorf("tracking: dataset %s: schema: %w", in.SHA256, err)
		}
		if levels != "" {
			if err := json.Unmarshal([]byte(levels), &in.Levels); err != nil || len(in.Levels) != len(in.Columns) {
				return nil, fmt.Errorf("tracking: run %s: input %s/%s: %w: levels %.40q", in.RunID, in.Role, in.Name, ErrCorrupt, levels)
			}
		}
		out = append(out, in)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("list inputs in", err)
	}
	return out, nil
}
