package tracking

import (
	"encoding/json"
	"fmt"
	"math"
)

// Post-training metrics. A metric a cell computes on the predictions of a
// model it fitted (Accuracy(yTest, pipe.Predict(Xtest))) reaches the
// Autologger as an experiments.KindEvaluate event: it is logged on the run
// of that fit, as test_<metric>, with the evaluation data recorded as the
// run's "eval" input: train_<metric> when the evaluation data is the
// training data or rows of it, eval_<metric> when a tenth or more of its
// rows are training rows (it is no held-out data; the tag
// autolog.eval_overlap says how many). A metric computed again on the same run is the next step
// of its history. The run keeps its status and end time.

// ConfusionArtifactName ends the names of the confusion matrices
// autologging records on a fit's run (test_confusion_matrix.json, and
// train_ or eval_ as for metrics) when a cell computes a label metric
// (accuracy, precision, recall, F1) on its predictions.
const ConfusionArtifactName = "confusion_matrix.json"

// ConfusionArtifact is the content of a confusion matrix artifact, in
// JSON: rows are the true classes, columns the predicted ones.
type ConfusionArtifact struct {
	Classes []string `json:"classes"`
	Counts  [][]int  `json:"counts"`
}

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
	if e.data != nil || e.table != nil {
		cols := e.ev.Columns // named by snapshot
		// Before entryDigest, which may evict the training table.
		shared, checked := a.trainingRows(s, fit.dataSum, e)
		sum, size, content := a.entryDigest(e, cols)
		switch {
		case sum == fit.dataSum || (checked && shared == e.rows && e.rows > 0):
			prefix = "train_" // the training data, or some of its rows
		case checked && shared > 0:
			// Not held-out data: some of its rows were trained on. Many
			// (a split gone wrong, scoring on all the data) make the
			// score no test score; a few are duplicates in the data.
			if shared*10 >= e.rows {
				prefix = "eval_"
			}
			note := fmt.Sprintf("%d of the %d rows of eval-%s are rows of the training data", shared, e.rows, sum[:8])
			if err := r.SetTag("autolog.eval_overlap", note); err != nil {
				return fmt.Errorf("tracking: autolog evaluate: %w", err)
			}
		}
		if sum != fit.dataSum {
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
	if c := e.ev.Confusion; c != nil {
		// The latest evaluation's matrix, per kind of data, for the
		// report.
		b, err := json.Marshal(ConfusionArtifact{Classes: c.ClassNames(), Counts: c.Counts})
		if err == nil {
			err = r.LogArtifact(prefix+ConfusionArtifactName, "confusion_matrix", b)
		}
		if err != nil {
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

// trainingRows counts the rows of e's data that are rows of the training
// data whose digest is trainSum; checked is false when that data cannot
// be had (a categorical table no longer in memory) or has another width.
// It runs on the writer.
func (a *Autologger) trainingRows(s *Store, trainSum string, e *autologEntry) (shared int, checked bool) {
	idx := a.trainIndex(s, trainSum, e.cols)
	if idx == nil {
		return 0, false
	}
	nc := e.cols
	for i := 0; i < e.rows; i++ {
		if _, ok := idx[rowHash(e.data[i*nc:(i+1)*nc])]; ok {
			shared++
		}
	}
	return shared, true
}

// trainIndex returns the set of row hashes of the training data whose
// digest is sum, if it has cols columns: from the tables the writer
// logged last, else read back from the store. The last one is kept, for
// the evaluations of the same fit that follow. Writer only.
func (a *Autologger) trainIndex(s *Store, sum string, cols int) map[uint64]struct{} {
	if a.trainIdx.sum == sum && a.trainIdx.cols == cols {
		return a.trainIdx.rows
	}
	var idx map[uint64]struct{}
	a.mu.Lock()
	var train *seenTable
	for _, t := range a.seen {
		if t.digest.sum == sum && t.cols == cols {
			train = t
			t.refs++ // pinned: its buffer stays its own meanwhile
			break
		}
	}
	a.mu.Unlock()
	if train != nil {
		idx = make(map[uint64]struct{}, train.rows)
		for i := 0; i < train.rows; i++ {
			idx[rowHash(train.data[i*cols:(i+1)*cols])] = struct{}{}
		}
		a.mu.Lock()
		a.unpinLocked(train)
		a.mu.Unlock()
	} else {
		d, err := s.Dataset(sum)
		if err != nil || d.Cols != cols {
			return nil
		}
		rows, err := d.Float64s() // fails on a categorical column's text
		if err != nil {
			return nil
		}
		idx = make(map[uint64]struct{}, len(rows))
		for _, r := range rows {
			idx[rowHash(r)] = struct{}{}
		}
	}
	a.trainIdx.sum, a.trainIdx.cols, a.trainIdx.rows = sum, cols, idx
	return idx
}

// rowHash hashes a row's values (FNV-1a over their bits, every NaN
// alike): rows are compared by hash, which 64 bits make exact enough to
// count them.
func rowHash(row []float64) uint64 {
	h := uint64(14695981039346656037)
	for _, v := range row {
		b := math.Float64bits(v)
		if v != v {
			b = 0x7ff8000000000001
		}
		h ^= b
		h *= 1099511628211
	}
	return h
}
