package tracking

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gopherlab/gopherlab/experiments"
	"gonum.org/v1/gonum/mat"
)

// autologged runs fn with an autologger on a fresh store and returns the
// store (opened after the autologger is closed, so every event is
// written) and its top-level runs, oldest first.
func autologged(t *testing.T, fn func(t *testing.T)) (*Store, []RunInfo) {
	t.Helper()
	path, al, warn := autologTo(t)
	fn(t)
	if err := al.Close(); err != nil {
		t.Fatal(err)
	}
	if al.Err() != nil || warn.Len() != 0 {
		t.Fatalf("autolog: %v %s", al.Err(), warn)
	}
	s := reopen(t, path)
	return s, topRuns(t, s)
}

// overlapping returns two classes of n rows each that overlap, so
// scores differ between folds, settings and models.
func overlapping(n int) (*mat.Dense, []float64) {
	X := mat.NewDense(2*n, 2, nil)
	y := make([]float64, 2*n)
	for i := 0; i < 2*n; i++ {
		c := float64(i % 2)
		X.Set(i, 0, c*0.9+math.Sin(float64(i)*0.7))
		X.Set(i, 1, c*0.6+math.Cos(float64(i)*1.9))
		y[i] = c
	}
	return X, y
}

// classes returns a numeric dataset of two noisy classes: features f1,
// f2, and a categorical target "label".
func classes(t *testing.T, n int) *experiments.Dataset {
	t.Helper()
	X, y := overlapping(n)
	labels := make([]string, len(y))
	for i, v := range y {
		labels[i] = map[float64]string{0: "no", 1: "yes"}[v]
	}
	ds, err := experiments.FromColumns([]string{"f1", "f2", "label"}, mat.Col(nil, 0, X), mat.Col(nil, 1, X), labels)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// shapes returns a dataset with categorical features and target: a
// subset of a larger table, so each keeps a level none of its rows uses
// ("green", "maybe"), and with a missing color.
func shapes(t *testing.T, n int) *experiments.Dataset {
	t.Helper()
	size := make([]float64, 0, n+2)
	color := make([]string, 0, n+2)
	shape := make([]string, 0, n+2)
	label := make([]string, 0, n+2)
	for i := 0; i < n; i++ {
		c := []string{"red", "blue", "light, \"pale\" blue", ""}[i%4]
		l := []string{"no", "yes"}[(i/2+i/5)%2]
		size = append(size, math.Sin(float64(i))+float64(len(l)))
		color = append(color, c)
		shape = append(shape, []string{"1", "2", "3"}[i%3]) // levels that look like numbers
		label = append(label, l)
	}
	size = append(size, 0, 1)
	color = append(color, "green", "red")
	shape = append(shape, "1", "2")
	label = append(label, "no", "maybe")
	all, err := experiments.FromColumns([]string{"size", "color", "shape", "label"}, size, color, shape, label)
	if err != nil {
		t.Fatal(err)
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	ds, err := all.Rows(idx)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestReproduce(t *testing.T) {
	tests := []struct {
		name string
		kind string
		run  func(t *testing.T) error
		// checks that must be among the compared values
		want []string
		// values not compared
		skipped string
	}{
		{"pipeline fit on a matrix", experiments.KindFit, func(t *testing.T) error {
			X, y := overlapping(30)
			return experiments.NewPipeline(&experiments.StandardScaler{}, &experiments.LogisticRegression{C: 10}).Fit(X, y)
		}, []string{"train_accuracy", "identical_predictions"}, "fit_time_s"},
		{"seeded forest fit", experiments.KindFit, func(t *testing.T) error {
			X, y := overlapping(30)
			return (&experiments.RandomForestClassifier{NTrees: 7, MaxFeatures: 1, Seed: 11}).Fit(X, y)
		}, []string{"train_accuracy", "identical_predictions"}, "fit_time_s"},
		{"regression fit", experiments.KindFit, func(t *testing.T) error {
			X, _ := overlapping(30)
			y := make([]float64, 60)
			for i := range y {
				y[i] = 3*X.At(i, 0) - X.At(i, 1) + math.Sin(float64(i))
			}
			return (&experiments.Ridge{Alpha: 0.5}).Fit(X, y)
		}, []string{"train_r2", "identical_predictions"}, "fit_time_s"},
		{"pipeline fit on a dataset", experiments.KindFit, func(t *testing.T) error {
			return experiments.NewPipeline(&experiments.MinMaxScaler{}, &experiments.KNeighborsClassifier{K: 3}).FitDataset(classes(t, 25), "label")
		}, []string{"train_accuracy", "identical_predictions"}, "fit_time_s"},
		{"pipeline one-hot encoding categorical columns", experiments.KindFit, func(t *testing.T) error {
			return experiments.NewPipeline(&experiments.OneHotEncoder{}, &experiments.StandardScaler{}, &experiments.LogisticRegression{C: 3}).FitDataset(shapes(t, 40), "label")
		}, []string{"train_accuracy", "identical_predictions"}, "fit_time_s"},
		{"cross-validation of a pipeline on categorical columns", experiments.KindCrossValidate, func(t *testing.T) error {
			_, err := experiments.CrossValidateDataset(experiments.NewPipeline(&experiments.OneHotEncoder{}, &experiments.GaussianNB{}),
				shapes(t, 40), "label", experiments.CVOptions{K: 4, Shuffle: true, Seed: 3, Metrics: []string{"accuracy", "f1_macro"}})
			return err
		}, []string{"mean_accuracy", "fold_f1_macro"}, "duration_s"},
		{"grid search on categorical columns", experiments.KindGridSearch, func(t *testing.T) error {
			gs := &experiments.GridSearch{Model: experiments.NewPipeline(&experiments.OneHotEncoder{}, &experiments.DecisionTreeClassifier{Seed: 1}),
				Grid: map[string][]any{"decisiontreeclassifier.MaxDepth": {1, 3}}, CV: experiments.CVOptions{K: 3}}
			return gs.FitDataset(shapes(t, 30), "label")
		}, []string{"best_accuracy", "trial 1/mean_accuracy"}, "duration_s"},
		{"shuffled cross-validation with train scores", experiments.KindCrossValidate, func(t *testing.T) error {
			X, y := overlapping(30)
			_, err := experiments.CrossValidate(&experiments.DecisionTreeClassifier{MaxDepth: 3, MaxFeatures: 1, Seed: 5}, X, y,
				experiments.CVOptions{K: 4, Shuffle: true, Seed: 9, TrainScores: true, Metrics: []string{"accuracy", "f1_macro", "log_loss"}})
			return err
		}, []string{"mean_accuracy", "std_f1_macro", "mean_log_loss", "fold_accuracy", "fold_train_f1_macro"}, "fold_fit_time_s"},
		{"cross-validation of a pipeline on a dataset", experiments.KindCrossValidate, func(t *testing.T) error {
			_, err := experiments.CrossValidateDataset(experiments.NewPipeline(&experiments.StandardScaler{}, &experiments.GaussianNB{}),
				classes(t, 25), "label", experiments.CVOptions{K: 5, Metrics: []string{"accuracy", "roc_auc"}})
			return err
		}, []string{"mean_accuracy", "mean_roc_auc", "fold_roc_auc"}, "duration_s"},
		{"grid search of a pipeline", experiments.KindGridSearch, func(t *testing.T) error {
			X, y := overlapping(30)
			gs := &experiments.GridSearch{Model: experiments.NewPipeline(&experiments.StandardScaler{}, &experiments.LogisticRegression{}),
				Grid:   map[string][]any{"logisticregression.C": {0.001, 0.1, 10}, "logisticregression.Penalty": {"l2", "none"}},
				Metric: "f1_macro", CV: experiments.CVOptions{K: 3, Shuffle: true, Seed: 4}}
			return gs.Fit(X, y)
		}, []string{"best_f1_macro", "best_std_f1_macro", "trial 0/mean_f1_macro", "trial 5/rank", "trial 5/fold_f1_macro"}, "duration_s"},
		{"grid search of a bare model on a dataset pipeline", experiments.KindGridSearch, func(t *testing.T) error {
			gs := &experiments.GridSearch{Model: experiments.NewPipeline(&experiments.DecisionTreeClassifier{Seed: 2}),
				Grid: map[string][]any{"decisiontreeclassifier.MaxDepth": {1, 2, 4}, "decisiontreeclassifier.Criterion": {"gini", "entropy"}},
				CV:   experiments.CVOptions{K: 3}}
			return gs.FitDataset(classes(t, 20), "label")
		}, []string{"best_accuracy", "trial 2/mean_accuracy"}, "duration_s"},
		{"cross-validation of a bare model on the matrix XY made", experiments.KindCrossValidate, func(t *testing.T) error {
			X, y, err := classes(t, 25).XY("label")
			if err != nil {
				return err
			}
			_, err = experiments.CrossValidate(&experiments.GaussianNB{}, X, y, experiments.CVOptions{K: 5})
			return err
		}, []string{"mean_accuracy", "fold_accuracy"}, "duration_s"},
		{"forest fit on the training part of the matrix XY made", experiments.KindFit, func(t *testing.T) error {
			X, y, err := classes(t, 30).XY("label")
			if err != nil {
				return err
			}
			Xtr, _, ytr, _, err := experiments.SplitXY(X, y, 0.25, 1, true)
			if err != nil {
				return err
			}
			return (&experiments.RandomForestClassifier{NTrees: 5, Seed: 3}).Fit(Xtr, ytr)
		}, []string{"train_accuracy", "identical_predictions"}, "fit_time_s"},
		{"grid search without refit", experiments.KindGridSearch, func(t *testing.T) error {
			X, y := overlapping(20)
			gs := &experiments.GridSearch{Model: &experiments.KNeighborsClassifier{},
				Grid: map[string][]any{"K": {1, 3, 5}, "Weights": {"uniform", "distance"}}, NoRefit: true}
			return gs.Fit(X, y)
		}, []string{"best_accuracy", "trial 1/rank"}, "duration_s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, runs := autologged(t, func(t *testing.T) {
				if err := tt.run(t); err != nil {
					t.Fatal(err)
				}
			})
			if len(runs) != 1 || runs[0].Tags["autolog"] != tt.kind {
				t.Fatalf("runs %v, want one %s", runs, tt.kind)
			}
			before, _ := s.SearchRunIDs(SearchQuery{})
			rep, err := s.Reproduce(runs[0].ShortID())
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Match || len(rep.Mismatches()) != 0 {
				t.Errorf("not reproduced:\n%s", rep)
			}
			if rep.RunID != runs[0].ID || rep.Kind != tt.kind || rep.Model == nil || rep.Data.Rows == 0 {
				t.Errorf("reproduction %+v", rep)
			}
			if strings.Contains(tt.name, "categorical") {
				// color's levels, with the one no row uses.
				if l := rep.Data.Levels; len(l) != 4 || l[0] != nil || !slices.Contains(l[1], "green") || !slices.Contains(l[3], "maybe") {
					t.Errorf("snapshot levels %q", l)
				}
			}
			have := map[string]bool{}
			for _, c := range rep.Checks {
				have[c.Metric] = true
				if IsTiming(c.Metric) {
					t.Errorf("timing %s compared", c.Metric)
				}
			}
			for _, w := range tt.want {
				if !have[w] {
					t.Errorf("no check of %s in\n%s", w, rep)
				}
			}
			if !strings.Contains(strings.Join(rep.Skipped, ","), tt.skipped) {
				t.Errorf("skipped %v, want %s", rep.Skipped, tt.skipped)
			}
			if !strings.Contains(rep.String(), "reproduced exactly") || !strings.Contains(rep.HTML(), "<table") {
				t.Errorf("renders as\n%s\n%s", rep, rep.HTML())
			}
			// The refit is not recorded as a new run, and the tracker is back.
			after, _ := s.SearchRunIDs(SearchQuery{})
			if len(after) != len(before) {
				t.Errorf("reproducing added %d runs", len(after)-len(before))
			}
			if experiments.CurrentTracker() == nil {
				t.Error("tracker not restored")
			}
		})
	}
}

// TestReproduceDetectsChange alters one logged value by one unit in the
// last place: the reproduction must see it.
func TestReproduceDetectsChange(t *testing.T) {
	s, runs := autologged(t, func(t *testing.T) {
		X, y := overlapping(20)
		if _, err := experiments.CrossValidate(&experiments.LogisticRegression{}, X, y, experiments.CVOptions{K: 4}); err != nil {
			t.Fatal(err)
		}
	})
	id := runs[0].ID
	old := runs[0].Metrics["mean_accuracy"]
	bumped := math.Nextafter(old, 2)
	for _, table := range []string{"metrics", "latest_metrics"} {
		if _, err := s.db.Exec(`UPDATE `+table+` SET value = ? WHERE run_id = ? AND key = 'mean_accuracy'`, bumped, id); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := s.Reproduce(id)
	if err != nil {
		t.Fatal(err)
	}
	bad := rep.Mismatches()
	if rep.Match || len(bad) != 1 || bad[0].Metric != "mean_accuracy" || bad[0].Logged != bumped || bad[0].Reproduced != old {
		t.Fatalf("mismatches %+v in\n%s", bad, rep)
	}
	if !strings.Contains(rep.String(), "NOT reproduced: 1 of") || !strings.Contains(rep.HTML(), "#fde2df") {
		t.Errorf("a mismatch renders as\n%s\n%s", rep, rep.HTML())
	}
}

func TestReproduceErrors(t *testing.T) {
	path, al, _ := autologTo(t)
	X, y := overlapping(10)
	// 0: a fit whose data was too large to store.
	al.MaxDatasetCells = -1
	if err := (&experiments.GaussianNB{}).Fit(X, y); err != nil {
		t.Fatal(err)
	}
	al.MaxDatasetCells = 0
	// 1: cross-validation on explicit folds.
	folds, _ := experiments.KFold{K: 2}.Split(20)
	if _, err := experiments.CrossValidate(&experiments.GaussianNB{}, X, y, experiments.CVOptions{Folds: folds}); err != nil {
		t.Fatal(err)
	}
	// 2: a pipeline that one-hot encoded a categorical column.
	ds, _ := experiments.FromColumns([]string{"size", "color", "label"},
		[]float64{1, 2, 3, 4, 5, 6}, []string{"red", "blue", "red", "blue", "blue", "red"}, []string{"a", "b", "a", "b", "a", "b"})
	if err := experiments.NewPipeline(&experiments.OneHotEncoder{}, &experiments.GaussianNB{}).FitDataset(ds, "label"); err != nil {
		t.Fatal(err)
	}
	// 3: a failed fit.
	bad := mat.NewDense(2, 1, []float64{1, math.NaN()})
	if err := (&experiments.GaussianNB{}).Fit(bad, []float64{0, 1}); err == nil {
		t.Fatal("fit with NaN succeeded")
	}
	al.Close()
	s := reopen(t, path)
	runs := topRuns(t, s)
	if len(runs) != 4 {
		t.Fatalf("%d runs, want 4", len(runs))
	}
	// Run 2 as a store before schema version 4 has it: a snapshot of
	// level codes (size, color, label), no levels.
	codes := []float64{1, 1, 0, 2, 0, 1, 3, 1, 0, 4, 0, 1, 5, 0, 0, 6, 1, 1}
	old := s.attach(runs[2].ID, runs[2].Experiment)
	if _, err := old.logDenseDataset(RoleTrain, "train", []string{"size", "color", "label"}, 6, 3, codes, nil, nil); err != nil {
		t.Fatal(err)
	}
	if in, err := s.Inputs(runs[2].ID); err != nil || len(in) != 1 || in[0].Levels != nil {
		t.Fatalf("inputs %+v, %v; want one without levels", in, err)
	}
	// 4: a run logged by hand.
	hand, err := s.StartRun("manual", &RunOptions{Name: "by hand"})
	if err != nil {
		t.Fatal(err)
	}
	hand.LogMetric("accuracy", 0.9, 0)
	hand.LogDataset(RoleTrain, "d", nil, [][]float64{{1, 2}})
	hand.Finish()
	fold := children(t, s, runs[1].ID)[0]

	for _, tt := range []struct {
		name, id, want string
		is             error
	}{
		{"unknown run", "ffffffff", "ffffffff: not found", ErrNotFound},
		{"no snapshot", runs[0].ID, "has no training data snapshot (not stored:", nil},
		{"explicit folds", runs[1].ID, "explicit folds (CVOptions.Folds), which are not recorded", nil},
		{"categorical input logged before levels were kept", runs[2].ID, `input column "color" was categorical: runs logged before gopherlab kept the levels`, nil},
		{"failed run", runs[3].ID, "its status is FAILED", nil},
		{"hand-logged run", hand.ID(), "not recorded by the autologger", nil},
		{"fold run", fold.ID, "it is a fold or trial of run " + runs[1].ShortID(), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := s.Reproduce(tt.id)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Reproduce: %v, %v; want error %q", rep, err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
}

// TestReproduceUsesParams changes a logged parameter: the refitted model
// must differ from the logged one, which shows the parameters are applied.
func TestReproduceUsesParams(t *testing.T) {
	s, runs := autologged(t, func(t *testing.T) {
		X, y := overlapping(30)
		if err := (&experiments.KNeighborsClassifier{K: 1}).Fit(X, y); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := s.db.Exec(`UPDATE params SET value = '9' WHERE run_id = ? AND key = 'K'`, runs[0].ID); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Reproduce(runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Match || rep.Estimator != "kneighborsclassifier{K: 9, Weights: uniform}" {
		t.Fatalf("with K changed to 9:\n%s", rep)
	}
}

// Runs of a parameterized notebook (gopherlab run -p, an exported job)
// record notebook.NAME params, which are the notebook's, not the
// estimator's: Reproduce leaves them out.
func TestReproduceNotebookParams(t *testing.T) {
	SetNotebookParams(map[string]string{"C": "0.5", "seed": "7"})
	defer SetNotebookParams(nil)
	s, runs := autologged(t, func(t *testing.T) {
		X, y := overlapping(30)
		if err := experiments.NewPipeline(&experiments.StandardScaler{}, &experiments.LogisticRegression{C: 0.5}).Fit(X, y); err != nil {
			t.Fatal(err)
		}
		if _, err := experiments.CrossValidate(&experiments.GaussianNB{}, X, y, experiments.CVOptions{K: 3}); err != nil {
			t.Fatal(err)
		}
	})
	if len(runs) != 2 {
		t.Fatalf("%d runs", len(runs))
	}
	for _, r := range runs {
		if r.Params["notebook.C"] != "0.5" {
			t.Fatalf("run %s params %v: no notebook.C", r.Name, r.Params)
		}
		rep, err := s.Reproduce(r.ID)
		if err != nil {
			t.Fatalf("run %s: %v", r.Name, err)
		}
		if !rep.Match {
			t.Errorf("run %s does not reproduce:\n%s", r.Name, rep)
		}
	}
}

// A fit's metrics scored afterwards on other data are not compared, and
// the reproduction says so: the refit's identical predictions stand for
// them.
func TestReproduceListsScoredMetrics(t *testing.T) {
	s, runs := autologged(t, func(t *testing.T) {
		X, y := overlapping(20)
		all, yall := overlapping(25) // rows 40 to 49 are not training rows
		Xtest, ytest := mat.DenseCopyOf(all.Slice(40, 50, 0, 2)), yall[40:]
		pipe := experiments.NewPipeline(&experiments.StandardScaler{}, &experiments.LogisticRegression{})
		if err := pipe.Fit(X, y); err != nil {
			t.Fatal(err)
		}
		pred, err := pipe.Predict(Xtest)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := experiments.Accuracy(ytest, pred); err != nil {
			t.Fatal(err)
		}
	})
	if len(runs) != 1 || runs[0].Metrics["test_accuracy"] == 0 {
		t.Fatalf("runs %+v, want one with test_accuracy", runs)
	}
	rep, err := s.Reproduce(runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	skipped := strings.Join(rep.Skipped, ", ")
	if !rep.Match || !strings.Contains(skipped, "test_accuracy (scored after the fit, on other data") || !strings.Contains(skipped, "fit_time_s (a timing)") {
		t.Errorf("skipped %q; reproduction\n%s", skipped, rep)
	}
	if !strings.Contains(rep.String(), "Not compared: ") {
		t.Errorf("the text does not list what was not compared:\n%s", rep)
	}
}

// TestAutologXYNames checks that work on a matrix Dataset.XY made (or
// SplitXY split from one) records its data under the dataset's column
// names, tagged as a matrix, and other matrices as c0, c1, ..., y.
func TestAutologXYNames(t *testing.T) {
	named := []string{"f1", "f2", "label"}
	tests := []struct {
		name  string
		run   func(t *testing.T, X *mat.Dense, y []float64) error
		want  []string
		named bool
	}{
		{"cross-validation", func(t *testing.T, X *mat.Dense, y []float64) error {
			_, err := experiments.CrossValidate(&experiments.GaussianNB{}, X, y, experiments.CVOptions{K: 3})
			return err
		}, named, true},
		{"grid search", func(t *testing.T, X *mat.Dense, y []float64) error {
			gs := &experiments.GridSearch{Model: &experiments.KNeighborsClassifier{}, Grid: map[string][]any{"K": {1, 3}}, CV: experiments.CVOptions{K: 3}}
			return gs.Fit(X, y)
		}, named, true},
		{"a fit on the training part", func(t *testing.T, X *mat.Dense, y []float64) error {
			Xtr, _, ytr, _, err := experiments.SplitXY(X, y, 0.3, 2, false)
			if err != nil {
				return err
			}
			return (&experiments.GaussianNB{}).Fit(Xtr, ytr)
		}, named, true},
		{"a fit on a copy", func(t *testing.T, X *mat.Dense, y []float64) error {
			return (&experiments.GaussianNB{}).Fit(mat.DenseCopyOf(X), y)
		}, []string{"c0", "c1", "y"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, runs := autologged(t, func(t *testing.T) {
				X, y, err := classes(t, 20).XY("label")
				if err != nil {
					t.Fatal(err)
				}
				if err := tt.run(t, X, y); err != nil {
					t.Fatal(err)
				}
			})
			if len(runs) != 1 {
				t.Fatalf("%d runs", len(runs))
			}
			in, err := s.Inputs(runs[0].ID)
			if err != nil || len(in) != 1 {
				t.Fatalf("inputs %v, %v", in, err)
			}
			if !slices.Equal(in[0].Columns, tt.want) {
				t.Errorf("snapshot columns %q, want %q", in[0].Columns, tt.want)
			}
			if got := runs[0].Tags[TagNamedMatrix] == "true"; got != tt.named {
				t.Errorf("tag %s: %v, want %v", TagNamedMatrix, got, tt.named)
			}
		})
	}
}
