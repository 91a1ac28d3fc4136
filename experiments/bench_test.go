package experiments

import (
	"os"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// digits loads scikit-learn's digits data when present (benchmarks only).
func digits(b *testing.B) ([]float64, int) {
	_, err := os.Stat("/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz")
	if err != nil {
		b.Skip("scikit-learn digits data not installed")
	}
	return nil, 0
}

func loadDigitsXY(b *testing.B) (*Dataset, error) {
	digits(b)
	return ReadCSV("/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz", CSVOptions{NoHeader: true})
}

func BenchmarkLogisticDigits(b *testing.B) {
	ds, err := loadDigitsXY(b)
	if err != nil {
		b.Fatal(err)
	}
	X, y, _ := ds.XY("c64")
	Xs, _ := (&StandardScaler{}).FitTransform(X)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := &LogisticRegression{MaxIter: 1000}
		if err := m.Fit(Xs, y); err != nil {
			b.Fatal(err)
		}
		it, _ := m.NIter()
		b.ReportMetric(float64(it), "iters")
	}
}

func BenchmarkTreeDigits(b *testing.B) {
	ds, err := loadDigitsXY(b)
	if err != nil {
		b.Fatal(err)
	}
	X, y, _ := ds.XY("c64")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := &DecisionTreeClassifier{}
		if err := m.Fit(X, y); err != nil {
			b.Fatal(err)
		}
	}
}

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

func BenchmarkTreeLarge(b *testing.B) {
	X, y := synthClf(50000, 50)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := &DecisionTreeClassifier{MaxDepth: 12}
		if err := m.Fit(X, y); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkForestDigits(b *testing.B) {
	ds, err := loadDigitsXY(b)
	if err != nil {
		b.Fatal(err)
	}
	X, y, _ := ds.XY("c64")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := &RandomForestClassifier{}
		if err := m.Fit(X, y); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkForestLarge(b *testing.B) {
	X, y := synthClf(50000, 50)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := &RandomForestClassifier{NTrees: 10, MaxDepth: 16}
		if err := m.Fit(X, y); err != nil {
			b.Fatal(err)
		}
	}
}
