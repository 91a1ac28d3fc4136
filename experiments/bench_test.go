package experiments

import (
	"io"
	"os"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// The benchmarks below profile the hot loops; the comparison with
// scikit-learn lives in bench/ml.

const digitsPath = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"

// loadDigits reads scikit-learn's digits data, skipping when it is not
// installed.
func loadDigits(b testing.TB) (*mat.Dense, []float64) {
	if _, err := os.Stat(digitsPath); err != nil {
		b.Skip("scikit-learn digits data not installed")
	}
	ds, err := ReadCSV(digitsPath, CSVOptions{NoHeader: true})
	if err != nil {
		b.Fatal(err)
	}
	X, y, err := ds.XY("c64")
	if err != nil {
		b.Fatal(err)
	}
	return X, y
}

// synthClf is a binary problem with linear and interaction structure.
func synthClf(n, p int) (*mat.Dense, []float64) {
	r := newRand(1)
	X := mat.NewDense(n, p, nil)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		row := X.RawRowView(i)
		var s float64
		for j := range row {
			row[j] = r.NormFloat64()
			if j < p/2 {
				s += row[j] * float64(j%5-2)
			}
		}
		s += 1.5*row[0]*row[1] + r.NormFloat64()
		if s > 0 {
			y[i] = 1
		}
	}
	return X, y
}

func BenchmarkLogisticDigits(b *testing.B) {
	X, y := loadDigits(b)
	Xs, _ := (&StandardScaler{}).FitTransform(X)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := (&LogisticRegression{MaxIter: 1000}).Fit(Xs, y); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLogisticDigitsDefault fits the multinomial model with its
// defaults on the unscaled digits, as a notebook's first try does; its
// allocations show the loss's buffers are kept between evaluations.
func BenchmarkLogisticDigitsDefault(b *testing.B) {
	old := Warnings
	Warnings = io.Discard // it stops at MaxIter, unscaled
	defer func() { Warnings = old }()
	X, y := loadDigits(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := (&LogisticRegression{}).Fit(X, y); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkForestDigits(b *testing.B) {
	X, y := loadDigits(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := (&RandomForestClassifier{}).Fit(X, y); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLarge(b *testing.B) {
	X, y := synthClf(50000, 50)
	for _, bm := range []struct {
		name string
		m    Model
	}{
		{"tree", &DecisionTreeClassifier{MaxDepth: 12}},
		{"forest", &RandomForestClassifier{NTrees: 10, MaxDepth: 16}},
		{"logistic", &LogisticRegression{}},
		{"ridge", &Ridge{}},
		{"kmeans", &KMeans{K: 8, NInit: 1}},
	} {
		b.Run(bm.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if err := bm.m.Fit(X, y); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkKNNLarge is bench/ml's k-neighbors case: 160 000 training rows
// of 50 features, 2000 queries.
func BenchmarkKNNLarge(b *testing.B) {
	X, y := synthClf(162000, 50)
	Xtr := mat.DenseCopyOf(X.Slice(0, 160000, 0, 50))
	Q := mat.DenseCopyOf(X.Slice(160000, 162000, 0, 50))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := &KNeighborsClassifier{}
		if err := m.Fit(Xtr, y[:160000]); err != nil {
			b.Fatal(err)
		}
		if _, err := m.Predict(Q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKMeansLarge is bench/ml's k-means case: 160 000 rows of 50
// features, 8 clusters, one initialization.
func BenchmarkKMeansLarge(b *testing.B) {
	X, _ := synthClf(160000, 50)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := &KMeans{K: 8, NInit: 1}
		if err := m.Fit(X, nil); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(m.NIter()), "iters")
	}
}

// BenchmarkLogisticLarge is bench/ml's logistic regression case: a
// scaled pipeline on 160 000 rows of 50 features, predicting 40 000.
func BenchmarkLogisticLarge(b *testing.B) {
	X, y := synthClf(200000, 50)
	Xtr := mat.DenseCopyOf(X.Slice(0, 160000, 0, 50))
	Q := mat.DenseCopyOf(X.Slice(160000, 200000, 0, 50))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := NewPipeline(&StandardScaler{}, &LogisticRegression{MaxIter: 1000})
		if err := m.Fit(Xtr, y[:160000]); err != nil {
			b.Fatal(err)
		}
		if _, err := m.Predict(Q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkForestLarge is a fifth of bench/ml's forest classifier case:
// 4 of its 20 trees on 160 000 rows of 50 features, depth 16.
func BenchmarkForestLarge(b *testing.B) {
	X, y := synthClf(160000, 50)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := &RandomForestClassifier{NTrees: 4, MaxDepth: 16, Seed: int64(i)}
		if err := m.Fit(X, y); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRidgeLarge is bench/ml's ridge case: fit on 160 000 rows of 50
// features, predict 40 000.
func BenchmarkRidgeLarge(b *testing.B) {
	X, y := synthClf(200000, 50)
	Xtr := mat.DenseCopyOf(X.Slice(0, 160000, 0, 50))
	Q := mat.DenseCopyOf(X.Slice(160000, 200000, 0, 50))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := &Ridge{Alpha: 1}
		if err := m.Fit(Xtr, y[:160000]); err != nil {
			b.Fatal(err)
		}
		if _, err := m.Predict(Q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkForestRegLarge is a fifth of bench/ml's forest regressor case:
// 4 of its 20 trees on 160 000 rows of 50 features, depth 16, 16 features
// per split.
func BenchmarkForestRegLarge(b *testing.B) {
	X, y := synthClf(160000, 50)
	for i := range y {
		y[i] += X.At(i, 0) + 0.5*X.At(i, 7)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := &RandomForestRegressor{NTrees: 4, MaxDepth: 16, MaxFeatures: 16, Seed: int64(i)}
		if err := m.Fit(X, y); err != nil {
			b.Fatal(err)
		}
	}
}
