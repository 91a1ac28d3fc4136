package experiments

import (
	"fmt"
	"math"
	"slices"
)

// labelCodes is encodeClasses for finite labels, without sorting a copy
// of y when it holds few distinct values (the usual case for class
// labels): one pass collects them, the next maps each row to its index.
// Sorting 160 000 labels took 12-15 ms, longer than some fits.
func labelCodes(y []float64) (classes []float64, idx []int) {
	const few = 64
	var distinct []float64
	last, have := 0.0, false
	for _, v := range y {
		if have && v == last {
			continue
		}
		if !slices.Contains(distinct, v) {
			if len(distinct) == few {
				return encodeClasses(y)
			}
			distinct = append(distinct, v)
		}
		last, have = v, true
	}
	slices.Sort(distinct)
	idx = make([]int, len(y))
	k := 0
	for i, v := range y {
		if distinct[k] != v {
			k, _ = slices.BinarySearch(distinct, v)
		}
		idx[i] = k
	}
	return distinct, idx
}

// checkLabels returns an error naming the first value of the class labels
// y (called arg in the message) that is not an integer: a continuous
// target would otherwise become one class per distinct value, as
// scikit-learn refuses with "Unknown label type: 'continuous'".
// Integer-valued floats (0.0, 1.0, ...) are labels.
func checkLabels(op, arg string, y []float64) error {
	for i, v := range y {
		if v == math.Trunc(v) && !math.IsInf(v, 0) {
			continue // NaN fails the first test
		}
		if math.IsNaN(v) {
			return fmt.Errorf("experiments: %s: %s has NaN at row %d (a classifier needs integer labels; drop the rows with a missing label)", op, arg, i)
		}
		return fmt.Errorf("experiments: %s: %s has %v at row %d, which is no class label (a classifier needs integer labels; for a continuous target use a regressor)", op, arg, v, i)
	}
	return nil
}
