package tracking

import "fmt"

// Post-training metrics. A metric a cell computes on the predictions of a
// model it fitted (Accuracy(yTest, pipe.Predict(Xtest))) reaches the
// Autologger as an experiments.KindEvaluate event: it is logged on the run
// of that fit, as test_<metric> (train_<metric> when the evaluation data
// is the training data), with the evaluation data recorded as the run's
// "eval" input. A metric computed again on the same run is the next step
// of its history. The run keeps its status and end time.

// fitRef ties a fitted estimator to the queued entry of its run.
type fitRef struct {
	est   any
	entry *autologEntry
}

// maxFitRefs is how many fitted estimators an Autologger remembers.
const maxFitRefs = 64

// rememberFitLocked records that e is the run of est; a.mu must be held.
func (a *Autologger) rememberFitLocked(est any, e *autologEntry) {
	if est == nil {
		return
	}
	for i := range a.fits {
		if a.fits[i].est == est {
			a.fits[i].entry = e
			return
		}
	}
	if len(a.fits) < maxFitRefs {
		a.fits = append(a.fits, fitRef{est, e})
		return
	}
	copy(a.fits, a.fits[1:])
	a.fits[len(a.fits)-1] = fitRef{est, e}
}

// fitOfLocked returns the entry of est's latest fit; a.mu must be held.
func (a *Autologger) fitOfLocked(est any) *autologEntry {
	for i := range a.fits {
		if a.fits[i].est == est {
			return a.fits[i].entry
		}
	}
	return nil
}

// evaluate logs an evaluate entry on the run of its fit.
func (a *Autologger) evaluate(s *Store, e *autologEntry) error {
	fit := e.fit
	if fit == nil || fit.runID == "" {
		return nil // the fit was not logged: nothing to attach to
	}
	r := s.attach(fit.runID, fit.experiment)
	prefix := "test_"
	if e.data != nil {
		cols := e.ev.Columns // named by snapshot
		sum, size, content := a.entryDigest(e, cols)
		if sum == fit.dataSum {
			prefix = "train_" // the training data, stored already
		} else {
			info := DatasetInfo{Format: "csv", Rows: e.rows, Cols: e.cols, Columns: cols}
			if _, err := r.logDatasetSum(RoleEval, "eval-"+sum[:8], sum, size, content, info, e.ev.Levels); err != nil {
				return fmt.Errorf("tracking: autolog evaluate: %w", err)
			}
		}
	}
	counts, err := s.MetricCount(fit.runID)
	if err != nil {
		return fmt.Errorf("tracking: autolog evaluate: %w", err)
	}
	for k, v := range e.ev.Metrics {
		key := prefix + k
		if err := r.LogMetric(key, v, counts[key]); err != nil {
			return fmt.Errorf("tracking: autolog evaluate: %w", err)
		}
	}
	return r.Flush()
}

// attach returns a handle to log more metrics and inputs to an existing
// run, finished or not, without changing its status or end time.
func (s *Store) attach(id, experiment string) *Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &Run{store: s, id: id, experiment: experiment, batchSize: s.batchSize, status: StatusFinished}
}
