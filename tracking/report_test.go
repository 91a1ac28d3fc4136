package tracking

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// reportFixture is an experiment with histories, params, a dataset, code
// and a failed run.
func reportFixture(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "report.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for i, spec := range []struct {
		name, model string
		depth       int
		final       float64
		fail        bool
	}{
		{"forest-a", "forest", 3, 0.91, false},
		{"forest-b", "forest", 6, 0.96, false},
		{"knn", "knn", 1, 0.88, false},
		{"broken <script>", "knn", 2, 0.5, true},
	} {
		r, err := s.StartRun("iris", &RunOptions{Name: spec.name, Source: "acc := fit(\"" + spec.model + "\") // <b>not bold</b>", Notebook: "iris.ipynb", ExecutionCount: i + 1})
		if err != nil {
			t.Fatal(err)
		}
		r.LogParams(map[string]interface{}{"model": spec.model, "depth": spec.depth})
		for step := 0; step <= 10; step++ {
			acc := spec.final * float64(step+5) / 15
			r.LogMetrics(map[string]float64{"accuracy": acc, "loss": 1 - acc}, step)
		}
		r.LogDataset(RoleTrain, "iris", []string{"x", "y"}, [][]float64{{1, 2}, {3, 4}})
		if spec.fail {
			r.Fail(errFixture)
		} else {
			r.Finish()
		}
	}
	return s
}

var errFixture = &os.PathError{Op: "open", Path: "weights.bin", Err: os.ErrNotExist}

func TestWriteReport(t *testing.T) {
	s := reportFixture(t)
	tests := []struct {
		name    string
		opts    ReportOptions
		want    []string
		notWant []string
		svgs    int
		wantErr string
	}{
		{name: "default", opts: ReportOptions{Experiment: "iris"},
			want: []string{"Experiment report: iris", "This experiment has 4 runs", "3 finished, 1 failed",
				"ranked by their final accuracy (higher is better); every finished run recorded it.", "The ranking metric was chosen automatically",
				"Only finished runs are ranked and can be the best run; runs that did not finish (1 here) are listed after them",
				"The best run is <strong>forest-b</strong>",
				"0.96", "Final accuracy of the 3 best runs", "accuracy during training", "loss during training",
				"accuracy against depth", "Average accuracy of the runs with each value of model",
				"Runs that did not finish", "broken &lt;script&gt;", "weights.bin",
				"used exactly the same train data", "iris.ipynb, cell [2]", "// &lt;b&gt;not bold&lt;/b&gt;", "Go version"},
			notWant: []string{"<script", "<b>not"}, svgs: 5},
		{name: "minimize", opts: ReportOptions{Experiment: "iris", Metric: "loss"},
			want:    []string{"ranked by their final loss (lower is better)", "The best run is <strong>forest-b</strong>"},
			notWant: []string{"chosen automatically"}},
		{name: "goal override", opts: ReportOptions{Experiment: "iris", Metric: "accuracy", Goal: "min"},
			want: []string{"(lower is better)", "The best run is <strong>knn</strong>"}},
		{name: "filter and top", opts: ReportOptions{Experiment: "iris", Filter: `params.model = "forest"`, Top: 1, Title: "Forests"},
			want:    []string{"<h1>Forests</h1>", "This experiment has 2 runs", "Only runs matching the filter", "Final accuracy of the best run"},
			notWant: []string{">knn<"}},
		{name: "unknown experiment", opts: ReportOptions{Experiment: "nope"}, wantErr: `no experiment "nope" in ` + s.Path() + " (experiments: iris)"},
		{name: "unknown metric", opts: ReportOptions{Experiment: "iris", Metric: "nosuch"},
			wantErr: `metric "nosuch": no run of experiment "iris" recorded it (metrics: accuracy, loss)`},
		{name: "unknown metric in filtered runs", opts: ReportOptions{Experiment: "iris", Metric: "nosuch", Filter: `params.model = "knn"`},
			wantErr: `metric "nosuch": no run of experiment "iris" that matches the filter recorded it (metrics: accuracy, loss)`},
		{name: "negative top", opts: ReportOptions{Experiment: "iris", Top: -1}, wantErr: "top -1: want the number of runs to chart"},
		{name: "bad goal", opts: ReportOptions{Experiment: "iris", Goal: "up"}, wantErr: "want max or min"},
		{name: "bad filter", opts: ReportOptions{Experiment: "iris", Filter: "metrics.x >"}, wantErr: "expected a value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			err := s.WriteReport(&b, tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			out := b.String()
			checkPage(t, out, tt.want, tt.notWant)
			checkSelfContained(t, out)
			// Hashes and module versions are for programmers: folded away.
			tech := strings.Index(out, `<details class="tech">`)
			if tech < 0 || !strings.Contains(out[tech:], "Module versions") {
				t.Error("no technical details with the module versions")
			}
			if i := regexp.MustCompile(`SHA-256 [0-9a-f]|[0-9a-f]{64}`).FindStringIndex(out); i != nil && i[0] < tech {
				t.Errorf("a hash %q before the technical details", out[i[0]:i[1]])
			}
			if tt.svgs > 0 {
				if n := strings.Count(out, "<svg"); n != tt.svgs {
					t.Errorf("%d charts, want %d", n, tt.svgs)
				}
			}
		})
	}
}

// Only a finished run can be the best: a run that crashed or was killed
// after logging a fine score produced no model to pick.
func TestReportUnfinishedNotBest(t *testing.T) {
	s := openTemp(t)
	for _, r := range []struct {
		exp, name, status string
		acc               float64
	}{
		{"mixed", "finished run", StatusFinished, 0.90},
		{"mixed", "crashed run", StatusFailed, 0.97},
		{"mixed", "killed run", StatusKilled, 0.99},
		{"mixed", "interrupted run", StatusFailed, 0.98},
		{"failonly", "crashed run", StatusFailed, 0.97},
	} {
		run, err := s.StartRun(r.exp, &RunOptions{Name: r.name})
		if err != nil {
			t.Fatal(err)
		}
		run.LogMetric("val_accuracy", r.acc, 0)
		switch {
		case r.name == "interrupted run":
			// What autologging records for a cell the user interrupted.
			err = run.Fail(errors.New("experiments: grid search: candidate 18, fold 4: fit random forest classifier: interrupted"))
		case r.status == StatusKilled:
			// What Open records for a run whose process died.
			err = run.Fail(errors.New("process 25217 on vm ended without ending the run"))
			if err == nil {
				_, err = s.db.Exec(`UPDATE runs SET status = ? WHERE id = ?`, StatusKilled, run.ID())
			}
		default:
			err = run.End(r.status)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		exp      string
		want     []string
		notWant  []string
		wantRows []string // rank, name and status of each row of the table of runs
	}{
		{exp: "mixed",
			want: []string{"The best run is <strong>finished run</strong>", "Final val_accuracy of the best run",
				"every finished run recorded it.",
				"Only finished runs are ranked and can be the best run; runs that did not finish (3 here) are listed after them, marked by their status, whatever val_accuracy they reached.",
				"4 runs, started on", ": 1 finished, 1 failed, 1 was interrupted by the user, 1 stopped because its program ended before the run finished.",
				"<strong>killed run</strong> (id ", "): stopped: the program ended before the run finished — process 25217 on vm ended without ending the run</li>",
				"<strong>interrupted run</strong> (id ", "): interrupted (stopped by the user) — experiments: grid search",
			},
			// A killed run's end is its last activity: it ran at least that long.
			wantRows: []string{"1|finished run|finished", "|killed run|stopped: the program ended before the run finished", "|interrupted run|interrupted (stopped by the user)", "|crashed run|failed"}},
		{exp: "failonly",
			want:     []string{"No finished run has a value of val_accuracy, so there is no best run.", "(1 here)"},
			notWant:  []string{"<h2>Best run</h2>", "The best run is", "<svg"},
			wantRows: []string{"|crashed run|failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.exp, func(t *testing.T) {
			page := reportPage(t, s, ReportOptions{Experiment: tt.exp})
			checkPage(t, page, tt.want, tt.notWant)
			if got := allRunsRows(t, page, 3); strings.Join(got, ",") != strings.Join(tt.wantRows, ",") {
				t.Errorf("rows %q, want %q", got, tt.wantRows)
			}
			for _, row := range regexp.MustCompile(`(?s)<tr[^>]*>(.*?)</tr>`).FindAllStringSubmatch(page, -1) {
				if strings.Contains(row[1], ">killed run<") && !strings.Contains(row[1], ">at least ") {
					t.Errorf("a killed run's row gives its duration as if it had ended then: %s", row[1])
				}
			}
		})
	}
}

// allRunsRows returns the first n cells of each row of a report's table
// of runs, joined by |.
func allRunsRows(t *testing.T, page string, n int) []string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<h2>All runs</h2>.*?</table>`).FindString(page)
	var rows []string
	for _, tr := range regexp.MustCompile(`(?s)<tr[^>]*>(.*?)</tr>`).FindAllStringSubmatch(m, -1) {
		cells := regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`).FindAllStringSubmatch(tr[1], -1)
		if len(cells) == 0 {
			continue // the header
		}
		var c []string
		for _, cell := range cells[:min(n, len(cells))] {
			c = append(c, cell[1])
		}
		rows = append(rows, strings.Join(c, "|"))
	}
	return rows
}

// checkSelfContained fails if the page would load anything: no scripts,
// links, external images, CSS imports or URLs besides XML namespaces; and
// every inline SVG is well-formed XML.
func checkSelfContained(t *testing.T, page string) {
	t.Helper()
	for _, bad := range []string{"<script", "<link", "<img", "<iframe", "@import", "url(", "src=", "href="} {
		if strings.Contains(page, bad) {
			t.Errorf("report contains %q", bad)
		}
	}
	urls := regexp.MustCompile(`https?://[^"'\s<>]+`).FindAllString(page, -1)
	for _, u := range urls {
		if u != "http://www.w3.org/2000/svg" && u != "http://www.w3.org/1999/xlink" {
			t.Errorf("report refers to %s", u)
		}
	}
	for _, svg := range regexp.MustCompile(`(?s)<svg.*?</svg>`).FindAllString(page, -1) {
		d := xml.NewDecoder(strings.NewReader(svg))
		for {
			_, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("SVG is not well-formed: %v", err)
			}
		}
	}
}

func TestReportCommand(t *testing.T) {
	s := reportFixture(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "r.html")
	var stdout bytes.Buffer
	if err := ReportCommand([]string{"iris", "-db", s.Path(), "-o", out}, &stdout); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stdout.String(), "wrote "+out) {
		t.Errorf("stdout %q", stdout.String())
	}
	page, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(page), "forest-b") {
		t.Fatalf("report file: %v", err)
	}
	stdout.Reset()
	if err := ReportCommand([]string{"-db", s.Path(), "-o", "-", "-metric", "loss", "iris"}, &stdout); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stdout.String(), "<!DOCTYPE html>") {
		t.Errorf("-o - wrote %.40q", stdout.String())
	}
	out2 := filepath.Join(dir, "r2.html")
	for _, tt := range []struct {
		args    []string
		wantErr string
	}{
		{nil, "want one experiment name"},
		{[]string{"a", "b", "-db", s.Path()}, "want one experiment name"},
		{[]string{"iris", "-db", filepath.Join(dir, "missing.db")}, "no tracking database"},
		{[]string{"iris", "-db", s.Path(), "-filter", "metrics.a >"}, "^"},
		{[]string{"iris", "-bogus"}, "flag provided but not defined"},
		{[]string{"nope", "-db", s.Path()}, `report: no experiment "nope" in ` + s.Path() + " (experiments: iris)"},
		{[]string{"iris", "-db", s.Path(), "-metric", "nosuch"}, `report: metric "nosuch": no run of experiment "iris" recorded it (metrics: accuracy, loss)`},
		{[]string{"iris", "-db", s.Path(), "-top", "-1"}, "report: -top -1: want 1 or more runs"},
		{[]string{"iris", "-db", s.Path(), "-top", "0"}, "report: -top 0: want 1 or more runs"},
	} {
		if err := ReportCommand(append(tt.args, "-o", out2), io.Discard); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%v: error %v, want %q", tt.args, err, tt.wantErr)
		}
	}
	if _, err := os.Stat(out2); err == nil {
		t.Error("a failed report wrote its file")
	}
}

// A report must not replace the database it reads, nor any file that is
// not a report: a mistyped -o loses nothing.
func TestReportCommandOutput(t *testing.T) {
	s := reportFixture(t)
	dir := t.TempDir()
	db, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.db")
	if err := os.Symlink(s.Path(), link); err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	other := write("other.db", string(db))
	notes := write("notes.txt", "my notes")
	page := write("index.html", "<!DOCTYPE html><html><body>mine</body></html>")
	old := write("old.html", "<!DOCTYPE html>\n<html>\n<head>\n<meta name=\"generator\" content=\"gopherlab\">\n<title>old</title>")
	for _, tt := range []struct {
		name, out, wantErr string
	}{
		{"the database", s.Path(), "is the tracking database the report reads"},
		{"a link to the database", link, "is the tracking database the report reads"},
		{"another database", other, "is an existing SQLite database"},
		{"a text file", notes, "exists and is not a report gopherlab wrote"},
		{"someone's HTML", page, "exists and is not a report gopherlab wrote"},
		{"a directory", dir, "is a directory"},
		{"an earlier report", old, ""},
		{"a new file", filepath.Join(dir, "new.html"), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := os.ReadFile(tt.out)
			err := ReportCommand([]string{"iris", "-db", s.Path(), "-o", tt.out}, io.Discard)
			after, _ := os.ReadFile(tt.out)
			if tt.wantErr == "" {
				if err != nil || !strings.Contains(string(after), "forest-b") {
					t.Fatalf("error %v; file %.60q", err, after)
				}
				if fi, err := os.Stat(tt.out); err != nil || fi.Mode().Perm() != 0o644 {
					t.Errorf("file mode %v (%v), want 0644", fi.Mode(), err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), tt.out) {
				t.Errorf("error %v, want %q naming %s", err, tt.wantErr, tt.out)
			}
			if !bytes.Equal(before, after) {
				t.Errorf("%s was changed", tt.out)
			}
		})
	}
	if s2, err := OpenExisting(s.Path()); err != nil {
		t.Errorf("the database after the attempts: %v", err)
	} else {
		s2.Close()
	}
	tmps, _ := filepath.Glob(filepath.Join(dir, ".*.tmp"))
	if len(tmps) > 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
}

func TestPickMetric(t *testing.T) {
	// runs makes n runs with each of the metrics.
	runs := func(groups ...any) []RunInfo {
		var out []RunInfo
		for i := 0; i < len(groups); i += 2 {
			for j := 0; j < groups[i].(int); j++ {
				m := map[string]float64{}
				for _, k := range groups[i+1].([]string) {
					m[k] = 1
				}
				out = append(out, RunInfo{Metrics: m})
			}
		}
		return out
	}
	tests := []struct {
		name string
		runs []RunInfo
		want string
	}{
		{"autologged fits, cross-validations and searches: the held-out score",
			runs(8, []string{"fit_time_s", "test_accuracy"}, 4, []string{"duration_s", "fold_accuracy", "mean_accuracy", "std_accuracy"},
				2, []string{"best_accuracy", "best_std_accuracy", "duration_s"}), "test_accuracy"},
		{"cross-validations only: the mean", runs(3, []string{"duration_s", "fold_accuracy", "mean_accuracy", "mean_f1_macro", "std_accuracy"}), "mean_accuracy"},
		{"a grid search", runs(1, []string{"best_accuracy", "best_std_accuracy", "duration_s"}), "best_accuracy"},
		{"regression on test data: R² before RMSE", runs(2, []string{"test_rmse", "test_r2", "train_r2"}), "test_r2"},
		{"validation before training scores", runs(3, []string{"accuracy", "loss", "val_accuracy", "val_loss"}), "val_accuracy"},
		{"hand-written names", runs(3, []string{"accuracy", "loss"}), "accuracy"},
		{"a test score few runs have ranks few runs", runs(1, []string{"accuracy", "test_accuracy"}, 9, []string{"accuracy"}), "accuracy"},
		{"an unusual held-out score", runs(2, []string{"test_precision_macro", "epoch"}), "test_precision_macro"},
		{"no score: the most common metric", runs(2, []string{"epoch", "fit_time_s"}, 1, []string{"lr"}), "epoch"},
		{"timings only", runs(2, []string{"fit_time_s"}), ""},
		{"no metrics", runs(2, []string{}), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pickMetric(tt.runs); got != tt.want {
				t.Errorf("pickMetric = %q, want %q", got, tt.want)
			}
		})
	}
}

// allRunsHeader returns the column names of a report's table of runs.
func allRunsHeader(t *testing.T, page string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<h2>All runs</h2>.*?<tr>(.*?)</tr>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no table of runs")
	}
	var cols []string
	for _, c := range regexp.MustCompile(`<th>(.*?)</th>`).FindAllStringSubmatch(m[1], -1) {
		cols = append(cols, strings.ReplaceAll(c[1], "<wbr>", ""))
	}
	return cols
}

// An experiment as autologging records a notebook: random forests with
// capitalized params, pipelines of a logistic regression fitted with two
// values of C and scored on test data, cross-validations.
func TestReportAutologged(t *testing.T) {
	s := openTemp(t)
	forest := map[string]any{"Criterion": "", "MaxBins": 0, "MaxDepth": 0, "MaxFeatures": 0, "MinSamplesLeaf": 0,
		"MinSamplesSplit": 0, "NTrees": 200, "NoBootstrap": false, "Seed": 42, "Workers": 0, "cv.k": 5, "data.rows": 426}
	logreg := func(c float64, cv bool) map[string]any {
		p := map[string]any{"logisticregression.C": c, "logisticregression.MaxIter": 0, "logisticregression.Tol": 0,
			"logisticregression.Penalty": "", "standardscaler.WithoutMean": false, "steps": "[standardscaler logisticregression]", "data.rows": 426}
		if cv {
			p["cv.k"] = 5
		}
		return p
	}
	for _, spec := range []struct {
		name, est string
		params    map[string]any
		metrics   map[string]float64
	}{
		{"cv randomforestclassifier", "randomforestclassifier", forest,
			map[string]float64{"duration_s": 0.07, "fold_accuracy": 0.95, "fold_fit_time_s": 0.017, "mean_accuracy": 0.955, "std_accuracy": 0.009}},
		{"cv pipeline", "pipeline", logreg(1, true),
			map[string]float64{"duration_s": 0.006, "fold_accuracy": 0.988, "mean_accuracy": 0.974, "mean_f1_macro": 0.972, "std_accuracy": 0.017}},
		{"pipeline", "pipeline", logreg(0.5, false), map[string]float64{"fit_time_s": 0.002, "test_accuracy": 0.972}},
		{"pipeline", "pipeline", logreg(1, false), map[string]float64{"fit_time_s": 0.011, "test_accuracy": 0.979}},
	} {
		r, err := s.StartRun("bc", &RunOptions{Name: spec.name, Params: spec.params,
			Tags: map[string]string{"autolog": "fit", "estimator": spec.est}})
		if err != nil {
			t.Fatal(err)
		}
		r.LogMetrics(spec.metrics, 0)
		r.Finish()
	}
	page := reportPage(t, s, ReportOptions{Experiment: "bc"})
	checkPage(t, page, []string{
		"ranked by their final test_accuracy, the score on held-out test data (higher is better); 2 of the 4 runs recorded it; the others are listed after them, unranked.",
		"such as mean_accuracy",
	}, nil)
	cols := allRunsHeader(t, page)
	// Timings are not columns: the duration column says how long a run
	// took. What does not fit the page's width is named below the table.
	want := []string{"#", "run", "status", "model", "test_accuracy", "mean_accuracy", "mean_f1_macro",
		"logisticregression.C", "duration", "started"}
	if strings.Join(cols, ",") != strings.Join(want, ",") {
		t.Errorf("columns\n%q, want\n%q", cols, want)
	}
	// Plain words for readers who are not programmers; the technical
	// details folded away.
	checkPage(t, page, []string{
		"<li><strong>test_accuracy</strong>: the share of cases the model got right (100 % means all), on held-out test data the model did not see in training.</li>",
		"<li><strong>mean_f1_macro</strong>: the F1 score (a balance of precision and recall, 100 % is perfect) averaged over the classes",
		"Not shown in the table: metrics std_accuracy, fold_accuracy; settings cv.k",
		// One timing, said once: the fit's own, which the run's
		// millisecond times may differ from.
		"and took 11ms.</p>", `<td class="num">11ms</td>`,
		`<details class="tech"><summary>Technical details</summary>`,
	}, []string{"Time taken"})
	if strings.Contains(page, "0.011<") || strings.Contains(page, ">fit_<wbr>time_<wbr>s</th>") {
		t.Error("report shows a raw timing")
	}
}

// Runs autologging names "pipeline" are told apart by their model, and a
// tie for the best score is said, broken as SearchRuns breaks it.
func TestReportModels(t *testing.T) {
	s := openTemp(t)
	for _, spec := range []struct {
		steps, est string
		acc        float64
	}{
		{"[standardscaler logisticregression]", "pipeline", 0.986},
		{"[standardscaler kneighborsclassifier]", "pipeline", 0.979},
		{"", "randomforestclassifier", 0.986},
		{"[decisiontreeclassifier]", "pipeline", 0.944},
	} {
		p := map[string]any{"data.rows": 426}
		if spec.steps != "" {
			p["steps"] = spec.steps
		}
		r, err := s.StartRun("bc", &RunOptions{Name: spec.est, Params: p, Tags: map[string]string{"autolog": "fit", "estimator": spec.est}})
		if err != nil {
			t.Fatal(err)
		}
		r.LogMetric("test_accuracy", spec.acc, 0)
		r.Finish()
	}
	want, err := s.SearchRuns(SearchQuery{Experiment: "bc", OrderBy: "metrics.test_accuracy DESC"})
	if err != nil {
		t.Fatal(err)
	}
	if want[0].Tags["estimator"] != "randomforestclassifier" {
		t.Fatalf("SearchRuns puts %s first: ties go to the newest run", want[0].Name)
	}
	page := reportPage(t, s, ReportOptions{Experiment: "bc"})
	checkPage(t, page, []string{
		"The best run is <strong>randomforestclassifier</strong> (id " + want[0].ShortID() + ")",
		"<p>It is tied with standardscaler &#43; logisticregression (id " + want[1].ShortID() + ") (same test_accuracy 98.6\u00a0%)",
		"<th>model</th>",
		// The ranking chart names each run's model.
		">standardscaler + logisticregression<", ">decisiontreeclassifier<",
	}, []string{"Average test_accuracy"}) // each model once: the ranking chart says it all
	rows := allRunsRows(t, page, 4)
	if len(rows) != 4 || rows[0] != "1|randomforest<wbr>classifier|finished|randomforest<wbr>classifier" ||
		rows[1] != "2|pipeline (<wbr>"+want[1].ShortID()+")|finished|standardscaler + logistic<wbr>regression" {
		t.Errorf("rows %q", rows)
	}

	// Groups of several runs get an average chart, labelled in words.
	r, err := s.StartRun("bc", &RunOptions{Name: "pipeline", Params: map[string]any{"steps": "[standardscaler logisticregression]"}, Tags: map[string]string{"estimator": "pipeline"}})
	if err != nil {
		t.Fatal(err)
	}
	r.LogMetric("test_accuracy", 0.95, 0)
	r.Finish()
	checkPage(t, reportPage(t, s, ReportOptions{Experiment: "bc"}), []string{"Average test_accuracy of each model (the steps of its pipeline)", ">standardscaler +<"}, nil)
}

// Words for a reader who does not program: no plumbing settings among
// the best run's, the data scored on called test data as its scores are,
// no empty notebook name, no advice meant for programmers.
func TestReportPlainWords(t *testing.T) {
	s := openTemp(t)
	r, err := s.StartRun("bc", &RunOptions{Name: "pipeline", Source: "pipe.FitDataset(train, \"diagnosis\")", ExecutionCount: 3,
		Params: map[string]any{"logisticregression.C": 1, "logisticregression.Workers": 0, "logisticregression.Tol": 0.0001}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.LogDataset(RoleEval, "eval-ee6ad96c", nil, [][]float64{{1, 0}}); err != nil {
		t.Fatal(err)
	}
	r.LogMetric("test_accuracy", 0.986, 0)
	r.Finish()
	page := reportPage(t, s, ReportOptions{Experiment: "bc"})
	card := regexp.MustCompile(`(?s)<h2>Best run</h2>.*?Full run id`).FindString(page)
	checkPage(t, card, []string{"<th>logisticregression.C</th>", `test data &#34;eval-ee6ad96c&#34;`}, []string{"Workers", "Tol", "eval data"})
	checkPage(t, page, []string{"(cell [3] of a notebook without a name)", "<th>logisticregression.Workers</th><td>0</td>"}, []string{"(, cell"})

	s2 := openTemp(t)
	r, err = s2.StartRun("bc", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.LogMetric("accuracy", 0.9, 0)
	r.End(StatusKilled)
	checkPage(t, reportPage(t, s2, ReportOptions{Experiment: "bc"}), []string{"The runs did not record the data they used"}, []string{"LogDataset"})
}

func TestReportWords(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		want string
	}{
		{0.000965453, "1ms"}, {0.0001, "under 1ms"}, {0.134208, "134ms"}, {2.5, "2.5s"}, {90, "1m30s"}, {math.NaN(), "NaN"},
	} {
		if got := formatTiming(tt.v); got != tt.want {
			t.Errorf("formatTiming(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
	for _, tt := range []struct{ k, want string }{
		{"accuracy", "the share of cases the model got right (1 means all)"},
		{"mean_f1_macro", "the F1 score (a balance of precision and recall, 1 is perfect) averaged over the classes, each class counting the same, averaged over the folds of a cross-validation"},
		{"test_rmse", "the typical size of a prediction's error, in the units of what is predicted (lower is better), on held-out test data the model did not see in training"},
		{"val_r2", "the share of the variation in what is predicted that the model explains (1 is perfect, 0 is no better than always guessing the average), on validation data"},
		{"best_std_accuracy", "how much accuracy varied between the folds of a cross-validation (standard deviation; smaller is steadier)"},
		{"train_log_loss", "how much probability the model gave to wrong answers (lower is better, 0 is perfect), on the training data (often better than on new data)"},
		{"eval_accuracy", "the share of cases the model got right (1 means all), on data of which many rows were used in training, so it flatters the model: not a test score"},
		{"fit_time_s", ""},
		{"epoch", ""},
	} {
		if got := metricExplain(tt.k); got != tt.want {
			t.Errorf("metricExplain(%q) = %q, want %q", tt.k, got, tt.want)
		}
	}
}

// Histories worth a chart: scores, not timings; a cross-validation's
// fold scores are drawn per fold, not as steps of training.
func TestReportHistories(t *testing.T) {
	s := openTemp(t)
	for i, acc := range [][]float64{{0.9, 0.95, 0.92}, {0.8, 0.85, 0.99}} {
		r, err := s.StartRun("cv", &RunOptions{Name: fmt.Sprintf("cv %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		for fold, a := range acc {
			r.LogMetrics(map[string]float64{"fold_accuracy": a, "fold_fit_time_s": 0.001 * float64(fold+1), "epoch_duration_s": 2}, fold)
		}
		r.LogMetrics(map[string]float64{"mean_accuracy": (acc[0] + acc[1] + acc[2]) / 3, "duration_s": 0.01}, 0)
		r.Finish()
	}
	page := reportPage(t, s, ReportOptions{Experiment: "cv"})
	checkPage(t, page, []string{"fold_accuracy in each cross-validation fold", "not a step of training", ">fold<"},
		[]string{"fold_fit_time_s during", "fold_fit_time_s in each", "epoch_duration_s during", "fold_accuracy during training"})

	for _, tt := range []struct {
		name, metric string
		metrics      []string
		want         []string
	}{
		{"a cross-validation: the mean, then its folds", "mean_accuracy",
			[]string{"duration_s", "fold_accuracy", "fold_fit_time_s", "mean_accuracy", "rank", "std_accuracy"},
			[]string{"mean_accuracy", "fold_accuracy", "std_accuracy"}},
		{"training curves", "val_accuracy",
			[]string{"accuracy", "epoch_duration_s", "loss", "val_accuracy", "val_loss"},
			[]string{"val_accuracy", "val_loss", "accuracy", "loss"}},
		{"no metric chosen", "", []string{"fit_time_s", "loss"}, []string{"loss"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := map[string]float64{}
			for _, k := range tt.metrics {
				m[k] = 1
			}
			got := historyKeys([]RunInfo{{Metrics: m}}, tt.metric)
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("historyKeys = %q, want %q", got, tt.want)
			}
		})
	}
}

// gridSearchFixture records what autologging records for a grid search:
// a parent run with the best mean score and a child run per candidate
// with its mean, spread and rank.
func gridSearchFixture(t *testing.T, s *Store, exp string, grid map[string][]any) {
	t.Helper()
	parent, err := s.StartRun(exp, &RunOptions{Name: "gridsearch(pipeline)", Tags: map[string]string{"autolog": "grid_search"},
		Params: map[string]any{"search.metric": "accuracy", "cv.k": 3}})
	if err != nil {
		t.Fatal(err)
	}
	var combos []map[string]any
	combos = append(combos, map[string]any{})
	for _, k := range sortedKeys(func() map[string]string {
		m := map[string]string{}
		for k := range grid {
			m[k] = ""
		}
		return m
	}()) {
		var next []map[string]any
		for _, c := range combos {
			for _, v := range grid[k] {
				n := map[string]any{k: v}
				for ck, cv := range c {
					n[ck] = cv
				}
				next = append(next, n)
			}
		}
		combos = next
	}
	type trial struct {
		params map[string]any
		score  float64
	}
	var trials []trial
	for i, c := range combos {
		// A made-up score: best at K = 3 with distance weights.
		k := float64(c["K"].(int))
		score := 0.95 - 0.01*math.Abs(k-3) - 0.001*float64(i%3)
		if c["Weights"] == "distance" {
			score += 0.005
		}
		trials = append(trials, trial{c, score})
	}
	rank := make([]int, len(trials))
	for i := range trials {
		rank[i] = 1
		for j := range trials {
			if trials[j].score > trials[i].score || trials[j].score == trials[i].score && j < i {
				rank[i]++
			}
		}
	}
	best := 0.0
	for i, tr := range trials {
		c, err := s.StartRun(exp, &RunOptions{Name: fmt.Sprintf("trial %d", i), ParentID: parent.ID(), Params: tr.params})
		if err != nil {
			t.Fatal(err)
		}
		c.LogMetrics(map[string]float64{"mean_accuracy": tr.score, "std_accuracy": 0.01, "rank": float64(rank[i])}, 0)
		c.Finish()
		best = math.Max(best, tr.score)
	}
	parent.LogMetrics(map[string]float64{"best_accuracy": best, "best_std_accuracy": 0.01}, 0)
	parent.Finish()
}

// The trials of a best grid search are shown: a chart of their score
// against the setting varied, a line per value of the other, and a table.
func TestReportGridSearch(t *testing.T) {
	s := openTemp(t)
	ks := []any{1, 2, 3, 4, 5, 6}
	gridSearchFixture(t, s, "two", map[string][]any{"K": ks, "Weights": {"uniform", "distance"}})
	gridSearchFixture(t, s, "three", map[string][]any{"K": ks, "Weights": {"uniform", "distance"}, "P": {1, 2}})
	tests := []struct {
		exp     string
		want    []string
		notWant []string
		rows    []string
	}{
		{exp: "two",
			want: []string{"<h2>Grid search trials</h2>", "it tried 12 combinations of settings (K, Weights), scored each by the mean accuracy of a 3-fold cross-validation",
				"Mean accuracy of each trial against K", "Weights = distance", "Weights = uniform", "best trial",
				"<th>rank</th><th>K</th><th>Weights</th><th>mean_<wbr>accuracy</th><th>± std (<wbr>points)</th>",
				"The other 2 trials", "12 child runs", "not ranked here"},
			rows: []string{"1|3|distance|95.3\u00a0%|± 1.0", "2|3|uniform|94.9\u00a0%|± 1.0"}},
		{exp: "three",
			want:    []string{"it tried 24 combinations", "3 settings varied together, too many for one chart: the table shows each combination.", "The other 14 trials"},
			notWant: []string{"Mean accuracy of each trial against"},
			rows:    []string{"1|3|1|distance|95.5\u00a0%|± 1.0"}},
	}
	for _, tt := range tests {
		t.Run(tt.exp, func(t *testing.T) {
			page := reportPage(t, s, ReportOptions{Experiment: tt.exp})
			checkPage(t, page, tt.want, tt.notWant)
			checkSelfContained(t, page)
			m := regexp.MustCompile(`(?s)<h2>Grid search trials</h2>.*?</table>`).FindString(page)
			var rows []string
			for _, tr := range regexp.MustCompile(`(?s)<tr[^>]*>(.*?)</tr>`).FindAllStringSubmatch(m, -1) {
				var c []string
				for _, cell := range regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`).FindAllStringSubmatch(tr[1], -1) {
					c = append(c, cell[1])
				}
				if len(c) > 0 {
					rows = append(rows, strings.Join(c, "|"))
				}
			}
			for i, w := range tt.rows {
				if i >= len(rows) || rows[i] != w {
					t.Errorf("trial rows %q, want %q first", rows, tt.rows)
					break
				}
			}
		})
	}

	// A filter chooses the runs to rank; the best one's trials need not match it.
	if page := reportPage(t, s, ReportOptions{Experiment: "two", Filter: `tags.autolog = "grid_search"`}); !strings.Contains(page, "it tried 12 combinations") {
		t.Error("filtered report lacks the trials")
	}

	// A metric only the trials have: the error says so and what ranks the searches.
	err := s.WriteReport(io.Discard, ReportOptions{Experiment: "two", Metric: "mean_accuracy"})
	for _, w := range []string{`metric "mean_accuracy": only child runs of experiment "two" recorded it (12 grid search trials`,
		"the report ranks top-level runs (metrics: best_accuracy, best_std_accuracy)", "-metric best_accuracy ranks grid searches"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v, want %q", err, w)
		}
	}
}

// A table logged as a dataset (named columns, text labels) and as a
// matrix (c0, c1, ..., the labels as codes) is the same data; other
// values are another version.
func TestReportDataVersions(t *testing.T) {
	const named = "m01,m02,diagnosis\n1,2.5,malignant\n3,4,benign\n5,6,malignant\n"
	for _, tt := range []struct {
		name     string
		versions []string // the train snapshot of each run, as CSV
		want     string
	}{
		{"one version", []string{named, named},
			"Every run that recorded train data used exactly the same train data."},
		{"column names", []string{named, "c0,c1,c2\n1,2.5,malignant\n3,4,benign\n5,6,malignant\n"},
			"Every run that recorded train data used the same train values, logged under 2 different sets of column names."},
		{"labels as codes", []string{named, "c0,c1,y\n1,2.5,1\n3,4,0\n5,6,1\n"},
			"Every run that recorded train data used the same train data: the same rows and values, logged in 2 forms"},
		{"labels renamed", []string{named, "m01,m02,diagnosis\n1,2.5,M\n3,4,B\n5,6,M\n"},
			"Every run that recorded train data used the same train data: the same rows and values, logged in 2 forms"},
		{"a label changed", []string{named, "c0,c1,y\n1,2.5,1\n3,4,0\n5,6,0\n"},
			"The train data changed between runs (2 different versions of its values)"},
		{"a measurement changed", []string{named, "c0,c1,y\n1,2.5,1\n3,5,0\n5,6,1\n"},
			"The train data changed between runs (2 different versions of its values)"},
		// Numbers that split the rows alike are still other numbers.
		{"a measurement scaled", []string{named, "c0,c1,y\n2,2.5,1\n6,4,0\n10,6,1\n"},
			"The train data changed between runs (2 different versions of its values)"},
		{"labels as fractions", []string{named, "c0,c1,y\n1,2.5,0.5\n3,4,0\n5,6,0.5\n"},
			"The train data changed between runs (2 different versions of its values)"},
		{"a row less", []string{named, "c0,c1,y\n1,2.5,1\n3,4,0\n"},
			"The train data changed between runs (2 different versions of its values)"},
		{"three forms, two versions", []string{named, "c0,c1,y\n1,2.5,1\n3,4,0\n5,6,1\n", "c0,c1,y\n1,2.5,1\n3,4,1\n5,6,1\n"},
			"The train data changed between runs (2 different versions of its values)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := openTemp(t)
			for i, v := range tt.versions {
				r, err := s.StartRun("data", &RunOptions{Name: fmt.Sprint("run ", i)})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := r.LogDatasetBytes(RoleTrain, "train", []byte(v), DatasetInfo{Format: "csv"}); err != nil {
					t.Fatal(err)
				}
				r.LogMetric("accuracy", 0.9, 0)
				r.Finish()
			}
			m := regexp.MustCompile(`(?s)<h2>Data</h2>\s*<p>(.*?)</p>`).FindStringSubmatch(reportPage(t, s, ReportOptions{Experiment: "data"}))
			if m == nil {
				t.Fatal("no data note")
			}
			if !strings.HasPrefix(m[1], tt.want) {
				t.Errorf("note %q, want %q", m[1], tt.want)
			}
		})
	}

	// LogDataset (named columns) and a matrix (c0, c1, ...) of the same numbers.
	s := openTemp(t)
	for _, columns := range [][]string{{"m01", "m02"}, nil} {
		r, err := s.StartRun("data", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.LogDataset(RoleTrain, "train", columns, [][]float64{{1, 2.5}, {3, 4}}); err != nil {
			t.Fatal(err)
		}
		r.Finish()
	}
	if page := reportPage(t, s, ReportOptions{Experiment: "data"}); !strings.Contains(page, "the same train values, logged under 2 different sets of column names") {
		t.Error("a matrix of the same numbers is not the same data")
	}
}

// checkPage reports each of want the page lacks and each of notWant it
// has.
func checkPage(t *testing.T, page string, want, notWant []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(page, w) {
			t.Errorf("report lacks %q", w)
		}
	}
	for _, w := range notWant {
		if strings.Contains(page, w) {
			t.Errorf("report has %q", w)
		}
	}
}

// reportPage writes the report opts ask for and returns the page.
func reportPage(t *testing.T, s *Store, opts ReportOptions) string {
	t.Helper()
	var b bytes.Buffer
	if err := s.WriteReport(&b, opts); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Scores a reader understands: a proportion as a percentage, with as
// many decimals as tell the runs apart and the exact value in a title;
// an accuracy the confusion matrix counts as the rows it got right.
func TestReportScores(t *testing.T) {
	s := openTemp(t)
	for _, spec := range []struct {
		name    string
		metrics map[string]float64
		counts  [][]int
	}{
		{"forest", map[string]float64{"test_accuracy": 141.0 / 143, "test_log_loss": 0.05}, [][]int{{89, 1}, {1, 52}}},
		{"knn", map[string]float64{"test_accuracy": 0.9859, "test_log_loss": 0.07}, nil},
		{"tree", map[string]float64{"test_accuracy": 0.944056, "test_log_loss": 0.2}, nil},
	} {
		r, err := s.StartRun("bc", &RunOptions{Name: spec.name})
		if err != nil {
			t.Fatal(err)
		}
		r.LogMetrics(spec.metrics, 0)
		if spec.counts != nil {
			b, _ := json.Marshal(ConfusionArtifact{Classes: []string{"benign", "malignant"}, Counts: spec.counts})
			if err := r.LogArtifact("test_"+ConfusionArtifactName, "confusion_matrix", b); err != nil {
				t.Fatal(err)
			}
		}
		r.Finish()
	}
	page := reportPage(t, s, ReportOptions{Experiment: "bc"})
	checkPage(t, page, []string{
		// 98.601 % and 98.59 % need two decimals to differ.
		`with test_accuracy <span class="big" title="0.986014">98.60` + "\u00a0%</span> (141 of 143 test rows)",
		`<th>test_accuracy</th><td class="num" title="0.986014">98.60` + "\u00a0% (141 of 143 test rows)</td>",
		`<td class="num" title="0.9859">98.59` + "\u00a0%</td>",
		`<td class="num" title="0.944056">94.41` + "\u00a0%</td>",
		// A loss is no proportion: its number as it was.
		`<td class="num">0.07</td>`,
		"the share of cases the model got right (100 % means all), on held-out test data",
		// The charts say it in percent too: bar values, axis ticks.
		"98.60\u00a0%</text>", "100 %</text>",
	}, []string{">0.986014<", " 0.986014<"})

	// An "accuracy" logged in percent is not a share: left as it is.
	s2 := openTemp(t)
	r, err := s2.StartRun("bc", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.LogMetric("accuracy", 98.6, 0)
	r.Finish()
	checkPage(t, reportPage(t, s2, ReportOptions{Experiment: "bc"}), []string{`<span class="big">98.6</span>`}, []string{"\u00a0%"})
}

// A cross-validation's mean is shown with its spread over the folds,
// their number from cv.k or from its fold runs.
func TestReportSpread(t *testing.T) {
	s := openTemp(t)
	for _, spec := range []struct {
		name      string
		params    map[string]any
		mean, std float64
		folds     int
	}{
		{"cv logistic", map[string]any{"cv.k": 5}, 0.974145, 0.0137481, 0},
		{"cv forest", nil, 0.955, 0.02, 3},
	} {
		r, err := s.StartRun("bc", &RunOptions{Name: spec.name, Params: spec.params})
		if err != nil {
			t.Fatal(err)
		}
		r.LogMetrics(map[string]float64{"mean_accuracy": spec.mean, "std_accuracy": spec.std}, 0)
		for i := 0; i < spec.folds; i++ {
			c, err := s.StartRun("bc", &RunOptions{Name: fmt.Sprintf("fold %d", i), ParentID: r.ID()})
			if err != nil {
				t.Fatal(err)
			}
			c.Finish()
		}
		r.Finish()
	}
	page := reportPage(t, s, ReportOptions{Experiment: "bc"})
	checkPage(t, page, []string{
		`97.4` + "\u00a0%</span> ± 1.4 over 5 folds",
		`<th>mean_accuracy</th><td class="num" title="0.974145">97.4` + "\u00a0% ± 1.4 over 5 folds</td>",
		`97.4` + "\u00a0%" + `<br><span class="spread">± 1.4 over 5 folds</span></td>`,
		`95.5` + "\u00a0%" + `<br><span class="spread">± 2.0 over 3 folds</span></td>`,
	}, nil)
}

// A binary score says which class it is about: the positive one, the
// second of the classes by code, named by the confusion matrix or the
// levels of the training data's target; not when runs disagree or the
// classes are numbers other than 0 and 1.
func TestReportPositiveClass(t *testing.T) {
	page := func(classes []string, levels bool) string {
		s := openTemp(t)
		r, err := s.StartRun("bc", nil)
		if err != nil {
			t.Fatal(err)
		}
		r.LogMetrics(map[string]float64{"test_accuracy": 0.9, "test_f1": 0.8, "test_roc_auc": 0.95}, 0)
		if levels {
			content := []byte("x,diagnosis\n1,benign\n2,malignant\n")
			sum := fmt.Sprintf("%x", sha256.Sum256(content))
			if _, err := r.logDatasetSum(RoleTrain, "train", sum, len(content), func() []byte { return content }, DatasetInfo{Format: "csv", Rows: 2, Cols: 2, Columns: []string{"x", "diagnosis"}}, [][]string{nil, classes}); err != nil {
				t.Fatal(err)
			}
		} else {
			b, _ := json.Marshal(ConfusionArtifact{Classes: classes, Counts: [][]int{{5, 1}, {1, 3}}})
			if err := r.LogArtifact("test_"+ConfusionArtifactName, "confusion_matrix", b); err != nil {
				t.Fatal(err)
			}
		}
		r.Finish()
		return reportPage(t, s, ReportOptions{Experiment: "bc"})
	}
	f1 := "<strong>test_f1</strong>: a balance of precision and recall (100 % is perfect), for the class malignant (the positive class), on held-out test data"
	auc := "(100 % is perfect, 50 % is chance), the positive class being malignant, on held-out"
	checkPage(t, page([]string{"benign", "malignant"}, false), []string{f1, auc}, nil)
	checkPage(t, page([]string{"benign", "malignant"}, true), []string{f1, auc}, nil)
	checkPage(t, page([]string{"0", "1"}, false), []string{"for the class 1 (the positive class)"}, nil)
	checkPage(t, page([]string{"1", "2"}, false), nil, []string{"positive class"})
}

// The shape of the training data autologging records (data.rows,
// data.cols) is said in words, with the column to predict when the
// run's training data has as many columns.
func TestReportDataShape(t *testing.T) {
	page := func(cols int, columns []string, levels [][]string) string {
		s := openTemp(t)
		r, err := s.StartRun("bc", &RunOptions{Name: "pipeline", Params: map[string]any{"cv.k": 5, "data.rows": 3, "data.cols": cols, "logisticregression.C": 1}})
		if err != nil {
			t.Fatal(err)
		}
		content := []byte(strings.Join(columns, ",") + "\n1,2,benign\n3,4,malignant\n5,6,benign\n")
		sum := fmt.Sprintf("%x", sha256.Sum256(content))
		if _, err := r.logDatasetSum(RoleTrain, "train", sum, len(content), func() []byte { return content },
			DatasetInfo{Format: "csv", Rows: 3, Cols: len(columns), Columns: columns}, levels); err != nil {
			t.Fatal(err)
		}
		r.LogMetric("test_accuracy", 0.9, 0)
		r.Finish()
		return regexp.MustCompile(`(?s)<h2>Best run</h2>.*?Full run id`).FindString(reportPage(t, s, ReportOptions{Experiment: "bc"}))
	}
	target := [][]string{nil, nil, {"benign", "malignant"}}
	checkPage(t, page(3, []string{"m01", "m02", "diagnosis"}, target),
		[]string{"<p>Its settings:</p>\n<div class=\"scroll\"><table><tr><th>training data</th><td>3 rows, 3 columns (2 measurements and diagnosis, the column to predict)</td></tr>", "<th>logisticregression.C</th>"},
		[]string{"<th>data.rows</th>", "<th>data.cols</th>"})
	// A categorical feature is no measurement.
	checkPage(t, page(3, []string{"m01", "m02", "diagnosis"}, [][]string{{"a", "b"}, nil, {"benign", "malignant"}}),
		[]string{"3 rows, 3 columns (2 other columns and diagnosis, the column to predict)"}, nil)
	// A matrix's target has no name worth saying.
	checkPage(t, page(3, []string{"c0", "c1", "c2"}, nil),
		[]string{"3 rows, 3 columns (2 measurements and the column to predict, the last one)"}, nil)
	// Data of another width is not the data the params describe.
	checkPage(t, page(4, []string{"m01", "m02", "diagnosis"}, target),
		[]string{"<tr><th>training data</th><td>3 rows, 4 columns</td></tr>"}, []string{"column to predict"})
}

// What the table of runs leaves out is summed up, not listed: many
// settings counted by the step they belong to, many metrics as the first
// few and how many more; the technical details list them all.
func TestReportLeftOut(t *testing.T) {
	s := openTemp(t)
	for i := range 3 {
		p := map[string]any{"cv.k": 3 + i, "cv.seed": i, "note": fmt.Sprint("try ", i)}
		for _, k := range []string{"Criterion", "MaxBins", "MaxDepth", "MinSamplesLeaf", "NTrees", "Seed"} {
			p["randomforestclassifier."+k] = i
		}
		for _, k := range []string{"C", "MaxIter", "Penalty"} {
			p["logisticregression."+k] = i
		}
		m := map[string]float64{"test_accuracy": 0.9 + 0.01*float64(i)}
		for _, k := range []string{"f1", "precision", "recall", "roc_auc", "log_loss", "balanced_accuracy", "f1_macro", "f1_weighted", "mcc"} {
			m["test_"+k] = 0.8 + 0.01*float64(i)
		}
		r, err := s.StartRun("bc", &RunOptions{Name: fmt.Sprint("run ", i), Params: p})
		if err != nil {
			t.Fatal(err)
		}
		r.LogMetrics(m, 0)
		r.Finish()
	}
	page := reportPage(t, s, ReportOptions{Experiment: "bc"})
	note := regexp.MustCompile(`<p class="meta">(Not shown in the table: .*?)</p>`).FindStringSubmatch(page)
	if note == nil {
		t.Fatal("no note of what the table leaves out")
	}
	want := "Not shown in the table: 6 metrics (test_f1_weighted, test_log_loss, test_mcc and 3 more); 8 settings (randomforestclassifier: 6 settings, logisticregression: 2 settings). The technical details at the end list them all."
	if !strings.HasPrefix(note[1], want) {
		t.Errorf("note\n%q, want\n%q", note[1], want)
	}
	if strings.Contains(note[1], "randomforestclassifier.") {
		t.Errorf("note %q names each setting of a step", note[1])
	}
	tech := regexp.MustCompile(`(?s)<details class="tech">.*?</details>`).FindString(page)
	checkPage(t, tech, []string{"<p>Not shown in the table of all runs:</p>", "randomforestclassifier.MinSamplesLeaf", "logisticregression.Penalty"}, nil)
}

func TestSettingGroups(t *testing.T) {
	got := settingGroups([]string{"steps", "cv.k", "cv.seed", "knn.K", "randomforestclassifier.A", "randomforestclassifier.B", "randomforestclassifier.C", "note"})
	want := []string{"randomforestclassifier: 3 settings", "cross-validation: 2 settings", "steps", "knn.K", "note"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("settingGroups = %q, want %q", got, want)
	}
}

// Decimals are chosen per table: a cross-validation's mean accuracy in
// the table of runs has the one decimal its neighbours need, whatever
// the decimals the trials of a grid search need in theirs.
func TestReportDecimalsPerTable(t *testing.T) {
	s := openTemp(t)
	cv, err := s.StartRun("bc", &RunOptions{Name: "cv pipeline", Params: map[string]any{"cv.k": 5}})
	if err != nil {
		t.Fatal(err)
	}
	cv.LogMetrics(map[string]float64{"mean_accuracy": 0.974145, "std_accuracy": 0.0137481}, 0)
	cv.Finish()
	search, err := s.StartRun("bc", &RunOptions{Name: "gridsearch(pipeline)", Params: map[string]any{"search.metric": "accuracy", "cv.k": 5}})
	if err != nil {
		t.Fatal(err)
	}
	// 97.412 % and 97.414 %: three decimals to tell apart.
	for i, mean := range []float64{0.97414, 0.97412, 0.95} {
		c, err := s.StartRun("bc", &RunOptions{Name: fmt.Sprint("trial ", i), ParentID: search.ID(), Params: map[string]any{"C": i}})
		if err != nil {
			t.Fatal(err)
		}
		c.LogMetrics(map[string]float64{"mean_accuracy": mean, "std_accuracy": 0.01, "rank": float64(i + 1)}, 0)
		c.Finish()
	}
	search.LogMetrics(map[string]float64{"best_accuracy": 0.97414}, 0)
	search.Finish()
	page := reportPage(t, s, ReportOptions{Experiment: "bc", Metric: "best_accuracy"})
	runsTable := regexp.MustCompile(`(?s)<h2>All runs</h2>.*?</table>`).FindString(page)
	checkPage(t, runsTable, []string{
		`<td class="num" title="0.974145">97.4` + "\u00a0%" + `<br><span class="spread">± 1.4 over 5 folds</span></td>`,
		`<td class="num" title="0.97414">97.4` + "\u00a0%</td>",
	}, []string{"97.414", "97.415"})
	trials := regexp.MustCompile(`(?s)<h2>Grid search trials</h2>.*?</table>`).FindString(page)
	checkPage(t, trials, []string{
		"<th>± std (<wbr>points)</th>",
		`<td class="num" title="0.97414">97.414` + "\u00a0%</td>",
		`<td class="num" title="0.97412">97.412` + "\u00a0%</td>",
		`<td class="num" title="0.01">± 1.000</td>`,
	}, []string{"points</td>"})
}

// TestReportHelpSaysHowTheMetricIsChosen checks that report -h tells the
// rules pickMetric follows, each with a case that shows the rule.
func TestReportHelpSaysHowTheMetricIsChosen(t *testing.T) {
	var help bytes.Buffer
	if err := ReportCommand([]string{"-h"}, &help); err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(help.String()), " ")
	with := func(n int, keys ...string) []RunInfo {
		var out []RunInfo
		for range n {
			m := map[string]float64{}
			for _, k := range keys {
				m[k] = 1
			}
			out = append(out, RunInfo{Metrics: m})
		}
		return out
	}
	tests := []struct {
		says string
		runs []RunInfo
		want string
	}{
		{"by default a score on held-out test data", append(with(2, "test_accuracy"), with(2, "mean_accuracy")...), "test_accuracy"},
		{"else a validation score", append(with(2, "val_accuracy"), with(2, "mean_accuracy")...), "val_accuracy"},
		{"a grid search's best", with(1, "best_accuracy", "accuracy"), "best_accuracy"},
		{"fewer than half as many runs recorded as the score most runs recorded is passed over",
			append(with(2, "test_accuracy", "mean_accuracy"), with(8, "mean_accuracy")...), "mean_accuracy"},
		{"Without a score, it is the metric most runs have", append(with(2, "epoch"), with(1, "lr")...), "epoch"},
	}
	for _, tt := range tests {
		t.Run(tt.says, func(t *testing.T) {
			if !strings.Contains(text, tt.says) {
				t.Errorf("report -h does not say %q:\n%s", tt.says, help.String())
			}
			if got := pickMetric(tt.runs); got != tt.want {
				t.Errorf("pickMetric = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestReportChildrenAndTies checks that the summary words child runs by
// what their parents are, and that the best run's box names a few of
// the runs tied with it and counts the others.
func TestReportChildrenAndTies(t *testing.T) {
	tests := []struct {
		name     string
		parent   map[string]string // tags of the parent run
		children int
		tied     int // top-level runs with the best score, besides the best
		want     []string
		notWant  []string
	}{
		{"grid search trials", map[string]string{"autolog": "grid_search"}, 3, 0,
			[]string{"3 child runs (3 trials of grid searches): they are parts of their parent run, not models of their own"}, []string{"folds", "started under"}},
		{"cross-validation folds", map[string]string{"autolog": "cross_validate"}, 1, 0,
			[]string{"1 child run (1 fold of a cross-validation)"}, []string{"trials", "started under"}},
		{"children started by hand", nil, 2, 0,
			[]string{"2 child runs (2 runs started under other runs): they are parts of their parent run, so they are not ranked here"},
			[]string{"trials of grid searches", "folds of cross-validations"}},
		{"a few ties are all named", nil, 0, 3, []string{"It is tied with tied 2 (id ", "tied 0 (id "}, []string{"others"}},
		{"many ties are counted", nil, 0, 160, []string{"tied 159 (id ", "tied 155 (id ", "and 155 others (same accuracy"}, []string{"tied 154 (id "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTemp(t)
			start := time.Now().Add(-time.Hour)
			at := func(i int) *RunOptions {
				return &RunOptions{times: runTimes{start: start.Add(time.Duration(i) * time.Second), end: start.Add(time.Duration(i)*time.Second + time.Millisecond)}}
			}
			for i := 0; i < tt.tied; i++ {
				o := at(i)
				o.Name = fmt.Sprintf("tied %d", i)
				r, err := s.StartRun("x", o)
				if err != nil {
					t.Fatal(err)
				}
				r.LogMetric("accuracy", 0.9, 0)
				r.Finish()
			}
			o := at(tt.tied)
			o.Name, o.Tags = "best", tt.parent
			p, err := s.StartRun("x", o)
			if err != nil {
				t.Fatal(err)
			}
			p.LogMetric("accuracy", 0.9, 0)
			for i := 0; i < tt.children; i++ {
				c, err := p.StartChild(fmt.Sprintf("child %d", i))
				if err != nil {
					t.Fatal(err)
				}
				c.Finish()
			}
			p.Finish()
			page := html.UnescapeString(reportPage(t, s, ReportOptions{Experiment: "x", Metric: "accuracy"}))
			for _, w := range tt.want {
				if !strings.Contains(page, w) {
					t.Errorf("report lacks %q", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(page, w) {
					t.Errorf("report has %q", w)
				}
			}
		})
	}
}
