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

// A program that fails fails the runs it logged, however they ended: a
// FINISHED or KILLED run keeps its end time, a RUNNING one ends, a FAILED
// one keeps its own error.
func TestFailRun(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tt := range []struct {
		end     func(r *Run) error // nil: left running
		changed bool
		errMsg  string
	}{
		{end: (*Run).Finish, changed: true, errMsg: "job failed"},
		{end: func(r *Run) error { return r.End(StatusKilled) }, changed: true, errMsg: "job failed"},
		{end: func(r *Run) error { return r.Fail(errors.New("fit failed")) }, changed: false, errMsg: "fit failed"},
		{end: nil, changed: true, errMsg: "job failed"},
	} {
		r, err := s.StartRun("e", &RunOptions{Name: "fit"})
		if err != nil {
			t.Fatal(err)
		}
		r.LogMetric("acc", 0.5, 0)
		if tt.end != nil {
			if err := tt.end(r); err != nil {
				t.Fatal(err)
			}
		} else {
			r.Flush()
		}
		before, err := s.GetRun(r.ID())
		if err != nil {
			t.Fatal(err)
		}
		changed, err := s.FailRun(r.ID()[:8], "job failed")
		if err != nil || changed != tt.changed {
			t.Errorf("FailRun of a %s run: %v, changed %v, want %v", before.Status, err, changed, tt.changed)
		}
		ri, err := s.GetRun(r.ID())
		if err != nil {
			t.Fatal(err)
		}
		if ri.Status != StatusFailed || ri.Error != tt.errMsg || ri.Metrics["acc"] != 0.5 || ri.EndTime.IsZero() || !before.EndTime.IsZero() && !ri.EndTime.Equal(before.EndTime) {
			t.Errorf("a %s run after FailRun: status %s, error %q, metrics %v, end %v (before %v)", before.Status, ri.Status, ri.Error, ri.Metrics, ri.EndTime, before.EndTime)
		}
	}
}
