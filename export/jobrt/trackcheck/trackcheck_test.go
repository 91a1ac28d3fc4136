package trackcheck

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/gopherlab/gopherlab/experiments"
	"github.com/gopherlab/gopherlab/tracking"
)

// A job whose tracking store cannot be used says so once, not once per
// fit, with advice the job can follow: it has no -db flag.
func TestJobErrors(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "notes.db")
	if err := os.WriteFile(notDB, []byte("my notes, not a database\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	X := mat.NewDense(20, 2, nil)
	y := make([]float64, 20)
	for i := range y {
		c := float64(i % 2)
		X.Set(i, 0, c*4+math.Sin(float64(i)))
		X.Set(i, 1, c*3+math.Cos(float64(i)))
		y[i] = c
	}
	for _, tt := range []struct {
		name, db string
		want     string
	}{
		{"no directory", filepath.Join(dir, "nowhere", "x.db"), "does not exist"},
		{"not a database", notDB, "set GOPHERLAB_DB to another path"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := tracking.NewAutologger(tt.db)
			var out bytes.Buffer
			a.Errors = &jobErrors{w: &out}
			prev := experiments.SetTracker(a)
			for range 3 {
				if err := experiments.NewPipeline(&experiments.LogisticRegression{}).Fit(X, y); err != nil {
					t.Fatal(err)
				}
				a.Flush()
			}
			experiments.SetTracker(prev)
			a.Close()
			got := out.String()
			if strings.Count(got, "\n") != 1 || !strings.Contains(got, tt.want) || strings.Contains(got, "-db") {
				t.Errorf("errors:\n%s\nwant one line with %q, naming no -db flag", got, tt.want)
			}
		})
	}
	if _, err := tracking.OpenExisting(filepath.Join(dir, "missing.db")); err == nil || strings.Contains(jobAdvice(err.Error()), "-db") {
		t.Errorf("a missing store: %v, as the job says it: %q", err, jobAdvice(err.Error()))
	}
}
