package experiments

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/gonum/mat"
)

// Fold is one train/test split of row indexes.
type Fold struct {
	Train []int // rows to fit on
	Test  []int // rows to score on
}

// TrainTestSplit splits a dataset into train and test parts, testFrac of
// the rows (rounded up, at least one) going to test. With a stratify column
// each of its groups is split in the same proportion. Rows keep their
// original order within each part.
func TrainTestSplit(ds *Dataset, testFrac float64, seed int64, stratify string) (train, test *Dataset, err error) {
	if ds == nil {
		return nil, nil, fmt.Errorf("experiments: train test split: nil dataset")
	}
	var keys []float64
	name := formatNum
	if stratify != "" {
		if keys, err = ds.groupKeys(stratify); err != nil {
			return nil, nil, fmt.Errorf("experiments: train test split: stratify: %w", unwrapPrefix(err))
		}
		if levels, err := ds.Levels(stratify); err == nil && levels != nil {
			name = func(code float64) string {
				if k := int(code); k >= 0 && k < len(levels) {
					return strconv.Quote(levels[k])
				}
				return "(missing)"
			}
		}
	}
	tr, te, err := splitIndexes(ds.rows, testFrac, seed, keys, name)
	if err != nil {
		return nil, nil, err
	}
	return ds.take(tr), ds.take(te), nil
}

// SplitXY splits a feature matrix and its targets as TrainTestSplit does;
// stratify keeps the class proportions of y in both parts.
func SplitXY(X *mat.Dense, y []float64, testFrac float64, seed int64, stratify bool) (Xtrain, Xtest *mat.Dense, ytrain, ytest []float64, err error) {
	if err := checkXY("split", X, y); err != nil {
		return nil, nil, nil, nil, err
	}
	var keys []float64
	if stratify {
		keys = y
	}
	tr, te, err := splitIndexes(len(y), testFrac, seed, keys, formatNum)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	Xtrain, Xtest, ytrain, ytest = takeRows(X, tr), takeRows(X, te), takeVals(y, tr), takeVals(y, te)
	if features, target := matrixNamesOf(X, y); features != nil {
		// The parts of a matrix Dataset.XY made keep its names.
		nameMatrix(Xtrain, ytrain, features, target)
		nameMatrix(Xtest, ytest, features, target)
	}
	return Xtrain, Xtest, ytrain, ytest, nil
}

// splitIndexes draws the test rows; with keys, in proportion within each
// group of equal keys, which name names in errors.
func splitIndexes(n int, testFrac float64, seed int64, keys []float64, name func(float64) string) (train, test []int, err error) {
	if !(testFrac > 0 && testFrac < 1) {
		return nil, nil, fmt.Errorf("experiments: train test split: test fraction %v must be in (0,1)", testFrac)
	}
	if n < 2 {
		return nil, nil, fmt.Errorf("experiments: train test split: need at least 2 rows, have %d", n)
	}
	r := newRand(seed)
	nTest := int(math.Ceil(testFrac * float64(n)))
	nTest = min(max(nTest, 1), n-1)
	if keys == nil {
		perm := r.Perm(n)
		test, train = perm[:nTest], perm[nTest:]
	} else {
		// Allocate test rows to groups by largest remainder so the total
		// is exact and every group keeps its proportion.
		gs := groups(keys)
		// As scikit-learn: every class must be able to sit in both
		// parts, or the proportions cannot be kept.
		for _, idx := range gs {
			if len(idx) < 2 {
				return nil, nil, fmt.Errorf("experiments: train test split: stratify: class %s has only 1 row, too few to be in both parts (each class needs 2; a continuous column cannot stratify)", name(keys[idx[0]]))
			}
		}
		if nTest < len(gs) || n-nTest < len(gs) {
			return nil, nil, fmt.Errorf("experiments: train test split: stratify: %d test and %d training rows cannot each hold all %d classes (change the test fraction %v)", nTest, n-nTest, len(gs), testFrac)
		}
		want := make([]float64, len(gs))
		take := make([]int, len(gs))
		got := 0
		for g, idx := range gs {
			want[g] = float64(nTest) * float64(len(idx)) / float64(n)
			take[g] = int(math.Floor(want[g]))
			got += take[g]
		}
		for got < nTest {
			best := -1
			for g := range gs {
				if take[g] < len(gs[g]) && (best < 0 || want[g]-float64(take[g]) > want[best]-float64(take[best])) {
					best = g
				}
			}
			take[best]++
			got++
		}
		for g, idx := range gs {
			idx = slices.Clone(idx)
			r.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
			test = append(test, idx[:take[g]]...)
			train = append(train, idx[take[g]:]...)
		}
	}
	slices.Sort(train)
	slices.Sort(test)
	return train, test, nil
}

// KFold splits n rows into K folds of consecutive (or, with Shuffle,
// random) rows; each fold is the test part once. The zero value is 5
// unshuffled folds.
type KFold struct {
	K       int   // number of folds; 0 means 5
	Shuffle bool  // permute the rows before cutting the folds
	Seed    int64 // seed of the permutation; unused without Shuffle
}

// Split returns the K folds of n rows.
func (k KFold) Split(n int) ([]Fold, error) {
	K := k.K
	if K == 0 {
		K = 5
	}
	if K < 2 || K > n {
		return nil, fmt.Errorf("experiments: kfold: K=%d folds for %d rows (want 2 <= K <= rows)", K, n)
	}
	order := rangeIdx(0, n)
	if k.Shuffle {
		order = newRand(k.Seed).Perm(n)
	}
	assign := make([]int, n)
	start := 0
	for f := 0; f < K; f++ {
		size := n / K
		if f < n%K {
			size++
		}
		for _, i := range order[start : start+size] {
			assign[i] = f
		}
		start += size
	}
	return foldsFromAssignment(assign, K), nil
}

// StratifiedKFold splits rows into K folds that each keep the class
// proportions of y. The zero value is 5 unshuffled folds.
//
// Unshuffled, the folds are scikit-learn's StratifiedKFold(K) folds, row
// for row: each fold tests a contiguous block of each class's rows. With
// Shuffle, each fold gets as many rows of each class, which ones drawn
// from Seed: the same folds for the same Seed, but not those scikit-learn
// draws for a random_state (its generator is numpy's).
type StratifiedKFold struct {
	K       int   // number of folds; 0 means 5
	Shuffle bool  // shuffle which of each class's rows go to which fold
	Seed    int64 // seed of the shuffle; unused without Shuffle
}

// Split returns the K folds for the class labels y. A class with fewer
// than K rows is missing from some test folds, which gets a warning.
func (k StratifiedKFold) Split(y []float64) ([]Fold, error) {
	K := k.K
	if K == 0 {
		K = 5
	}
	n := len(y)
	if K < 2 || K > n {
		return nil, fmt.Errorf("experiments: stratified kfold: K=%d folds for %d rows (want 2 <= K <= rows)", K, n)
	}
	if err := checkLabels("stratified kfold", "y", y); err != nil {
		return nil, err
	}
	// Classes are numbered in order of first appearance, as scikit-learn
	// 1.2 does: the numbering decides which class fills a fold first.
	code := make([]int, n)
	index := map[float64]int{}
	var counts []int
	for i, v := range y {
		c, ok := index[v]
		if !ok {
			c = len(counts)
			index[v] = c
			counts = append(counts, 0)
		}
		code[i] = c
		counts[c]++
	}
	least := slices.Min(counts)
	if most := slices.Max(counts); most < K {
		return nil, fmt.Errorf("experiments: stratified kfold: K=%d folds for classes of at most %d rows (want K <= the rows of some class)", K, most)
	}
	if least < K {
		warn(fmt.Sprintf("stratified kfold: the least populated class in y has only %d members, which is less than K=%d", least, K))
	}
	// scikit-learn's allocation: the rows sorted by class number, dealt
	// round-robin to the folds, give each fold's count of each class.
	// Class c holds the sorted positions [lo, lo+counts[c]); position p
	// goes to fold p%K.
	below := func(p, f int) int { // positions in [0,p) that go to fold f
		m := p / K
		if f < p%K {
			m++
		}
		return m
	}
	foldOf := make([][]int, len(counts)) // per class, the fold of its j-th row
	lo := 0
	for c, cnt := range counts {
		fs := make([]int, 0, cnt)
		for f := range K {
			for range below(lo+cnt, f) - below(lo, f) {
				fs = append(fs, f)
			}
		}
		lo += cnt
		foldOf[c] = fs
	}
	if k.Shuffle {
		r := newRand(k.Seed)
		for _, fs := range foldOf {
			r.Shuffle(len(fs), func(i, j int) { fs[i], fs[j] = fs[j], fs[i] })
		}
	}
	assign := make([]int, n)
	next := make([]int, len(counts))
	for i, c := range code {
		assign[i] = foldOf[c][next[c]]
		next[c]++
	}
	return foldsFromAssignment(assign, K), nil
}

func foldsFromAssignment(assign []int, K int) []Fold {
	folds := make([]Fold, K)
	for i, f := range assign {
		for g := range folds {
			if g == f {
				folds[g].Test = append(folds[g].Test, i)
			} else {
				folds[g].Train = append(folds[g].Train, i)
			}
		}
	}
	return folds
}

// takeRows copies the rows idx of X into a new matrix.
func takeRows(X *mat.Dense, idx []int) *mat.Dense {
	_, c := X.Dims()
	data := make([]float64, len(idx)*c)
	for k, i := range idx {
		copy(data[k*c:(k+1)*c], X.RawRowView(i))
	}
	if len(idx) == 0 {
		return &mat.Dense{}
	}
	return mat.NewDense(len(idx), c, data)
}

func takeVals(y []float64, idx []int) []float64 {
	out := make([]float64, len(idx))
	for k, i := range idx {
		out[k] = y[i]
	}
	return out
}

// checkXY validates a feature matrix and its targets.
func checkXY(op string, X *mat.Dense, y []float64) error {
	if X == nil || X.IsEmpty() {
		return fmt.Errorf("experiments: %s: X is empty", op)
	}
	r, _ := X.Dims()
	if len(y) != r {
		return fmt.Errorf("experiments: %s: X has %d rows but y has %d values", op, r, len(y))
	}
	return nil
}
