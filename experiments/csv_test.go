package experiments

import (
	"bytes"
	"compress/gzip"
	"math"
	"os"
	"path/filepath"
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
