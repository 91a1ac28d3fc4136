package tracking

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/gopherlab/gopherlab/experiments"
)

// Autologger records every fit, cross-validation and grid search of the
// experiments package as a run, without any call by the user: install it
// with experiments.SetTracker(tracking.NewAutologger("")). The kernel
// does so for every notebook session.
//
// Each event becomes one run in the experiment named after the notebook
// (the base name of the path given to SetCellInfo, without extension;
// DefaultExperiment when there is none), named after the estimator
// ("pipeline", "cv pipeline", "gridsearch(pipeline)"), tagged
// autolog=<kind> and estimator=<name>, with:
//
//   - the estimator's parameters (experiments.EstimatorParams) and the
//     cross-validation or search settings;
//   - its metrics (fit_time_s for a fit, duration_s otherwise; mean_
//     and std_ per metric for a cross-validation, with each fold's
//     scores as the fold_<metric> series, step = fold; best_<metric>
//     for a grid search);
//   - a child run per fold (cross-validation) or per candidate (grid
//     search: its grid values, mean_, std_ and rank);
//   - the training data as the "train" dataset, features then target,
//     and its shape as params data.rows and data.cols (see
//     MaxDatasetCells);
//   - the fitted pipeline or model as the artifact "model.gob"
//     (experiments.Load reads it; a bare model is saved as a one-step
//     pipeline; for a grid search, the refitted best one);
//   - the seed, if the estimator or the folds have one;
//   - status FAILED with the error when the fit failed.
//
// The store is opened on the first event, so a session that fits nothing
// creates no file. Failures to log never fail the fit: they are written
// to Errors and kept for Err.
type Autologger struct {
	// Errors receives a line per failure to log; nil means os.Stderr.
	Errors io.Writer
	// MaxDatasetCells bounds the training data stored per run (rows ×
	// columns): storing costs about a second per million cells the first
	// time and a tenth of that for data already stored. Larger data gets
	// only its shape (params data.rows, data.cols) and the tag
	// autolog.dataset saying why. 0 means DefaultMaxDatasetCells;
	// negative stores none.
	MaxDatasetCells int

	mu    sync.Mutex
	path  string
	store *Store
	err   error
}

// DefaultMaxDatasetCells is the default Autologger.MaxDatasetCells.
const DefaultMaxDatasetCells = 1 << 20

// NewAutologger returns an Autologger writing to the store at storePath
// ("" means DefaultDBPath(), resolved when the store is opened).
func NewAutologger(storePath string) *Autologger {
	return &Autologger{path: storePath}
}

// Path returns the store path: the one given, or DefaultDBPath().
func (a *Autologger) Path() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.store != nil {
		return a.store.Path()
	}
	if a.path == "" {
		return DefaultDBPath()
	}
	return a.path
}

// SetPath switches to another store (closing the current one); the new
// one is opened on the next event.
func (a *Autologger) SetPath(path string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.path = path
	if a.store == nil {
		return nil
	}
	err := a.store.Close()
	a.store = nil
	if err != nil {
		return fmt.Errorf("tracking: autolog: close %s: %w", a.path, err)
	}
	return nil
}

// Err returns the last failure to log, or nil.
func (a *Autologger) Err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// Close closes the store, if it was opened.
func (a *Autologger) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.store == nil {
		return nil
	}
	err := a.store.Close()
	a.store = nil
	return err
}

// Track records ev as a run. It implements experiments.Tracker.
func (a *Autologger) Track(ev *experiments.TrackEvent) {
	if ev == nil {
		return
	}
	// Events are written one at a time: they come from one notebook
	// session, and a run's children must follow it.
	a.mu.Lock()
	defer a.mu.Unlock()
	err := a.track(ev)
	if err == nil {
		return
	}
	a.err = err
	w := a.Errors
	if w == nil {
		w = os.Stderr
	}
	fmt.Fprintf(w, "%v\n", err)
}

func (a *Autologger) track(ev *experiments.TrackEvent) error {
	if a.store == nil {
		s, err := Open(a.path)
		if err != nil {
			return fmt.Errorf("tracking: autolog: %w", err)
		}
		a.store = s
	}
	name := ev.Name
	if ev.Kind == experiments.KindCrossValidate {
		name = "cv " + name
	}
	run, err := a.store.StartRun(autologExperiment(), &RunOptions{
		Name:   name,
		Tags:   map[string]string{"autolog": ev.Kind, "estimator": ev.Name},
		Params: ev.Params,
	})
	if err != nil {
		return fmt.Errorf("tracking: autolog %s: %w", ev.Kind, err)
	}
	if err := a.logEvent(run, ev); err != nil {
		run.Fail(err)
		return fmt.Errorf("tracking: autolog %s: %w", ev.Kind, err)
	}
	if ev.Err != nil {
		err = run.Fail(ev.Err)
	} else {
		err = run.Finish()
	}
	if err != nil {
		return fmt.Errorf("tracking: autolog %s: %w", ev.Kind, err)
	}
	return nil
}

func (a *Autologger) logEvent(run *Run, ev *experiments.TrackEvent) error {
	if ev.HasSeed {
		if err := run.SetSeed(ev.Seed); err != nil {
			return err
		}
	}
	metrics := map[string]float64{}
	if ev.Kind != experiments.KindFit { // a fit has fit_time_s
		metrics["duration_s"] = ev.Duration.Seconds()
	}
	for k, v := range ev.Metrics {
		metrics[k] = v
	}
	if err := run.LogMetrics(metrics, 0); err != nil {
		return err
	}
	if ev.Data != nil {
		rows, cols := ev.Data.Dims()
		if err := run.LogParams(map[string]interface{}{"data.rows": rows, "data.cols": cols}); err != nil {
			return err
		}
		limit := a.MaxDatasetCells
		if limit == 0 {
			limit = DefaultMaxDatasetCells
		}
		if rows*cols <= limit {
			if _, err := run.LogDatasetMatrix("train", "train", ev.Columns, ev.Data); err != nil {
				return err
			}
		} else if err := run.SetTag("autolog.dataset", fmt.Sprintf("not stored: %d×%d cells over MaxDatasetCells %d", rows, cols, limit)); err != nil {
			return err
		}
	}
	for i, f := range ev.Folds {
		for k, v := range f {
			if err := run.LogMetric("fold_"+k, v, i); err != nil {
				return err
			}
		}
		child, err := run.StartChild(fmt.Sprintf("fold %d", i))
		if err != nil {
			return err
		}
		if err := endChild(child, map[string]interface{}{"fold": i}, f); err != nil {
			return err
		}
	}
	metric, _ := ev.Params["search.metric"].(string)
	for i, tr := range ev.Trials {
		child, err := run.StartChild(fmt.Sprintf("trial %d", i))
		if err != nil {
			return err
		}
		params := make(map[string]interface{}, len(tr.Params))
		for k, v := range tr.Params {
			params[k] = v
		}
		if metric != "" {
			for j, s := range tr.Scores {
				if err := child.LogMetric("fold_"+metric, s, j); err != nil {
					child.Fail(err)
					return err
				}
			}
		}
		if err := endChild(child, params, tr.Metrics); err != nil {
			return err
		}
	}
	if ev.Save != nil && ev.Err == nil {
		var buf bytes.Buffer
		if err := ev.Save(&buf); err != nil {
			return err
		}
		if err := run.LogArtifact("model.gob", "model", buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

func endChild(child *Run, params map[string]interface{}, metrics map[string]float64) error {
	if err := child.LogParams(params); err != nil {
		child.Fail(err)
		return err
	}
	if err := child.LogMetrics(metrics, 0); err != nil {
		child.Fail(err)
		return err
	}
	return child.Finish()
}

// autologExperiment names the experiment after the notebook being run.
func autologExperiment() string {
	cellInfo.Lock()
	nb := cellInfo.notebook
	cellInfo.Unlock()
	base := filepath.Base(nb)
	base = strings.TrimSuffix(base, filepath.Ext(base))
	if nb == "" || base == "" || base == "." || base == string(filepath.Separator) {
		return DefaultExperiment
	}
	return base
}

// AutologCommand implements the notebook magic "%autolog [on|off]": on
// installs a as the experiments tracker, off removes it, and no argument
// shows which it is.
func (a *Autologger) AutologCommand(args string, w io.Writer) error {
	switch strings.TrimSpace(args) {
	case "on":
		experiments.SetTracker(a)
	case "off":
		if experiments.CurrentTracker() == experiments.Tracker(a) {
			experiments.SetTracker(nil)
		}
	case "":
	default:
		return fmt.Errorf("tracking: %%autolog: want on or off, have %q", args)
	}
	state := "off"
	if experiments.CurrentTracker() == experiments.Tracker(a) {
		state = "on"
	}
	_, err := fmt.Fprintf(w, "autolog %s (store %s)\n", state, a.Path())
	return err
}

// TrackingCommand implements the notebook magic "%tracking [PATH]": with
// a path, the autologger writes there from the next event on, and so
// does tracking.Open("") in cells (it sets $GOPHERLAB_DB); without, it
// shows the store path.
func (a *Autologger) TrackingCommand(args string, w io.Writer) error {
	if path := strings.TrimSpace(args); path != "" {
		abs, err := filepath.Abs(path)
		if err != nil {
			return fmt.Errorf("tracking: %%tracking: %w", err)
		}
		if err := a.SetPath(abs); err != nil {
			return err
		}
		if err := os.Setenv(EnvDB, abs); err != nil {
			return fmt.Errorf("tracking: %%tracking: %w", err)
		}
	}
	_, err := fmt.Fprintf(w, "tracking store %s\n", a.Path())
	return err
}
