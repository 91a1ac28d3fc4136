package experiments

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestReadCSV(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		opts    CSVOptions
		rows    int
		cols    []string
		kinds   []Kind
		check   func(t *testing.T, ds *Dataset)
		wantErr string
	}{
		{
			name: "header and inferred types",
			in:   "a,b,c\n1,x,2.5\n2,y,-1e3\n",
			rows: 2, cols: []string{"a", "b", "c"}, kinds: []Kind{Numeric, Categorical, Numeric},
			check: func(t *testing.T, ds *Dataset) {
				c, _ := ds.Floats("c")
				if c[1] != -1000 {
					t.Errorf("c = %v", c)
				}
			},
		},
		{
			name: "missing tokens",
			in:   "a,b\n1,x\n,NA\nNaN,null\nnull,\nN/A,None\n4,y\n",
			rows: 6, cols: []string{"a", "b"}, kinds: []Kind{Numeric, Categorical},
			check: func(t *testing.T, ds *Dataset) {
				a, _ := ds.Floats("a")
				for i, want := range []bool{false, true, true, true, true, false} {
					if math.IsNaN(a[i]) != want {
						t.Errorf("a[%d] = %v, missing want %v", i, a[i], want)
					}
				}
				b, _ := ds.Strings("b")
				if strings.Join(b, "|") != "x|||||y" {
					t.Errorf("b = %q", b)
				}
			},
		},
		{
			name: "quoted fields with commas, quotes and newlines",
			in:   "name,n\n\"Smith, J\",1\n\"say \"\"hi\"\"\",2\n\"two\nlines\",3\n",
			rows: 3, cols: []string{"name", "n"}, kinds: []Kind{Categorical, Numeric},
			check: func(t *testing.T, ds *Dataset) {
				s, _ := ds.Strings("name")
				if s[0] != "Smith, J" || s[1] != `say "hi"` || s[2] != "two\nlines" {
					t.Errorf("name = %q", s)
				}
			},
		},
		{
			name: "column turns categorical late keeps earlier values",
			in:   "v\n1\n2.50\nabc\n\n1\n",
			rows: 4, cols: []string{"v"}, kinds: []Kind{Categorical},
			check: func(t *testing.T, ds *Dataset) {
				s, _ := ds.Strings("v")
				if strings.Join(s, "|") != "1|2.5|abc|1" {
					t.Errorf("v = %q", s)
				}
				lv, _ := ds.Levels("v")
				if strings.Join(lv, "|") != "1|2.5|abc" {
					t.Errorf("levels = %q", lv)
				}
			},
		},
		{
			name: "no header names columns",
			in:   "1,2\n3,4\n", opts: CSVOptions{NoHeader: true},
			rows: 2, cols: []string{"c0", "c1"}, kinds: []Kind{Numeric, Numeric},
		},
		{
			name: "skip rows and names",
			in:   "150,4,setosa,versicolor,virginica\n5.1,3.5,1.4,0.2,0\n",
			opts: CSVOptions{SkipRows: 1, NoHeader: true, Names: []string{"a", "b", "c", "d", "y"}, Categorical: []string{"y"}},
			rows: 1, cols: []string{"a", "b", "c", "d", "y"}, kinds: []Kind{Numeric, Numeric, Numeric, Numeric, Categorical},
		},
		{
			name: "semicolon detected",
			in:   "a;b\n1,5;2\n", // decimal commas stay text
			rows: 1, cols: []string{"a", "b"}, kinds: []Kind{Categorical, Numeric},
		},
		{
			name: "tab detected",
			in:   "a\tb\n1\t2\n",
			rows: 1, cols: []string{"a", "b"}, kinds: []Kind{Numeric, Numeric},
		},
		{
			name: "whitespace separated",
			in:   "59 2  32.1 101.0\n48 1 21.6   87.0\n\n",
			opts: CSVOptions{NoHeader: true},
			rows: 2, cols: []string{"c0", "c1", "c2", "c3"}, kinds: []Kind{Numeric, Numeric, Numeric, Numeric},
		},
		{
			name: "byte order mark and CRLF",
			in:   "\ufeffa,b\r\n1,2\r\n",
			rows: 1, cols: []string{"a", "b"}, kinds: []Kind{Numeric, Numeric},
		},
		{
			// The sniffer skips comments: the space (or a ';') in them
			// once chose the delimiter.
			name: "comment lines before header",
			in:   "# comment\n# title; 2020\na,b\n1,2\n3,4\n", opts: CSVOptions{Comment: '#'},
			rows: 2, cols: []string{"a", "b"}, kinds: []Kind{Numeric, Numeric},
		},
		{
			name: "digit separators and hex floats are text",
			in:   "period,n,h,x\n2020_01,1_000,0x1p-2,inf\n2020_02,5,-0X1P2,-Inf\n",
			rows: 2, cols: []string{"period", "n", "h", "x"}, kinds: []Kind{Categorical, Categorical, Categorical, Numeric},
			check: func(t *testing.T, ds *Dataset) {
				p, _ := ds.Strings("period")
				n, _ := ds.Strings("n")
				if strings.Join(p, "|") != "2020_01|2020_02" || strings.Join(n, "|") != "1_000|5" {
					t.Errorf("period = %q, n = %q", p, n)
				}
				x, _ := ds.Floats("x")
				if !math.IsInf(x[0], 1) || !math.IsInf(x[1], -1) {
					t.Errorf("x = %v", x)
				}
			},
		},
		{
			name: "max rows",
			in:   "a\n1\n2\n3\n", opts: CSVOptions{MaxRows: 2},
			rows: 2, cols: []string{"a"}, kinds: []Kind{Numeric},
		},
		{
			name: "header only",
			in:   "a,b\n",
			rows: 0, cols: []string{"a", "b"}, kinds: []Kind{Numeric, Numeric},
		},
		{
			name: "extra missing token",
			in:   "a\n1\n?\n", opts: CSVOptions{Missing: []string{"?"}},
			rows: 2, cols: []string{"a"}, kinds: []Kind{Numeric},
		},
		{name: "ragged row", in: "a,b,c\n1,2,3\n4,5\n", wantErr: "line 3: 2 fields, expected 3"},
		{name: "ragged long row", in: "a,b\n1,2\n3,4\n5,6,7\n", wantErr: "line 4: 3 fields, expected 2"},
		{name: "bare quote", in: "a,b\n1,x\"y\n", wantErr: "line 2, column 4"},
		{name: "unterminated quote", in: "a,b\n1,\"xy\n", wantErr: "line 2"},
		{name: "duplicate header", in: "a,b,a\n1,2,3\n", wantErr: `line 1, column 3: duplicate column name "a"`},
		{name: "binary", in: "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", wantErr: "not a CSV text file"},
		{name: "invalid utf8", in: "a,b\n1,\xff\xfe\n", wantErr: "invalid UTF-8"},
		{name: "empty", in: "", wantErr: "no data"},
		{name: "names count", in: "a,b\n1,2\n", opts: CSVOptions{Names: []string{"x"}}, wantErr: "Names has 1 names"},
		{name: "unknown categorical", in: "a\n1\n", opts: CSVOptions{Categorical: []string{"z"}}, wantErr: `names column "z"`},
		{name: "skip past end", in: "a\n", opts: CSVOptions{SkipRows: 3}, wantErr: "no data"},
		// Line numbers are the file's, counting skipped, comment and
		// blank lines.
		{name: "ragged after comments", in: "# c\n# c2\na,b\n1,2\n1,2,3\n", opts: CSVOptions{Comment: '#'}, wantErr: "line 5: 3 fields, expected 2 like line 3"},
		{name: "ragged after skipped and blank lines", in: "title\n\na,b\n\n1,2\n1\n", opts: CSVOptions{SkipRows: 1}, wantErr: "line 6: 1 fields, expected 2 like line 3"},
		{name: "ragged no header after comment", in: "# c\n1,2\n3\n", opts: CSVOptions{Comment: '#', NoHeader: true}, wantErr: "line 3: 1 fields, expected 2 like line 2"},
		{name: "whitespace ragged after comment", in: "skip\n# c\nx y\n1 2\n1\n", opts: CSVOptions{Comment: '#', SkipRows: 1}, wantErr: "line 5: 1 fields, expected 2 like line 3"},
		{name: "bare quote after comment", in: "skip\n# c\na,b\n1,x\"y\n", opts: CSVOptions{Comment: '#', SkipRows: 1}, wantErr: "line 4, column 4"},
		{name: "duplicate header after comment", in: "# c\na,a\n", opts: CSVOptions{Comment: '#'}, wantErr: "line 2, column 2: duplicate"},
		{name: "whitespace ragged", in: "1 2 3\n4 5\n", opts: CSVOptions{Comma: ' ', NoHeader: true}, wantErr: "line 2: 2 fields, expected 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds, err := ReadCSVFrom(strings.NewReader(tt.in), tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r, c := ds.Shape()
			if r != tt.rows || c != len(tt.cols) {
				t.Fatalf("shape = %d×%d, want %d×%d", r, c, tt.rows, len(tt.cols))
			}
			if got := strings.Join(ds.Columns(), ","); got != strings.Join(tt.cols, ",") {
				t.Errorf("columns = %s, want %s", got, strings.Join(tt.cols, ","))
			}
			for i, n := range tt.cols {
				if k, _ := ds.Kind(n); k != tt.kinds[i] {
					t.Errorf("kind of %s = %v, want %v", n, k, tt.kinds[i])
				}
			}
			if tt.check != nil {
				tt.check(t, ds)
			}
		})
	}
}

func TestSniffDelimiter(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		comment rune
		want    rune
	}{
		{"comma", "a,b\n1,2\n", 0, ','},
		{"semicolon with decimal commas", "a;b\n1,5;2\n", 0, ';'},
		{"tab with commas in text", "a\tb\nx, y\t2\n", 0, '\t'},
		{"comment with spaces skipped", "# a note\na,b\n", '#', ','},
		{"comment with semicolon skipped", "# title; 2020\na,b\n1,2\n", '#', ','},
		{"indented comment skipped", "  # x; y\na,b\n", '#', ','},
		{"blank lines skipped", "\n \r\na;b\n1;2\n", 0, ';'},
		{"same count on every line wins", "a;b;c,d\n1,2\n3,4\n", 0, ','},
		{"more fields break ties", "a;b;c,d\n", 0, ';'},
		{"order breaks ties", "a,b;c\n1,2;3\n", 0, ','},
		{"quotes respected", "\"a,b\";c\n\"1,2\";3\n", 0, ';'},
		{"quoted newline", "a,b;c\n\"1,2,3\nx\";4\n", 0, ';'},
		{"white space", "59 2  32.1\n48 1 21.6\n", 0, ' '},
		{"white space after comment", "#c\nx y\n1 2\n", '#', ' '},
		{"one column with spaces", "name\nJohn Smith\n", 0, ','},
		{"one column", "v\n1\n", 0, ','},
		{"only comments", "# a; b\n", '#', ','},
		{"empty", "", 0, ','},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReaderSize(strings.NewReader(tt.in), 1<<16)
			if got := sniffDelimiter(br, tt.comment); got != tt.want {
				t.Errorf("sniffDelimiter(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	// Only what br can peek at counts, and a line cut by the end of the
	// buffer (16 bytes) is left out: "4;5x" would break the tie for ';'.
	in := "a;b,c\n1;2,3\n4;5xxxxxx,6\n"
	br := bufio.NewReaderSize(strings.NewReader(in), 16)
	if got := sniffDelimiter(br, 0); got != ',' {
		t.Errorf("small buffer: sniffDelimiter(%q) = %q, want ','", in, got)
	}
}

func TestReadCSVFileAndGzip(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte("x,y\n1,a\n2,b\n"))
	zw.Close()
	gz := filepath.Join(dir, "d.csv.gz")
	if err := os.WriteFile(gz, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ds, err := ReadCSV(gz)
	if err != nil {
		t.Fatal(err)
	}
	if r, c := ds.Shape(); r != 2 || c != 2 {
		t.Errorf("shape %d×%d", r, c)
	}
	_, err = ReadCSV(filepath.Join(dir, "missing.csv"))
	if err == nil || !strings.Contains(err.Error(), "missing.csv") {
		t.Errorf("err = %v, want the path named", err)
	}
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("a,b\n1,2\n3\n"), 0o644)
	_, err = ReadCSV(bad)
	if err == nil || !strings.Contains(err.Error(), "bad.csv: line 3") {
		t.Errorf("err = %v, want path and line", err)
	}
}

func TestReadCSVIris(t *testing.T) {
	ds, err := ReadCSV("testdata/iris.csv")
	if err != nil {
		t.Fatal(err)
	}
	if r, c := ds.Shape(); r != 150 || c != 5 {
		t.Fatalf("shape %d×%d", r, c)
	}
	lv, _ := ds.Levels("species")
	if strings.Join(lv, ",") != "setosa,versicolor,virginica" {
		t.Errorf("levels %v", lv)
	}
}

// FuzzReadCSV checks that arbitrary input never panics and that a dataset
// read without error is consistent.
func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,2\n", "a,b\n1,x\n,NA\n", "\"q,\"\"x\",2\n", "1 2\n3 4\n", "a;b\n1;2\n",
		"a\tb\n1\t\n", "\xef\xbb\xbfa\n1\n", "a,b\n1\n", "\x1f\x8b\x08", "a,a\n1,2\n", "x\n1e400\n-0\n",
	} {
		f.Add(s, false, 0)
	}
	f.Fuzz(func(t *testing.T, in string, noHeader bool, skip int) {
		opts := CSVOptions{NoHeader: noHeader, SkipRows: skip % 3}
		ds, err := ReadCSVFrom(strings.NewReader(in), opts)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "experiments: read csv: ") {
				t.Fatalf("error without context: %v", err)
			}
			return
		}
		rows, cols := ds.Shape()
		for _, c := range ds.cols {
			if c.len() != rows {
				t.Fatalf("column %q has %d rows, dataset %d", c.name, c.len(), rows)
			}
			for _, k := range c.codes {
				if int(k) >= len(c.levels) {
					t.Fatalf("code %d out of %d levels", k, len(c.levels))
				}
			}
		}
		if cols != len(ds.Columns()) {
			t.Fatal("columns mismatch")
		}
		_ = ds.String()
		_ = ds.HTML()
		_ = ds.Describe()
	})
}

// Missing-value tokens that look like numbers (sentinels) still mark
// values missing, and numbers that merely start like them do not.
func TestReadCSVNumericSentinel(t *testing.T) {
	tests := []struct {
		missing []string
		want    []float64 // NaN for missing
	}{
		{nil, []float64{1, 999, 9990, -999}},
		{[]string{"999"}, []float64{1, math.NaN(), 9990, -999}},
		{[]string{"-999"}, []float64{1, 999, 9990, math.NaN()}},
	}
	for _, tt := range tests {
		ds, err := ReadCSVFrom(strings.NewReader("a\n1\n999\n9990\n-999\n"), CSVOptions{Missing: tt.missing})
		if err != nil {
			t.Fatal(err)
		}
		got, err := ds.Floats("a")
		if err != nil {
			t.Fatal(err)
		}
		for i := range tt.want {
			if math.Float64bits(got[i]) != math.Float64bits(tt.want[i]) && !(math.IsNaN(got[i]) && math.IsNaN(tt.want[i])) {
				t.Errorf("Missing %q: row %d = %v, want %v", tt.missing, i, got[i], tt.want[i])
			}
		}
	}
}

// The short-decimal fast path gives ParseFloat's value to the bit, and
// leaves everything it cannot do exactly to ParseFloat.
func TestParseShortDecimal(t *testing.T) {
	tests := []struct {
		in   string
		fast bool
	}{
		{"0", true}, {"16", true}, {"-0", true}, {"+7", true}, {"5.1", true}, {"-0.25", true},
		{"5.", true}, {".5", true}, {"0.1", true}, {"123456789012345", true}, {"1234567.89012345", true},
		{"0.00000000000001", true}, {"0.000000000000001", false},
		{"1234567890123456", false}, {"1e3", false}, {".", false}, {"-", false}, {"", false},
		{"1.2.3", false}, {"1_000", false}, {"0x10", false}, {"inf", false}, {" 1", false},
	}
	for _, tt := range tests {
		v, ok := parseShortDecimal(tt.in)
		if ok != tt.fast {
			t.Errorf("parseShortDecimal(%q) ok = %v, want %v", tt.in, ok, tt.fast)
			continue
		}
		if !ok {
			continue
		}
		want, err := strconv.ParseFloat(tt.in, 64)
		if err != nil || math.Float64bits(v) != math.Float64bits(want) {
			t.Errorf("parseShortDecimal(%q) = %v (%#x), ParseFloat %v (%#x), %v", tt.in, v, math.Float64bits(v), want, math.Float64bits(want), err)
		}
	}
}

// FuzzParseShortDecimal checks the fast path against ParseFloat on
// arbitrary input.
func FuzzParseShortDecimal(f *testing.F) {
	for _, s := range []string{"0", "-12.5", "999999999999999", "0.123456789012345", "1."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := parseShortDecimal(s)
		if !ok {
			return
		}
		want, err := strconv.ParseFloat(s, 64)
		if err != nil || math.Float64bits(v) != math.Float64bits(want) {
			t.Fatalf("parseShortDecimal(%q) = %v, ParseFloat %v, %v", s, v, want, err)
		}
	})
}

// Columns longer than one chunk come back whole and in order, also when a
// late text value turns a numeric column categorical.
func TestReadCSVLongColumns(t *testing.T) {
	for _, rows := range []int{1, minChunk, minChunk + 1, 3*minChunk + 7, 70000} {
		var b strings.Builder
		b.WriteString("n,c\n")
		for i := range rows {
			c := strconv.Itoa(i % 5)
			if i == rows-1 {
				c = "last"
			}
			fmt.Fprintf(&b, "%d,%s\n", i, c)
		}
		ds, err := ReadCSVFrom(strings.NewReader(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := ds.Shape(); n != rows {
			t.Fatalf("%d rows read as %d", rows, n)
		}
		nums, err := ds.Floats("n")
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range nums {
			if v != float64(i) {
				t.Fatalf("%d rows: n[%d] = %v", rows, i, v)
			}
		}
		col, _ := ds.col("c")
		if col.kind != Categorical || len(col.codes) != rows || cap(col.codes) > rows+rows/8+minChunk {
			t.Fatalf("%d rows: column c is %v with %d codes (cap %d)", rows, col.kind, len(col.codes), cap(col.codes))
		}
		for i, k := range col.codes {
			want := strconv.Itoa(i % 5)
			if i == rows-1 {
				want = "last"
			}
			if col.levels[k] != want {
				t.Fatalf("%d rows: c[%d] = %q, want %q", rows, i, col.levels[k], want)
			}
		}
	}
}

func TestEstimateRows(t *testing.T) {
	head := []byte("a,b\n1,2\n3,4\n5,")
	tests := []struct {
		name  string
		head  []byte
		whole bool
		size  int64
		want  int
	}{
		{"whole input", head, true, -1, 4},
		{"unknown size", head, false, -1, 0},
		{"size within head", head, false, int64(len(head)), 0},
		{"no newline", []byte("abc"), false, 1000, 0},
		{"scaled", head, false, 14000, 3000 + 3000/32 + 16},
	}
	for _, tt := range tests {
		if got := estimateRows(tt.head, tt.whole, tt.size); got != tt.want {
			t.Errorf("%s: estimateRows = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// A gzip file's size hint is its content's size, from the trailer.
func TestFileSizeGzip(t *testing.T) {
	dir := t.TempDir()
	content := strings.Repeat("1,2,3\n", 5000)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(content))
	zw.Close()
	for name, data := range map[string][]byte{"plain.csv": []byte(content), "z.csv.gz": buf.Bytes()} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		got := fileSize(f)
		f.Close()
		if got != int64(len(content)) {
			t.Errorf("%s: fileSize = %d, want %d", name, got, len(content))
		}
		ds, err := ReadCSV(p, CSVOptions{NoHeader: true})
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := ds.Shape(); n != 5000 {
			t.Errorf("%s: %d rows", name, n)
		}
	}
}

// TestReadCSVLevelsOfNumbers: in a column that is categorical because
// some of its values are not numbers, the same number is one level
// wherever it stands (before or after the first word); a column named in
// CSVOptions.Categorical keeps every value as written.
func TestReadCSVLevelsOfNumbers(t *testing.T) {
	const text = "zip,city\n02134,boston\n10001,nyc\nunknown,x\n02134,boston\n10001.0,nyc\n"
	for _, tc := range []struct {
		name   string
		opts   CSVOptions
		zip    []string // the zip of each row
		levels int
	}{
		{"auto", CSVOptions{}, []string{"2134", "10001", "unknown", "2134", "10001"}, 3},
		{"named categorical", CSVOptions{Categorical: []string{"zip"}}, []string{"02134", "10001", "unknown", "02134", "10001.0"}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := ReadCSVFrom(strings.NewReader(text), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			c, err := ds.col("zip")
			if err != nil {
				t.Fatal(err)
			}
			if c.kind != Categorical || len(c.levels) != tc.levels {
				t.Fatalf("zip is %s with levels %q, want categorical with %d", c.kind, c.levels, tc.levels)
			}
			for i, want := range tc.zip {
				if got := c.value(i); got != want {
					t.Errorf("row %d: zip %v, want %q", i, got, want)
				}
			}
		})
	}
}
