package experiments

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteCSVRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name, in, out string
		opts          CSVOptions
	}{
		{"numbers and levels", "x,city\n1.5,boston\n-2,\"new york, ny\"\n,\"say \"\"hi\"\"\"\n",
			"x,city\n1.5,boston\n-2,\"new york, ny\"\n,\"say \"\"hi\"\"\"\n", CSVOptions{}},
		{"exact floats and infinities", "v\n0.1\n1e-300\n3.141592653589793\ninf\n-Infinity\n",
			"v\n0.1\n1e-300\n3.141592653589793\n+Inf\n-Inf\n", CSVOptions{}},
		{"codes kept as written", "zip,n\n02134,1\n10001,2\n", "zip,n\n02134,1\n10001,2\n", CSVOptions{Categorical: []string{"zip"}}},
		{"missing everywhere", "a,b\nNA,x\n2,\n", "a,b\n,x\n2,\n", CSVOptions{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := ReadCSVFrom(strings.NewReader(tc.in), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := ds.WriteCSV(&b); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.out {
				t.Errorf("wrote\n%s\nwant\n%s", b.String(), tc.out)
			}
			back, err := ReadCSVFrom(&b, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !sameDataset(ds, back) {
				t.Errorf("read back:\n%v\nwant\n%v", back, ds)
			}
		})
	}
}

// sameDataset compares names, kinds and values bit for bit.
func sameDataset(a, b *Dataset) bool {
	if a.rows != b.rows || len(a.cols) != len(b.cols) {
		return false
	}
	for j, c := range a.cols {
		d := b.cols[j]
		if c.name != d.name || c.kind != d.kind {
			return false
		}
		for i := 0; i < a.rows; i++ {
			u, v := c.value(i), d.value(i)
			if x, ok := u.(float64); ok {
				if y, ok := v.(float64); !ok || math.Float64bits(x) != math.Float64bits(y) {
					return false
				}
			} else if u != v {
				return false
			}
		}
	}
	return true
}

func TestWriteCSVFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.csv")
	ds, _ := FromColumns([]string{"x", "c"}, []float64{1, 2}, []string{"a", "b"})
	if err := ds.WriteCSVFile(path); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "x,c\n1,a\n2,b\n" {
		t.Errorf("file holds %q", b)
	}
	err := ds.WriteCSVFile(filepath.Join(dir, "no", "such", "dir.csv"))
	if err == nil || !strings.Contains(err.Error(), "write csv") || !strings.Contains(err.Error(), "dir.csv") {
		t.Errorf("unwritable path: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".csv-*")); left != nil {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestValueCounts(t *testing.T) {
	ds, _ := FromColumns([]string{"color", "n"}, []string{"red", "blue", "", "red", "green", "blue", "red"}, []float64{3, 1, 3, math.NaN(), 2, 1, 1})
	for _, tc := range []struct {
		col, want string
	}{
		{"color", "color,count\nred,3\nblue,2\ngreen,1\n,1\n"},
		{"n", "n,count\n1,3\n3,2\n2,1\n,1\n"},
	} {
		vc, err := ds.ValueCounts(tc.col)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		vc.WriteCSV(&b)
		if b.String() != tc.want {
			t.Errorf("ValueCounts(%q):\n%s\nwant\n%s", tc.col, b.String(), tc.want)
		}
	}
	if _, err := ds.ValueCounts("size"); err == nil || !strings.Contains(err.Error(), `value counts: no column "size"`) {
		t.Errorf("unknown column: %v", err)
	}
}

func TestFilter(t *testing.T) {
	ds, _ := FromColumns([]string{"age", "name"}, []float64{12, 40, math.NaN(), 18}, []string{"ann", "bob", "cy", "di"})
	age, _ := ds.Floats("age")
	adults := ds.Filter(func(i int) bool { return age[i] >= 18 })
	var b bytes.Buffer
	adults.WriteCSV(&b)
	if b.String() != "age,name\n40,bob\n18,di\n" {
		t.Errorf("adults:\n%s", b.String())
	}
	if none := ds.Filter(func(int) bool { return false }); none.Len() != 0 || len(none.Columns()) != 2 {
		t.Errorf("no row kept: %d rows, columns %v", none.Len(), none.Columns())
	}
}

// NumberLevel gives a raw value the level ReadCSV gives it in a column
// that turned categorical after holding numbers.
func TestNumberLevel(t *testing.T) {
	raw := []string{"007", "7.0", " 7", "1e3", "-0.50", "+2", "1_000", "0x10", "abc", "inf"}
	var csv strings.Builder
	csv.WriteString("code\n")
	for _, r := range raw {
		csv.WriteString(r + "\n")
	}
	ds, err := ReadCSVFrom(strings.NewReader(csv.String()), CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	read, err := ds.Strings("code")
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range raw {
		want := read[i]
		got, ok := NumberLevel(r)
		if !ok {
			got = r // not a number: its own level
		}
		if got != want {
			t.Errorf("NumberLevel(%q) = %q, %v; ReadCSV read it as %q", r, got, ok, want)
		}
	}
	if _, ok := NumberLevel("NaN"); ok {
		t.Error("NaN is a missing value, not a level")
	}
}
