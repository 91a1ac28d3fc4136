package experiments

import (
	"errors"
	"testing"
	"time"

	"github.com/gopherlab/gopherlab/internal/interrupt"
)

// Long work stops between its steps once the notebook cell running it is
// interrupted, and says so: a fit the interpreter cannot stop would cost
// the session. Work started before the interrupt stops at its next step.
func TestInterruptStopsLongWork(t *testing.T) {
	X, y := blobs(600, 3, 5, 1.5, 1)
	knn := &KNeighborsClassifier{}
	if err := knn.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	long := map[string]func() error{
		"forest": func() error { return (&RandomForestClassifier{NTrees: 1 << 20, Seed: 1}).Fit(X, y) },
		"cross-validation": func() error {
			_, err := CrossValidate(&DecisionTreeClassifier{Seed: 1}, X, y, CVOptions{K: 5})
			return err
		},
		"grid search": func() error {
			return (&GridSearch{Model: &LogisticRegression{}, Grid: map[string][]any{"C": {0.1, 1, 10}}}).Fit(X, y)
		},
		"logistic regression": func() error { return (&LogisticRegression{MaxIter: 1 << 20, Tol: 1e-300}).Fit(X, y) },
		"k-means":             func() error { return (&KMeans{K: 3, MaxIter: 1 << 20, Tol: 1e-300}).Fit(X, nil) },
		"k-nearest neighbours": func() error {
			_, err := knn.Predict(X)
			return err
		},
	}
	defer interrupt.Set(nil)
	for name, f := range long {
		stop := make(chan struct{})
		interrupt.Set(&stop)
		if name == "forest" {
			// Interrupted while it runs.
			time.AfterFunc(50*time.Millisecond, func() { close(stop) })
		} else {
			close(stop)
		}
		start := time.Now()
		err := f()
		if !errors.Is(err, interrupt.Err) {
			t.Errorf("%s: err = %v, want interrupted", name, err)
		}
		// Uninterrupted, the forest takes minutes; a loaded machine may
		// take a while to finish the trees under way.
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: stopped after %v", name, d)
		}
	}
	// Outside the kernel (no channel), or before an interrupt, work runs.
	interrupt.Set(nil)
	if err := (&RandomForestClassifier{NTrees: 5, Seed: 1}).Fit(X, y); err != nil {
		t.Fatal(err)
	}
	open := make(chan struct{})
	interrupt.Set(&open)
	if err := (&KMeans{K: 3}).Fit(X, nil); err != nil {
		t.Fatal(err)
	}
}

// A tree stops growing at an interrupt: its remaining nodes become
// leaves, and fitTrees keeps none of it (the forest case above).
func TestInterruptStopsOneTree(t *testing.T) {
	X, y := blobs(2000, 3, 4, 3, 1)
	classes, idx := labelCodes(y)
	tgt := &treeTarget{yk: make([]int32, len(idx))}
	for i, k := range idx {
		tgt.yk[i] = int32(k)
	}
	_, p := X.Dims()
	cfg, err := resolveTree("fit", (&DecisionTreeClassifier{}).params(), len(classes), p, p)
	if err != nil {
		t.Fatal(err)
	}
	data, err := binData(X, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer interrupt.Set(nil)
	open := make(chan struct{})
	interrupt.Set(&open)
	whole := buildTree(cfg, data, tgt, nil, newRand(1), &treeScratch{})
	stop := make(chan struct{})
	close(stop)
	interrupt.Set(&stop)
	cut := buildTree(cfg, data, tgt, nil, newRand(1), &treeScratch{})
	if len(whole.Feature) < 3 || len(cut.Feature) != 1 || cut.Feature[0] != -1 {
		t.Errorf("tree of %d nodes, interrupted: %d nodes (want the root, a leaf)", len(whole.Feature), len(cut.Feature))
	}
}
