package experiments

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The package documentation's tour runs as written on data of the kind
// it is written for: a categorical feature, a numeric one with missing
// values, a categorical target.
func TestDocTour(t *testing.T) {
	var b strings.Builder
	b.WriteString("island,bill,flipper,species\n")
	islands := []string{"Biscoe", "Dream", "Torgersen"}
	species := []string{"Adelie", "Chinstrap", "Gentoo"}
	for i := range 150 {
		k := i % 3
		bill := fmt.Sprintf("%.1f", 38+4*float64(k)+float64(i%7)/3)
		if i%17 == 0 {
			bill = "NA"
		}
		fmt.Fprintf(&b, "%s,%s,%d,%s\n", islands[(k+i/40)%3], bill, 180+10*k+i%9, species[k])
	}
	path := filepath.Join(t.TempDir(), "penguins.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	ds, err := ReadCSV(path)
	if err != nil {
		t.Fatal(err)
	}
	_ = ds.Describe()
	_ = ds.Head(5)
	if _, err := ds.DropMissing("species"); err != nil {
		t.Fatal(err)
	}
	train, test, err := TrainTestSplit(ds, 0.25, 42, "species")
	if err != nil {
		t.Fatal(err)
	}
	pipe := NewPipeline(
		&OneHotEncoder{},
		&SimpleImputer{Strategy: "median"},
		&StandardScaler{},
		&LogisticRegression{C: 10})
	if err := pipe.FitDataset(train, "species"); err != nil {
		t.Fatal(err)
	}
	pred, err := pipe.PredictDataset(test)
	if err != nil {
		t.Fatal(err)
	}
	yTest, err := test.Codes("species", pipe.TargetLevels())
	if err != nil {
		t.Fatal(err)
	}
	acc, err := Accuracy(yTest, pred)
	if err != nil || acc < 0.9 {
		t.Fatalf("accuracy %v, %v", acc, err)
	}
	if _, err := Report(yTest, pred); err != nil {
		t.Fatal(err)
	}
	cm, err := ConfusionMatrix(yTest, pred)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cm.Plot(); err != nil {
		t.Fatal(err)
	}
}
