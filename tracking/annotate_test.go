package tracking

import (
	"errors"
	"path/filepath"
	"testing"
)

// A check made after a run ended records its outcome on the run: tags,
// and FAILED when the run's result proved wrong.
func TestAnnotateEndedRun(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.StartRun("e", &RunOptions{Name: "fit", Tags: map[string]string{"autolog": "fit"}})
	if err != nil {
		t.Fatal(err)
	}
	r.LogMetric("acc", 0.5, 0)
	if err := r.Finish(); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRunTags(r.ID()[:8], map[string]string{"job.reproduced": "false", "autolog": "fit"}); err != nil {
		t.Fatal(err)
	}
	if changed, err := s.FailFinishedRun(r.ID(), "does not reproduce"); err != nil || !changed {
		t.Fatalf("FailFinishedRun: %v, changed %v", err, changed)
	}
	if changed, err := s.FailFinishedRun(r.ID(), "again"); err != nil || changed {
		t.Fatalf("FailFinishedRun of a failed run: %v, changed %v", err, changed)
	}
	ri, err := s.GetRun(r.ID())
	if err != nil {
		t.Fatal(err)
	}
	if ri.Status != StatusFailed || ri.Error != "does not reproduce" || ri.Tags["job.reproduced"] != "false" || ri.Tags["autolog"] != "fit" || ri.Metrics["acc"] != 0.5 || ri.EndTime.IsZero() {
		t.Errorf("run after the check: %+v", ri)
	}
	if err := s.SetRunTags("00000000-0000-4000-8000-000000000000", map[string]string{"a": "b"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("tags of a missing run: %v", err)
	}
	if err := s.SetRunTags(r.ID(), map[string]string{"": "b"}); err == nil {
		t.Error("an empty tag key is accepted")
	}
}
