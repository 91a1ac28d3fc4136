package export

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopherlab/gopherlab/export/internal/exporttest"
	"github.com/gopherlab/gopherlab/export/jobrt"
	"github.com/gopherlab/gopherlab/tracking"
)

// notebookOutput returns what the exported cells of an executed notebook
// printed, in order, as the job prints it: stream text, displays' and
// results' text/plain (one line each).
func notebookOutput(t *testing.T, nb *Notebook, exported func(*Cell) bool) string {
	t.Helper()
	var b strings.Builder
	for _, c := range nb.Cells {
		if c.Type != "code" || !exported(c) {
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
				s, _ := multiline(o.Text)
				b.WriteString(s)
			case "display_data", "execute_result":
				s, _ := multiline(o.Data["text/plain"])
				b.WriteString(s + "\n")
			case "error":
				t.Fatalf("the notebook failed: %s", raw)
			}
		}
	}
	return b.String()
}

func stageTagged(c *Cell) bool {
	for _, t := range StageTags {
		if c.HasTag(t) {
			return true
		}
	}
	return false
}

// lineAfter returns the rest of the first line of s that starts with prefix.
func lineAfter(t *testing.T, s, prefix string) string {
	t.Helper()
	for _, l := range strings.Split(s, "\n") {
		if rest, ok := strings.CutPrefix(l, prefix); ok {
			return rest
		}
	}
	t.Fatalf("no line %q in:\n%s", prefix, s)
	return ""
}

func fields(s string) []string { return strings.Fields(strings.Trim(s, "[]")) }

func floats(t *testing.T, s string) []float64 {
	t.Helper()
	var out []float64
	for _, f := range fields(s) {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func postJSON(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("POST %s: %d %s", url, resp.StatusCode, b)
	}
	return resp.StatusCode, v
}

// TestExportIris is the whole story: run the notebook headless, export it,
// build and run the job (its output must be the notebook's, to the last
// digit, whatever the number of workers), refuse changed data, build the
// server as a static binary, start it, and compare its predictions with
// the notebook's.
func TestExportIris(t *testing.T) {
	glx(t)
	tmp := t.TempDir()
	nbPath := exporttest.CopyIrisNotebook(t, tmp)
	executed := filepath.Join(tmp, "iris.out.ipynb")
	if stdout, stderr, err := runGLX(t, tmp, "run", "-q", nbPath, "-o", executed); err != nil {
		t.Fatalf("run: %v\n%s%s", err, stdout, stderr)
	}
	nbOut, err := ReadNotebook(executed)
	if err != nil {
		t.Fatal(err)
	}
	want := notebookOutput(t, nbOut, stageTagged)

	out := filepath.Join(tmp, "out")
	stdout, stderr, err := runGLX(t, tmp, "export", nbPath, "-o", out)
	if err != nil {
		t.Fatalf("export: %v\n%s%s", err, stdout, stderr)
	}
	jobDir, serveDir := filepath.Join(out, "job"), filepath.Join(out, "serve")
	var m struct {
		Seed  *int64 `json:"seed"`
		Model string `json:"model"`
		Data  []struct {
			Path, Param, SHA256 string
		} `json:"data"`
		Params  []struct{ Name, Type, Default string } `json:"params"`
		Modules map[string]string                      `json:"modules"`
	}
	mb, _ := os.ReadFile(filepath.Join(jobDir, "manifest.json"))
	if err := json.Unmarshal(mb, &m); err != nil {
		t.Fatal(err)
	}
	if m.Seed == nil || *m.Seed != 3 || m.Model != "pipe" || len(m.Data) != 1 || m.Data[0].Path != "iris.csv" || m.Data[0].Param != "dataPath" || len(m.Params) != 5 || m.Modules["gonum.org/v1/gonum"] == "" {
		t.Errorf("manifest: %s", mb)
	}
	main, _ := os.ReadFile(filepath.Join(jobDir, "main.go"))
	if !bytes.Contains(main, []byte("LogisticRegression{Workers: gopherlabWorkers, C: c}")) || !bytes.Contains(main, []byte("CVOptions{Workers: gopherlabWorkers, K: folds")) {
		t.Errorf("the estimators do not get -workers:\n%s", main)
	}

	// The job reproduces the notebook's output exactly, with any number of
	// workers.
	job := filepath.Join(jobDir, "job")
	exporttest.GoBuild(t, jobDir, job, ".")
	for _, workers := range []string{"1", "2", "4"} {
		stdout, stderr, err := exporttest.RunIn(t, jobDir, job, "-workers", workers)
		if err != nil {
			t.Fatalf("job -workers %s: %v\n%s", workers, err, stderr)
		}
		if stdout != want {
			t.Fatalf("job -workers %s printed\n%s\nthe notebook printed\n%s", workers, stdout, want)
		}
		if !strings.Contains(stderr, "data iris.csv sha256 ") || !strings.Contains(stderr, "model: "+filepath.Join(serveDir, "model", "model.gob")) {
			t.Errorf("job stderr:\n%s", stderr)
		}
	}
	// A parameter flag changes the run.
	if stdout, _, err := exporttest.RunIn(t, jobDir, job, "-c", "0.01", "-q", "-model-dir", filepath.Join(tmp, "other-model")); err != nil || stdout == want {
		t.Errorf("-c 0.01: %v, same output: %v", err, stdout == want)
	}
	if _, stderr, err := exporttest.RunIn(t, jobDir, job, "-c", "high"); err == nil || !strings.Contains(stderr, `invalid value "high" for flag -c`) {
		t.Errorf("-c high: %v %s", err, stderr)
	}

	// Changed data is refused unless allowed.
	csv := filepath.Join(tmp, "iris.csv")
	orig, _ := os.ReadFile(csv)
	os.WriteFile(csv, append(append([]byte{}, orig...), []byte("5.0,3.0,1.5,0.2,0\n")...), 0o644)
	if _, stderr, err := exporttest.RunIn(t, jobDir, job, "-q", "-model-dir", filepath.Join(tmp, "other-model")); err == nil || !strings.Contains(stderr, "data changed since the export") || !strings.Contains(stderr, "-allow-changed-data") {
		t.Errorf("changed data: %v\n%s", err, stderr)
	}
	if _, stderr, err := exporttest.RunIn(t, jobDir, job, "-q", "-allow-changed-data", "-model-dir", filepath.Join(tmp, "other-model")); err != nil {
		t.Errorf("-allow-changed-data: %v\n%s", err, stderr)
	}
	// The model says which data it learned from: the changed file.
	changedSum, _, _ := jobrt.FileSHA256(csv)
	var mm jobrt.ModelManifest
	if b, err := os.ReadFile(filepath.Join(tmp, "other-model", "model.json")); err != nil || json.Unmarshal(b, &mm) != nil || len(mm.Data) != 1 {
		t.Errorf("model.json after -allow-changed-data: %v %+v", err, mm.Data)
	}
	for path, sum := range mm.Data {
		if sum != changedSum {
			t.Errorf("model.json records %s as %s, the data read was %s", path, sum, changedSum)
		}
	}
	os.WriteFile(csv, orig, 0o644)

	// The server: a static binary that serves the notebook's predictions.
	server := filepath.Join(serveDir, "server")
	exporttest.GoBuild(t, serveDir, server, ".", "CGO_ENABLED=0")
	if ef, err := elf.Open(server); err != nil {
		t.Fatal(err)
	} else {
		for _, p := range ef.Progs {
			if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
				t.Errorf("the server binary is dynamically linked")
			}
		}
		ef.Close()
	}
	for _, f := range []string{"Dockerfile", "k8s/deployment.yaml", "k8s/service.yaml", "k8s/hpa.yaml", "README.md"} {
		if _, err := os.Stat(filepath.Join(serveDir, f)); err != nil {
			t.Error(err)
		}
	}
	cmd := exec.Command(server, "-addr", "127.0.0.1:0")
	cmd.Dir = serveDir
	pipe, _ := cmd.StdoutPipe()
	var serr bytes.Buffer
	cmd.Stderr = &serr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(pipe).ReadString('\n')
	if err != nil {
		t.Fatalf("server: %v\n%s", err, serr.String())
	}
	addr := line[strings.LastIndex(line, "http://"):]
	addr = strings.TrimSpace(addr)

	cols := fields(lineAfter(t, want, "sample columns: "))
	feats := floats(t, lineAfter(t, want, "sample features: "))
	labels := fields(lineAfter(t, want, "sample predictions: "))
	proba := floats(t, lineAfter(t, want, "sample probabilities: "))
	n := len(labels)
	var inputs []string
	for j, c := range cols {
		var col []string
		for i := 0; i < n; i++ {
			col = append(col, strconv.FormatFloat(feats[i*len(cols)+j], 'g', -1, 64))
		}
		inputs = append(inputs, fmt.Sprintf(`{"name": %q, "shape": [%d], "datatype": "FP64", "data": [%s]}`, c, n, strings.Join(col, ", ")))
	}
	check := func(how string, gotLabels []any, gotProba []any) {
		t.Helper()
		for i := range labels {
			if gotLabels[i] != labels[i] {
				t.Errorf("%s: row %d label %v, notebook %s", how, i, gotLabels[i], labels[i])
			}
		}
		for k := range proba {
			if gotProba[k].(float64) != proba[k] {
				t.Errorf("%s: probability %d is %v, notebook %v", how, k, gotProba[k], proba[k])
			}
		}
	}
	code, v := postJSON(t, addr+"/v2/models/iris/infer", `{"id": "a", "inputs": [`+strings.Join(inputs, ", ")+`]}`)
	if code != 200 {
		t.Fatalf("infer: %d %v", code, v)
	}
	outs := v["outputs"].([]any)
	check("v2 infer", outs[1].(map[string]any)["data"].([]any), outs[2].(map[string]any)["data"].([]any))

	var flat []string
	for _, f := range feats {
		flat = append(flat, strconv.FormatFloat(f, 'g', -1, 64))
	}
	code, v = postJSON(t, addr+"/v2/models/iris/infer", fmt.Sprintf(`{"inputs": [{"name": "x", "shape": [%d, %d], "datatype": "FP64", "data": [%s]}], "outputs": [{"name": "label"}, {"name": "proba"}]}`, n, len(cols), strings.Join(flat, ", ")))
	if code != 200 {
		t.Fatalf("infer [N, F]: %d %v", code, v)
	}
	outs = v["outputs"].([]any)
	check("v2 infer [N, F]", outs[0].(map[string]any)["data"].([]any), outs[1].(map[string]any)["data"].([]any))

	var insts []string
	for i := 0; i < n; i++ {
		var kv []string
		for j, c := range cols {
			kv = append(kv, fmt.Sprintf("%q: %s", c, flat[i*len(cols)+j]))
		}
		insts = append(insts, "{"+strings.Join(kv, ", ")+"}")
	}
	code, v = postJSON(t, addr+"/predict", `{"instances": [`+strings.Join(insts, ", ")+`]}`)
	if code != 200 {
		t.Fatalf("predict: %d %v", code, v)
	}
	var gotLabels, gotProba []any
	for _, p := range v["predictions"].([]any) {
		pm := p.(map[string]any)
		gotLabels = append(gotLabels, pm["label"])
		for _, c := range []string{"setosa", "versicolor", "virginica"} {
			gotProba = append(gotProba, pm["proba"].(map[string]any)[c])
		}
	}
	check("/predict", gotLabels, gotProba)

	if code, v := postJSON(t, addr+"/predict", `{"petal_size": 1}`); code != 400 || !strings.Contains(v["error"].(string), `unknown feature "petal_size"`) {
		t.Errorf("bad feature: %d %v", code, v)
	}
	resp, err := http.Get(addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(metrics, []byte(`gopherlab_requests_total{endpoint="infer",code="200"} 2`)) || !bytes.Contains(metrics, []byte(`gopherlab_requests_total{endpoint="predict",code="400"} 1`)) {
		t.Errorf("metrics:\n%s", metrics)
	}

	// SIGTERM: a clean exit.
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("server after SIGTERM: %v\n%s", err, serr.String())
		}
	case <-time.After(15 * time.Second):
		t.Error("server did not stop after SIGTERM")
	}

	// A model file that does not match its manifest is refused.
	gob := filepath.Join(serveDir, "model", "model.gob")
	b, _ := os.ReadFile(gob)
	b[len(b)/2] ^= 1
	os.WriteFile(gob, b, 0o644)
	if _, stderr, err := exporttest.RunIn(t, serveDir, server, "-addr", "127.0.0.1:0"); err == nil || !strings.Contains(stderr, "refusing model") {
		t.Errorf("tampered model: %v %s", err, stderr)
	}
}

// TestExportTrackedRun exports the pipeline of a tracked notebook run
// (--run): the job logs its own run and compares its metrics with the
// notebook's, bit for bit, and fails when they differ.
func TestExportTrackedRun(t *testing.T) {
	glx(t)
	tmp := t.TempDir()
	nbPath := exporttest.CopyIrisNotebook(t, tmp)
	nb, err := ReadNotebook(nbPath)
	if err != nil {
		t.Fatal(err)
	}
	track := &Cell{Type: "code", ID: "track", Source: `import "github.com/gopherlab/gopherlab/tracking"

store, err := tracking.Open("")
if err != nil {
	panic(err)
}
run, err := store.StartRun("iris", &tracking.RunOptions{Name: "logreg", Params: map[string]interface{}{"model.c": c, "model.seed": seed}})
if err != nil {
	panic(err)
}
run.LogMetric("accuracy", acc, 0)
run.LogMetric("cv_accuracy", cv.Mean("accuracy"), 0)
if err := run.Finish(); err != nil {
	panic(err)
}
store.Close()`}
	track.SetTags([]string{TagEvaluate})
	// A cell whose final call returns an error with a smaller test set
	// (-testFrac 0.03): the job fails in it, after its fits were logged.
	rows := &Cell{Type: "code", ID: "rows", Source: "// The rows the next cell predicts.\ntest.Rows([]int{0, 15, 30, 44})"}
	rows.SetTags([]string{TagEvaluate})
	if !strings.Contains(nb.Cells[7].Source, "test.Rows([]int{0, 15, 30, 44})") {
		t.Fatalf("cell 7 is not the sample cell:\n%s", nb.Cells[7].Source)
	}
	nb.Cells = append(nb.Cells[:7], append([]*Cell{rows}, nb.Cells[7:]...)...)
	nb.Cells = append(nb.Cells, track)
	if err := nb.WriteFile(nbPath); err != nil {
		t.Fatal(err)
	}
	// Run with a parameter other than the notebook's: the runs record it
	// (params notebook.c), and the export takes it from the run.
	if stdout, stderr, err := runGLX(t, tmp, "run", "-q", nbPath, "-p", "c=0.5"); err != nil {
		t.Fatalf("run: %v\n%s%s", err, stdout, stderr)
	}
	db := filepath.Join(tmp, "gopherlab.db")
	store, err := tracking.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	// The hand-logged run; autologging adds the pipeline's fits beside it.
	runs, err := store.SearchRuns(tracking.SearchQuery{Experiment: "iris", Filter: `name = "logreg"`})
	folds, _ := store.SearchRuns(tracking.SearchQuery{Experiment: "iris", Filter: `name = "fold 0"`})
	store.Close()
	if err != nil || len(runs) != 1 || runs[0].Notebook != nbPath {
		t.Fatalf("tracked runs: %v %+v", err, runs)
	}
	id := runs[0].ID
	if runs[0].Params["notebook.c"] != "0.5" {
		t.Fatalf("the run does not record the injected c: %v", runs[0].Params)
	}

	// A fold of the notebook's cross-validation is no pipeline to export.
	if len(folds) == 0 {
		t.Fatal("no fold runs")
	}
	if _, stderr, err := runGLX(t, t.TempDir(), "export", "--run", folds[0].ID[:8], "--db", db, "-o", filepath.Join(tmp, "fold")); err == nil || !strings.Contains(stderr, "is part of run") {
		t.Errorf("export --run of a fold: %v\n%s", err, stderr)
	}

	// A database that is not there is an error, and stays not there.
	missing := filepath.Join(tmp, "missing.db")
	if _, stderr, err := runGLX(t, t.TempDir(), "export", "--run", id[:8], "--db", missing, "-o", filepath.Join(tmp, "none")); err == nil || !strings.Contains(stderr, "no tracking database at "+missing) {
		t.Errorf("export --run with a missing --db: %v\n%s", err, stderr)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("export --run created the missing --db: %v", err)
	}

	out := filepath.Join(tmp, "out")
	stdout, stderr, err := runGLX(t, t.TempDir(), "export", "--run", id[:8], "--db", db, "-o", out)
	if err != nil {
		t.Fatalf("export --run: %v\n%s%s", err, stdout, stderr)
	}
	if !regexp.MustCompile(`parameters from run ` + id[:8] + `: .*\bc=0\.5\b`).MatchString(stdout + stderr) {
		t.Errorf("export does not say it took c from the run:\n%s%s", stdout, stderr)
	}
	jobDir := filepath.Join(out, "job")
	job := filepath.Join(jobDir, "job")
	exporttest.GoBuild(t, jobDir, job, ".")
	_, stderr, err = exporttest.RunIn(t, jobDir, job)
	if err != nil || !strings.Contains(stderr, "reproduces tracked run "+id[:8]+" bit for bit: accuracy=") {
		t.Fatalf("job: %v\n%s", err, stderr)
	}
	// Other inputs are no reproduction: the job says so, and its model
	// is not labelled with the run.
	_, stderr, err = exporttest.RunIn(t, jobDir, job, "-c", "0.01", "-model-dir", filepath.Join(tmp, "other"))
	if err != nil || !strings.Contains(stderr, "tracked run "+id[:8]+": not compared: the job ran on other inputs than the run: -c=0.01 (run "+id[:8]+": 0.5)") {
		t.Errorf("job -c 0.01: %v\n%s", err, stderr)
	}
	if mj, _ := os.ReadFile(filepath.Join(tmp, "other", "model.json")); len(mj) == 0 || strings.Contains(string(mj), id) {
		t.Errorf("the model of a job run on other inputs is labelled with the run:\n%s", mj)
	}
	// The run's value is the run's, not the notebook's (which is 1.0).
	if !strings.Contains(stderr, "param c = 0.01 (set; run "+id[:8]+": 0.5)") {
		t.Errorf("job -c 0.01 does not say c's default is the run's:\n%s", stderr)
	}
	jobFailsInCell(t, jobDir, job, db, id, filepath.Join(tmp, "failed-cell"))
	if help, _, _ := exporttest.RunIn(t, jobDir, job, "-h"); !strings.Contains(help, "(float64; run "+id[:8]+": 0.5)") {
		if _, herr, _ := exporttest.RunIn(t, jobDir, job, "-h"); !strings.Contains(herr, "(float64; run "+id[:8]+": 0.5)") {
			t.Errorf("job -h does not say c's default is the run's:\n%s", herr)
		}
	}
	// The same inputs and other metrics: the job fails. The run's
	// metrics are in the job's manifest; one of them is changed there.
	manifest := filepath.Join(jobDir, "manifest.json")
	mb, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	var mf map[string]any
	if err := json.Unmarshal(mb, &mf); err != nil {
		t.Fatal(err)
	}
	mf["tracked_run"].(map[string]any)["metrics"].(map[string]any)["accuracy"] = 0.123
	if mb, err = json.Marshal(mf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(manifest, mb, 0o644); err != nil {
		t.Fatal(err)
	}
	exporttest.GoBuild(t, jobDir, job, ".")
	_, stderr, err = exporttest.RunIn(t, jobDir, job, "-model-dir", filepath.Join(tmp, "tampered"))
	if err == nil || !strings.Contains(stderr, "does not reproduce tracked run "+id[:8]) || !strings.Contains(stderr, "accuracy: ") {
		t.Errorf("job whose run's metrics differ: %v\n%s", err, stderr)
	}
	// ... and writes no model, labelled with the run or not.
	if _, err := os.Stat(filepath.Join(tmp, "tampered")); !os.IsNotExist(err) {
		t.Errorf("the job that did not reproduce the run wrote a model: %v", err)
	}
	store, err = tracking.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	runs, _ = store.SearchRuns(tracking.SearchQuery{Experiment: "iris", Filter: `name = "logreg"`})
	if len(runs) != 4 || !strings.HasPrefix(runs[0].Source, "gopherlab job iris: cell ") {
		t.Errorf("runs after three jobs: %d, newest source %q", len(runs), runs[0].Source)
	}
	// The jobs' runs say which run they meant to reproduce and whether
	// they did; the one that did not is FAILED, as the job.
	if len(runs) == 4 {
		for i, want := range []struct{ reproduced, status string }{{"false", tracking.StatusFailed}, {"not compared", tracking.StatusFinished}, {"true", tracking.StatusFinished}} {
			r := runs[i]
			if r.Tags["job.tracked_run"] != id || r.Tags["job.reproduced"] != want.reproduced || r.Status != want.status {
				t.Errorf("job run %d (newest first): status %s, tags %v; want %s, job.reproduced=%s", i, r.Status, r.Tags, want.status, want.reproduced)
			}
		}
		if _, ok := runs[3].Tags["job.reproduced"]; ok || runs[3].Status != tracking.StatusFinished {
			t.Errorf("the notebook's run: %s %v", runs[3].Status, runs[3].Tags)
		}
	}
}

// TestExportComputedDataPath: a file named by an expression cannot be
// pinned by the manifest. The export warns, and the job compares the
// data its run trained on with the tracked run's instead: the same data
// reproduces, changed data is no reproduction and no model of the run.
func TestExportComputedDataPath(t *testing.T) {
	glx(t)
	tmp := t.TempDir()
	nbPath := exporttest.CopyIrisNotebook(t, tmp)
	nb, err := ReadNotebook(nbPath)
	if err != nil {
		t.Fatal(err)
	}
	load := nb.Cells[2]
	src := strings.Replace(load.Source, "import (\n\t\"fmt\"\n", "import (\n\t\"fmt\"\n\t\"path/filepath\"\n", 1)
	src = strings.Replace(src, "experiments.ReadCSV(dataPath,", "experiments.ReadCSV(filepath.Join(\".\", dataPath),", 1)
	if src == load.Source || !strings.Contains(src, "filepath.Join") {
		t.Fatalf("cell 2 is not the load cell:\n%s", load.Source)
	}
	load.Source = src
	if err := nb.WriteFile(nbPath); err != nil {
		t.Fatal(err)
	}
	if stdout, stderr, err := runGLX(t, tmp, "run", "-q", nbPath); err != nil {
		t.Fatalf("run: %v\n%s%s", err, stdout, stderr)
	}
	db := filepath.Join(tmp, "gopherlab.db")
	store, err := tracking.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := store.SearchRuns(tracking.SearchQuery{Experiment: "iris", Filter: `tags.estimator = "pipeline" and tags.autolog = "fit" and parent_run_id IS NULL`})
	store.Close()
	if err != nil || len(runs) != 1 {
		t.Fatalf("pipeline runs: %v %d", err, len(runs))
	}
	id := runs[0].ID
	out := filepath.Join(tmp, "out")
	stdout, stderr, err := runGLX(t, t.TempDir(), "export", "--run", id[:8], "--db", db, "-o", out)
	if err != nil {
		t.Fatalf("export: %v\n%s%s", err, stdout, stderr)
	}
	if !strings.Contains(stdout+stderr, `warning: cell 2 reads a file with experiments.ReadCSV(filepath.Join(".", dataPath)): its name is computed`) {
		t.Errorf("export does not warn of the computed path:\n%s%s", stdout, stderr)
	}
	jobDir := filepath.Join(out, "job")
	job := filepath.Join(jobDir, "job")
	exporttest.GoBuild(t, jobDir, job, ".")
	env := []string{"GOPHERLAB_DB=" + db}
	_, stderr, err = exporttest.RunInEnv(t, jobDir, env, job, "-dir", tmp)
	if err != nil || !strings.Contains(stderr, "reproduces tracked run "+id[:8]+" bit for bit") ||
		!strings.Contains(stderr, "data read by cell 2 with experiments.ReadCSV(filepath.Join(\".\", dataPath)): not pinned by the export") {
		t.Fatalf("job on the same data: %v\n%s", err, stderr)
	}
	jobUnchecked(t, jobDir, job, id, tmp, "-dir", tmp)
	// One measurement changed: the manifest cannot see it, the data
	// comparison does.
	csv := filepath.Join(tmp, "iris.csv")
	data, err := os.ReadFile(csv)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(data), "\n", 3)
	if !strings.HasPrefix(lines[1], "5.1,") {
		t.Fatalf("iris.csv line 2 = %q", lines[1])
	}
	lines[1] = "5.2," + strings.TrimPrefix(lines[1], "5.1,")
	if err := os.WriteFile(csv, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	// Nothing asked for other data: the job cannot claim to reproduce
	// the run, fails, and writes no model.
	models := filepath.Join(tmp, "changed")
	_, stderr, err = exporttest.RunInEnv(t, jobDir, env, job, "-dir", tmp, "-model-dir", models)
	if err == nil || !regexp.MustCompile(`tracked run `+id[:8]+` cannot be reproduced: the job's inputs differ from the run's:\n  train data \S+ \(\d+×5, sha256 [0-9a-f]{12}; the run's \d+×5, sha256 [0-9a-f]{12}\)`).MatchString(stderr) ||
		!strings.Contains(stderr, "-allow-changed-data") || !strings.Contains(stderr, "model not written: "+models+" left as it was") {
		t.Errorf("job on changed data: %v\n%s", err, stderr)
	}
	if _, err := os.Stat(models); !os.IsNotExist(err) {
		t.Errorf("the job that cannot reproduce the run made %s: %v", models, err)
	}
	// -allow-changed-data: the change is intended, nothing is claimed.
	_, stderr, err = exporttest.RunInEnv(t, jobDir, env, job, "-dir", tmp, "-model-dir", models, "-allow-changed-data")
	if err != nil || !regexp.MustCompile(`tracked run `+id[:8]+`: not compared: the job ran on other inputs than the run: train data \S+ \(\d+×5, sha256 [0-9a-f]{12}; the run's \d+×5, sha256 [0-9a-f]{12}\)`).MatchString(stderr) {
		t.Errorf("job on changed data with -allow-changed-data: %v\n%s", err, stderr)
	}
	if mj, _ := os.ReadFile(filepath.Join(models, "model.json")); len(mj) == 0 || strings.Contains(string(mj), id) {
		t.Errorf("the model of a job on other data is labelled with the run:\n%s", mj)
	}
}

// jobFailsInCell runs the job of TestExportTrackedRun with a test set too
// small for cell 7's rows: the job fails in that cell, exits 1 naming it,
// writes no model, and the runs it logged before (the cross-validation,
// the fit, its evaluation) are FAILED with the cell and the error, tagged,
// as the kernel fails a failing cell's runs.
func jobFailsInCell(t *testing.T, jobDir, job, db, id, models string) {
	t.Helper()
	t0 := time.Now().Add(-time.Millisecond)
	_, stderr, err := exporttest.RunIn(t, jobDir, job, "-testFrac", "0.03", "-model-dir", models)
	t1 := time.Now()
	const failure = "job failed in cell 7 (evaluate): experiments: rows: index 15 out of range [0,"
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(stderr, failure) {
		t.Fatalf("job failing in cell 7: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "tracking: runs of the job FAILED in "+db+": ") {
		t.Errorf("the job does not say it marked its runs FAILED:\n%s", stderr)
	}
	if _, err := os.Stat(models); !os.IsNotExist(err) {
		t.Errorf("the job that failed wrote a model: %v", err)
	}
	store, err := tracking.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	runs, err := store.SearchRuns(tracking.SearchQuery{Experiment: "iris"})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range runs {
		if r.StartTime.Before(t0) || r.StartTime.After(t1) || r.ParentID != "" {
			continue
		}
		n++
		if r.Status != tracking.StatusFailed || !strings.HasPrefix(r.Error, failure) ||
			r.Tags["job.failed_cell"] != "cell 7 (evaluate)" || r.Tags["job"] != "iris" || r.Tags["job.tracked_run"] != id || r.Tags["job.reproduced"] != "not compared" {
			t.Errorf("run %s (%s) of the failed job: %s %q, tags %v", r.Name, r.Tags["autolog"], r.Status, r.Error, r.Tags)
		}
	}
	if n < 2 {
		t.Errorf("the failed job logged %d top-level runs, want its cross-validation and fit at least", n)
	}
}

// jobUnchecked runs the job of TestExportComputedDataPath (whose cells
// do not open the store themselves) with a tracking store it cannot open:
// the reproduction cannot be checked, which fails the job (exit 1, no
// model) unless -allow-unchecked (exit 0, a model); either way the
// summary says the reproduction was not checked, the store's path and
// why.
func jobUnchecked(t *testing.T, jobDir, job, id, tmp string, args ...string) {
	t.Helper()
	db := filepath.Join(tmp, "iris.csv", "gopherlab.db") // under a file
	env := []string{tracking.EnvDB + "=" + db}
	summary := "tracked run " + id[:8] + ": reproduction not checked: the tracking store " + db + " cannot be opened: "
	models := filepath.Join(tmp, "unchecked")
	_, stderr, err := exporttest.RunInEnv(t, jobDir, env, job, append(args, "-model-dir", models)...)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(stderr, summary) || !strings.Contains(stderr, "-allow-unchecked") {
		t.Errorf("job with an unreachable store: %v\n%s", err, stderr)
	}
	if _, err := os.Stat(models); !os.IsNotExist(err) {
		t.Errorf("the job whose reproduction was not checked wrote a model: %v", err)
	}
	_, stderr, err = exporttest.RunInEnv(t, jobDir, env, job, append(args, "-model-dir", models, "-allow-unchecked")...)
	if err != nil || !strings.Contains(stderr, summary) || !strings.Contains(stderr, "(accepted: -allow-unchecked)") {
		t.Errorf("job with an unreachable store, -allow-unchecked: %v\n%s", err, stderr)
	}
	if _, err := os.Stat(filepath.Join(models, "model.json")); err != nil {
		t.Errorf("-allow-unchecked: no model: %v", err)
	}
}
