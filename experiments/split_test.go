package experiments

import (
	"bytes"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// checkPartition fails unless train and test partition [0,n).
func checkPartition(t *testing.T, train, test []int, n int) {
	t.Helper()
	all := append(slices.Clone(train), test...)
	slices.Sort(all)
	if len(all) != n {
		t.Fatalf("%d rows in train+test, want %d", len(all), n)
	}
	for i, v := range all {
		if v != i {
			t.Fatalf("row %d missing or repeated", i)
		}
	}
}

func TestTrainTestSplit(t *testing.T) {
	y := make([]float64, 100)
	for i := range y {
		if i < 20 {
			y[i] = 1
		}
	}
	X := mat.NewDense(100, 1, nil)
	for _, tt := range []struct {
		frac     float64
		stratify bool
		wantTest int
		wantOnes int // ones in test when stratified
	}{
		{0.25, false, 25, -1},
		{0.25, true, 25, 5},
		{0.1, true, 10, 2},
		{0.333, true, 34, 7},
	} {
		tr, te, err := splitIndexes(100, tt.frac, 3, map[bool][]float64{true: y}[tt.stratify], formatNum)
		if err != nil {
			t.Fatal(err)
		}
		checkPartition(t, tr, te, 100)
		if len(te) != tt.wantTest {
			t.Errorf("frac %v: %d test rows, want %d", tt.frac, len(te), tt.wantTest)
		}
		if tt.wantOnes >= 0 {
			ones := 0
			for _, i := range te {
				ones += int(y[i])
			}
			if ones != tt.wantOnes {
				t.Errorf("frac %v: %d positives in test, want %d", tt.frac, ones, tt.wantOnes)
			}
		}
	}
	a, b, _, _, err := SplitXY(X, y, 0.2, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := a.Dims(); r != 80 {
		t.Errorf("SplitXY train %d", r)
	}
	if r, _ := b.Dims(); r != 20 {
		t.Errorf("SplitXY test %d", r)
	}
	for _, bad := range []float64{0, 1, -0.5, 2} {
		if _, _, err := splitIndexes(10, bad, 1, nil, formatNum); err == nil {
			t.Errorf("test fraction %v accepted", bad)
		}
	}
	ds := sampleDataset(t)
	tr, te, err := TrainTestSplit(ds, 0.5, 1, "y")
	if err != nil || tr.Len()+te.Len() != 6 {
		t.Errorf("TrainTestSplit: %v", err)
	}
	// Classes too small to be in both parts, or more classes than rows in
	// a part, are errors, as in scikit-learn.
	for _, tt := range []struct {
		column string
		frac   float64
		want   string
	}{
		{"color", 0.5, `class (missing) has only 1 row`},
		{"x", 0.5, "class 1.0 has only 1 row, too few to be in both parts (each class needs 2; a continuous column cannot stratify)"},
	} {
		if _, _, err := TrainTestSplit(ds, tt.frac, 1, tt.column); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("stratify on %s: %v, want %q", tt.column, err, tt.want)
		}
	}
	ds2, err := FromColumns([]string{"color"}, []string{"red", "red", "blue", "green", "green", "red"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := TrainTestSplit(ds2, 0.5, 1, "color"); err == nil || !strings.Contains(err.Error(), `class "blue" has only 1 row`) {
		t.Errorf("stratify with a single blue: %v", err)
	}
	if _, _, _, _, err := SplitXY(mat.NewDense(6, 1, nil), []float64{0, 0, 1, 1, 2, 2}, 0.2, 1, true); err == nil || !strings.Contains(err.Error(), "2 test and 4 training rows cannot each hold all 3 classes") {
		t.Errorf("3 classes in 2 test rows: %v", err)
	}
	if _, _, err := TrainTestSplit(ds, 0.5, 1, "nope"); err == nil {
		t.Error("unknown stratify column accepted")
	}
}

func TestKFold(t *testing.T) {
	for _, tt := range []struct {
		n, k    int
		shuffle bool
	}{{10, 3, false}, {10, 5, true}, {7, 7, false}, {100, 0, true}} {
		folds, err := KFold{K: tt.k, Shuffle: tt.shuffle, Seed: 1}.Split(tt.n)
		if err != nil {
			t.Fatal(err)
		}
		k := tt.k
		if k == 0 {
			k = 5
		}
		if len(folds) != k {
			t.Fatalf("%d folds, want %d", len(folds), k)
		}
		seen := make([]int, tt.n)
		for _, f := range folds {
			checkPartition(t, f.Train, f.Test, tt.n)
			if d := len(f.Test) - tt.n/k; d < 0 || d > 1 {
				t.Errorf("fold size %d for n=%d k=%d", len(f.Test), tt.n, k)
			}
			for _, i := range f.Test {
				seen[i]++
			}
		}
		for i, s := range seen {
			if s != 1 {
				t.Errorf("row %d tested %d times", i, s)
			}
		}
	}
	if _, err := (KFold{K: 11}).Split(10); err == nil {
		t.Error("K > n accepted")
	}
	if _, err := (KFold{K: 1}).Split(10); err == nil {
		t.Error("K = 1 accepted")
	}
}

func TestStratifiedKFold(t *testing.T) {
	y := make([]float64, 90)
	for i := range y {
		y[i] = float64(i % 3)
		if i >= 60 {
			y[i] = 0 // class 0 has 50 rows, classes 1 and 2 have 20
		}
	}
	for _, shuffle := range []bool{false, true} {
		folds, err := StratifiedKFold{K: 5, Shuffle: shuffle, Seed: 2}.Split(y)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range folds {
			checkPartition(t, f.Train, f.Test, 90)
			counts := map[float64]int{}
			for _, i := range f.Test {
				counts[y[i]]++
			}
			if counts[0] != 10 || counts[1] != 4 || counts[2] != 4 {
				t.Errorf("shuffle=%v fold class counts %v, want 10/4/4", shuffle, counts)
			}
		}
	}
}

// captureWarnings sends Warnings to a buffer for the test, forgetting the
// warnings already given so that none is held back as a repeat.
func captureWarnings(t *testing.T) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	prev := Warnings
	Warnings = &buf
	warned.Lock()
	warned.last = nil
	warned.Unlock()
	t.Cleanup(func() { Warnings = prev })
	return &buf
}

// The unshuffled folds are scikit-learn 1.2's StratifiedKFold(K) folds:
// testdata/stratified_kfold_sklearn.txt holds, per data set and K, the
// labels and the fold sklearn tests each row in (one digit a row), for
// the targets of iris, wine, breast cancer and digits and for random
// labels whose first appearance is not their sorted order.
func TestStratifiedKFoldMatchesSklearn(t *testing.T) {
	captureWarnings(t)
	data, err := os.ReadFile("testdata/stratified_kfold_sklearn.txt")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) < 25 {
		t.Fatalf("%d cases", len(lines))
	}
	for _, line := range lines {
		f := strings.Fields(line)
		name, K, labels, want := f[0], int(f[1][0]-'0'), f[2], f[3]
		if f[1] == "10" {
			K = 10
		}
		y := make([]float64, len(labels))
		for i, c := range labels {
			y[i] = float64(c - '0')
		}
		folds, err := StratifiedKFold{K: K}.Split(y)
		if err != nil {
			t.Errorf("%s K=%d: %v", name, K, err)
			continue
		}
		got := make([]byte, len(y))
		for fi, fold := range folds {
			checkPartition(t, fold.Train, fold.Test, len(y))
			for _, i := range fold.Test {
				got[i] = byte('0' + fi)
			}
		}
		if string(got) != want {
			t.Errorf("%s K=%d: test folds\n%s\nsklearn\n%s", name, K, got, want)
		}
	}
}

func TestStratifiedKFoldChecks(t *testing.T) {
	tests := []struct {
		name    string
		y       []float64
		k       StratifiedKFold
		err     string // empty: no error
		warning string // empty: no warning
		test0   []int  // rows of the first test fold
	}{
		{name: "blocks", y: []float64{0, 0, 0, 0, 0, 0, 1, 1, 1}, k: StratifiedKFold{K: 3}, test0: []int{0, 1, 6}},
		{name: "small class", y: []float64{0, 0, 0, 0, 0, 0, 1, 1}, k: StratifiedKFold{K: 5},
			warning: "experiments: warning: stratified kfold: the least populated class in y has only 2 members, which is less than K=5\n", test0: []int{0, 1}},
		{name: "every class too small", y: []float64{0, 0, 1, 1, 2, 2}, k: StratifiedKFold{K: 3},
			err: "experiments: stratified kfold: K=3 folds for classes of at most 2 rows"},
		{name: "continuous", y: []float64{0, 1, 0.5, 1, 0, 1}, k: StratifiedKFold{K: 2},
			err: "experiments: stratified kfold: y has 0.5 at row 2, which is no class label"},
		{name: "NaN", y: []float64{0, 1, 0, 1, math.NaN(), 1}, k: StratifiedKFold{K: 2},
			err: "experiments: stratified kfold: y has NaN at row 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := captureWarnings(t)
			folds, err := tt.k.Split(tt.y)
			if tt.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if buf.String() != tt.warning {
				t.Errorf("warnings %q, want %q", buf, tt.warning)
			}
			if !slices.Equal(folds[0].Test, tt.test0) {
				t.Errorf("first test fold %v, want %v", folds[0].Test, tt.test0)
			}
		})
	}
}

// Shuffled folds keep each fold's class counts and depend only on Seed.
func TestStratifiedKFoldShuffleDeterministic(t *testing.T) {
	y := []float64{0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 2, 0, 1, 2, 0, 1}
	a, err := StratifiedKFold{K: 3, Shuffle: true, Seed: 4}.Split(y)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := StratifiedKFold{K: 3, Shuffle: true, Seed: 4}.Split(y)
	plain, _ := StratifiedKFold{K: 3}.Split(y)
	differ := false
	for f := range a {
		if !slices.Equal(a[f].Test, b[f].Test) {
			t.Errorf("fold %d: %v then %v for the same seed", f, a[f].Test, b[f].Test)
		}
		differ = differ || !slices.Equal(a[f].Test, plain[f].Test)
		count := func(rows []int) [3]int {
			var c [3]int
			for _, i := range rows {
				c[int(y[i])]++
			}
			return c
		}
		if count(a[f].Test) != count(plain[f].Test) {
			t.Errorf("fold %d: class counts %v shuffled, %v not", f, count(a[f].Test), count(plain[f].Test))
		}
	}
	if !differ {
		t.Error("shuffled folds equal the unshuffled ones")
	}
}

// Default cross-validation of a classifier scores scikit-learn's folds:
// the expected scores are cross_val_score(model, iris X, y, cv=K).
func TestCrossValidateSklearnFolds(t *testing.T) {
	X, y := loadIris(t)
	tests := []struct {
		model Model
		k     int
		want  []float64
	}{
		{&GaussianNB{}, 3, []float64{0.92, 0.94, 0.96}},
		{&GaussianNB{}, 5, []float64{0.9333333333333333, 0.9666666666666667, 0.9333333333333333, 0.9333333333333333, 1}},
		{&KNeighborsClassifier{K: 5}, 5, []float64{0.9666666666666667, 1, 0.9333333333333333, 0.9666666666666667, 1}},
	}
	for _, tt := range tests {
		res, err := CrossValidate(tt.model, X, y, CVOptions{K: tt.k})
		if err != nil {
			t.Fatal(err)
		}
		got := res.Test["accuracy"]
		for i := range tt.want {
			if math.Abs(got[i]-tt.want[i]) > 1e-12 {
				t.Errorf("%s K=%d: fold scores %v, sklearn %v", modelName(tt.model), tt.k, got, tt.want)
				break
			}
		}
	}
}
