package experiments

import (
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
