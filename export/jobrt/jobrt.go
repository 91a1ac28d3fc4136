// Package jobrt is the runtime of the training jobs `gopherlab export`
// generates: it reads the job's manifest, refuses data files whose SHA-256
// changed since the export, reports progress, fails the job when a cell's
// final call returns an error (as the notebook fails the cell), saves the
// fitted pipeline for the serving bundle with a manifest of its hash once
// the job's check passed, and prints the summary. The exporter copies
// this package into each job's module.
package jobrt

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gopherlab/gopherlab/display"
	"github.com/gopherlab/gopherlab/experiments"
	"github.com/gopherlab/gopherlab/internal/atomicfile"
)

// Format identifies job manifests.
const Format = "gopherlab.job/v1"

// Manifest describes an exported job: where it came from, its parameters,
// the data it reads with their hashes, and the versions it was built with.
type Manifest struct {
	Format         string `json:"format"`          // Format
	Name           string `json:"name"`            // ExportOptions.Name or the notebook's file name, sanitized
	Notebook       string `json:"notebook"`        // path at export
	NotebookSHA256 string `json:"notebook_sha256"` // of the notebook file
	// WorkDir is the notebook's directory at export: relative paths in
	// the cells are resolved from it unless -dir says otherwise.
	WorkDir    string          `json:"work_dir"`
	ExportedAt time.Time       `json:"exported_at"` // UTC, whole seconds
	Cells      []ManifestCell  `json:"cells"`       // the exported cells, in notebook order
	Params     []ManifestParam `json:"params"`      // the parameters cell's variables, in order
	// Seed is the value of the parameter named seed (or Seed,
	// random_state, randomState), if there is one.
	Seed      *int64     `json:"seed,omitempty"`
	SeedParam string     `json:"seed_param,omitempty"` // name of the parameter holding Seed
	Data      []DataFile `json:"data"`                 // the data files the cells read
	// Unpinned lists the reads of files named by an expression the
	// export could not evaluate: their content is not in the manifest.
	Unpinned []UnpinnedRead `json:"unpinned_data,omitempty"`
	// GoVersion is the Go toolchain of the export; GoDirective the go
	// line of go.mod; Modules the module requirements (identical to
	// gopherlab's).
	GoVersion   string            `json:"go_version"`
	GoDirective string            `json:"go_directive"`
	Modules     map[string]string `json:"modules"`
	Gopherlab   string            `json:"gopherlab_version"` // gopherlab's module version, or "(devel)"
	// Model is the variable holding the fitted pipeline to serve.
	Model string `json:"model,omitempty"`
	// TrackedRun is the run the job was exported from (export --run).
	TrackedRun *TrackedRun `json:"tracked_run,omitempty"`
	// Beam is the version of the Apache Beam Go SDK of a job exported
	// with --beam (its -runner flag runs the fits as a Beam pipeline).
	Beam string `json:"beam,omitempty"`
}

// ManifestCell is one exported cell.
type ManifestCell struct {
	Index int    `json:"index"`        // in the notebook's cells, from 0
	Tag   string `json:"tag"`          // stage tag; "" for an untagged cell exported with --all
	ID    string `json:"id,omitempty"` // nbformat cell id, if any
}

// ManifestParam is one parameter (a flag of the job).
type ManifestParam struct {
	Name    string `json:"name"`           // the variable's name, also the job's flag
	Type    string `json:"type"`           // Go type: int, int64, float64, string or bool
	Default string `json:"default"`        // Go literal
	From    string `json:"from,omitempty"` // where Default comes from if not the notebook ("run 1a2b3c4d")
}

// Origin names where the default comes from: "notebook", or From.
func (p ManifestParam) Origin() string {
	if p.From != "" {
		return p.From
	}
	return "notebook"
}

// DataFile is a file the cells read.
type DataFile struct {
	Path   string `json:"path"`            // as written in the notebook
	Param  string `json:"param,omitempty"` // the parameter holding the path, if any
	SHA256 string `json:"sha256"`          // hex SHA-256 at export
	Size   int64  `json:"size"`            // bytes at export
	Cells  []int  `json:"cells"`           // notebook indexes of the cells that read it
}

// UnpinnedRead is a cell's read of a file whose name is computed
// (filepath.Join(dir, name)): the export cannot hash it, so the job
// compares the data its run used with the tracked run's instead.
type UnpinnedRead struct {
	Cell int    `json:"cell"` // notebook index
	Call string `json:"call"` // the call, as written
}

// TrackedRun is the tracked notebook run a job reproduces.
type TrackedRun struct {
	ID         string            `json:"id"`               // full run id
	Experiment string            `json:"experiment"`       // experiment name
	Name       string            `json:"name,omitempty"`   // display name, if any
	Params     map[string]string `json:"params,omitempty"` // param values as text, by key
	Metrics    Metrics           `json:"metrics"`          // latest value of each metric
}

// Metrics are metric values by key. In JSON a value that is not finite
// (an undefined AUC is NaN, which the tracking store keeps) is the string
// "NaN", "+Inf" or "-Inf", which plain JSON numbers cannot be.
type Metrics map[string]float64

// MarshalJSON writes the metrics, non-finite values as strings.
func (m Metrics) MarshalJSON() ([]byte, error) {
	if m == nil {
		return []byte("null"), nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			out[k] = strconv.FormatFloat(v, 'g', -1, 64)
			continue
		}
		out[k] = v
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (m *Metrics) UnmarshalJSON(b []byte) error {
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if raw == nil {
		*m = nil
		return nil
	}
	out := make(Metrics, len(raw))
	for k, v := range raw {
		switch x := v.(type) {
		case float64:
			out[k] = x
		case string:
			f, err := strconv.ParseFloat(x, 64)
			if err != nil || !(math.IsNaN(f) || math.IsInf(f, 0)) {
				return fmt.Errorf("metric %s: %q is not a number", k, x)
			}
			out[k] = f
		default:
			return fmt.Errorf("metric %s: %v is not a number", k, v)
		}
	}
	*m = out
	return nil
}

// ModelManifest sits beside a saved model (model.json): the serving
// bundle refuses a model file whose hash differs.
type ModelManifest struct {
	Format       string            `json:"format"`                  // ModelFormat
	Name         string            `json:"name"`                    // the job's name
	File         string            `json:"file"`                    // relative to the manifest
	SHA256       string            `json:"sha256"`                  // hex SHA-256 of File
	Size         int64             `json:"size"`                    // bytes of File
	Schema       []ModelColumn     `json:"schema"`                  // the input columns the pipeline expects
	Target       string            `json:"target,omitempty"`        // the column the pipeline predicts; empty if it was fitted on a matrix
	TargetLevels []string          `json:"target_levels,omitempty"` // levels of a categorical target (class k is level k); nil if numeric
	Classes      []float64         `json:"classes,omitempty"`       // the final classifier's classes; nil for a regressor
	Steps        []string          `json:"steps"`                   // names of the pipeline's steps, in order
	Params       map[string]string `json:"params"`                  // the job's parameter values, as text by name
	Job          string            `json:"job"`                     // the job's name
	JobManifest  string            `json:"job_manifest"`            // SHA-256 of the job manifest
	Data         map[string]string `json:"data"`                    // data file -> SHA-256
	Created      time.Time         `json:"created"`                 // when the job saved the model (UTC)
	GoVersion    string            `json:"go_version"`              // runtime.Version() of the job
	// RunID and Experiment name the tracked run the job was exported
	// from (export --run), so a served model leads back to it.
	RunID      string `json:"run_id,omitempty"`
	Experiment string `json:"experiment,omitempty"`
}

// ModelColumn is an input column of a served model.
type ModelColumn struct {
	Name string `json:"name"` // column name
	Kind string `json:"kind"` // numeric or categorical
	// ReadAs is how a categorical column's values became its levels
	// (experiments.LevelForm: "as written" or "numbers"); empty for a
	// numeric column and for a model whose pipeline did not record it.
	ReadAs string `json:"read_as,omitempty"`
}

// ModelFormat identifies model manifests.
const ModelFormat = "gopherlab.model/v1"

// Job is a running job.
type Job struct {
	Manifest    Manifest // the job's manifest, decoded by New
	manifestSHA string
	// dataSums are the SHA-256 of the data files the job read, by path
	// as read (set by Start).
	dataSums map[string]string

	// Set by flags.
	Dir              string // -dir; default Manifest.WorkDir
	ModelDir         string // -model-dir; made absolute by Start
	AllowChangedData bool   // -allow-changed-data
	// AllowUnchecked (-allow-unchecked, jobs exported with --run) accepts
	// a reproduction the job could not check (tracking store unreachable,
	// no run of its own, no metric to compare): it then exits 0.
	AllowUnchecked bool
	Workers        int  // -workers; default runtime.NumCPU()
	Quiet          bool // -q: no progress or summary
	// Params are the notebook parameters' values, as text by name (set
	// by Main once the flags are parsed).
	Params map[string]string

	changed map[string]bool
	// differs says how the job's inputs differ from the export's:
	// parameters set to other values, data that is not the export's.
	differs []string
	// chosen is the number of differs the job's flags account for
	// (set by Start): the others were found while the job ran.
	chosen  int
	out     io.Writer // progress and summary (stderr)
	start   time.Time
	cell    int // position of the running cell in Manifest.Cells
	cellT   time.Time
	timings map[int]time.Duration // by position in Manifest.Cells
	model   string                // where the model went
	onCell  func(*Job, int)
	cleanup func() // Distributor.Finish, also on failure
	// stopTracking ends tracking (Program.Track's stop), also on
	// failure, so that the runs of the cells that ran are written.
	stopTracking func()
	// onFail records a failed cell on the tracking store (Program.Failed).
	onFail func(j *Job, cell, failure string)
	// errOut and exit report a failure and end the process (os.Stderr
	// and os.Exit; tests replace them).
	errOut io.Writer
	exit   func(code int)
}

// New reads the job's manifest.
func New(manifestJSON []byte) (*Job, error) {
	j := &Job{out: os.Stderr, errOut: os.Stderr, exit: os.Exit, cell: -1, timings: map[int]time.Duration{}}
	if err := json.Unmarshal(manifestJSON, &j.Manifest); err != nil {
		return nil, fmt.Errorf("job: manifest: %w", err)
	}
	if j.Manifest.Format != Format {
		return nil, fmt.Errorf("job: manifest format %q, want %q", j.Manifest.Format, Format)
	}
	sum := sha256.Sum256(manifestJSON)
	j.manifestSHA = hex.EncodeToString(sum[:])
	return j, nil
}

// Flags registers the job's own flags (the parameters are registered by
// the generated main).
func (j *Job) Flags(fs *flag.FlagSet) {
	fs.StringVar(&j.Dir, "dir", j.Manifest.WorkDir, "directory the notebook's relative paths are resolved from (the notebook's directory at export)")
	fs.StringVar(&j.ModelDir, "model-dir", filepath.Join("..", "serve", "model"), "directory to write the fitted model and its manifest to (the serving bundle's model directory when run from the job's directory)")
	fs.BoolVar(&j.AllowChangedData, "allow-changed-data", false, "run even if a data file's SHA-256 differs from the export's, or (export --run) the tracked run's data differs from the job's: the job then does not claim to reproduce the run and exits 0 (without it, such a job fails)")
	if j.Manifest.TrackedRun != nil {
		fs.BoolVar(&j.AllowUnchecked, "allow-unchecked", false, "exit 0 when the reproduction of the tracked run cannot be checked (the tracking store cannot be opened, the job logged no run, or no metric to compare): the summary still says it was not checked (without it, such a job fails)")
	}
	fs.IntVar(&j.Workers, "workers", runtime.NumCPU(), "goroutines for the parallel work (cross-validation folds, trees, ...); results do not depend on it")
	fs.BoolVar(&j.Quiet, "q", false, "no progress or summary on stderr")
}

// Start checks the data files and moves to the job's directory. fs is
// the parsed flag set, to tell parameters set on the command line.
func (j *Job) Start(fs *flag.FlagSet) error {
	j.start = time.Now()
	if j.Quiet {
		j.out = io.Discard
	}
	j.changed = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { j.changed[f.Name] = true })
	if j.Workers < 1 {
		return fmt.Errorf("job: -workers %d: want at least 1", j.Workers)
	}
	var err error
	if j.ModelDir, err = filepath.Abs(j.ModelDir); err != nil {
		return fmt.Errorf("job: %w", err)
	}
	if j.Dir != "" {
		if err := os.Chdir(j.Dir); err != nil {
			return fmt.Errorf("job: -dir: %w (the notebook's directory at export; set -dir to where its data is)", err)
		}
	}
	m := &j.Manifest
	_, cells := j.progress(-1)
	fmt.Fprintf(j.out, "job %s: %d cells of %s, %d workers\n", m.Name, cells, filepath.Base(m.Notebook), j.Workers)
	for _, p := range m.Params {
		f := fs.Lookup(p.Name)
		v := f.Value.String()
		note := ""
		if j.changed[p.Name] {
			note = " (set; " + p.Origin() + ": " + p.Default + ")"
			if v != f.DefValue {
				j.differs = append(j.differs, fmt.Sprintf("-%s=%s (%s: %s)", p.Name, v, p.Origin(), p.Default))
			}
		}
		fmt.Fprintf(j.out, "  param %s = %s%s\n", p.Name, v, note)
	}
	var bad []string
	j.dataSums = map[string]string{}
	for _, d := range m.Data {
		path := d.Path
		if d.Param != "" {
			path = fs.Lookup(d.Param).Value.String()
			if j.changed[d.Param] {
				sum, _, err := FileSHA256(path)
				if err != nil {
					return fmt.Errorf("job: data file %s (-%s): %w", path, d.Param, err)
				}
				fmt.Fprintf(j.out, "  data %s (from -%s, not the export's file: not checked) sha256 %s\n", path, d.Param, sum[:12])
				j.dataSums[path] = sum
				if sum != d.SHA256 {
					j.differs = append(j.differs, fmt.Sprintf("data %s (sha256 %s, the export's %s)", path, sum[:12], d.SHA256[:min(12, len(d.SHA256))]))
				}
				continue
			}
		}
		sum, size, err := FileSHA256(path)
		if err != nil {
			return fmt.Errorf("job: data file: %w", err)
		}
		j.dataSums[path] = sum
		if sum != d.SHA256 {
			bad = append(bad, fmt.Sprintf("%s: sha256 %s, %d bytes; at export %s, %d bytes", path, sum, size, d.SHA256, d.Size))
			j.differs = append(j.differs, fmt.Sprintf("data %s (changed since the export)", path))
			continue
		}
		fmt.Fprintf(j.out, "  data %s sha256 %s ok\n", path, sum[:12])
	}
	for _, u := range m.Unpinned {
		fmt.Fprintf(j.out, "  data read by cell %d with %s: not pinned by the export\n", u.Cell, u.Call)
	}
	if len(bad) > 0 {
		msg := "data changed since the export:\n  " + strings.Join(bad, "\n  ")
		if !j.AllowChangedData {
			return fmt.Errorf("job: %s\nthe results would not reproduce the notebook's; run with -allow-changed-data to use the new data", msg)
		}
		fmt.Fprintf(j.out, "warning: %s\n", msg)
	}
	j.chosen = len(j.differs)
	return nil
}

// FileSHA256 returns the hex SHA-256 and size of a file.
func FileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// paramsTag is the tag of the parameters cell (export.TagParameters),
// whose values are the job's flags: it has no statements to run.
const paramsTag = "parameters"

// progress returns the place of the i-th exported cell among the cells
// that run (all but the parameters cell), from 1, and their number.
func (j *Job) progress(i int) (n, of int) {
	for k, c := range j.Manifest.Cells {
		if c.Tag == paramsTag {
			continue
		}
		of++
		if k <= i {
			n++
		}
	}
	return n, of
}

// Cell announces that the i-th exported cell starts.
func (j *Job) Cell(i int) {
	j.endCell()
	j.cell, j.cellT = i, time.Now()
	c := j.Manifest.Cells[i]
	n, of := j.progress(i)
	fmt.Fprintf(j.out, "[%d/%d] cell %d (%s)\n", n, of, c.Index, c.Tag)
	if j.onCell != nil {
		j.onCell(j, i)
	}
}

func (j *Job) endCell() {
	if _, done := j.timings[j.cell]; j.cell >= 0 && !done {
		j.timings[j.cell] = time.Since(j.cellT)
		// The cell's progress bars show their last state, as the
		// kernel shows them when a cell ends.
		display.EndCell(false)
	}
}

// Show prints a cell's result as the notebook shows it (its text/plain
// form); a nil result shows nothing, as in the notebook. The job shows
// with it a final expression that is not a call: its value is shown
// even when it is an error, as in the notebook.
//
// A cell's final call follows the notebook's rule: a non-nil error it
// returns fails the cell, and so the job (Result, ErrorResult,
// CheckError); otherwise its value, or values, are shown (Result,
// ErrorResult, Tuple).
func Show(v any) {
	if v == nil {
		return
	}
	display.Show(v)
}

// asError returns v as a non-nil error, if it is one: a nil pointer of
// an error type is a value to show, as in the notebook (its Error method
// may not take nil).
func asError(v any) (error, bool) {
	err, ok := v.(error)
	if !ok || err == nil {
		return nil, false
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
		return nil, false
	}
	return err, true
}

// Result handles the value of a cell's final call with one result: a
// non-nil error fails the job (naming the cell), anything else is shown.
func (j *Job) Result(v any) {
	if err, ok := asError(v); ok {
		j.Fail(err)
		return
	}
	Show(v)
}

// ErrorResult handles the values of a cell's final call whose last
// result is an error (f() (T, error), f() (T, U, error)): a non-nil error
// fails the job, else the other values are shown, one as Show shows it,
// several as a tuple.
func (j *Job) ErrorResult(vs ...any) {
	if len(vs) == 0 {
		return
	}
	if err, ok := asError(vs[len(vs)-1]); ok {
		j.Fail(err)
		return
	}
	if vs = vs[:len(vs)-1]; len(vs) == 1 {
		Show(vs[0])
		return
	}
	Tuple(vs...)
}

// CheckError handles a final call whose last result is an error and whose
// other results are byte counts (fmt.Println, w.Write, io.Copy): a
// non-nil error fails the job; nothing is shown.
func (j *Job) CheckError(vs ...any) {
	if len(vs) == 0 {
		return
	}
	if err, ok := asError(vs[len(vs)-1]); ok {
		j.Fail(err)
	}
}

// Tuple shows the values of a final call with several results, the last
// no error, as the notebook does: (a, b).
func Tuple(vs ...any) {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = display.RenderText(v)
	}
	display.Text("(" + strings.Join(parts, ", ") + ")")
}

// SaveModel writes the fitted pipeline to ModelDir/model.gob with its
// manifest, ModelDir/model.json, each through a temporary file renamed
// into place. Main calls it once the job's check passed: a job that fails
// leaves ModelDir as it was.
func (j *Job) SaveModel(p *experiments.Pipeline, params map[string]string) error {
	if p == nil {
		return errors.New("job: save model: " + j.Manifest.Model + " holds no fitted pipeline (nil, or a grid search that was not over a pipeline or did not refit its best)")
	}
	if err := os.MkdirAll(j.ModelDir, 0o755); err != nil {
		return fmt.Errorf("job: save model: %w", err)
	}
	path := filepath.Join(j.ModelDir, "model.gob")
	if err := p.SaveFile(path); err != nil {
		return fmt.Errorf("job: save model: %w", err)
	}
	sum, size, err := FileSHA256(path)
	if err != nil {
		return fmt.Errorf("job: save model: %w", err)
	}
	mm := ModelManifest{
		Format: ModelFormat, Name: j.Manifest.Name, File: "model.gob", SHA256: sum, Size: size,
		Target: p.Target(), TargetLevels: p.TargetLevels(), Classes: p.Classes(), Params: params,
		Job: j.Manifest.Name, JobManifest: j.manifestSHA, Data: map[string]string{},
		Created: time.Now().UTC(), GoVersion: runtime.Version(),
	}
	if tr := j.Manifest.TrackedRun; tr != nil && len(j.differs) == 0 {
		// Only a model of the same inputs is that run's.
		mm.RunID, mm.Experiment = tr.ID, tr.Experiment
	}
	for _, c := range p.Schema() {
		mc := ModelColumn{Name: c.Name, Kind: c.Kind.String()}
		if c.Levels != experiments.LevelsUnrecorded {
			mc.ReadAs = c.Levels.String()
		}
		mm.Schema = append(mm.Schema, mc)
	}
	for _, s := range p.Steps {
		mm.Steps = append(mm.Steps, s.Name)
	}
	// The data the job read: another file named by a parameter, or
	// changed data run with -allow-changed-data, is what the model
	// learned from, not the export's.
	for _, d := range j.Manifest.Data {
		mm.Data[d.Path] = d.SHA256
	}
	if j.dataSums != nil {
		mm.Data = j.dataSums
	}
	b, err := json.MarshalIndent(mm, "", "  ")
	if err != nil {
		return fmt.Errorf("job: save model: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(j.ModelDir, "model.json"), 0o644, func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	}); err != nil {
		return fmt.Errorf("job: save model: %w", err)
	}
	j.model = path
	return nil
}

// Finish prints the summary.
func (j *Job) Finish() {
	j.endCell()
	m := &j.Manifest
	fmt.Fprintf(j.out, "done in %v\n", time.Since(j.start).Round(time.Millisecond))
	for i, c := range m.Cells {
		if d, ok := j.timings[i]; ok {
			fmt.Fprintf(j.out, "  cell %d (%s) %v\n", c.Index, c.Tag, d.Round(time.Millisecond))
		}
	}
	if j.model != "" {
		fmt.Fprintf(j.out, "model: %s (and model.json)\n", j.model)
	}
}

// Fail reports a failure of the running cell and exits with status 1.
// The runs the job logged are marked as failed in that cell
// (Program.Failed).
func (j *Job) Fail(err error) {
	where := j.failCell(err.Error())
	fmt.Fprintf(j.errOut, "job failed%s: %v\n", where, err)
	if j.cleanup != nil {
		j.cleanup()
	}
	j.exit(1)
}

// failCell ends tracking and, when a cell is running, records that the
// job failed in it with failure (Program.Failed); it returns " in cell N
// (tag)", or "" after the cells.
func (j *Job) failCell(failure string) (where string) {
	j.endTracking()
	if j.cell < 0 {
		return ""
	}
	c := j.Manifest.Cells[j.cell]
	cell := fmt.Sprintf("cell %d (%s)", c.Index, c.Tag)
	if j.onFail != nil {
		j.onFail(j, cell, failure)
	}
	return " in " + cell
}

// endTracking ends tracking once: the runs of the fits made so far are
// written, also when the job fails.
func (j *Job) endTracking() {
	if stop := j.stopTracking; stop != nil {
		j.stopTracking = nil
		stop()
	}
}

// Recover turns a panic of a cell into a failure naming the cell; defer it
// in main.
func (j *Job) Recover() {
	if r := recover(); r != nil {
		stack := debug.Stack()
		where := j.failCell(fmt.Sprintf("panic: %v", r))
		fmt.Fprintf(os.Stderr, "job failed%s: panic: %v\n\n%s", where, r, stack)
		if j.cleanup != nil {
			j.cleanup()
		}
		os.Exit(2)
	}
}

// Param is a parameter of the job: a flag named Name setting the variable
// Ptr points to (*int, *int64, *float64, *string or *bool).
type Param struct {
	Name string // flag name: the notebook variable's name
	Ptr  any    // *int, *int64, *float64, *string or *bool
}

// Program is what a generated job's main hands to Main.
type Program struct {
	Manifest []byte // the job's manifest.json (embedded in the job)
	// Workers receives the -workers flag.
	Workers *int
	Params  []Param // one flag per notebook parameter
	// Run runs the cells.
	Run func(*Job)
	// Model returns the pipeline to save for serving (nil: none).
	Model func() *experiments.Pipeline
	// OnCell, if set, is called as each cell starts (i indexes
	// Manifest.Cells).
	OnCell func(j *Job, i int)
	// Track, if set, is called before the cells run and returns the
	// function that ends tracking after them (before Check runs and the
	// model is saved, or when the job fails): the job logs its fits as
	// the kernel does.
	Track func(*Job) (stop func())
	// Failed, if set, is called when a cell fails (an error, or a
	// panic), once tracking has ended, before the job exits: cell names
	// it ("cell 4 (train)"), failure says why. It marks the runs the job
	// logged as failed, as the kernel marks those of a failing cell.
	Failed func(j *Job, cell, failure string)
	// Check, if set, runs after the cells, before the model is saved: an
	// error (such as metrics that differ from the tracked run the job was
	// exported from) fails the job, and the model is not written.
	Check func(*Job) error
	// Distributed, if set, may run the cells' model-selection fits
	// elsewhere (gopherlab export --beam).
	Distributed Distributor
}

// Distributor runs a job's model-selection fits elsewhere, such as on the
// workers of an Apache Beam pipeline, by installing an
// experiments.FitExecutor in Start.
type Distributor interface {
	// Flags registers its flags beside the job's.
	Flags(fs *flag.FlagSet)
	// Init runs right after the flags are parsed, before anything else:
	// in a worker process a runner started it may never return.
	Init()
	// Start runs after the data check, before the cells.
	Start(j *Job) error
	// Finish runs when the job ends, after Start, failed or not.
	Finish()
}

// Main runs a job: it reads the manifest, parses the flags (the job's own
// and one per parameter), checks the data, runs the cells, runs the check,
// saves the pipeline if the check passed and prints the summary. Errors
// and panics end the process with a message naming the cell; a failed
// check ends it with status 1 and leaves the model directory as it was.
func Main(p Program) {
	j, err := New(p.Manifest)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	j.onCell = p.OnCell
	j.onFail = p.Failed
	fs := flag.CommandLine
	j.Flags(fs)
	if p.Distributed != nil {
		p.Distributed.Flags(fs)
	}
	for _, p := range p.Params {
		if fs.Lookup(p.Name) != nil {
			fmt.Fprintf(os.Stderr, "job: parameter %s has the name of one of the job's own flags (see -h): rename it in the notebook\n", p.Name)
			os.Exit(2)
		}
		usage := "parameter " + p.Name
		for _, mp := range j.Manifest.Params {
			if mp.Name == p.Name {
				usage += " (" + mp.Type + "; " + mp.Origin() + ": " + mp.Default + ")"
			}
		}
		switch v := p.Ptr.(type) {
		case *int:
			fs.IntVar(v, p.Name, *v, usage)
		case *int64:
			fs.Int64Var(v, p.Name, *v, usage)
		case *float64:
			fs.Var((*finiteFloat)(v), p.Name, usage)
		case *string:
			fs.StringVar(v, p.Name, *v, usage)
		case *bool:
			fs.BoolVar(v, p.Name, *v, usage)
		default:
			fmt.Fprintf(os.Stderr, "job: parameter %s has unsupported type %T\n", p.Name, p.Ptr)
			os.Exit(1)
		}
	}
	flag.Parse()
	if p.Distributed != nil {
		p.Distributed.Init()
	}
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "job: unexpected arguments %v (parameters are flags: -name=value)\n", flag.Args())
		os.Exit(2)
	}
	if p.Workers != nil {
		*p.Workers = j.Workers
	}
	j.Params = map[string]string{}
	for _, p := range p.Params {
		j.Params[p.Name] = fs.Lookup(p.Name).Value.String()
	}
	if err := j.Start(fs); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if p.Distributed != nil {
		j.cleanup = p.Distributed.Finish
		if err := p.Distributed.Start(j); err != nil {
			fmt.Fprintln(os.Stderr, err)
			j.cleanup()
			os.Exit(1)
		}
	}
	if p.Track != nil {
		j.stopTracking = p.Track(j)
	}
	defer j.Recover()
	p.Run(j)
	j.endCell()
	j.cell = -1
	// Tracking ends first: what it finds out about the inputs (the data
	// the job's run trained on) decides whether the model is the run's.
	if err := j.complete(p); err != nil {
		j.Fail(err)
	}
	if j.cleanup != nil {
		j.cleanup()
	}
	j.Finish()
}

// complete ends tracking, runs the check and, if it passed, saves the
// model. The check comes before the model: a job that does not reproduce
// the run it was exported from must neither replace the model served, nor
// label one with that run; the model directory is left as it was.
func (j *Job) complete(p Program) error {
	// Tracking ends first: what it finds out about the inputs (the data
	// the job's run trained on) decides whether the model is the run's.
	j.endTracking()
	if p.Check != nil {
		if err := p.Check(j); err != nil {
			if p.Model != nil {
				err = fmt.Errorf("%w\nmodel not written: %s left as it was", err, j.ModelDir)
			}
			return err
		}
	}
	if p.Model != nil {
		return j.SaveModel(p.Model(), j.Params)
	}
	return nil
}

// Differences says how the job's inputs differ from the export's, one
// item per parameter set to another value and per data file that is not
// the export's; nil when they are the same. A job with other inputs does
// not reproduce the tracked run it was exported from.
func (j *Job) Differences() []string { return j.differs }

// AddDifference records another way the job's inputs differ from the
// export's, found while it ran (such as data read from a file whose name
// the export could not pin).
func (j *Job) AddDifference(what string) { j.differs = append(j.differs, what) }

// DifferencesChosen reports whether the job's flags account for its
// inputs being other than the export's: a parameter set to another value,
// a data file named by a parameter's flag, or -allow-changed-data. A job
// whose inputs differ without them (the data changed since the tracked
// run, and the export pinned the new data) cannot reproduce the run, and
// nothing said it need not.
func (j *Job) DifferencesChosen() bool { return j.chosen > 0 || j.AllowChangedData }

// finiteFloat is the flag of a float64 parameter: NaN and infinities are
// refused, as gopherlab run -p refuses them.
type finiteFloat float64

func (f *finiteFloat) String() string {
	if f == nil {
		return "0"
	}
	return strconv.FormatFloat(float64(*f), 'g', -1, 64)
}

func (f *finiteFloat) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("%q is not a finite float64", s)
	}
	*f = finiteFloat(v)
	return nil
}

// Started is when the job started.
func (j *Job) Started() time.Time { return j.start }

// SetOutput sends the job's progress and summary to w instead of stderr.
func (j *Job) SetOutput(w io.Writer) { j.out = w }

// Printf writes progress to the job's terminal output (stderr, nothing
// with -q).
func (j *Job) Printf(format string, args ...any) { fmt.Fprintf(j.out, format, args...) }
