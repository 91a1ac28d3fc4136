//go:build ignore

// This package needs the Apache Beam Go SDK, which gopherlab's own module
// does not require: the build constraint above keeps it out of gopherlab's
// builds. `gopherlab export --beam` copies it into the job's module
// (without that line) and adds Beam to the job's go.mod.

// Package beamjob runs the model-selection fits of an exported training job
// as an Apache Beam pipeline. With -runner set, every cross-validation, grid
// search, validation or learning curve of the job's cells becomes one
// pipeline: one element per (candidate, fold) fit, a registered DoFn that
// computes the fit's scores, and a text file of the scores the job reads
// back. The job then goes on exactly as the local run does (best
// parameters, refit, evaluation, model, tracking) with the same results to
// the last bit.
//
// The DoFn needs nothing of the process that built the pipeline: each
// pipeline writes the fits' inputs (the candidates, the data, the folds and
// the metrics; experiments.FitJob.Encode) to a file under -beam_temp, and
// the DoFn decodes it in Setup. So the workers may be other processes or
// machines running the same binary, as on Flink, Spark or Dataflow, as long
// as they reach -beam_temp (a shared directory, gs://...).
package beamjob

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/gcs"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"
	beamlog "github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/dataflow"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/direct"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/flink"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/spark"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/universal"

	"github.com/gopherlab/gopherlab/experiments"
	"github.com/gopherlab/gopherlab/export/jobrt"
)

func init() {
	register.DoFn3x1[context.Context, int, func(string), error](&fitFn{})
	register.Emitter1[string]()
}

// Runners are the -runner values: the in-process runners (prism, direct)
// and those that submit to a cluster (flink, spark and universal through a
// job service at -endpoint; dataflow with Beam's --project, --region and
// --staging_location flags).
var Runners = []string{"prism", "direct", "flink", "spark", "universal", "dataflow"}

// inProcess are the runners whose workers run in this process.
var inProcess = map[string]bool{"prism": true, "direct": true}

// Runner is the job's Beam mode: jobrt.Program.Distributed.
type Runner struct {
	runner   string // "" runs the fits on goroutines, as without Beam
	temp     string
	logLevel string

	dir      string // this run's directory under temp
	ownsTemp bool
	// scratch is TMPDIR while an in-process runner runs a pipeline:
	// Beam's loopback environment leaves an empty temporary file behind
	// per pipeline (apache/beam issue 27569), which Finish removes with
	// the directory.
	scratch string
	n       int // pipelines run
	out     func(format string, args ...any)
}

// Flags registers -runner, -beam_temp and -beam_log_level. Beam's own
// flags (-endpoint, -environment_type, -job_name, Dataflow's -project,
// -region, -staging_location, ...) are registered by the Beam packages.
func (r *Runner) Flags(fs *flag.FlagSet) {
	fs.StringVar(&r.runner, "runner", "", "run the cells' cross-validation and grid-search fits as an Apache Beam pipeline on this runner: "+strings.Join(Runners, ", ")+` ("": goroutines in this process, no Beam)`)
	fs.StringVar(&r.temp, "beam_temp", "", "directory or URL (gs://...) for the fits' inputs and scores, which the job and every worker must reach (default: a temporary directory for prism and direct, Beam's -temp_location otherwise)")
	fs.StringVar(&r.logLevel, "beam_log_level", "warn", "Beam's log level: debug, info, warn or error")
}

// Init runs right after the flags are parsed. In a worker process a
// runner started (Flink, Spark and Dataflow start the job's binary with
// Beam's worker flags) it serves the pipeline's DoFns and never returns.
func (r *Runner) Init() {
	beam.Init()
}

// Start checks the flags and, with -runner set, makes the Beam pipeline
// run every later model selection's fits.
func (r *Runner) Start(j *jobrt.Job) error {
	if r.runner == "" {
		return nil
	}
	known := false
	for _, name := range Runners {
		known = known || name == r.runner
	}
	if !known {
		return fmt.Errorf("job: -runner %s: unknown runner (want one of %s, or none)", r.runner, strings.Join(Runners, ", "))
	}
	switch strings.ToLower(r.logLevel) {
	case "debug", "info", "warn", "error":
		beamlog.SetupLogging(strings.ToLower(r.logLevel), "text")
	default:
		return fmt.Errorf("job: -beam_log_level %s: want debug, info, warn or error", r.logLevel)
	}
	if r.temp == "" {
		if f := flag.Lookup("temp_location"); f != nil {
			r.temp = f.Value.String()
		}
	}
	if r.temp == "" {
		if !inProcess[r.runner] {
			return fmt.Errorf("job: -runner %s needs -beam_temp (or -temp_location): a directory or URL the job and the runner's workers both reach", r.runner)
		}
		d, err := os.MkdirTemp("", "gopherlab-beam-")
		if err != nil {
			return fmt.Errorf("job: -beam_temp: %w", err)
		}
		r.temp, r.ownsTemp = d, true
	}
	if err := r.workerBinary(); err != nil {
		return err
	}
	if err := r.checkEndpoint(); err != nil {
		return err
	}
	r.dir = joinPath(r.temp, fmt.Sprintf("%s-%d-%d", j.Manifest.Name, time.Now().Unix(), os.Getpid()))
	r.out = j.Printf
	if !r.ownsTemp && !strings.Contains(r.temp, "://") {
		if err := os.MkdirAll(r.dir, 0o755); err != nil {
			return fmt.Errorf("job: -beam_temp: %w", err)
		}
	}
	j.Printf("  fits: Apache Beam, runner %s, files in %s\n", r.runner, r.dir)
	experiments.SetFitExecutor(r)
	return nil
}

// checkEndpoint checks that the job service of flink, spark and universal
// answers: Beam would wait for it without a word.
func (r *Runner) checkEndpoint() error {
	switch r.runner {
	case "flink", "spark", "universal":
	default:
		return nil
	}
	f := flag.Lookup("endpoint")
	if f == nil || f.Value.String() == "" {
		return fmt.Errorf("job: -runner %s needs -endpoint HOST:PORT, the address of its Beam job service", r.runner)
	}
	c, err := net.DialTimeout("tcp", f.Value.String(), 10*time.Second)
	if err != nil {
		return fmt.Errorf("job: -runner %s: the job service at -endpoint %s does not answer: %w", r.runner, f.Value.String(), err)
	}
	c.Close()
	return nil
}

// workerBinary makes this executable the workers' binary (Beam's
// -worker_binary) for the runners that start workers elsewhere, unless
// the flag names one. Beam would otherwise compile one from the sources
// of the package that built the pipeline, which is not the job's main.
func (r *Runner) workerBinary() error {
	f := flag.Lookup("worker_binary")
	if inProcess[r.runner] || f == nil || f.Value.String() != "" {
		return nil
	}
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		return fmt.Errorf("job: -runner %s: Beam's workers run linux/amd64 binaries and this job is %s/%s: build one with GOOS=linux GOARCH=amd64 go build and name it with -worker_binary", r.runner, runtime.GOOS, runtime.GOARCH)
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("job: -runner %s: the job's own binary for the workers: %w (name it with -worker_binary)", r.runner, err)
	}
	return f.Value.Set(exe)
}

// Finish removes the temporary directories Start and RunFits made.
func (r *Runner) Finish() {
	if r.ownsTemp {
		os.RemoveAll(r.temp)
		r.ownsTemp = false
	}
	if r.scratch != "" {
		os.RemoveAll(r.scratch)
		r.scratch = ""
	}
}

// withScratchTemp runs f with the process's temporary directory
// (os.TempDir, from $TMPDIR) set to r.scratch, made on first use, and
// puts $TMPDIR back after.
func (r *Runner) withScratchTemp(f func() error) error {
	if r.scratch == "" {
		d, err := os.MkdirTemp("", "gopherlab-beam-tmp-")
		if err != nil {
			return fmt.Errorf("beam: temporary directory: %w", err)
		}
		r.scratch = d
	}
	old, had := os.LookupEnv("TMPDIR")
	os.Setenv("TMPDIR", r.scratch)
	defer func() {
		if had {
			os.Setenv("TMPDIR", old)
		} else {
			os.Unsetenv("TMPDIR")
		}
	}()
	return f()
}

func joinPath(dir, name string) string {
	if strings.Contains(dir, "://") {
		return strings.TrimSuffix(dir, "/") + "/" + name
	}
	return strings.TrimSuffix(dir, string(os.PathSeparator)) + string(os.PathSeparator) + name
}

// RunFits runs the job's fits as one Beam pipeline: experiments.FitExecutor.
func (r *Runner) RunFits(job *experiments.FitJob) ([]experiments.FitScores, error) {
	ctx := context.Background()
	r.n++
	payload, err := job.Encode()
	if err != nil {
		return nil, fmt.Errorf("beam: %w", err)
	}
	base := joinPath(r.dir, fmt.Sprintf("fits-%d", r.n))
	if err := writeFile(ctx, base+"-job.bin", payload); err != nil {
		return nil, err
	}
	scoresPath := base + "-scores.jsonl"

	p, s := beam.NewPipelineWithRoot()
	idx := make([]int, len(job.Tasks))
	for i := range idx {
		idx[i] = i
	}
	// Reshuffle lets the runner spread the fits over its workers (a
	// created collection is otherwise one bundle).
	tasks := beam.Reshuffle(s, beam.CreateList(s, idx))
	scores := beam.ParDo(s, &fitFn{Job: base + "-job.bin"}, tasks)
	textio.Write(s, scoresPath, scores)
	start := time.Now()
	run := func() error {
		_, err := beam.Run(ctx, r.runner, p)
		return err
	}
	if inProcess[r.runner] {
		err = r.withScratchTemp(run)
	} else {
		err = run()
	}
	if err != nil {
		return nil, fmt.Errorf("beam: %s: runner %s: %w", job.Op, r.runner, err)
	}
	jobs.Delete(base + "-job.bin") // the decoded job, if this process ran the DoFn
	b, err := readFile(ctx, scoresPath)
	if err != nil {
		return nil, err
	}
	out, err := parseScores(b, len(job.Tasks))
	if err != nil {
		return nil, fmt.Errorf("beam: %s: %s: %w", job.Op, scoresPath, err)
	}
	r.out("  beam %s: %d fits (%d candidates x %d folds) on %s in %v\n", job.Op, len(job.Tasks), job.Models, job.Folds, r.runner, time.Since(start).Round(time.Millisecond))
	return out, nil
}

// fitFn computes the scores of one fit of the job encoded in the file Job.
type fitFn struct {
	Job string `json:"job"`

	job *experiments.FitJob
}

// jobs caches decoded jobs by file, for the runners that run many DoFn
// instances in one process.
var jobs sync.Map // string -> *experiments.FitJob

// Setup reads and decodes the job.
func (f *fitFn) Setup(ctx context.Context) error {
	if j, ok := jobs.Load(f.Job); ok {
		f.job = j.(*experiments.FitJob)
		return nil
	}
	b, err := readFile(ctx, f.Job)
	if err != nil {
		return err
	}
	j, err := experiments.DecodeFitJob(b)
	if err != nil {
		return fmt.Errorf("beam: %s: %w", f.Job, err)
	}
	jobs.Store(f.Job, j)
	f.job = j
	return nil
}

// ProcessElement fits task i and emits its scores as a JSON line.
func (f *fitFn) ProcessElement(ctx context.Context, i int, emit func(string)) error {
	if i < 0 || i >= len(f.job.Tasks) {
		return fmt.Errorf("beam: task %d of a job of %d", i, len(f.job.Tasks))
	}
	s, err := f.job.Run(f.job.Tasks[i])
	if err != nil {
		return err
	}
	line, err := json.Marshal(scoreLine{Task: i, Test: bits(s.Test), Train: bits(s.Train), FitTime: s.FitTime, ScoreTime: s.ScoreTime})
	if err != nil {
		return err
	}
	emit(string(line))
	return nil
}

// scoreLine is one fit's scores in the scores file. Scores travel as
// their IEEE 754 bits: exact, and NaN and infinities too.
type scoreLine struct {
	Task      int               `json:"task"`
	Test      map[string]uint64 `json:"test"`
	Train     map[string]uint64 `json:"train,omitempty"`
	FitTime   float64           `json:"fit_time"`
	ScoreTime float64           `json:"score_time"`
}

func bits(m map[string]float64) map[string]uint64 {
	if m == nil {
		return nil
	}
	out := make(map[string]uint64, len(m))
	for k, v := range m {
		out[k] = math.Float64bits(v)
	}
	return out
}

func unbits(m map[string]uint64) map[string]float64 {
	if m == nil {
		return nil
	}
	out := make(map[string]float64, len(m))
	for k, v := range m {
		out[k] = math.Float64frombits(v)
	}
	return out
}

// parseScores reads the scores file: one line per task, each task once
// (a runner that retried a bundle may have written a task twice; the
// copies must agree).
func parseScores(b []byte, n int) ([]experiments.FitScores, error) {
	out := make([]experiments.FitScores, n)
	seen := make([]*scoreLine, n)
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	sc.Buffer(nil, 1<<26)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var l scoreLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, err
		}
		if l.Task < 0 || l.Task >= n {
			return nil, fmt.Errorf("task %d of %d", l.Task, n)
		}
		if prev := seen[l.Task]; prev != nil {
			if !reflect.DeepEqual(prev.Test, l.Test) || !reflect.DeepEqual(prev.Train, l.Train) {
				return nil, fmt.Errorf("task %d has two different results", l.Task)
			}
			continue
		}
		seen[l.Task] = &l
		out[l.Task] = experiments.FitScores{Test: unbits(l.Test), Train: unbits(l.Train), FitTime: l.FitTime, ScoreTime: l.ScoreTime}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	var missing []string
	for i, l := range seen {
		if l == nil {
			missing = append(missing, fmt.Sprint(i))
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("no scores for tasks %s", strings.Join(missing, ", "))
	}
	return out, nil
}

func writeFile(ctx context.Context, path string, b []byte) error {
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return fmt.Errorf("beam: %s: %w", path, err)
	}
	defer fs.Close()
	w, err := fs.OpenWrite(ctx, path)
	if err != nil {
		return fmt.Errorf("beam: %s: %w", path, err)
	}
	if _, err := w.Write(b); err != nil {
		w.Close()
		return fmt.Errorf("beam: %s: %w", path, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("beam: %s: %w", path, err)
	}
	return nil
}

func readFile(ctx context.Context, path string) ([]byte, error) {
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("beam: %s: %w", path, err)
	}
	defer fs.Close()
	rc, err := fs.OpenRead(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("beam: %s: %w", path, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("beam: %s: %w", path, err)
	}
	return b, nil
}
