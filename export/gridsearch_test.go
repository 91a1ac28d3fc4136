package export

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gopherlab/gopherlab/experiments"
	"github.com/gopherlab/gopherlab/export/internal/exporttest"
	"github.com/gopherlab/gopherlab/export/jobrt"
)

// A train cell that tunes a pipeline with a grid search serves the
// search's refitted best pipeline (the pipeline it searched over is only
// its template, never fitted), by default and with --model; the job
// writes it and the model predicts as the notebook's search does.
func TestExportGridSearchModel(t *testing.T) {
	glx(t)
	tmp := t.TempDir()
	var csv strings.Builder
	csv.WriteString("x1,x2,color,label\n")
	for i := range 60 {
		color := []string{"red", "green", "blue"}[i%3]
		label := "no"
		if (i*7)%10 > 4 || color == "red" {
			label = "yes"
		}
		csv.WriteString(strings.Join([]string{strconv.Itoa(i % 11), strconv.Itoa((i * 5) % 13), color, label}, ",") + "\n")
	}
	if err := os.WriteFile(filepath.Join(tmp, "data.csv"), []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	nb := testNotebook(t,
		cell("seed := int64(3)", "parameters"),
		cell("import (\n\t\"fmt\"\n\t\"github.com/gopherlab/gopherlab/experiments\"\n)\nds, err := experiments.ReadCSV(\"data.csv\")\nif err != nil {\n\tpanic(err)\n}", "load"),
		cell(`pipe := experiments.NewPipeline(&experiments.OneHotEncoder{}, &experiments.StandardScaler{}, &experiments.LogisticRegression{})
gs := &experiments.GridSearch{Model: pipe, Grid: map[string][]any{"logisticregression.C": {0.01, 1.0}}, CV: experiments.CVOptions{K: 3, Shuffle: true, Seed: seed}}
if err := gs.FitDataset(ds, "label"); err != nil {
	panic(err)
}
fmt.Println("best", gs.BestParams())`, "train"),
		cell(`pred, err := gs.PredictLabels(ds)
if err != nil {
	panic(err)
}
fmt.Println(pred[:5])`, "evaluate"),
	)
	path := filepath.Join(tmp, "tuned.ipynb")
	if err := nb.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{nil, {"--model", "gs"}} {
		out := filepath.Join(tmp, "out"+strings.Join(args, ""))
		if stdout, stderr, err := runGLX(t, tmp, append([]string{"export", path, "-o", out}, args...)...); err != nil {
			t.Fatalf("export %v: %v\n%s%s", args, err, stdout, stderr)
		}
		var m jobrt.Manifest
		if b, err := os.ReadFile(filepath.Join(out, "job", "manifest.json")); err != nil || json.Unmarshal(b, &m) != nil {
			t.Fatalf("manifest: %v", err)
		}
		if m.Model != "gs" {
			t.Errorf("export %v: the model is %q, want the grid search gs", args, m.Model)
		}
		if len(args) > 0 {
			continue // the same job
		}
		jobDir := filepath.Join(out, "job")
		job := filepath.Join(jobDir, "job")
		exporttest.GoBuild(t, jobDir, job, ".")
		stdout, stderr, err := exporttest.RunIn(t, jobDir, job, "-q")
		if err != nil {
			t.Fatalf("job: %v\n%s%s", err, stdout, stderr)
		}
		saved, err := experiments.LoadFile(filepath.Join(out, "serve", "model", "model.gob"))
		if err != nil {
			t.Fatalf("the job's model: %v", err)
		}
		ds, err := experiments.ReadCSV(filepath.Join(tmp, "data.csv"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := saved.PredictLabels(ds)
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.Fields(strings.Trim(strings.SplitN(stdout, "\n", 3)[1], "[]")); !slices.Equal(got[:5], want) {
			t.Errorf("the served model predicts %v, the job's search %v (job printed %q)", got[:5], want, stdout)
		}
	}
	if _, stderr, err := runGLX(t, tmp, "export", path, "-o", filepath.Join(tmp, "bad"), "--model", "nope"); err == nil || !strings.Contains(stderr, "no such *experiments.Pipeline or *experiments.GridSearch variable (the cells have pipe, gs)") {
		t.Errorf("--model nope: %v\n%s", err, stderr)
	}
}
