// Package beamtest is the integration test of `gopherlab export --beam`.
// It is a package of its own so that the first build of the Beam SDK (a
// few minutes on a small machine) counts against its own test timeout,
// not the export package's.
package beamtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gopherlab/gopherlab/export"
	"github.com/gopherlab/gopherlab/export/internal/exporttest"
	"github.com/gopherlab/gopherlab/export/jobrt"
	"github.com/gopherlab/gopherlab/tracking"
)

var glxPath string

// runGLX runs the gopherlab test command (export/internal/glx), built
// once, with this checkout as its sources.
func runGLX(t *testing.T, dir string, args ...string) (string, string, error) {
	t.Helper()
	if glxPath == "" {
		p := filepath.Join(t.TempDir(), "glx")
		exporttest.GoBuild(t, exporttest.RepoRoot(t), p, "./export/internal/glx")
		glxPath = p
	}
	cmd := exec.Command(glxPath, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOPHERLAB_SRC="+exporttest.RepoRoot(t))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// text returns a notebook output's text: a string or a list of lines.
func text(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	var lines []string
	json.Unmarshal(v, &lines)
	return strings.Join(lines, "")
}

// notebookOutput returns what the stage-tagged cells of an executed
// notebook printed, as the job prints it: stream text, and the
// text/plain of displays and results, one line each.
func notebookOutput(t *testing.T, nb *export.Notebook) string {
	t.Helper()
	var b strings.Builder
	for _, c := range nb.Cells {
		staged := false
		for _, tag := range export.StageTags {
			staged = staged || c.HasTag(tag)
		}
		if c.Type != "code" || !staged {
			continue
		}
		for _, raw := range c.Outputs {
			var o struct {
				OutputType string                     `json:"output_type"`
				Text       json.RawMessage            `json:"text"`
				Data       map[string]json.RawMessage `json:"data"`
			}
			json.Unmarshal(raw, &o)
			switch o.OutputType {
			case "stream":
				b.WriteString(text(o.Text))
			case "display_data", "execute_result":
				b.WriteString(text(o.Data["text/plain"]) + "\n")
			case "error":
				t.Fatalf("the notebook failed: %s", raw)
			}
		}
	}
	return b.String()
}

// beamTrainCell replaces the iris notebook's train cell: a cross-validation
// and a grid search, whose best pipeline the evaluate cells use. The
// scores are printed to the last digit, so comparing outputs compares
// them bit for bit.
const beamTrainCell = `train, test, err := experiments.TrainTestSplit(iris, testFrac, seed, "species")
if err != nil {
	panic(err)
}
pipe := experiments.NewPipeline(&experiments.StandardScaler{}, &experiments.LogisticRegression{C: c})
cv, err := experiments.CrossValidateDataset(pipe, train, "species", experiments.CVOptions{K: folds, Shuffle: true, Seed: seed})
if err != nil {
	panic(err)
}
fmt.Printf("cv accuracy: %.17g ± %.17g\n", cv.Mean("accuracy"), cv.Std("accuracy"))
gs := &experiments.GridSearch{Model: pipe, Grid: map[string][]any{"logisticregression.C": {0.01, 0.1, 1.0, 10.0, 100.0}},
	CV: experiments.CVOptions{K: folds, Shuffle: true, Seed: seed}}
if err := gs.FitDataset(train, "species"); err != nil {
	panic(err)
}
for _, r := range gs.Results() {
	fmt.Printf("C=%v mean=%.17g std=%.17g rank=%d scores=%.17g\n", r.Params["logisticregression.C"], r.Mean, r.Std, r.Rank, r.Scores)
}
fmt.Println("best", gs.BestParams())
pipe = gs.BestModel().(*experiments.Pipeline)`

const beamTrackCell = `import "github.com/gopherlab/gopherlab/tracking"

store, err := tracking.Open("")
if err != nil {
	panic(err)
}
run, err := store.StartRun("iris", &tracking.RunOptions{Name: "grid", Params: map[string]interface{}{"c": c, "seed": seed, "folds": folds}})
if err != nil {
	panic(err)
}
run.LogMetric("accuracy", acc, 0)
run.LogMetric("cv_accuracy", cv.Mean("accuracy"), 0)
run.LogMetric("best_cv_accuracy", gs.BestScore(), 0)
if err := run.Finish(); err != nil {
	panic(err)
}
store.Close()`

// TestExportBeam exports a notebook whose cells cross-validate and grid
// search with --beam, builds the job, and runs it without Beam and on the
// in-process Prism and direct runners: each run prints exactly what the
// notebook printed, saves the same model file, and logs a run to tracking
// whose metrics are those of the tracked notebook run, bit for bit. Flink,
// Spark and Dataflow need a cluster: only their flag checks run here.
func TestExportBeam(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gopherlab command and a job with the Beam SDK")
	}
	t0 := time.Now()
	tmp := t.TempDir()
	nbPath := exporttest.CopyIrisNotebook(t, tmp)
	nb, err := export.ReadNotebook(nbPath)
	if err != nil {
		t.Fatal(err)
	}
	replaced := false
	for _, c := range nb.Cells {
		if c.HasTag(export.TagTrain) {
			c.Source, replaced = beamTrainCell, true
		}
	}
	if !replaced {
		t.Fatal("the iris notebook has no train cell")
	}
	track := &export.Cell{Type: "code", ID: "track", Source: beamTrackCell}
	track.SetTags([]string{export.TagEvaluate})
	nb.Cells = append(nb.Cells, track)
	if err := nb.WriteFile(nbPath); err != nil {
		t.Fatal(err)
	}
	executed := filepath.Join(tmp, "iris.out.ipynb")
	if stdout, stderr, err := runGLX(t, tmp, "run", "-q", nbPath, "-o", executed); err != nil {
		t.Fatalf("run: %v\n%s%s", err, stdout, stderr)
	}
	nbOut, err := export.ReadNotebook(executed)
	if err != nil {
		t.Fatal(err)
	}
	want := notebookOutput(t, nbOut)
	if !strings.Contains(want, "C=100 mean=") || !strings.Contains(want, "best map[logisticregression.C:") {
		t.Fatalf("the notebook did not grid search:\n%s", want)
	}
	db := filepath.Join(tmp, "gopherlab.db")
	store, err := tracking.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := store.SearchRuns(tracking.SearchQuery{Experiment: "iris", Filter: `name = "grid"`})
	store.Close()
	if err != nil || len(runs) != 1 {
		t.Fatalf("tracked runs: %v %+v", err, runs)
	}
	id := runs[0].ID
	tNotebook := time.Since(t0)

	out := filepath.Join(tmp, "out")
	stdout, stderr, err := runGLX(t, t.TempDir(), "export", "--run", id, "--db", db, "--beam", "-o", out)
	if err != nil {
		t.Fatalf("export --beam: %v\n%s%s", err, stdout, stderr)
	}
	if !strings.Contains(stdout, "-runner prism") {
		t.Errorf("export output does not say how to run on Beam:\n%s", stdout)
	}
	jobDir := filepath.Join(out, "job")
	gomod, _ := os.ReadFile(filepath.Join(jobDir, "go.mod"))
	if !strings.Contains(string(gomod), "\tgithub.com/apache/beam/sdks/v2 v2.") {
		t.Errorf("go.mod does not require Beam:\n%s", gomod)
	}
	for _, f := range []string{"beam.go", "internal/gopherlab/export/beamjob/beamjob.go"} {
		if _, err := os.Stat(filepath.Join(jobDir, f)); err != nil {
			t.Error(err)
		}
	}
	t1 := time.Now()
	job := filepath.Join(jobDir, "job")
	exporttest.GoBuild(t, jobDir, job, ".")
	tBuild := time.Since(t1)

	// The job's flags: its own, the parameters, and the Beam flags the
	// exporter keeps parameters from taking.
	_, help, _ := exporttest.RunIn(t, jobDir, job, "-h")
	got := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+-([A-Za-z0-9_-]+)`).FindAllStringSubmatch(help, -1) {
		got[m[1]] = true
	}
	wantFlags := append([]string{"dir", "model-dir", "allow-changed-data", "allow-unchecked", "workers", "q", "dataPath", "testFrac", "seed", "c", "folds"}, export.BeamFlags()...)
	for _, f := range wantFlags {
		if !got[f] {
			t.Errorf("job -h has no -%s", f)
		}
		delete(got, f)
	}
	if len(got) > 0 {
		t.Errorf("job -h has flags export.BeamFlags does not list: %v", got)
	}

	// The same job without Beam, and on the in-process runners.
	sums := map[string]string{}
	timings := map[string]time.Duration{}
	for _, runner := range []string{"", "prism", "direct"} {
		name := runner
		if name == "" {
			name = "local"
		}
		modelDir := filepath.Join(tmp, "model-"+name)
		args := []string{"-model-dir", modelDir}
		if runner != "" {
			args = append(args, "-runner", runner)
		}
		// The job's own temporary directory, to see what it leaves.
		jobTmp := filepath.Join(tmp, "tmp-"+name)
		if err := os.Mkdir(jobTmp, 0o755); err != nil {
			t.Fatal(err)
		}
		t2 := time.Now()
		stdout, stderr, err := exporttest.RunInEnv(t, jobDir, []string{"TMPDIR=" + jobTmp}, job, args...)
		timings[name] = time.Since(t2)
		if err != nil {
			t.Fatalf("job %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
		if stdout != want {
			t.Errorf("job -runner %q printed\n%s\nthe notebook printed\n%s", runner, stdout, want)
		}
		if !strings.Contains(stderr, "reproduces tracked run "+id[:8]+" bit for bit: accuracy=") {
			t.Errorf("job -runner %q: no bit-for-bit match with the tracked run:\n%s", runner, stderr)
		}
		if runner != "" {
			for _, re := range []string{
				`fits: Apache Beam, runner ` + runner,
				`beam cross validate: 5 fits \(1 candidates x 5 folds\) on ` + runner,
				`beam grid search: 25 fits \(5 candidates x 5 folds\) on ` + runner,
			} {
				if !regexp.MustCompile(re).MatchString(stderr) {
					t.Errorf("job -runner %s: stderr has no %q:\n%s", runner, re, stderr)
				}
			}
			// The in-process runners' temporary files are gone.
			m := regexp.MustCompile(`files in (\S+)`).FindStringSubmatch(stderr)
			if m == nil {
				t.Errorf("job -runner %s: no temporary directory named:\n%s", runner, stderr)
			} else if _, err := os.Stat(filepath.Dir(m[1])); !os.IsNotExist(err) {
				t.Errorf("job -runner %s left %s: %v", runner, filepath.Dir(m[1]), err)
			}
			// Beam's loopback environment leaves a file per pipeline in
			// the temporary directory, unless the job clears it up.
			if left, _ := os.ReadDir(jobTmp); len(left) > 0 {
				var names []string
				for _, e := range left {
					names = append(names, e.Name())
				}
				t.Errorf("job -runner %s left %v in its temporary directory", runner, names)
			}
		} else if strings.Contains(stderr, "beam") {
			t.Errorf("the job without -runner used Beam:\n%s", stderr)
		}
		sums[name], _, err = jobrt.FileSHA256(filepath.Join(modelDir, "model.gob"))
		if err != nil {
			t.Fatal(err)
		}
	}
	if sums["prism"] != sums["local"] || sums["direct"] != sums["local"] {
		t.Errorf("model.gob differs between runs: %v", sums)
	}

	// Every run logged its own run to tracking.
	store, err = tracking.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	runs, err = store.SearchRuns(tracking.SearchQuery{Experiment: "iris", Filter: `name = "grid"`})
	store.Close()
	if err != nil || len(runs) != 4 {
		t.Errorf("runs named grid after three jobs: %d (%v)", len(runs), err)
	}

	// The cluster runners submit the pipeline to a portable job service,
	// as a Flink or Spark job server is: Beam's Prism, built from the
	// job's module and run as a job server on 127.0.0.1, is one. The job
	// hosts the SDK worker itself (LOOPBACK), as it would on a cluster
	// whose workers reach back to it.
	endpoint := startPrism(t, jobDir, filepath.Join(tmp, "prism"))
	for _, runner := range []string{"flink", "spark", "universal"} {
		modelDir := filepath.Join(tmp, "model-"+runner)
		args := []string{"-model-dir", modelDir, "-runner", runner, "-endpoint", endpoint, "-beam_temp", t.TempDir(), "-environment_type", "LOOPBACK"}
		t2 := time.Now()
		stdout, stderr, err := exporttest.RunIn(t, jobDir, job, args...)
		timings[runner] = time.Since(t2)
		if err != nil {
			t.Fatalf("job %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
		if stdout != want {
			t.Errorf("job -runner %s printed\n%s\nthe notebook printed\n%s", runner, stdout, want)
		}
		for _, re := range []string{
			`reproduces tracked run ` + id[:8] + ` bit for bit: accuracy=`,
			`fits: Apache Beam, runner ` + runner,
			`beam grid search: 25 fits \(5 candidates x 5 folds\) on ` + runner,
		} {
			if !regexp.MustCompile(re).MatchString(stderr) {
				t.Errorf("job -runner %s: stderr has no %q:\n%s", runner, re, stderr)
			}
		}
		if sum, _, err := jobrt.FileSHA256(filepath.Join(modelDir, "model.gob")); err != nil || sum != sums["local"] {
			t.Errorf("job -runner %s: model.gob %s (%v), the local run's %s", runner, sum, err, sums["local"])
		}
	}

	// The cluster runners' settings are checked before anything runs.
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-runner", "flink"}, "-runner flink needs -beam_temp"},
		{[]string{"-runner", "spark", "-beam_temp", tmp}, "-runner spark needs -endpoint HOST:PORT"},
		{[]string{"-runner", "flink", "-beam_temp", tmp, "-endpoint", "127.0.0.1:1"}, "the job service at -endpoint 127.0.0.1:1 does not answer"},
		{[]string{"-runner", "dataflow"}, "-runner dataflow needs -beam_temp"},
		{[]string{"-runner", "storm"}, "unknown runner (want one of prism, direct, flink, spark, universal, dataflow"},
		{[]string{"-runner", "prism", "-beam_log_level", "loud"}, "-beam_log_level loud"},
	} {
		_, stderr, err := exporttest.RunIn(t, jobDir, job, append(tt.args, "-model-dir", filepath.Join(tmp, "unused"))...)
		if err == nil || !strings.Contains(stderr, tt.want) {
			t.Errorf("job %v: %v, stderr:\n%s", tt.args, err, stderr)
		}
	}
	t.Logf("gopherlab build + notebook run %v, export + job build %v (Beam SDK compile, cached after the first), job local %v, prism %v, direct %v, on a Prism job server: flink %v, spark %v, universal %v; total %v",
		tNotebook.Round(time.Millisecond), tBuild.Round(time.Millisecond), timings["local"].Round(time.Millisecond),
		timings["prism"].Round(time.Millisecond), timings["direct"].Round(time.Millisecond),
		timings["flink"].Round(time.Millisecond), timings["spark"].Round(time.Millisecond), timings["universal"].Round(time.Millisecond),
		time.Since(t0).Round(time.Millisecond))
}

// startPrism builds Beam's Prism runner from the job's module into bin,
// starts it as a job server on a free port of 127.0.0.1, and returns its
// endpoint; it is stopped when the test ends.
func startPrism(t *testing.T, jobDir, bin string) string {
	t.Helper()
	exporttest.GoBuild(t, jobDir, bin, "github.com/apache/beam/sdks/v2/go/cmd/prism")
	cmd := exec.Command(bin, "-job_port", "0", "-serve_http=false", "-log_kind", "text")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	// It logs the endpoint it serves once it listens.
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`Serving JobManagement.*endpoint=\S*:(\d+)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- "127.0.0.1:" + m[1]
				break
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	select {
	case ep := <-found:
		return ep
	case <-time.After(30 * time.Second):
		t.Fatal("prism did not say which port it serves within 30 s")
	}
	return ""
}
