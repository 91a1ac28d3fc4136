package experiments

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func sampleDataset(t *testing.T) *Dataset {
	t.Helper()
	nan := math.NaN()
	ds, err := FromColumns([]string{"x", "color", "y"},
		[]float64{1, 2, nan, 4, 4, 6},
		[]string{"red", "blue", "", "red", "red", "green"},
		[]int{0, 1, 0, 1, 1, 0})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestFromColumnsErrors(t *testing.T) {
	tests := []struct {
		name    string
		names   []string
		cols    []any
		wantErr string
	}{
		{"count", []string{"a"}, []any{[]float64{1}, []float64{2}}, "1 names for 2 columns"},
		{"type", []string{"a"}, []any{[]byte{1}}, "want []float64"},
		{"length", []string{"a", "b"}, []any{[]float64{1}, []float64{1, 2}}, `"b": 2 rows, dataset has 1`},
		{"duplicate", []string{"a", "a"}, []any{[]float64{1}, []float64{2}}, "exists"},
		{"empty name", []string{""}, []any{[]float64{1}}, "empty name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromColumns(tt.names, tt.cols...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestDatasetBasics(t *testing.T) {
	ds := sampleDataset(t)
	if r, c := ds.Shape(); r != 6 || c != 3 {
		t.Fatalf("shape %d×%d", r, c)
	}
	if h := ds.Head(2); h.Len() != 2 {
		t.Errorf("head len %d", h.Len())
	}
	if h := ds.Head(100); h.Len() != 6 {
		t.Errorf("head(100) len %d", h.Len())
	}
	tail := ds.Tail(1)
	if s, _ := tail.Strings("color"); s[0] != "green" {
		t.Errorf("tail = %v", s)
	}
	// Negative counts leave rows out at the other end, as pandas.
	if s, _ := ds.Head(-4).Strings("color"); len(s) != 2 || s[1] != "blue" {
		t.Errorf("head(-4) = %v", s)
	}
	if s, _ := ds.Tail(-5).Strings("color"); len(s) != 1 || s[0] != "green" {
		t.Errorf("tail(-5) = %v", s)
	}
	if ds.Head(-10).Len() != 0 || ds.Tail(-10).Len() != 0 {
		t.Errorf("head(-10), tail(-10) not empty")
	}
	sel, err := ds.Select("y", "x")
	if err != nil || strings.Join(sel.Columns(), ",") != "y,x" {
		t.Errorf("select = %v, %v", sel.Columns(), err)
	}
	if _, err := ds.Select("nope"); err == nil || !strings.Contains(err.Error(), `no column "nope"`) {
		t.Errorf("select err = %v", err)
	}
	dr, err := ds.Drop("color")
	if err != nil || strings.Join(dr.Columns(), ",") != "x,y" {
		t.Errorf("drop = %v, %v", dr.Columns(), err)
	}
	// Selections are copies.
	x, _ := sel.Floats("x")
	x[0] = 100
	if orig, _ := ds.Floats("x"); orig[0] != 1 {
		t.Error("select shares storage with the original")
	}
	if _, _, err := ds.XY("y"); err == nil || !strings.Contains(err.Error(), `column "color" is categorical`) {
		t.Errorf("XY with categorical feature: %v", err)
	}
	num, _ := ds.Drop("color")
	X, y, err := num.XY("y")
	if err != nil {
		t.Fatal(err)
	}
	if r, c := X.Dims(); r != 6 || c != 1 || y[1] != 1 || !math.IsNaN(X.At(2, 0)) {
		t.Errorf("XY = %v, %v", mat.Formatted(X), y)
	}
}

func TestXYCategoricalTarget(t *testing.T) {
	ds, _ := FromColumns([]string{"x", "label"}, []float64{1, 2, 3}, []string{"b", "a", "c"})
	_, y, err := ds.XY("label")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(y, []float64{1, 0, 2}) {
		t.Errorf("y = %v", y)
	}
	ds2, _ := FromColumns([]string{"x", "label"}, []float64{1, 2}, []string{"a", ""})
	if _, _, err := ds2.XY("label"); err == nil || !strings.Contains(err.Error(), "missing at row 1") {
		t.Errorf("err = %v", err)
	}
}

func TestCodes(t *testing.T) {
	train, _ := FromColumns([]string{"y"}, []string{"a", "b", "c"})
	test, _ := FromColumns([]string{"x", "y"}, []float64{1, 2, 3}, []string{"c", "a", "c"})
	lv, _ := train.Levels("y")
	got, err := test.Codes("y", lv)
	if err != nil || !slices.Equal(got, []float64{2, 0, 2}) {
		t.Errorf("codes = %v, %v", got, err)
	}
	if _, y, err := test.XY("y"); err != nil || !slices.Equal(y, []float64{1, 0, 1}) {
		t.Errorf("test's own numbering = %v, %v", y, err)
	}
	if _, err := train.Codes("y", []string{"a"}); err == nil || !strings.Contains(err.Error(), `level "b" at row 1`) {
		t.Errorf("unknown level: %v", err)
	}

	// A numeric target (0/1 read as numbers): its values are its labels,
	// as a pipeline fitted on it predicts them (TargetLevels nil); coded
	// by their text against a categorical training set's levels.
	num, _ := FromColumns([]string{"y"}, []float64{1, 0, 1})
	for _, tc := range []struct {
		levels  []string
		want    []float64
		wantErr string
	}{
		{nil, []float64{1, 0, 1}, ""},
		{[]string{"0", "1"}, []float64{1, 0, 1}, ""},
		{[]string{"1", "0"}, []float64{0, 1, 0}, ""},
		{[]string{"0"}, nil, `column "y" has 1 at row 0, not among [0]`},
	} {
		got, err := num.Codes("y", tc.levels)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("numeric, levels %q: error %v, want %q", tc.levels, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("numeric, levels %q: %v, %v; want %v", tc.levels, got, err, tc.want)
		}
	}
	gap, _ := FromColumns([]string{"y"}, []float64{1, math.NaN()})
	if _, err := gap.Codes("y", nil); err == nil || !strings.Contains(err.Error(), `column "y" is missing at row 1`) {
		t.Errorf("numeric with a gap: %v", err)
	}
}

func TestDescribe(t *testing.T) {
	ds := sampleDataset(t)
	d := ds.Describe()
	if r, _ := d.Shape(); r != 3 {
		t.Fatalf("describe rows %d", r)
	}
	mean, _ := d.Floats("mean")
	missing, _ := d.Floats("missing")
	levels, _ := d.Floats("levels")
	top, _ := d.Strings("top")
	if mean[0] != 17.0/5 || missing[0] != 1 || missing[1] != 1 || levels[1] != 3 || top[1] != "red" {
		t.Errorf("describe: mean %v missing %v levels %v top %v", mean, missing, levels, top)
	}
	std, _ := d.Floats("std")
	// Sample std of 1,2,4,4,6.
	want := math.Sqrt((2.4*2.4 + 1.4*1.4 + 0.6*0.6 + 0.6*0.6 + 2.6*2.6) / 4)
	if math.Abs(std[0]-want) > 1e-12 {
		t.Errorf("std = %v, want %v", std[0], want)
	}
	names, _ := d.Strings("column")
	if strings.Join(names, ",") != "x,color,y" {
		t.Errorf("column order %v", names)
	}
	// A part of the rows counts the levels it uses, not the whole's.
	part, _ := ds.Rows([]int{0})
	colors, _ := ds.Strings("color")
	if lv, _ := part.Describe().Floats("levels"); lv[1] != 1 {
		t.Errorf("levels of one row (%q): %v", colors[0], lv[1])
	}
}

func TestRender(t *testing.T) {
	ds := sampleDataset(t)
	h := ds.HTML()
	for _, want := range []string{`class="dataframe"`, "<th>color</th>", "red", "NaN", "6 rows × 3 columns"} {
		if !strings.Contains(h, want) && !strings.Contains(h, strings.Replace(want, "<th>", `<th title="categorical">`, 1)) {
			t.Errorf("HTML lacks %q:\n%s", want, h)
		}
	}
	s := ds.String()
	if !strings.Contains(s, "green") || !strings.Contains(s, "[6 rows x 3 columns]") {
		t.Errorf("String:\n%s", s)
	}
	b := ds.Render()
	if b.Data["text/html"] != h || b.Data["text/plain"] != s {
		t.Error("Render bundle does not match HTML/String")
	}
	// A long dataset elides its middle rows.
	long, _ := FromColumns([]string{"i"}, make([]float64, 1000))
	if txt := long.String(); !strings.Contains(txt, "...") || strings.Count(txt, "\n") > 30 {
		t.Errorf("long dataset not elided:\n%s", txt)
	}
	if !strings.Contains(long.HTML(), "<th>999</th>") {
		t.Error("last row index missing")
	}
	// Hostile names are escaped.
	x, _ := FromColumns([]string{"<b>"}, []string{"<script>"})
	if strings.Contains(x.HTML(), "<script>") {
		t.Error("HTML not escaped")
	}
}

func TestSampling(t *testing.T) {
	n := 1000
	vals := make([]float64, n)
	cls := make([]string, n)
	for i := range vals {
		vals[i] = float64(i)
		cls[i] = "a"
		if i%10 == 0 {
			cls[i] = "b"
		}
	}
	ds, _ := FromColumns([]string{"v", "c"}, vals, cls)
	s1, err := ds.Sample(50, 7)
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := ds.Sample(50, 7)
	s3, _ := ds.Sample(50, 8)
	a, _ := s1.Floats("v")
	b, _ := s2.Floats("v")
	c, _ := s3.Floats("v")
	if !slices.Equal(a, b) || slices.Equal(a, c) {
		t.Error("Sample not determined by seed")
	}
	sorted := slices.Clone(a)
	slices.Sort(sorted)
	if len(slices.Compact(sorted)) != 50 {
		t.Error("Sample drew a row twice")
	}
	if _, err := ds.Sample(1001, 1); err == nil {
		t.Error("oversized sample accepted")
	}
	f, _ := ds.SampleFrac(0.25, 1)
	if f.Len() != 250 {
		t.Errorf("SampleFrac len %d", f.Len())
	}
	st, err := ds.StratifiedSample("c", 0.2, 3)
	if err != nil {
		t.Fatal(err)
	}
	sc, _ := st.Strings("c")
	nb := 0
	for _, v := range sc {
		if v == "b" {
			nb++
		}
	}
	if st.Len() != 200 || nb != 20 {
		t.Errorf("stratified sample: %d rows, %d of class b", st.Len(), nb)
	}
}

func TestCleaning(t *testing.T) {
	ds := sampleDataset(t)
	n, err := ds.DropMissing()
	if err != nil || n != 1 || ds.Len() != 5 {
		t.Errorf("DropMissing = %d, %v, len %d", n, err, ds.Len())
	}
	if d := ds.Dedup(); d != 1 || ds.Len() != 4 {
		t.Errorf("Dedup = %d, len %d", d, ds.Len())
	}

	impute := func(strategy string) []float64 {
		ds := sampleDataset(t)
		if err := ds.Impute(strategy); err != nil {
			t.Fatal(err)
		}
		x, _ := ds.Floats("x")
		c, _ := ds.Strings("color")
		if c[2] != "red" {
			t.Errorf("categorical impute = %q", c[2])
		}
		return x
	}
	for _, tt := range []struct {
		strategy string
		want     float64
	}{{"mean", 17.0 / 5}, {"median", 4}, {"most_frequent", 4}, {"", 17.0 / 5}} {
		if x := impute(tt.strategy); x[2] != tt.want {
			t.Errorf("impute %q = %v, want %v", tt.strategy, x[2], tt.want)
		}
	}
	if err := sampleDataset(t).Impute("max"); err == nil {
		t.Error("unknown strategy accepted")
	}

	c, _ := FromColumns([]string{"a", "k", "s", "m"}, []float64{1, 2, 3}, []float64{5, 5, 5}, []string{"z", "z", "z"}, []float64{math.NaN(), math.NaN(), math.NaN()})
	dropped := c.DropConstant()
	if strings.Join(dropped, ",") != "k,s,m" || strings.Join(c.Columns(), ",") != "a" {
		t.Errorf("DropConstant dropped %v, left %v", dropped, c.Columns())
	}
	nanDup, _ := FromColumns([]string{"a"}, []float64{math.NaN(), math.NaN(), 0, math.Copysign(0, -1)})
	if d := nanDup.Dedup(); d != 2 {
		t.Errorf("Dedup with NaN and -0 removed %d, want 2", d)
	}
}

func TestFromMatrix(t *testing.T) {
	X := mat.NewDense(2, 2, []float64{1, 2, 3, 4})
	ds, err := FromMatrix(X, nil)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ds.Matrix()
	if err != nil || !mat.Equal(back, X) {
		t.Errorf("round trip: %v %v", back, err)
	}
	if _, err := FromMatrix(X, []string{"a"}); err == nil {
		t.Error("wrong name count accepted")
	}
}

func TestAddLevels(t *testing.T) {
	tests := []struct {
		name    string
		values  []string
		levels  []string
		wantErr string
	}{
		{"unused levels kept", []string{"b", "", "c", "b"}, []string{"a", "b", "c"}, ""},
		{"no rows", nil, []string{"x"}, ""},
		{"unknown value", []string{"a", "d"}, []string{"a", "b"}, `row 1 has "d"`},
		{"unsorted", []string{"a"}, []string{"b", "a"}, "sorted, distinct"},
		{"duplicate", []string{"a"}, []string{"a", "a"}, "sorted, distinct"},
		{"empty level", []string{"a"}, []string{"", "a"}, "not empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := &Dataset{}
			err := ds.AddLevels("c", tt.values, tt.levels)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if _, c := ds.Shape(); c != 0 {
					t.Errorf("a failed AddLevels added a column")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := ds.Levels("c")
			if err != nil || !slices.Equal(got, tt.levels) {
				t.Errorf("Levels = %v, %v; want %v", got, err, tt.levels)
			}
			if s, _ := ds.Strings("c"); len(s) != len(tt.values) || (len(s) > 0 && !slices.Equal(s, tt.values)) {
				t.Errorf("Strings = %q, want %q", s, tt.values)
			}
		})
	}
}

// A wide dataset shows its first and last ten columns around "...", as
// pandas does past display.max_columns.
func TestDatasetWideDisplay(t *testing.T) {
	names := make([]string, 64)
	cols := make([]any, 64)
	for j := range names {
		names[j] = fmt.Sprintf("f%d", j)
		cols[j] = []float64{float64(j), float64(j) + 0.5}
	}
	ds, err := FromColumns(names, cols...)
	if err != nil {
		t.Fatal(err)
	}
	text := ds.String()
	head := strings.Fields(strings.SplitN(text, "\n", 2)[0])
	if len(head) != 21 || head[9] != "f9" || head[10] != "..." || head[11] != "f54" || !strings.HasSuffix(text, "[2 rows x 64 columns]") {
		t.Errorf("text:\n%s", text)
	}
	h := ds.HTML()
	if strings.Count(h, "<th title=") != 20 || strings.Count(h, "<td>...</td>") != 2 || !strings.Contains(h, "2 rows × 64 columns") {
		t.Errorf("html:\n%s", h)
	}
}

// A nil dataset or CV result (what a failed ReadCSV or CrossValidate
// leaves in a notebook variable) is empty when looked at, not a panic.
func TestNilDatasetAndResult(t *testing.T) {
	var ds *Dataset
	if r, c := ds.Shape(); r != 0 || c != 0 || ds.Len() != 0 || len(ds.Columns()) != 0 {
		t.Errorf("shape %d×%d, len %d, columns %v", r, c, ds.Len(), ds.Columns())
	}
	for _, d := range []*Dataset{ds.Head(5), ds.Tail(5), ds.Describe()} {
		if d == nil || d.Len() != 0 {
			t.Errorf("got %v, want an empty dataset", d)
		}
	}
	_ = ds.String() + ds.HTML()
	if _, err := ds.Floats("x"); err == nil || !strings.Contains(err.Error(), "nil dataset") {
		t.Errorf("Floats: %v", err)
	}
	var r *CVResult
	if !math.IsNaN(r.Mean("accuracy")) || !math.IsNaN(r.Std("accuracy")) {
		t.Errorf("mean %v std %v", r.Mean("accuracy"), r.Std("accuracy"))
	}
	_ = r.String()
}
