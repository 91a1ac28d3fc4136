package experiments

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// A fitted pipeline records how ReadCSV read each categorical column
// (SchemaColumn.Levels), through the dataset operations between the read
// and the fit, and keeps it through Save and Load; a server reads raw
// values by it.
func TestSchemaLevelForm(t *testing.T) {
	csv := "declared,switched,words,x,label\n"
	for i := 0; i < 12; i++ {
		switched := []string{"7", "12", "A"}[i%3]
		words := []string{"B", "7", "007"}[i%3]
		csv += []string{"7", "12"}[i%2] + "," + switched + "," + words + "," + string(rune('0'+i%5)) + "," + []string{"no", "yes"}[i%2] + "\n"
	}
	path := filepath.Join(t.TempDir(), "d.csv")
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	ds, err := ReadCSV(path, CSVOptions{Categorical: []string{"declared"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ds.AddStrings("added", []string{"1", "2", "3", "1", "2", "3", "1", "2", "3", "1", "2", "3"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]LevelForm{
		"declared": LevelsAsWritten,  // named in CSVOptions.Categorical
		"switched": LevelsNumbers,    // numbers, then a word
		"words":    LevelsNumbers,    // a word first: "007" is "7" too
		"added":    LevelsAsWritten,  // AddStrings
		"x":        LevelsUnrecorded, // numeric
	}
	train, _, err := TrainTestSplit(ds, 0.25, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	sel, err := train.Select("declared", "switched", "words", "added", "x", "label")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		ds   *Dataset
	}{
		{"as read", ds},
		{"copied", ds.Copy()},
		{"split and selected", sel},
	} {
		p := NewPipeline(&OneHotEncoder{}, &LogisticRegression{})
		if err := p.FitDataset(tt.ds, "label"); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := p.Save(&buf); err != nil {
			t.Fatal(err)
		}
		q, err := Load(&buf)
		if err != nil {
			t.Fatal(err)
		}
		for _, pp := range []*Pipeline{p, q} {
			for _, c := range pp.Schema() {
				if c.Levels != want[c.Name] {
					t.Errorf("%s: column %s: levels %v, want %v", tt.name, c.Name, c.Levels, want[c.Name])
				}
			}
		}
	}
}

// A pipeline saved in format version 4, before the level form was
// recorded, loads with LevelsUnrecorded (its checksum, which does not
// cover the form, still holds) and predicts as the notebook's pipeline,
// fitted again today, does. testdata/pipeline-v4-declared-categorical.gob
// is a one-hot encoder and a logistic regression fitted on store (named
// in CSVOptions.Categorical, levels 12, 3 and 7), x and label of the
// rows TestLoadVersion4 rebuilds.
func TestLoadVersion4(t *testing.T) {
	old, err := LoadFile("testdata/pipeline-v4-declared-categorical.gob")
	if err != nil {
		t.Fatal(err)
	}
	csv := "store,x,label\n"
	for i := 0; i < 30; i++ {
		s := []string{"7", "12", "3"}[i%3]
		label := "no"
		if s == "7" || i%4 == 0 {
			label = "yes"
		}
		csv += s + "," + string(rune('0'+i%7)) + "," + label + "\n"
	}
	path := filepath.Join(t.TempDir(), "train.csv")
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	ds, err := ReadCSV(path, CSVOptions{Categorical: []string{"store"}})
	if err != nil {
		t.Fatal(err)
	}
	p := NewPipeline(&OneHotEncoder{}, &LogisticRegression{})
	if err := p.FitDataset(ds, "label"); err != nil {
		t.Fatal(err)
	}
	for i, c := range old.Schema() {
		now := p.Schema()[i]
		wantLevels := LevelsUnrecorded
		if c.Name != now.Name || c.Kind != now.Kind || c.Levels != wantLevels {
			t.Errorf("version 4 schema column %d: %+v; today's %+v, want levels %v", i, c, now, wantLevels)
		}
	}
	if got := p.Schema()[0]; got.Name != "store" || got.Levels != LevelsAsWritten {
		t.Errorf("today's store column: %+v", got)
	}
	feats, _ := ds.Drop("label")
	a, err := old.PredictProbaDataset(feats)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := p.PredictProbaDataset(feats)
	if !bitEqual(a.RawMatrix().Data, b.RawMatrix().Data) {
		t.Error("the version 4 pipeline predicts otherwise than the same pipeline fitted today")
	}
	// Saved again, it is version 5 and still says it does not know.
	var buf bytes.Buffer
	if err := old.Save(&buf); err != nil {
		t.Fatal(err)
	}
	again, err := Load(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if again.Schema()[0].Levels != LevelsUnrecorded {
		t.Errorf("the version 4 pipeline saved again: %+v", again.Schema()[0])
	}
}
