package tracking

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash"
	"html/template"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gopherlab/gopherlab/experiments"
	"github.com/gopherlab/gopherlab/internal/atomicfile"
	"github.com/gopherlab/gopherlab/internal/plotstyle"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// ReportOptions select what a report shows.
type ReportOptions struct {
	Experiment string // required
	Filter     string // only runs matching this filter
	Metric     string // the metric runs are judged by; "" picks one
	Goal       string // "max" or "min"; "" guesses from the metric name
	Top        int    // runs drawn in the charts; 0 means 10, negative is an error
	Title      string // "" means "Experiment report: NAME"
}

// lowerIsBetter guesses the direction of a metric from its name.
func lowerIsBetter(metric string) bool {
	m := strings.ToLower(metric)
	for _, w := range []string{"loss", "error", "err", "rmse", "mse", "mae", "mape", "perplexity", "time", "latency", "duration", "cost", "regret"} {
		if strings.Contains(m, w) {
			return true
		}
	}
	return false
}

// Kinds of metric, by what they say about a model, most telling first:
// the names autologging writes (see Autologger and autolog_eval.go) and
// the usual ones of hand-written logging.
const (
	metricTest       = iota // test_*: a score on held-out data
	metricValidation        // val_*: a score on validation data
	metricCVMean            // mean_*: a cross-validation's mean score
	metricSearchBest        // best_*: a grid search's best mean score
	metricOther             // accuracy, loss, ...: we cannot tell on what data
	metricSpread            // std_*, best_std_*, train_*: spread, or a score on the training data
	metricDetail            // fold_* (the last fold's score), rank, timings
)

var metricPrefixes = []struct {
	prefix string
	kind   int
}{
	{"best_std_", metricSpread}, {"std_", metricSpread}, {"train_", metricSpread}, {"eval_", metricSpread},
	{"test_", metricTest}, {"val_", metricValidation}, {"valid_", metricValidation}, {"validation_", metricValidation},
	{"mean_", metricCVMean}, {"best_", metricSearchBest}, {"fold_", metricDetail},
}

// metricKind classifies a metric name and returns what it measures
// (test_accuracy: accuracy).
func metricKind(k string) (int, string) {
	// Timings (IsTiming) describe a run; they do not rank models.
	if IsTiming(k) || k == "rank" {
		return metricDetail, k
	}
	for _, p := range metricPrefixes {
		if base, ok := strings.CutPrefix(k, p.prefix); ok && base != "" {
			return p.kind, base
		}
	}
	return metricOther, k
}

// scoreKinds are the usual measures of a model, the one to rank by first.
var scoreKinds = []string{"accuracy", "acc", "f1_macro", "f1", "f1_weighted", "roc_auc", "auc", "r2", "score",
	"log_loss", "loss", "rmse", "mse", "mae"}

// metricWhat says in words what a chosen metric of a kind is.
var metricWhat = map[int]string{
	metricTest:       "the score on held-out test data",
	metricValidation: "the score on validation data",
	metricCVMean:     "the mean score of a cross-validation",
	metricSearchBest: "the best mean score of a grid search",
}

// pickMetric chooses the metric to judge runs by: held-out test scores
// first (what autologging logs for a metric computed on a fitted model's
// predictions), then validation scores, cross-validation means, grid
// search bests and plain scores; within a kind accuracy before F1, R²
// and losses. A score recorded by fewer than half as many runs as the
// most common one is passed over, since it would rank few runs. Without
// a score it is the metric most runs have, timings aside.
func pickMetric(runs []RunInfo) string {
	count := map[string]int{}
	for _, r := range runs {
		for k := range r.Metrics {
			count[k]++
		}
	}
	if len(count) == 0 {
		return ""
	}
	if c := scoreCandidates(count); len(c) > 0 {
		return c[0]
	}
	keys := make([]string, 0, len(count))
	for k := range count {
		if !IsTiming(k) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return ""
	}
	sort.Slice(keys, func(i, j int) bool {
		if count[keys[i]] != count[keys[j]] {
			return count[keys[i]] > count[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys[0]
}

// scoreCandidates returns the metrics that could rank runs, given how
// many runs recorded each, best first (see pickMetric).
func scoreCandidates(count map[string]int) []string {
	type cand struct {
		k           string
		kind, score int
	}
	var cands []cand
	most := 0
	for k, n := range count {
		kind, base := metricKind(k)
		score := slices.Index(scoreKinds, base)
		// test_precision is a score; a plain "epoch" is not.
		if kind > metricOther || (score < 0 && kind == metricOther) {
			continue
		}
		if score < 0 {
			score = len(scoreKinds)
		}
		cands = append(cands, cand{k, kind, score})
		most = max(most, n)
	}
	cands = slices.DeleteFunc(cands, func(c cand) bool { return 2*count[c.k] < most })
	sort.Slice(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.kind != b.kind {
			return a.kind < b.kind
		}
		if a.score != b.score {
			return a.score < b.score
		}
		if count[a.k] != count[b.k] {
			return count[a.k] > count[b.k]
		}
		return a.k < b.k
	})
	out := make([]string, len(cands))
	for i, c := range cands {
		out[i] = c.k
	}
	return out
}

// ReportCommand implements "gopherlab report EXPERIMENT -o report.html":
// one self-contained HTML file (no scripts, no network) with the runs of
// an experiment, the best run, charts, the data used and the code.
func ReportCommand(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	db := fs.String("db", DefaultDBPath(), "")
	out := fs.String("o", "report.html", "")
	var opts ReportOptions
	fs.StringVar(&opts.Filter, "filter", "", "")
	fs.StringVar(&opts.Metric, "metric", "", "")
	fs.StringVar(&opts.Goal, "goal", "", "")
	fs.IntVar(&opts.Top, "top", 10, "")
	fs.StringVar(&opts.Title, "title", "", "")
	usage := `usage: gopherlab report EXPERIMENT [-o report.html] [-db PATH] [-metric NAME] [-goal max|min] [-filter EXPR] [-top N] [-title TEXT]

Writes one HTML file that opens in any browser without network access: a
summary in plain words, the best run, charts, all runs, the data they used
and the code that produced the best one. "-o -" writes to standard output.
An existing -o file is replaced only if it is a report written earlier;
the tracking database and other files are never overwritten.
Runs are ranked by -metric, by default a score on held-out test data
(test_accuracy, ...), else a validation score (val_accuracy, ...), a
cross-validation mean (mean_accuracy, ...), a grid search's best
(best_accuracy, ...) or a plain score (accuracy, ...). A score that fewer
than half as many runs recorded as the score most runs recorded is passed
over, since it would rank few runs: a test_accuracy of 2 runs yields to
the mean_accuracy of 10. Without a score, it is the metric most runs have.
Runs with the same score are ranked newest first, as runs list -order
ranks them, and the best run says it is tied.
`
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		io.WriteString(stdout, usage)
		return nil
	}
	if err != nil {
		return fmt.Errorf("report: %v\n%s", err, usage)
	}
	if len(pos) != 1 {
		return fmt.Errorf("report: want one experiment name\n%s", usage)
	}
	if opts.Top < 1 {
		return fmt.Errorf("report: -top %d: want 1 or more runs", opts.Top)
	}
	opts.Experiment = pos[0]
	if *out != "-" {
		// Checked before the report is made, so a wrong -o fails fast.
		if err := checkReportOutput(*out, *db); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	var buf bytes.Buffer
	err = readStore(*db, func(s *Store) error {
		buf.Reset()
		return s.WriteReport(&buf, opts)
	})
	if err != nil {
		return fmt.Errorf("report: %w", explain(err))
	}
	if *out == "-" {
		_, err := stdout.Write(buf.Bytes())
		return err
	}
	if err := checkReportOutput(*out, *db); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := writeFileAtomic(*out, buf.Bytes()); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s (%s)\n", *out, formatBytes(int64(buf.Len())))
	return nil
}

// reportGenerator marks the HTML files the report writes: only such a
// file may be replaced by a new report.
const reportGenerator = `<meta name="generator" content="gopherlab">`

// checkReportOutput refuses to let a report replace the tracking database
// it reads (a mistyped -o gopherlab.db would destroy every run) or any
// existing file that is not a report written earlier. A path that does
// not exist yet is fine.
func checkReportOutput(out, db string) error {
	fi, err := os.Stat(out)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("-o %s: %w", out, err)
	}
	if fi.IsDir() {
		return fmt.Errorf("-o %s is a directory: name the HTML file to write, such as %s", out, filepath.Join(out, "report.html"))
	}
	// The database under another name (a link, a relative path) is the
	// same file too.
	if dbi, err := os.Stat(db); err == nil && os.SameFile(fi, dbi) {
		return fmt.Errorf("-o %s is the tracking database the report reads (%s): refusing to overwrite it; choose another output file such as report.html", out, db)
	}
	f, err := os.Open(out)
	if err != nil {
		return fmt.Errorf("-o %s: %w", out, err)
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return fmt.Errorf("-o %s: %w", out, err)
	}
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("SQLite format 3\x00")):
		return fmt.Errorf("-o %s is an existing SQLite database: refusing to overwrite it with a report; choose another output file such as report.html", out)
	case !bytes.Contains(head, []byte(reportGenerator)):
		return fmt.Errorf("-o %s exists and is not a report gopherlab wrote: refusing to overwrite it; remove it or choose another output file", out)
	}
	return nil
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it over path, so a failed write leaves no truncated file and a reader
// sees the old report or the new one.
func writeFileAtomic(path string, data []byte) error {
	// Readable by all: a report is to share.
	err := atomicfile.Write(path, 0o644, func(w io.Writer) error { _, err := w.Write(data); return err })
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// report is what the template shows.
type report struct {
	Title, Experiment, DB, Generated string
	Summary                          []string
	Metric                           string
	LowerBetter                      bool
	Best                             *reportRun
	Confusion                        *reportConfusion
	Trials                           *reportTrials
	Charts                           []reportChart
	Columns                          []string
	Rows                             []reportRow
	TableNote                        string
	TableLeft                        [][2]string // what the table leaves out, in full: metrics, settings
	Glossary                         [][2]string
	Problems                         []reportRun
	Datasets                         []reportDataset
	DataNote                         string
	Source                           string
	SourceWhere                      string
	GoVersion                        string
	Modules                          [][2]string
}

type reportRun struct {
	ID, Short, Name, Status, Error, Duration, Started string
	Model                                             string      // what model it is, when its name does not say
	Plumbing                                          [][2]string // params left to the technical details
	Tied                                              string      // the runs as good as the best
	Value                                             string
	ValueExact                                        string // Value's exact number, when Value rounds it
	ValueNote                                         string // what Value counts: "(141 of 143 test rows)"
	Params                                            [][2]string
	Metrics                                           [][4]string // name, value, what it means, exact value
	Timings                                           string
	Inputs                                            []string
}

// reportConfusion is the best run's confusion matrix, as a table shaded
// by the share of each true class predicted as each class.
type reportConfusion struct {
	Title, Intro string
	Classes      []string
	Rows         []reportConfRow
	// What an accuracy on the same data counts: right of total rows,
	// named by rows ("test rows").
	prefix, rows string
	right, total int
}

type reportConfRow struct {
	Class string
	Cells []reportConfCell
}

type reportConfCell struct {
	Count   int
	Shade   template.CSS
	Correct bool
}

// confusionOf reads the confusion matrix autologging recorded on a run,
// preferring the one on test data; nil if there is none.
func (s *Store) confusionOf(runID string) (*reportConfusion, error) {
	arts, err := s.Artifacts(runID)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, a := range arts {
		have[a.Name] = true
	}
	for _, k := range []struct{ prefix, title, data, rows string }{
		{"test_", "Confusion matrix on the test data", "test rows", "test rows"},
		{"eval_", "Confusion matrix on evaluation data that includes training rows", "evaluation rows (some of them used in training, so this flatters the model)", "evaluation rows"},
		{"train_", "Confusion matrix on the training data", "training rows (the model has seen them, so this flatters it)", "training rows"},
	} {
		name := k.prefix + ConfusionArtifactName
		if !have[name] {
			continue
		}
		b, err := s.ReadArtifact(runID, name)
		if err != nil {
			return nil, err
		}
		var ca ConfusionArtifact
		if err := json.Unmarshal(b, &ca); err != nil || len(ca.Counts) != len(ca.Classes) {
			return nil, fmt.Errorf("tracking: run %s: artifact %s: %w", ShortID(runID), name, ErrCorrupt)
		}
		c := &reportConfusion{Title: k.title, Classes: ca.Classes, prefix: k.prefix, rows: k.rows}
		total, right := 0, 0
		for i, row := range ca.Counts {
			if len(row) != len(ca.Classes) {
				return nil, fmt.Errorf("tracking: run %s: artifact %s: %w", ShortID(runID), name, ErrCorrupt)
			}
			n := 0
			for _, v := range row {
				n += v
			}
			r := reportConfRow{Class: ca.Classes[i]}
			for j, v := range row {
				share := 0.0
				if n > 0 {
					share = float64(v) / float64(n)
				}
				r.Cells = append(r.Cells, reportConfCell{Count: v, Correct: i == j,
					Shade: template.CSS(fmt.Sprintf("background-color: rgba(31, 119, 180, %.2f)", 0.08+0.8*share))})
				if i == j {
					right += v
				}
			}
			total += n
			c.Rows = append(c.Rows, r)
		}
		c.right, c.total = right, total
		c.Intro = fmt.Sprintf("Each row is the true class and each column the class the model predicted, over %d %s: the diagonal counts the right predictions (%d of %d), the other cells the mistakes, which classes were taken for which. The darker a cell, the larger the share of its row.", total, k.data, right, total)
		return c, nil
	}
	return nil, nil
}

// reportTrials shows the trials of a best run that is a grid search.
type reportTrials struct {
	Intro   string
	Chart   *reportChart
	Note    string // why there is no chart
	Columns []string
	Rows    [][]reportCell // the best trials
	More    [][]reportCell // the others, folded away
}

type reportChart struct {
	Title, Caption string
	SVG            template.HTML
}

type reportRow struct {
	Best  bool
	Cells []reportCell
	Title string
}

type reportCell struct {
	Text  string
	Num   bool
	Break bool   // may wrap after ( . _ as well as at spaces (see breakable)
	Title string // the exact value of a rounded score
	Note  string // under the value: a cross-validation's spread
}

type reportDataset struct {
	Role, Name, Size, Columns, SHA, UsedBy string
}

// WriteReport writes the HTML report of an experiment to w.
func (s *Store) WriteReport(w io.Writer, opts ReportOptions) error {
	s.catchUp()
	if opts.Experiment == "" {
		return errors.New("tracking: report: no experiment given")
	}
	top := opts.Top
	if top < 0 {
		return fmt.Errorf("top %d: want the number of runs to chart (0 means 10)", top)
	}
	if top == 0 {
		top = 10
	}
	if err := checkExperiment(s, opts.Experiment); err != nil {
		return err
	}
	runs, err := s.SearchRuns(SearchQuery{Experiment: opts.Experiment, Filter: opts.Filter, OrderBy: "start_time"})
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		if opts.Filter != "" {
			return fmt.Errorf("experiment %q has no runs matching the filter", opts.Experiment)
		}
		return fmt.Errorf("experiment %q has no runs", opts.Experiment)
	}
	// Child runs (cross-validation folds, search trials) are parts of
	// their parent: a fold is not a model to pick, so rank top-level runs.
	var topLevel, children []RunInfo
	for _, r := range runs {
		if r.ParentID == "" {
			topLevel = append(topLevel, r)
		} else {
			children = append(children, r)
		}
	}
	if len(topLevel) > 0 {
		runs = topLevel
	} else {
		children = nil
	}
	metric := opts.Metric
	if metric == "" {
		metric = pickMetric(runs)
	} else if !hasMetric(runs, metric) {
		return unknownMetricError(opts, metric, runs, children)
	}
	lower := lowerIsBetter(metric)
	switch opts.Goal {
	case "":
	case "min":
		lower = true
	case "max":
		lower = false
	default:
		return fmt.Errorf("goal %q: want max or min", opts.Goal)
	}
	better := func(a, b float64) bool {
		if math.IsNaN(b) {
			return !math.IsNaN(a)
		}
		if lower {
			return a < b
		}
		return a > b
	}
	// Ranked: finished runs with the metric, best first; then the runs
	// that failed, were interrupted or still run, with the metric, best
	// first, unranked: a run that crashed may have logged a fine score
	// before it broke, but it produced no model to pick. Then the others
	// by time.
	group := func(r RunInfo) int {
		_, ok := r.Metrics[metric]
		switch {
		case ok && r.Status == StatusFinished:
			return 0
		case ok:
			return 1
		}
		return 2
	}
	// Ties go to the newest run, as SearchRuns orders them (OrderBy
	// "metrics.X DESC" and `gopherlab runs list -order`), so that the
	// report and a query name the same best run.
	newest, err := s.SearchRunIDs(SearchQuery{Experiment: opts.Experiment, Filter: opts.Filter})
	if err != nil {
		return err
	}
	age := map[string]int{}
	for i, id := range newest {
		age[id] = i
	}
	ranked := append([]RunInfo(nil), runs...)
	sort.SliceStable(ranked, func(i, j int) bool {
		gi, gj := group(ranked[i]), group(ranked[j])
		if gi != gj {
			return gi < gj
		}
		if gi == 2 {
			return false
		}
		a, b := ranked[i].Metrics[metric], ranked[j].Metrics[metric]
		if better(a, b) || better(b, a) {
			return better(a, b)
		}
		return age[ranked[i].ID] < age[ranked[j].ID]
	})
	// withMetric counts the finished runs with a value: those that can be
	// best, at the start of ranked.
	withMetric, rankable := 0, 0
	for _, r := range ranked {
		if group(r) != 0 {
			break
		}
		rankable++
		if !math.IsNaN(r.Metrics[metric]) {
			withMetric++
		}
	}
	labels := runLabels(ranked)
	// What is a percentage is decided by the whole page, trials
	// included; the decimals by the runs of each table (see within): the
	// table of runs, the best run and the charts show the runs, the
	// trials' table its own.
	fm := newScoreFormat(append(slices.Clone(runs), children...)).within(runs)

	rep := &report{
		Title:       opts.Title,
		Experiment:  opts.Experiment,
		DB:          s.Path(),
		Generated:   time.Now().Format("2006-01-02 15:04 MST"),
		Metric:      metric,
		LowerBetter: lower,
	}
	if rep.Title == "" {
		rep.Title = "Experiment report: " + opts.Experiment
	}
	rep.Summary = summarize(runs, metric, lower, withMetric, opts.Filter)
	if metric != "" && withMetric == 0 {
		rep.Summary = append(rep.Summary, fmt.Sprintf("No finished run has a value of %s, so there is no best run.", metric))
	}
	if opts.Metric == "" && metric != "" {
		rep.Summary = append(rep.Summary, chosenNote(runs, metric))
	}

	inputs := map[string][]DatasetInput{}
	for _, r := range runs {
		ins, err := s.Inputs(r.ID)
		if err != nil {
			return err
		}
		inputs[r.ID] = ins
	}
	if fm.positive, err = s.positiveOf(runs, inputs); err != nil {
		return err
	}

	if len(children) > 0 {
		note, err := s.childrenNote(runs, children)
		if err != nil {
			return err
		}
		rep.Summary = append(rep.Summary, note)
	}
	if withMetric > 0 {
		b := ranked[0]
		rep.Best = describeRun(&b, metric, inputs[b.ID], fm)
		if n := readerName(b); n != "" {
			rep.Best.Name = n
		}
		if m := modelOf(b); m != "" && m != readerName(b) {
			rep.Best.Model = m
		}
		// Runs as good as the best: which one is named best is only
		// the tie-break's choice, and the reader should know.
		var tied []string
		others := 0
		for _, r := range ranked[1:rankable] {
			if r.Metrics[metric] == b.Metrics[metric] {
				if len(tied) == maxTiedNamed {
					others++
					continue
				}
				tied = append(tied, fmt.Sprintf("%s (id %s)", cmp.Or(readerName(r), "a run"), r.ShortID()))
			}
		}
		names := strings.Join(tied, ", ")
		if others > 0 {
			names += fmt.Sprintf(" and %d %s", others, map[bool]string{true: "other", false: "others"}[others == 1])
		}
		if len(tied) > 0 {
			rep.Best.Tied = fmt.Sprintf("It is tied with %s (same %s %s): they did equally well, and the report names the newest of them best.",
				names, metric, fm.value(metric, b.Metrics[metric]))
		}
		if rep.Confusion, err = s.confusionOf(b.ID); err != nil {
			return err
		}
		rep.Best.countRight(b, metric, rep.Confusion)
		trials := children
		if opts.Filter != "" {
			// The filter chose the parents; their trials need not match it.
			trials, err = s.SearchRuns(SearchQuery{Experiment: opts.Experiment, Filter: fmt.Sprintf("parent_run_id = %q", b.ID)})
			if err != nil {
				return err
			}
		}
		rep.Trials = describeTrials(b, trials, fm)
	}
	for _, r := range runs {
		if r.Status == StatusFailed || r.Status == StatusKilled {
			rep.Problems = append(rep.Problems, *describeRun(&r, metric, nil, fm))
		}
	}

	// Charts: ranking, histories, what the params did.
	if withMetric > 0 {
		n := min(top, withMetric)
		if svg, err := barChart(ranked[:n], labels[:n], metric, fm); err == nil {
			dir := "higher is better"
			if lower {
				dir = "lower is better"
			}
			title := fmt.Sprintf("Final %s of the %d best runs", metric, n)
			if n == 1 {
				title = fmt.Sprintf("Final %s of the best run", metric)
			}
			rep.Charts = append(rep.Charts, reportChart{
				Title:   title,
				Caption: fmt.Sprintf("Each bar is one run; the best is at the top (%s).", dir),
				SVG:     svg,
			})
		}
	}
	n := min(top, len(ranked))
	drawn := 0
	for _, k := range historyKeys(runs, metric) {
		if drawn == 4 {
			break
		}
		series := "step"
		if strings.HasPrefix(k, "fold_") {
			series = "fold"
		}
		svg, ok, err := historyChart(s, ranked[:n], labels[:n], k, series, fm)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		drawn++
		c := reportChart{
			Title:   fmt.Sprintf("%s during training", k),
			Caption: fmt.Sprintf("How %s changed step by step, one line per run (up to %d runs).", k, n),
			SVG:     svg,
		}
		switch {
		case series == "fold":
			// A cross-validation logs each fold's score as a step: the
			// folds are separate fits on different parts of the data.
			c.Title = fmt.Sprintf("%s in each cross-validation fold", k)
			c.Caption = fmt.Sprintf("The %s of each fold of a cross-validation, one line per run (up to %d runs). Each fold is a separate fit tested on a different part of the data, not a step of training: a wide spread means the score depends on which rows are held out.", strings.TrimPrefix(k, "fold_"), n)
		case strings.HasPrefix(k, "test_"):
			c.Title = fmt.Sprintf("%s each time it was computed", k)
			c.Caption = fmt.Sprintf("Each value of %s, in the order it was computed, one line per run (up to %d runs).", k, n)
		}
		rep.Charts = append(rep.Charts, c)
	}
	if withMetric > 1 {
		rep.Charts = append(rep.Charts, paramCharts(ranked[:withMetric], metric, fm)...)
	}

	// The table of all runs: the columns that tell runs apart, within a
	// width a page can show.
	// Timings are left out (the duration column says how long a run
	// took) and the rest is named below the table, so that the table fits
	// a page without scrolling sideways.
	var metricCands []string
	for _, k := range metricColumns(runs, metric) {
		if !IsTiming(k) && k != "rank" {
			metricCands = append(metricCands, k)
		}
	}
	// A model column when the runs say what model they fitted: run
	// names such as "cv pipeline" do not.
	var models []string
	for _, r := range ranked {
		if m := modelOf(r); m != "" {
			models = make([]string, len(ranked))
			for i, r := range ranked {
				models[i] = modelOf(r)
			}
			break
		}
	}
	// With a model column, the run column has the runs' own names.
	names := labels
	if models != nil {
		names = labelRuns(ranked, func(r RunInfo) string { return r.Name })
	}
	otherMetrics, varying, leftMetrics, leftParams := tableColumns(ranked, names, models, metric, metricCands, paramColumns(runs), fm)
	rep.TableNote = leftOutNote(leftMetrics, leftParams)
	if len(leftMetrics) > 0 {
		rep.TableLeft = append(rep.TableLeft, [2]string{"metrics", strings.Join(leftMetrics, ", ")})
	}
	if len(leftParams) > 0 {
		rep.TableLeft = append(rep.TableLeft, [2]string{"settings", strings.Join(leftParams, ", ")})
	}
	for _, k := range append([]string{metric}, otherMetrics...) {
		if w := fm.explain(k); w != "" {
			rep.Glossary = append(rep.Glossary, [2]string{k, w})
		}
	}
	rep.Columns = []string{"#", "run", "status"}
	if models != nil {
		rep.Columns = append(rep.Columns, "model")
	}
	if metric != "" {
		rep.Columns = append(rep.Columns, metric)
	}
	for _, k := range otherMetrics {
		rep.Columns = append(rep.Columns, k)
	}
	for _, k := range varying {
		rep.Columns = append(rep.Columns, k)
	}
	rep.Columns = append(rep.Columns, "duration", "started")
	for i, r := range ranked {
		rank := ""
		if i < rankable {
			rank = strconv.Itoa(i + 1)
		}
		row := reportRow{Best: i == 0 && withMetric > 0, Title: r.Error}
		name := names[i]
		if r.ParentID != "" {
			name = "↳ " + name
		}
		add := func(text string, num bool) { row.Cells = append(row.Cells, reportCell{Text: text, Num: num}) }
		add(rank, true)
		row.Cells = append(row.Cells, reportCell{Text: name, Break: true})
		add(statusWords(r), false)
		if models != nil {
			row.Cells = append(row.Cells, reportCell{Text: models[i], Break: true})
		}
		if metric != "" {
			c := fm.cell(r, metric)
			c.Note = fm.spread(r, metric)
			row.Cells = append(row.Cells, c)
		}
		for _, k := range otherMetrics {
			c := fm.cell(r, k)
			c.Note = fm.spread(r, k)
			row.Cells = append(row.Cells, c)
		}
		for _, k := range varying {
			_, err := strconv.ParseFloat(r.Params[k], 64)
			add(r.Params[k], err == nil)
		}
		add(runDuration(r), true)
		add(r.StartTime.Local().Format("2006-01-02 15:04"), true) // num: kept on one line
		rep.Rows = append(rep.Rows, row)
	}

	rep.Datasets, rep.DataNote, err = s.summarizeData(runs, inputs)
	if err != nil {
		return err
	}

	// The code of the best run (or the latest one).
	src := ranked[0]
	if withMetric == 0 {
		src = runs[len(runs)-1]
	}
	rep.Source = src.Source
	switch {
	case src.Notebook != "" && src.ExecutionCount != 0:
		rep.SourceWhere = fmt.Sprintf("%s, cell [%d]", src.Notebook, src.ExecutionCount)
	case src.Notebook != "":
		rep.SourceWhere = src.Notebook
	case src.ExecutionCount != 0:
		rep.SourceWhere = fmt.Sprintf("cell [%d] of a notebook without a name", src.ExecutionCount)
	}
	rep.GoVersion = src.GoVersion
	for _, k := range sortedKeys(src.Modules) {
		rep.Modules = append(rep.Modules, [2]string{k, src.Modules[k]})
	}
	return reportTemplate.Execute(w, rep)
}

// describeTrials shows the trials of best when it is a grid search: the
// child runs with a cross-validation mean of the search's metric (what
// autologging records for each candidate). It returns nil for other runs.
func describeTrials(best RunInfo, children []RunInfo, fm *scoreFormat) *reportTrials {
	var trials []RunInfo
	for _, c := range children {
		if c.ParentID == best.ID {
			trials = append(trials, c)
		}
	}
	sm := best.Params["search.metric"]
	if sm == "" {
		// Not autologged: the first cross-validation mean the trials have.
		for _, k := range allMetricKeys(trials) {
			if kind, base := metricKind(k); kind == metricCVMean {
				sm = base
				break
			}
		}
	}
	score := "mean_" + sm
	var scored []RunInfo
	for _, t := range trials {
		if v, ok := t.Metrics[score]; ok && !math.IsNaN(v) {
			scored = append(scored, t)
		}
	}
	if sm == "" || len(scored) < 2 {
		return nil
	}
	lower := lowerIsBetter(sm)
	// The search's own rank, else the score's order.
	sort.SliceStable(scored, func(i, j int) bool {
		ri, oki := scored[i].Metrics["rank"]
		rj, okj := scored[j].Metrics["rank"]
		if oki && okj && ri != rj {
			return ri < rj
		}
		a, b := scored[i].Metrics[score], scored[j].Metrics[score]
		if lower {
			return a < b
		}
		return a > b
	})
	fm = fm.within(scored)
	varied := varyingParams(scored)
	std := "std_" + sm
	var others []string // other cross-validation means, such as mean_f1_macro
	for _, k := range allMetricKeys(scored) {
		if kind, _ := metricKind(k); kind == metricCVMean && k != score && len(others) < 2 {
			others = append(others, k)
		}
	}
	folds := best.Params["cv.k"]
	tr := &reportTrials{Columns: append([]string{"rank"}, varied...)}
	tr.Columns = append(tr.Columns, score)
	if hasMetric(scored, std) {
		tr.Columns = append(tr.Columns, fm.stdHeading(std))
	}
	tr.Columns = append(tr.Columns, others...)
	for i, t := range scored {
		rank := strconv.Itoa(i + 1)
		if v, ok := t.Metrics["rank"]; ok {
			rank = FormatMetric(v)
		}
		row := []reportCell{{Text: rank, Num: true}}
		for _, k := range varied {
			_, err := strconv.ParseFloat(t.Params[k], 64)
			row = append(row, reportCell{Text: t.Params[k], Num: err == nil})
		}
		row = append(row, fm.cell(t, score))
		if hasMetric(scored, std) {
			row = append(row, fm.stdCell(t, std))
		}
		for _, k := range others {
			row = append(row, fm.cell(t, k))
		}
		if i < 10 {
			tr.Rows = append(tr.Rows, row)
		} else {
			tr.More = append(tr.More, row)
		}
	}
	cv := "a cross-validation"
	if folds != "" {
		cv = "a " + folds + "-fold cross-validation"
	}
	tr.Intro = fmt.Sprintf("The best run is a grid search: it tried %d combinations of settings (%s), scored each by the mean %s of %s and kept the best. The trials, best first",
		len(scored), strings.Join(varied, ", "), sm, cv)
	if hasMetric(scored, std) {
		tr.Intro += fmt.Sprintf("; ± is the spread (standard deviation) of %s across the folds", sm)
	}
	tr.Intro += ":"
	chart, note := trialChart(scored, varied, score, sm, fm)
	tr.Chart, tr.Note = chart, note
	return tr
}

// trialChart draws a grid search's score against the setting it varied
// most, one line for each value of a second varied setting. With more
// than two varied settings the lines would mix, so note says to read
// the table instead. trials are sorted best first.
func trialChart(trials []RunInfo, varied []string, score, sm string, fm *scoreFormat) (*reportChart, string) {
	if len(varied) == 0 {
		return nil, ""
	}
	if len(varied) > 2 {
		return nil, fmt.Sprintf("%d settings varied together, too many for one chart: the table shows each combination.", len(varied))
	}
	distinct := func(k string) []string {
		var vals []string
		for _, t := range trials {
			if v := t.Params[k]; !slices.Contains(vals, v) {
				vals = append(vals, v)
			}
		}
		return vals
	}
	numeric := func(k string) bool {
		for _, t := range trials {
			if _, err := strconv.ParseFloat(strings.TrimSpace(t.Params[k]), 64); err != nil {
				return false
			}
		}
		return true
	}
	// x: a numeric setting with the most values, else any with the most.
	x := varied[0]
	for _, k := range varied {
		nk, nx := numeric(k), numeric(x)
		if nk && !nx || nk == nx && len(distinct(k)) > len(distinct(x)) {
			x = k
		}
	}
	xs := distinct(x)
	isNum := numeric(x)
	if isNum {
		sort.Slice(xs, func(i, j int) bool {
			a, _ := strconv.ParseFloat(strings.TrimSpace(xs[i]), 64)
			b, _ := strconv.ParseFloat(strings.TrimSpace(xs[j]), 64)
			return a < b
		})
	} else {
		sort.Strings(xs)
	}
	xOf := func(v string) float64 {
		if isNum {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f
		}
		return float64(slices.Index(xs, v))
	}
	group, groups := "", []string{""}
	if len(varied) == 2 {
		group = varied[0]
		if group == x {
			group = varied[1]
		}
		groups = distinct(group)
		sort.Strings(groups)
		if len(groups) > 8 {
			return nil, fmt.Sprintf("%s has %d values, too many lines for one chart: the table shows each combination.", group, len(groups))
		}
	}
	p := newPlot("", x, "mean "+sm)
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	// The best trial on a disc of the best run's green, drawn first so
	// that its own dot stays on top.
	best := trials[0]
	disc, err := plotter.NewScatter(plotter.XYs{{X: xOf(best.Params[x]), Y: best.Metrics[score]}})
	if err == nil {
		disc.GlyphStyle = draw.GlyphStyle{Color: bestBarColor, Radius: vg.Points(6), Shape: draw.CircleGlyph{}}
		p.Add(disc)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for gi, g := range groups {
		var xy plotter.XYs
		for _, t := range trials {
			if group != "" && t.Params[group] != g {
				continue
			}
			v := t.Metrics[score]
			xy = append(xy, plotter.XY{X: xOf(t.Params[x]), Y: v})
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		sort.Slice(xy, func(i, j int) bool { return xy[i].X < xy[j].X })
		ci := gi
		if ci > 0 {
			ci++ // skip plotutil's green: it marks the best trial
		}
		c := plotutil.Color(ci)
		var thumbs []plot.Thumbnailer
		if len(xy) > 1 {
			line, err := plotter.NewLine(xy)
			if err != nil {
				continue
			}
			line.Color = c
			line.Dashes = plotutil.Dashes(gi)
			line.Width = vg.Points(1.5)
			p.Add(line)
			thumbs = append(thumbs, line)
		}
		pts, err := plotter.NewScatter(xy)
		if err != nil {
			continue
		}
		pts.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}
		p.Add(pts)
		thumbs = append(thumbs, pts)
		if group != "" {
			p.Legend.Add(group+" = "+g, thumbs...)
		}
	}
	if disc != nil {
		p.Legend.Add("best trial", disc)
	}
	if isNum {
		padRange(&p.X, xOf(xs[0]), xOf(xs[len(xs)-1]), 0.03)
	} else {
		p.NominalX(xs...)
		p.X.Min, p.X.Max = -0.5, float64(len(xs))-0.5
	}
	padRange(&p.Y, lo, hi, 0.08)
	fm.axis(&p.Y, score)
	svg, err := svgOf(p, chartW, chartH)
	if err != nil {
		return nil, ""
	}
	caption := fmt.Sprintf("Each dot is one trial: its %s setting and the mean %s it reached", x, sm)
	if group != "" {
		caption += fmt.Sprintf("; one line for each value of %s", group)
	}
	caption += ". The best trial sits on a green disc. The vertical axis shows only the range of the scores, not from zero, so that small differences are visible."
	return &reportChart{Title: fmt.Sprintf("Mean %s of each trial against %s", sm, x), Caption: caption, SVG: svg}, ""
}

// unknownMetricError explains that no run to rank recorded metric: with
// the metrics they have, and when only child runs (a grid search's
// trials, a cross-validation's folds) recorded it, that those are not
// ranked and which metric of their parents sums them up.
func unknownMetricError(opts ReportOptions, metric string, runs, children []RunInfo) error {
	which := fmt.Sprintf("no run of experiment %q", opts.Experiment)
	if opts.Filter != "" {
		which += " that matches the filter"
	}
	have := "they have no metrics"
	if keys := allMetricKeys(runs); len(keys) > 0 {
		have = "metrics: " + strings.Join(keys, ", ")
	}
	n := 0
	for _, c := range children {
		if _, ok := c.Metrics[metric]; ok {
			n++
		}
	}
	if n == 0 {
		return fmt.Errorf("metric %q: %s recorded it (%s)", metric, which, have)
	}
	hint := ""
	if kind, base := metricKind(metric); kind == metricCVMean && hasMetric(runs, "best_"+base) {
		hint = fmt.Sprintf("; -metric best_%s ranks grid searches by their best trial's %s", base, metric)
	} else if kind == metricOther && hasMetric(runs, "mean_"+base) {
		hint = fmt.Sprintf("; -metric mean_%s ranks cross-validations by their folds' mean", base)
	}
	return fmt.Errorf("metric %q: only child runs of experiment %q recorded it (%d grid search trials or cross-validation folds); the report ranks top-level runs (%s) and shows the trials of the best run, when it is a grid search, in a table of their own%s", metric, opts.Experiment, n, have, hint)
}

// leftOutNote names the metrics and settings the table of runs leaves
// out without burying the reader: a few are named, more metrics as the
// first few "and 8 more", more settings counted by the pipeline step
// they belong to ("randomforestclassifier: 10 settings"). The
// technical details list them all. "" when nothing is left out.
func leftOutNote(metrics, params []string) string {
	const few = 4
	var left []string
	short := true
	switch n := len(metrics); {
	case n == 0:
	case n <= few:
		left = append(left, "metrics "+strings.Join(metrics, ", "))
	default:
		short = false
		left = append(left, fmt.Sprintf("%d metrics (%s and %d more)", n, strings.Join(metrics[:few-1], ", "), n-(few-1)))
	}
	switch n := len(params); {
	case n == 0:
	case n <= few:
		left = append(left, "settings "+strings.Join(params, ", "))
	default:
		short = false
		left = append(left, fmt.Sprintf("%d settings (%s)", n, strings.Join(settingGroups(params), ", ")))
	}
	if len(left) == 0 {
		return ""
	}
	note := "Not shown in the table: " + strings.Join(left, "; ") + "."
	if !short {
		note += " The technical details at the end list them all."
	}
	return note + " `gopherlab runs show RUN` shows everything a run recorded."
}

// settingGroups counts settings by the pipeline step (or the
// cross-validation, the grid search) they belong to, the largest group
// first: "randomforestclassifier: 10 settings", "cross-validation: 3
// settings"; a setting alone in its group, or of no step, is named.
func settingGroups(params []string) []string {
	groupOf := func(k string) string {
		g, _, ok := strings.Cut(k, ".")
		if !ok {
			return ""
		}
		return g
	}
	count := map[string]int{}
	var groups []string
	for _, k := range params {
		g := groupOf(k)
		if count[g] == 0 && g != "" {
			groups = append(groups, g)
		}
		count[g]++
	}
	groups = slices.DeleteFunc(groups, func(g string) bool { return count[g] < 2 })
	sort.SliceStable(groups, func(i, j int) bool {
		if count[groups[i]] != count[groups[j]] {
			return count[groups[i]] > count[groups[j]]
		}
		return groups[i] < groups[j]
	})
	words := map[string]string{"cv": "cross-validation", "search": "grid search"}
	var out []string
	for _, g := range groups {
		out = append(out, fmt.Sprintf("%s: %d settings", cmp.Or(words[g], g), count[g]))
	}
	for _, k := range params {
		if g := groupOf(k); g == "" || count[g] < 2 {
			out = append(out, k)
		}
	}
	return out
}

// tableWidth is about the width, in pixels, the report's page gives the
// table of runs (its body is at most 1000px wide).
const tableWidth = 980

// tableColumns chooses the metric and param columns of the table of runs,
// alternating between the most telling metric and param not yet shown,
// while the table's estimated width stays within the page; the others are
// returned as left out.
func tableColumns(runs []RunInfo, labels, models []string, metric string, metrics, params []string, fm *scoreFormat) (shownMetrics, shownParams, leftMetrics, leftParams []string) {
	// The narrowest a column can be: its longest unbreakable piece of
	// header (breakable wraps at spaces, dots and underscores) or of a
	// cell, at about 7.5px a character, plus padding.
	width := func(name string, cell func(r RunInfo, i int) (string, bool)) int {
		n := 0
		for _, w := range strings.FieldsFunc(name, func(c rune) bool { return c == ' ' || c == '.' || c == '_' }) {
			n = max(n, len([]rune(w))+1)
		}
		for i, r := range runs {
			text, nowrap := cell(r, i)
			if nowrap {
				n = max(n, len([]rune(text)))
				continue
			}
			for _, w := range strings.Fields(text) {
				n = max(n, len([]rune(w)))
			}
		}
		return n*15/2 + 17
	}
	metricCol := func(k string) int {
		return width(k, func(r RunInfo, _ int) (string, bool) { return fm.metricCell(r, k), true })
	}
	paramCol := func(k string) int {
		return width(k, func(r RunInfo, _ int) (string, bool) { return r.Params[k], false })
	}
	used := width("#", func(_ RunInfo, i int) (string, bool) { return strconv.Itoa(i + 1), true }) +
		width("run", func(_ RunInfo, i int) (string, bool) { return "↳ " + breakWords(labels[i]), false }) +
		width("status", func(r RunInfo, _ int) (string, bool) { return statusWords(r), false }) +
		width("duration", func(r RunInfo, _ int) (string, bool) { return runDuration(r), true }) +
		width("started", func(r RunInfo, _ int) (string, bool) { return "2006-01-02 15:04", true })
	if metric != "" {
		used += metricCol(metric)
	}
	if models != nil {
		used += width("model", func(_ RunInfo, i int) (string, bool) { return breakWords(models[i]), false })
	}
	const maxMetrics, maxParams = 3, 5
	for i := 0; i < max(len(metrics), len(params)); i++ {
		if i < len(metrics) {
			if w := metricCol(metrics[i]); len(shownMetrics) < maxMetrics && used+w <= tableWidth {
				shownMetrics = append(shownMetrics, metrics[i])
				used += w
			} else {
				leftMetrics = append(leftMetrics, metrics[i])
			}
		}
		if i < len(params) {
			if w := paramCol(params[i]); len(shownParams) < maxParams && used+w <= tableWidth {
				shownParams = append(shownParams, params[i])
				used += w
			} else {
				leftParams = append(leftParams, params[i])
			}
		}
	}
	return shownMetrics, shownParams, leftMetrics, leftParams
}

// historyKeys returns the metrics whose histories are worth a chart,
// most telling first: the ranking metric, the per-fold scores behind a
// cross-validation mean, then the others as metricColumns orders them.
// Timings and ranks are left out: how long a fold took says nothing of
// the model.
func historyKeys(runs []RunInfo, metric string) []string {
	var keys []string
	if metric != "" {
		keys = append(keys, metric)
		if kind, base := metricKind(metric); kind == metricCVMean || kind == metricSearchBest {
			if f := "fold_" + base; hasMetric(runs, f) {
				keys = append(keys, f)
			}
		}
	}
	for _, k := range metricColumns(runs, metric) {
		if !IsTiming(k) && k != "rank" && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// formatTiming shows a timing in seconds as a duration (1ms, 2.5s).
func formatTiming(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return FormatMetric(v)
	}
	d := time.Duration(v * float64(time.Second))
	if d < time.Millisecond/2 {
		return "under 1ms"
	}
	return formatDuration(d)
}

// metricWords says in plain words what the usual measures are, for
// readers who do not know them by name.
var metricWords = map[string]string{
	"accuracy":    "the share of cases the model got right (1 means all)",
	"acc":         "the share of cases the model got right (1 means all)",
	"f1_macro":    "the F1 score (a balance of precision and recall, 1 is perfect) averaged over the classes, each class counting the same",
	"f1_weighted": "the F1 score (a balance of precision and recall, 1 is perfect) averaged over the classes, weighted by their size",
	"f1":          "a balance of precision and recall (1 is perfect)",
	"precision":   "of the cases the model called positive, the share that were (1 is perfect)",
	"recall":      "of the positive cases, the share the model found (1 is perfect)",
	"roc_auc":     "how well the model ranks positive cases above negative ones (1 is perfect, 0.5 is chance)",
	"auc":         "how well the model ranks positive cases above negative ones (1 is perfect, 0.5 is chance)",
	"log_loss":    "how much probability the model gave to wrong answers (lower is better, 0 is perfect)",
	"loss":        "the error the training minimizes (lower is better)",
	"rmse":        "the typical size of a prediction's error, in the units of what is predicted (lower is better)",
	"mse":         "the average squared error of the predictions (lower is better)",
	"mae":         "the average size of a prediction's error, in the units of what is predicted (lower is better)",
	"r2":          "the share of the variation in what is predicted that the model explains (1 is perfect, 0 is no better than always guessing the average)",
}

// metricExplain explains a metric name in plain words, or returns ""
// when the measure is not a known one.
func metricExplain(k string) string {
	kind, base := metricKind(k)
	prefix := ""
	switch {
	case strings.HasPrefix(k, "best_std_"):
		base, prefix = strings.TrimPrefix(k, "best_std_"), "best_std_"
	case strings.HasPrefix(k, "std_"):
		prefix = "std_"
	case strings.HasPrefix(k, "train_"):
		prefix = "train_"
	case strings.HasPrefix(k, "eval_"):
		prefix = "eval_"
	case strings.HasPrefix(k, "fold_"):
		base, prefix = strings.TrimPrefix(k, "fold_"), "fold_"
	}
	words := metricWords[strings.ToLower(base)]
	if words == "" {
		return ""
	}
	switch prefix {
	case "std_", "best_std_":
		return fmt.Sprintf("how much %s varied between the folds of a cross-validation (standard deviation; smaller is steadier)", base)
	case "train_":
		return words + ", on the training data (often better than on new data)"
	case "eval_":
		return words + ", on data of which many rows were used in training, so it flatters the model: not a test score"
	case "fold_":
		return words + ", in one fold of a cross-validation"
	}
	switch kind {
	case metricTest:
		return words + ", on held-out test data the model did not see in training"
	case metricValidation:
		return words + ", on validation data"
	case metricCVMean:
		return words + ", averaged over the folds of a cross-validation"
	case metricSearchBest:
		return words + ", of the grid search's best candidate, averaged over cross-validation folds"
	}
	return words
}

// modelOf describes in words the model a run fitted, from what
// autologging records: a pipeline's steps ("standardscaler +
// logisticregression"), else the estimator tag; "" when it cannot tell.
func modelOf(r RunInfo) string {
	if w := stepsWords(r.Params["steps"]); w != "" {
		return w
	}
	if est := r.Tags["estimator"]; est != "" && est != "pipeline" {
		return est
	}
	return ""
}

// readerName is the name a reader sees for a run: its own, unless that is
// empty or only the kind of estimator autologging names runs after
// ("pipeline"), when the model it fitted says more.
func readerName(r RunInfo) string {
	if m := modelOf(r); m != "" && (r.Name == "" || r.Name == r.Tags["estimator"]) {
		return m
	}
	return r.Name
}

// runLabels names runs for charts: readerName, with the short id added
// when names repeat or are empty.
func runLabels(runs []RunInfo) []string { return labelRuns(runs, readerName) }

// labelRuns names runs by name, with the short id added when names
// repeat or are empty.
func labelRuns(runs []RunInfo, name func(RunInfo) string) []string {
	count := map[string]int{}
	for _, r := range runs {
		count[name(r)]++
	}
	out := make([]string, len(runs))
	for i, r := range runs {
		switch name := name(r); {
		case name == "":
			out[i] = r.ShortID()
		case count[name] > 1:
			out[i] = name + " (" + r.ShortID() + ")"
		default:
			out[i] = name
		}
	}
	return out
}

func allMetricKeys(runs []RunInfo) []string {
	seen := map[string]bool{}
	var keys []string
	for _, r := range runs {
		for k := range r.Metrics {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys
}

func hasMetric(runs []RunInfo, k string) bool {
	for _, r := range runs {
		if _, ok := r.Metrics[k]; ok {
			return true
		}
	}
	return false
}

// metricColumns returns the metrics of runs other than the ranking one,
// the most telling kinds first (see metricKind), then those most runs
// have, then by name.
func metricColumns(runs []RunInfo, metric string) []string {
	count := map[string]int{}
	for _, r := range runs {
		for k := range r.Metrics {
			count[k]++
		}
	}
	keys := make([]string, 0, len(count))
	for k := range count {
		if k != metric {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		ki, _ := metricKind(keys[i])
		kj, _ := metricKind(keys[j])
		if ki != kj {
			return ki < kj
		}
		if count[keys[i]] != count[keys[j]] {
			return count[keys[i]] > count[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}

// paramColumns returns the params whose value is not the same in every
// run, the most telling first: those that differ between two runs of
// the same estimator (autologging's estimator tag; runs logged by hand
// count as one), which are settings that were tried; then those that
// some runs of an estimator have and others not (a cross-validation's
// cv.k beside plain fits). Params that differ only because the runs are
// of different models (a random forest's MaxBins, which a logistic
// regression has not) say no more than the run's name, and come only
// when nothing else differs. Each group is sorted by name.
func paramColumns(runs []RunInfo) []string {
	const (
		tried = iota
		partly
		byModel
	)
	tier := map[string]int{}
	varying := varyingParams(runs)
	for _, k := range varying {
		tier[k] = byModel
		value := map[string]string{} // estimator: a value of k
		has := map[string]int{}      // estimator: runs with k
		all := map[string]int{}      // estimator: runs
		for _, r := range runs {
			est := r.Tags["estimator"]
			all[est]++
			v, ok := r.Params[k]
			if !ok {
				continue
			}
			has[est]++
			if first, ok := value[est]; !ok {
				value[est] = v
			} else if first != v {
				tier[k] = tried
			}
		}
		for est, n := range has {
			if n < all[est] && tier[k] == byModel {
				tier[k] = partly
			}
		}
	}
	sort.SliceStable(varying, func(i, j int) bool {
		a, b := varying[i], varying[j]
		if tier[a] != tier[b] {
			return tier[a] < tier[b]
		}
		return strings.ToLower(a) < strings.ToLower(b)
	})
	if len(varying) > 0 && tier[varying[0]] != byModel {
		varying = slices.DeleteFunc(varying, func(k string) bool { return tier[k] == byModel })
	}
	return varying
}

// varyingParams returns the params whose value is not the same in every run.
func varyingParams(runs []RunInfo) []string {
	var maps []map[string]string
	for _, r := range runs {
		maps = append(maps, r.Params)
	}
	var out []string
	for _, k := range sortedKeys(maps...) {
		first, ok0 := runs[0].Params[k]
		for _, r := range runs[1:] {
			if v, ok := r.Params[k]; ok != ok0 || v != first {
				out = append(out, k)
				break
			}
		}
	}
	return out
}

func summarize(runs []RunInfo, metric string, lower bool, withMetric int, filter string) []string {
	first, last := runs[0].StartTime, runs[0].StartTime
	status := map[string]int{}
	words := map[string]int{} // by statusWords
	for _, r := range runs {
		if r.StartTime.Before(first) {
			first = r.StartTime
		}
		if r.StartTime.After(last) {
			last = r.StartTime
		}
		status[r.Status]++
		words[statusWords(r)]++
	}
	plural := func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.Itoa(n) + " " + many
	}
	var parts []string
	for _, w := range []struct{ status, one, many string }{
		{"finished", "finished", "finished"},
		{"failed", "failed", "failed"},
		{statusInterrupted, "was interrupted by the user", "were interrupted by the user"},
		{statusStopped, "stopped because its program ended before the run finished", "stopped because their program ended before the runs finished"},
		{"still running", "is still running", "are still running"},
	} {
		if n := words[w.status]; n > 0 {
			parts = append(parts, plural(n, w.one, w.many))
		}
	}
	when := first.Local().Format("2 January 2006, 15:04")
	if last.Sub(first) > time.Minute {
		when = "between " + when + " and " + last.Local().Format("2 January 2006, 15:04")
	} else {
		when = "on " + when
	}
	lines := []string{fmt.Sprintf("This experiment has %s, started %s: %s.", plural(len(runs), "run", "runs"), when, strings.Join(parts, ", "))}
	if filter != "" {
		lines = append(lines, fmt.Sprintf("Only runs matching the filter %s are included.", filter))
	}
	if metric == "" {
		lines = append(lines, "No run recorded a metric, so runs are not ranked.")
		return lines
	}
	dir := "higher is better"
	if lower {
		dir = "lower is better"
	}
	what := ""
	if kind, _ := metricKind(metric); metricWhat[kind] != "" {
		what = ", " + metricWhat[kind]
	}
	unfinished := len(runs) - status[StatusFinished]
	recorded := fmt.Sprintf("%d of the %d runs recorded it; the others are listed after them, unranked", withMetric, len(runs))
	switch {
	case withMetric == len(runs):
		recorded = "every run recorded it"
	case unfinished > 0 && withMetric == status[StatusFinished]:
		recorded = "every finished run recorded it"
	case unfinished > 0:
		recorded = fmt.Sprintf("%d of the %d finished runs recorded it; the others are listed after them, unranked", withMetric, status[StatusFinished])
	}
	lines = append(lines, fmt.Sprintf("Runs are ranked by their final %s%s (%s); %s.", metric, what, dir, recorded))
	if unfinished > 0 {
		lines = append(lines, fmt.Sprintf("Only finished runs are ranked and can be the best run; runs that did not finish (%d here) are listed after them, marked by their status, whatever %s they reached.", unfinished, metric))
	}
	return lines
}

// maxTiedNamed is how many runs tied with the best one the best run's
// box names; the others are counted ("and 155 others").
const maxTiedNamed = 5

// childrenNote says what the child runs of the report's experiment are,
// by what their parents are: the trials of an autologged grid search,
// the folds of an autologged cross-validation, else runs started under
// another run (StartChild, or work autologged inside a run started by
// hand), which the report does not rank either.
func (s *Store) childrenNote(runs, children []RunInfo) (string, error) {
	kind := map[string]string{}
	for _, r := range append(slices.Clone(runs), children...) {
		kind[r.ID] = r.Tags["autolog"]
	}
	var missing []string
	for _, c := range children {
		if _, ok := kind[c.ParentID]; !ok && !slices.Contains(missing, c.ParentID) {
			missing = append(missing, c.ParentID) // a filter left the parent out
		}
	}
	parents, err := s.loadRuns(missing)
	if err != nil {
		return "", err
	}
	for _, p := range parents {
		kind[p.ID] = p.Tags["autolog"]
	}
	var trials, folds, other int
	for _, c := range children {
		switch kind[c.ParentID] {
		case experiments.KindGridSearch:
			trials++
		case experiments.KindCrossValidate:
			folds++
		default:
			other++
		}
	}
	count := func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.Itoa(n) + " " + many
	}
	var parts []string
	if trials > 0 {
		parts = append(parts, count(trials, "trial of a grid search", "trials of grid searches"))
	}
	if folds > 0 {
		parts = append(parts, count(folds, "fold of a cross-validation", "folds of cross-validations"))
	}
	why := "they are parts of their parent run, not models of their own, so they are not ranked here."
	if other > 0 {
		parts = append(parts, count(other, "run started under another run", "runs started under other runs"))
		why = "they are parts of their parent run, so they are not ranked here: the report ranks top-level runs."
	}
	return "The experiment also has " + count(len(children), "child run", "child runs") + " (" + strings.Join(parts, ", ") + "): " + why, nil
}

// Words for runs that did not end normally. A KILLED run is one whose
// process died (a kernel killed, a machine restarted) before it ended;
// a run the user interrupted ends FAILED, its error ending in
// "interrupted". Readers take "interrupted" for the latter.
const (
	statusStopped     = "stopped: the program ended before the run finished"
	statusInterrupted = "interrupted (stopped by the user)"
)

// statusWords says a run's status in plain words.
func statusWords(r RunInfo) string {
	switch r.Status {
	case StatusFinished:
		return "finished"
	case StatusFailed:
		if strings.HasSuffix(strings.ToLower(strings.TrimSpace(r.Error)), "interrupted") {
			return statusInterrupted
		}
		return "failed"
	case StatusKilled:
		return statusStopped
	case StatusRunning:
		return "still running"
	}
	return strings.ToLower(r.Status)
}

// plumbingParams are settings that change how a model is computed, not
// what it is (threads, convergence tolerance, logging): the best run's
// settings table leaves them to the technical details.
var plumbingParams = []string{"Workers", "Tol", "Verbose", "NJobs"}

// plumbing reports whether param k is one of plumbingParams, of any step
// (logisticregression.Workers).
func plumbing(k string) bool {
	return slices.Contains(plumbingParams, k[strings.LastIndex(k, ".")+1:])
}

// runDuration says how long a run took. A KILLED run's end is its last
// recorded activity, not when its process died, which the store cannot
// know: it ran at least that long.
func runDuration(r RunInfo) string {
	if r.Status == StatusKilled {
		return "at least " + formatDuration(r.Duration())
	}
	if k := wholeTiming(r); k != "" {
		return formatTiming(r.Metrics[k])
	}
	return formatDuration(r.Duration())
}

// wholeTiming returns the metric in which autologging timed the whole
// work of a finished run (fit_time_s of a fit, duration_s of a
// cross-validation or search), or "". The run's times are kept to the
// millisecond, so its duration may differ from it by one: the page says
// one of them, the timing.
func wholeTiming(r RunInfo) string {
	if r.Tags["autolog"] == "" || r.Status != StatusFinished {
		return ""
	}
	for _, k := range []string{"fit_time_s", "duration_s"} {
		if v, ok := r.Metrics[k]; ok && !math.IsNaN(v) && v >= 0 {
			return k
		}
	}
	return ""
}

// chosenNote says that the report chose the ranking metric, and which
// others could rank the runs.
func chosenNote(runs []RunInfo, metric string) string {
	count := map[string]int{}
	for _, r := range runs {
		for k := range r.Metrics {
			count[k]++
		}
	}
	var others []string
	for _, k := range scoreCandidates(count) {
		if k != metric && len(others) < 4 {
			others = append(others, k)
		}
	}
	note := "The ranking metric was chosen automatically (held-out test scores first, then validation scores, cross-validation means and grid search bests)"
	if len(others) == 0 {
		return note + "; -metric NAME ranks by another."
	}
	return note + "; -metric NAME ranks by another, such as " + strings.Join(others, ", ") + "."
}

func describeRun(r *RunInfo, metric string, inputs []DatasetInput, fm *scoreFormat) *reportRun {
	rr := &reportRun{
		ID: r.ID, Short: r.ShortID(), Name: r.Label(), Status: statusWords(*r), Error: r.Error,
		Duration: runDuration(*r), Started: r.StartTime.Local().Format("2 January 2006, 15:04:05"),
	}
	if v, ok := r.Metrics[metric]; ok {
		rr.Value, rr.ValueExact, rr.ValueNote = fm.value(metric, v), fm.exact(metric, v), fm.spread(*r, metric)
	}
	shape := dataShape(r.Params, inputs)
	for _, k := range sortedKeys(r.Params) {
		if plumbing(k) {
			rr.Plumbing = append(rr.Plumbing, [2]string{k, r.Params[k]})
			continue
		}
		if shape != "" && (k == "data.rows" || k == "data.cols") {
			continue
		}
		rr.Params = append(rr.Params, [2]string{k, r.Params[k]})
	}
	if shape != "" {
		// What the model learned from comes before how it was set.
		rr.Params = append([][2]string{{"training data", shape}}, rr.Params...)
	}
	// Scores first, explained; timings in one line after them, as
	// durations: 0.000965453 seconds says less than "1ms".
	var timings []string
	for _, k := range allMetricKeys([]RunInfo{*r}) {
		if IsTiming(k) {
			if k != wholeTiming(*r) { // said as the run's duration
				timings = append(timings, k+" "+formatTiming(r.Metrics[k]))
			}
			continue
		}
		v := r.Metrics[k]
		shown := fm.value(k, v)
		if sp := fm.spread(*r, k); sp != "" {
			shown += " " + sp
		}
		rr.Metrics = append(rr.Metrics, [4]string{k, shown, fm.explain(k), fm.exact(k, v)})
	}
	rr.Timings = strings.Join(timings, ", ")
	// Autologging records the data a fitted model was scored on as its
	// "eval" input; when the scores are test scores, so is the data, and
	// the page says "test" for both.
	testScores := false
	for k := range r.Metrics {
		testScores = testScores || strings.HasPrefix(k, "test_")
	}
	for _, in := range inputs {
		role := in.Role
		if role == RoleEval && testScores {
			role = "test"
		}
		// Its SHA-256 is among the technical details.
		rr.Inputs = append(rr.Inputs, fmt.Sprintf("%s data %q: %d rows × %d columns", role, in.Name, in.Rows, in.Cols))
	}
	return rr
}

// dataShape says in words the shape of the training data autologging
// records as the params data.rows and data.cols: "426 rows, 31 columns
// (30 measurements and diagnosis, the column to predict)". Autologging
// stores the training data features first, target last, so the column
// to predict is the last of the run's training input, named only when
// that input has data.cols columns. "" when the params do not give the
// shape.
func dataShape(params map[string]string, inputs []DatasetInput) string {
	cols, err := strconv.Atoi(params["data.cols"])
	if err != nil || cols < 1 {
		return ""
	}
	plural := func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.Itoa(n) + " " + many
	}
	words := plural(cols, "column", "columns")
	if v, ok := params["data.rows"]; ok {
		rows, err := strconv.Atoi(v)
		if err != nil || rows < 0 {
			return ""
		}
		words = plural(rows, "row", "rows") + ", " + words
	}
	if cols < 2 {
		return words
	}
	for _, in := range inputs {
		if in.Role != RoleTrain || in.Cols != cols || len(in.Columns) != cols {
			continue
		}
		// Features with levels are categories, not measurements.
		what := plural(cols-1, "measurement", "measurements")
		for j := 0; j < len(in.Levels) && j < cols-1; j++ {
			if in.Levels[j] != nil {
				what = plural(cols-1, "other column", "other columns")
				break
			}
		}
		// A matrix's columns are named c0, c1, ...: its target's name
		// says nothing.
		target := in.Columns[cols-1]
		if matrixColumn.MatchString(target) {
			return fmt.Sprintf("%s (%s and the column to predict, the last one)", words, what)
		}
		return fmt.Sprintf("%s (%s and %s, the column to predict)", words, what, target)
	}
	return words
}

// matrixColumn matches the names a matrix's columns get: c0, c1, ...
var matrixColumn = regexp.MustCompile(`^c[0-9]+$`)

func (s *Store) summarizeData(runs []RunInfo, inputs map[string][]DatasetInput) ([]reportDataset, string, error) {
	type agg struct {
		in    DatasetInput
		names map[string]bool
		runs  int
	}
	byKey := map[string]*agg{}
	var order []string
	roleVersions := map[string]map[string]bool{}
	for _, r := range runs {
		for _, in := range inputs[r.ID] {
			key := in.Role + "\x00" + in.SHA256
			a := byKey[key]
			if a == nil {
				a = &agg{in: in, names: map[string]bool{}}
				byKey[key] = a
				order = append(order, key)
			}
			a.names[in.Name] = true
			a.runs++
			if roleVersions[in.Role] == nil {
				roleVersions[in.Role] = map[string]bool{}
			}
			roleVersions[in.Role][in.SHA256] = true
		}
	}
	if len(order) == 0 {
		return nil, "The runs did not record the data they used, so this report cannot show it or tell whether it changed between runs.", nil
	}
	var out []reportDataset
	for _, key := range order {
		a := byKey[key]
		var names []string
		for n := range a.names {
			names = append(names, n)
		}
		sort.Strings(names)
		cols := strings.Join(a.in.Columns, ", ")
		if len(a.in.Columns) > 12 {
			cols = strings.Join(a.in.Columns[:12], ", ") + fmt.Sprintf(", … (%d more)", len(a.in.Columns)-12)
		}
		out = append(out, reportDataset{
			Role: a.in.Role, Name: strings.Join(names, ", "),
			Size:    fmt.Sprintf("%d rows × %d columns, %s", a.in.Rows, a.in.Cols, formatBytes(a.in.Size)),
			Columns: cols, SHA: a.in.SHA256, UsedBy: strconv.Itoa(a.runs),
		})
	}
	var notes []string
	roles := make([]string, 0, len(roleVersions))
	for r := range roleVersions {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	for _, role := range roles {
		n := len(roleVersions[role])
		if n == 1 {
			notes = append(notes, fmt.Sprintf("every run that recorded %s data used exactly the same %s data", role, role))
			continue
		}
		// The same table is often logged under two sets of column names
		// (a dataset's own, an X matrix's c0, c1, ...), and its target
		// as text levels in one and as their codes in the other: only
		// values that differ make the runs hard to compare.
		var kinds []*dataValues
		recoded := false
		var sums []string
		for sum := range roleVersions[role] {
			sums = append(sums, sum)
		}
		sort.Strings(sums) // the same versions whatever the map's order
		for _, sum := range sums {
			dv, err := s.dataValues(byKey[role+"\x00"+sum].in)
			if err != nil {
				return nil, "", err
			}
			known := false
			for _, k := range kinds {
				if same, exact := k.same(dv); same {
					known, recoded = true, recoded || !exact
					break
				}
			}
			if !known {
				kinds = append(kinds, dv)
			}
		}
		switch v := len(kinds); {
		case v == 1 && recoded:
			notes = append(notes, fmt.Sprintf("every run that recorded %s data used the same %s data: the same rows and values, logged in %d forms (different column names, or the labels to predict written as text in one and as number codes in another)", role, role, n))
		case v == 1:
			notes = append(notes, fmt.Sprintf("every run that recorded %s data used the same %s values, logged under %d different sets of column names", role, role, n))
		default:
			notes = append(notes, fmt.Sprintf("the %s data changed between runs (%d different versions of its values), so compare those runs with care", role, v))
		}
	}
	note := strings.Join(notes, "; ")
	return out, strings.ToUpper(note[:1]) + note[1:] + ". Each version is stored in the database and can be restored exactly from its SHA-256.", nil
}

// dataValues describes a snapshot's values column by column, whatever
// its column names, to tell two snapshots of one table from two tables.
type dataValues struct {
	whole string // the SHA-256 of a snapshot that is not CSV: compared whole
	rows  int
	// Per column: the SHA-256 of its values; of the partition of the
	// rows they make (each value replaced by the order of its first
	// appearance); whether a value is text (not a number, not missing);
	// whether every value is an integer.
	exact, groups []string
	text, codes   []bool
}

// dataValues reads the snapshot of in.
func (s *Store) dataValues(in DatasetInput) (*dataValues, error) {
	if in.Format != "csv" {
		return &dataValues{whole: in.SHA256}, nil
	}
	d, err := s.Dataset(in.SHA256)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(bytes.NewReader(d.Content))
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	if _, err := r.Read(); err != nil {
		return &dataValues{whole: d.SHA256}, nil // no header to skip: compare it whole
	}
	type column struct {
		exact, groups hash.Hash
		seen          map[string]int
		text, notInt  bool
	}
	var cols []*column
	dv := &dataValues{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return &dataValues{whole: d.SHA256}, nil
		}
		if dv.rows == 0 {
			for range rec {
				cols = append(cols, &column{exact: sha256.New(), groups: sha256.New(), seen: map[string]int{}})
			}
		}
		if len(rec) != len(cols) {
			return &dataValues{whole: d.SHA256}, nil
		}
		dv.rows++
		for j, v := range rec {
			c := cols[j]
			fmt.Fprintf(c.exact, "%q,", v)
			code, ok := c.seen[v]
			if !ok {
				code = len(c.seen)
				c.seen[v] = code
			}
			fmt.Fprintf(c.groups, "%d,", code)
			if missingValue(v) {
				continue
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			c.text = c.text || err != nil
			c.notInt = c.notInt || err != nil || f != math.Trunc(f)
		}
	}
	for _, c := range cols {
		dv.exact = append(dv.exact, fmt.Sprintf("%x", c.exact.Sum(nil)))
		dv.groups = append(dv.groups, fmt.Sprintf("%x", c.groups.Sum(nil)))
		dv.text = append(dv.text, c.text)
		dv.codes = append(dv.codes, !c.notInt)
	}
	return dv, nil
}

// missingValue reports whether a CSV field is a missing value, as
// experiments.ReadCSV reads them.
func missingValue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "na", "nan", "n/a", "null":
		return true
	}
	return false
}

// same reports whether a and b hold the same data: the same rows with the
// same numbers in each column, where a column of labels (text in one
// snapshot, text or integer codes in the other) may name its labels
// differently as long as it splits the rows into the same groups. exact
// is whether every column is written the same way too.
func (a *dataValues) same(b *dataValues) (same, exact bool) {
	if a.whole != "" || b.whole != "" {
		return a.whole == b.whole, a.whole == b.whole
	}
	if a.rows != b.rows || len(a.exact) != len(b.exact) {
		return false, false
	}
	exact = true
	for j := range a.exact {
		if a.exact[j] == b.exact[j] {
			continue
		}
		exact = false
		// Numbers must match exactly: 2 and 4 in a measurement are not
		// a renaming.
		labels := a.text[j] && (b.text[j] || b.codes[j]) || b.text[j] && a.codes[j]
		if a.groups[j] != b.groups[j] || !labels {
			return false, false
		}
	}
	return true, exact
}

// Charts. Each returns inline SVG markup.

const chartW, chartH = 7 * vg.Inch, 3.6 * vg.Inch

var (
	barColor     = color.RGBA{R: 70, G: 130, B: 180, A: 255}
	bestBarColor = color.RGBA{R: 60, G: 150, B: 60, A: 255}
)

// padRange sets an axis to [lo, hi] widened by frac of its span on both
// sides, so marks at the extremes are not cut by the frame.
func padRange(a *plot.Axis, lo, hi, frac float64) {
	if math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return
	}
	span := hi - lo
	if span == 0 {
		span = math.Max(math.Abs(hi), 1)
	}
	a.Min, a.Max = lo-span*frac, hi+span*frac
}

// svgOf draws p with its legend right of the data, where it hides none
// of it, and a margin that keeps every mark inside the picture (see
// plotstyle.Draw).
func svgOf(p *plot.Plot, w, h vg.Length) (template.HTML, error) {
	return svgDraw(w, h, func(dc draw.Canvas) { plotstyle.Draw(p, dc) })
}

// measuredCanvas records the width the layout gave each string, in
// drawing order.
type measuredCanvas struct {
	*vgsvg.Canvas
	widths []vg.Length
}

func (m *measuredCanvas) FillString(f font.Face, pt vg.Point, s string) {
	m.widths = append(m.widths, f.Width(s))
	m.Canvas.FillString(f, pt, s)
}

// svgDraw renders whatever draw puts on a w x h canvas as inline SVG.
func svgDraw(w, h vg.Length, drawFn func(dc draw.Canvas)) (template.HTML, error) {
	c := &measuredCanvas{Canvas: vgsvg.New(w, h)}
	drawFn(draw.New(c))
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return "", err
	}
	out := b.String()
	// The layout measured text in the font gonum embeds, which a browser
	// may not have: its fallback is wider and run names would run into
	// the bars. textLength fits each string to the measured width.
	if parts := strings.Split(out, "<text "); len(parts) == len(c.widths)+1 {
		var fitted strings.Builder
		fitted.WriteString(parts[0])
		for i, p := range parts[1:] {
			fmt.Fprintf(&fitted, `<text textLength="%.2f" lengthAdjust="spacingAndGlyphs" `, c.widths[i].Points())
			fitted.WriteString(p)
		}
		out = fitted.String()
	}
	// Inline in HTML: drop the XML prolog, let the chart shrink on
	// narrow screens and give the font usable fallbacks.
	if i := strings.Index(out, "<svg"); i >= 0 {
		out = out[i:]
	}
	out = strings.Replace(out, "<svg ", `<svg style="max-width:100%;height:auto" role="img" `, 1)
	out = strings.ReplaceAll(out, "font-family:Liberation Serif;", "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;")
	return template.HTML(out), nil // generated by vgsvg, which escapes all text
}

func newPlot(title, x, y string) *plot.Plot { return plotstyle.New(title, x, y) }

func barChart(runs []RunInfo, labels []string, metric string, fm *scoreFormat) (template.HTML, error) {
	p, h, err := runBars(runs, labels, metric, true, func(v float64) string { return fm.value(metric, v) })
	if err != nil {
		return "", err
	}
	fm.axis(&p.X, metric)
	p.Y.Tick.Label.Font.Size = vg.Points(11)
	return svgOf(p, chartW, h)
}

// historyChart draws the history of metric key for runs with more than
// one point; ok is false when no run has a history worth drawing.
func historyChart(s *Store, runs []RunInfo, labels []string, key, series string, fm *scoreFormat) (template.HTML, bool, error) {
	p := newPlot("", series, key)
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	drawn := 0
	lo, hi := math.Inf(1), math.Inf(-1)
	xhi := 0.0
	for i, r := range runs {
		if _, ok := r.Metrics[key]; !ok {
			continue
		}
		h, err := s.MetricHistory(r.ID, key)
		if err != nil {
			return "", false, err
		}
		xy := make(plotter.XYs, 0, h.Len())
		for j := 0; j < h.Len(); j++ {
			x, y := h.XY(j)
			if !math.IsNaN(y) && !math.IsInf(y, 0) {
				xy = append(xy, plotter.XY{X: x, Y: y})
				lo, hi = math.Min(lo, y), math.Max(hi, y)
				xhi = math.Max(xhi, x)
			}
		}
		if len(xy) < 2 {
			continue
		}
		line, err := plotter.NewLine(xy)
		if err != nil {
			continue
		}
		line.Color = plotutil.Color(drawn)
		line.Dashes = plotutil.Dashes(drawn / len(plotutil.DefaultColors))
		line.Width = vg.Points(1.5)
		p.Add(line)
		p.Legend.Add(labels[i], line)
		drawn++
	}
	if drawn == 0 {
		return "", false, nil
	}
	padRange(&p.Y, lo, hi, 0.05)
	fm.axis(&p.Y, key)
	if series == "fold" && xhi < 50 {
		// Folds are counted: fold 2, not 2.5.
		var ticks []plot.Tick
		for f := 0.0; f <= xhi; f++ {
			ticks = append(ticks, plot.Tick{Value: f, Label: strconv.Itoa(int(f))})
		}
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
	}
	svg, err := svgOf(p, chartW, chartH)
	return svg, err == nil, err
}

// paramCharts shows how the metric moved with each param that varied:
// a scatter plot for numeric params, the average per value otherwise.
func paramCharts(runs []RunInfo, metric string, fm *scoreFormat) []reportChart {
	var charts []reportChart
	for _, k := range paramColumns(runs) {
		if len(charts) == 4 {
			break
		}
		var xs plotter.XYs
		numeric := true
		byValue := map[string][]float64{}
		for _, r := range runs {
			v, ok := r.Params[k]
			m := r.Metrics[metric]
			if !ok || math.IsNaN(m) || math.IsInf(m, 0) {
				continue
			}
			byValue[v] = append(byValue[v], m)
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				numeric = false
				continue
			}
			xs = append(xs, plotter.XY{X: f, Y: m})
		}
		if len(byValue) < 2 {
			continue
		}
		if numeric {
			p := newPlot("", k, metric)
			sc, err := plotter.NewScatter(xs)
			if err != nil {
				continue
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: barColor, Radius: vg.Points(4), Shape: draw.CircleGlyph{}}
			p.Add(sc)
			xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
			for _, q := range xs {
				xlo, xhi = math.Min(xlo, q.X), math.Max(xhi, q.X)
				ylo, yhi = math.Min(ylo, q.Y), math.Max(yhi, q.Y)
			}
			padRange(&p.X, xlo, xhi, 0.06)
			padRange(&p.Y, ylo, yhi, 0.08)
			fm.axis(&p.Y, metric)
			if svg, err := svgOf(p, chartW, chartH); err == nil {
				charts = append(charts, reportChart{
					Title:   fmt.Sprintf("%s against %s", metric, k),
					Caption: fmt.Sprintf("Each dot is one run: its %s setting and the %s it reached.", k, metric),
					SVG:     svg,
				})
			}
			continue
		}
		if len(byValue) > 15 {
			continue
		}
		// An average over one run is that run's score, which the
		// ranking chart already shows.
		single := true
		for _, ms := range byValue {
			single = single && len(ms) == 1
		}
		if single {
			continue
		}
		values := make([]string, 0, len(byValue))
		for v := range byValue {
			values = append(values, v)
		}
		sort.Strings(values)
		means := make(plotter.Values, len(values))
		for i, v := range values {
			sum := 0.0
			for _, m := range byValue[v] {
				sum += m
			}
			means[i] = sum / float64(len(byValue[v]))
		}
		p := newPlot("", k, "average "+metric)
		bars, err := plotter.NewBarChart(means, vg.Points(40))
		if err != nil {
			continue
		}
		bars.Color = barColor
		bars.LineStyle.Width = 0
		p.Add(bars)
		xyl := plotter.XYLabels{XYs: make(plotter.XYs, len(means)), Labels: make([]string, len(means))}
		lo, hi := math.Inf(1), math.Inf(-1)
		for i, v := range means {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
			xyl.XYs[i] = plotter.XY{X: float64(i), Y: v}
			xyl.Labels[i] = fm.value(metric, v) + fmt.Sprintf(" (%d)", len(byValue[values[i]]))
		}
		if lbl, err := plotter.NewLabels(xyl); err == nil {
			for i := range lbl.TextStyle {
				lbl.TextStyle[i].XAlign = -0.5
				lbl.TextStyle[i].Font.Size = vg.Points(9)
			}
			lbl.Offset = vg.Point{Y: vg.Points(3)}
			p.Add(lbl)
		}
		names := make([]string, len(values))
		for i, v := range values {
			names[i] = wrapLabel(settingWords(k, v), 18)
		}
		p.NominalX(names...)
		p.X.Min, p.X.Max = -0.6, float64(len(means))-0.4
		p.Y.Min, p.Y.Max = barRange(lo, hi, 0.12)
		fm.axis(&p.Y, metric)
		if svg, err := svgOf(p, chartW, chartH); err == nil {
			title := fmt.Sprintf("Average %s of the runs with each value of %s", metric, k)
			if k == "steps" {
				title = fmt.Sprintf("Average %s of each model (the steps of its pipeline)", metric)
			}
			charts = append(charts, reportChart{
				Title:   title,
				Caption: fmt.Sprintf("Runs grouped by their %s setting; each bar is the average %s of its group (number of runs in brackets).", k, metric),
				SVG:     svg,
			})
		}
	}
	return charts
}

// settingWords shows a setting's value for a reader: a pipeline's steps
// "[standardscaler logisticregression]" as "standardscaler +
// logisticregression".
func settingWords(k, v string) string {
	if k == "steps" {
		if w := stepsWords(v); w != "" {
			return w
		}
	}
	return v
}

// wrapLabel breaks a chart label into lines of about width characters at
// spaces, so that the labels under neighbouring bars do not overlap.
func wrapLabel(v string, width int) string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(v) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" || len(lines) == 0 {
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// breakable escapes a column name and lets the browser wrap it after a
// dot, underscore or opening bracket (logisticregression.<wbr>C,
// gridsearch(<wbr>pipeline)), so long names of params, metrics and runs
// do not widen the table past the page.
func breakable(name string) template.HTML {
	esc := template.HTMLEscapeString(name)
	for _, c := range []string{".", "_", "("} {
		esc = strings.ReplaceAll(esc, c, c+"<wbr>")
	}
	return template.HTML(modelSuffix.ReplaceAllString(esc, "$1<wbr>$2"))
}

// modelSuffix finds where an estimator's name may wrap:
// randomforest<wbr>classifier.
var modelSuffix = regexp.MustCompile(`([a-z])(classifier|regressor|regression)`)

// breakWords splits name where breakable lets it wrap, for measuring.
func breakWords(name string) string {
	name = strings.NewReplacer(".", ". ", "_", "_ ", "(", "( ").Replace(name)
	return modelSuffix.ReplaceAllString(name, "$1 $2")
}

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{"breakable": breakable}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="gopherlab">
<title>{{.Title}}</title>
<style>
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #222; max-width: 1000px; margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.7em; margin-bottom: .2em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
.meta { color: #666; font-size: .9em; }
.card { background: #f3f8f1; border: 1px solid #b9d8ae; border-radius: 6px; padding: .8em 1.2em; }
.big { font-size: 2em; font-weight: bold; color: #2a6e1a; }
table { border-collapse: collapse; font-size: .9em; margin: .5em 0; }
th, td { padding: .3em .5em; border-bottom: 1px solid #e3e3e3; text-align: left; vertical-align: top; }
th { background: #f6f6f6; }
tr.best td { background: #eaf5e4; font-weight: bold; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.confusion td { min-width: 3em; text-align: center; }
table.confusion td.right { font-weight: bold; }
td.what { color: #555; font-size: .9em; }
.spread { color: #555; font-size: .85em; font-weight: normal; }
ul.glossary { font-size: .9em; color: #444; }
.scroll, .chart { overflow-x: auto; max-width: 100%; }
/* Charts keep a readable size on a narrow screen and scroll in their box. */
.chart svg { min-width: 480px; }
p, li, td, th { overflow-wrap: break-word; }
.print-only { display: none; }
@media print {
  body { max-width: none; margin: 0; font-size: 10pt; }
  /* Paper cannot scroll: wrap instead of cutting tables and charts. */
  .scroll, .chart { overflow: visible; }
  .chart svg { min-width: 0; max-width: 100%; }
  td, th { word-break: break-word; }
  tr, figure, .card { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  /* A folded <details> prints folded: print its content open instead. */
  details.tech { display: none; }
  .print-only { display: block; }
}
figure { margin: 1.5em 0; }
figcaption { color: #555; font-size: .9em; }
pre { background: #f6f6f6; border: 1px solid #e3e3e3; border-radius: 4px; padding: .8em; overflow-x: auto; font-size: .85em; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; }
.problem { color: #9a2a10; }
details summary { cursor: pointer; color: #444; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="meta">Generated {{.Generated}} by gopherlab from {{.DB}}</p>

<h2>Summary</h2>
{{range .Summary}}<p>{{.}}</p>
{{end}}
{{if .Glossary}}<p>What the measures mean:</p>
<ul class="glossary">{{range .Glossary}}<li><strong>{{index . 0}}</strong>: {{index . 1}}.</li>{{end}}</ul>{{end}}
{{with .Best}}
<h2>Best run</h2>
<div class="card">
<p>The best run is <strong>{{.Name}}</strong> (id {{.Short}}{{if .Model}}, model {{.Model}}{{end}}), with {{$.Metric}} <span class="big"{{if .ValueExact}} title="{{.ValueExact}}"{{end}}>{{.Value}}</span>{{with .ValueNote}} {{.}}{{end}}
{{if $.LowerBetter}}(lower is better){{else}}(higher is better){{end}}.
It started {{.Started}} and took {{.Duration}}.</p>
{{if .Tied}}<p>{{.Tied}}</p>{{end}}
{{if .Params}}<p>Its settings:</p>
<div class="scroll"><table>{{range .Params}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>{{end}}</table></div>{{end}}
{{if .Metrics}}<p>Everything it measured (final values):</p>
<div class="scroll"><table>{{range .Metrics}}<tr><th>{{index . 0}}</th><td class="num"{{with index . 3}} title="{{.}}"{{end}}>{{index . 1}}</td><td class="what">{{index . 2}}</td></tr>{{end}}</table></div>{{end}}
{{if .Timings}}<p class="meta">Time taken: {{.Timings}}.</p>{{end}}
{{if .Inputs}}<p>Data it used:</p><ul>{{range .Inputs}}<li>{{.}}</li>{{end}}</ul>{{end}}
<p class="meta">Full run id: {{.ID}}</p>
</div>
{{end}}
{{with .Confusion}}
<h2>{{.Title}}</h2>
<p>{{.Intro}}</p>
<div class="scroll"><table class="confusion">
<tr><th>true \ predicted</th>{{range .Classes}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr><th>{{.Class}}</th>{{range .Cells}}<td class="num{{if .Correct}} right{{end}}" style="{{.Shade}}">{{.Count}}</td>{{end}}</tr>
{{end}}</table></div>
{{end}}
{{with .Trials}}
<h2>Grid search trials</h2>
<p>{{.Intro}}</p>
{{with .Chart}}<figure>
<h3>{{.Title}}</h3>
<div class="chart">{{.SVG}}</div>
<figcaption>{{.Caption}}</figcaption>
</figure>{{end}}
{{if .Note}}<p>{{.Note}}</p>{{end}}
<div class="scroll"><table>
<tr>{{range .Columns}}<th>{{breakable .}}</th>{{end}}</tr>
{{range $i, $r := .Rows}}<tr{{if eq $i 0}} class="best"{{end}}>{{range $r}}<td{{if .Num}} class="num"{{end}}{{if .Title}} title="{{.Title}}"{{end}}>{{.Text}}</td>{{end}}</tr>
{{end}}</table></div>
{{if .More}}<details><summary>The other {{len .More}} trials</summary>
<div class="scroll"><table>
<tr>{{range .Columns}}<th>{{breakable .}}</th>{{end}}</tr>
{{range .More}}<tr>{{range .}}<td{{if .Num}} class="num"{{end}}{{if .Title}} title="{{.Title}}"{{end}}>{{.Text}}</td>{{end}}</tr>
{{end}}</table></div>
</details>{{end}}
{{end}}
{{if .Charts}}<h2>Charts</h2>{{end}}
{{range .Charts}}<figure>
<h3>{{.Title}}</h3>
<div class="chart">{{.SVG}}</div>
<figcaption>{{.Caption}}</figcaption>
</figure>
{{end}}
<h2>All runs</h2>
<div class="scroll"><table>
<tr>{{range .Columns}}<th>{{breakable .}}</th>{{end}}</tr>
{{range .Rows}}<tr{{if .Best}} class="best"{{end}}{{if .Title}} title="{{.Title}}"{{end}}>{{range .Cells}}<td{{if .Num}} class="num"{{end}}{{if .Title}} title="{{.Title}}"{{end}}>{{if .Break}}{{breakable .Text}}{{else}}{{.Text}}{{end}}{{with .Note}}<br><span class="spread">{{.}}</span>{{end}}</td>{{end}}</tr>
{{end}}</table></div>
{{if .TableNote}}<p class="meta">{{.TableNote}}</p>{{end}}
{{if .Problems}}
<h2>Runs that did not finish</h2>
<ul>{{range .Problems}}<li class="problem"><strong>{{.Name}}</strong> (id {{.Short}}): {{.Status}}{{if .Error}} — {{.Error}}{{end}}</li>{{end}}</ul>
{{end}}
<h2>Data</h2>
<p>{{.DataNote}}</p>
{{if .Datasets}}<div class="scroll"><table>
<tr><th>role</th><th>name</th><th>size</th><th>columns</th><th>used by runs</th></tr>
{{range .Datasets}}<tr><td>{{.Role}}</td><td>{{.Name}}</td><td>{{.Size}}</td><td>{{.Columns}}</td><td class="num">{{.UsedBy}}</td></tr>
{{end}}</table></div>{{end}}

<h2>Code</h2>
{{if .Source}}<p>The code that produced {{if .Best}}the best run{{else}}the latest run{{end}}{{if .SourceWhere}} ({{.SourceWhere}}){{end}}:</p>
<pre><code>{{.Source}}</code></pre>
{{else}}<p>The runs did not record their code.</p>{{end}}

<details class="tech"><summary>Technical details</summary>
{{template "tech" .}}</details>
<div class="print-only"><h2>Technical details</h2>
{{template "tech" .}}</div>
</body>
</html>
{{define "tech"}}<p>Go version: {{.GoVersion}}</p>
{{with .Best}}{{if .Plumbing}}<p>Settings of the best run that change how it computes, not the model:</p>
<div class="scroll"><table>{{range .Plumbing}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>{{end}}</table></div>{{end}}{{end}}
{{if .TableLeft}}<p>Not shown in the table of all runs:</p>
<div class="scroll"><table>{{range .TableLeft}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>{{end}}</table></div>{{end}}
{{if .Datasets}}<p>Datasets by SHA-256 (the database keeps each version, restorable exactly):</p>
<div class="scroll"><table>{{range .Datasets}}<tr><td>{{.Role}} {{.Name}}</td><td><code>{{.SHA}}</code></td></tr>{{end}}</table></div>{{end}}
{{if .Modules}}<p>Module versions ({{len .Modules}}):</p>
<div class="scroll"><table>{{range .Modules}}<tr><td><code>{{index . 0}}</code></td><td><code>{{index . 1}}</code></td></tr>{{end}}</table></div>{{end}}
{{end}}`))
