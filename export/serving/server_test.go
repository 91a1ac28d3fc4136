package serving

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gopherlab/gopherlab/experiments"
	"github.com/gopherlab/gopherlab/export/jobrt"
)

// fitModel fits a small pipeline with a numeric and a categorical feature
// and saves it as the training job does.
func fitModel(t testing.TB) (string, *experiments.Pipeline, *experiments.Dataset) {
	t.Helper()
	ds := toyData(t)
	p := experiments.NewPipeline(&experiments.OneHotEncoder{}, &experiments.StandardScaler{}, &experiments.LogisticRegression{})
	if err := p.FitDataset(ds, "label"); err != nil {
		t.Fatal(err)
	}
	return saveModel(t, p, jobrt.Manifest{Name: "toy"}), p, ds
}

// saveModel saves a fitted pipeline as the training job with manifest m
// does, and returns the model directory.
func saveModel(t testing.TB, p *experiments.Pipeline, m jobrt.Manifest) string {
	t.Helper()
	dir := t.TempDir()
	j := &jobrt.Job{ModelDir: dir, Manifest: m}
	if err := j.SaveModel(p, map[string]string{"C": "1"}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// loadServer loads the model in dir and serves it.
func loadServer(t testing.TB, dir string, cfg Config) *Server {
	t.Helper()
	m, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return NewServer(m, cfg)
}

// numericServer serves a two-class pipeline of the steps given, fitted on
// 60 rows of numeric features with these names.
func numericServer(t testing.TB, names []string, cfg Config, steps ...any) *Server {
	t.Helper()
	cols := make([]any, len(names)+1)
	label := make([]string, 60)
	for c := range names {
		col := make([]float64, len(label))
		for i := range col {
			col[i] = math.Sin(float64(i*(c+1))) + float64(i%2)
		}
		cols[c] = col
	}
	for i := range label {
		label[i] = []string{"even", "odd"}[i%2]
	}
	cols[len(names)] = label
	ds, err := experiments.FromColumns(append(slices.Clone(names), "label"), cols...)
	if err != nil {
		t.Fatal(err)
	}
	p := experiments.NewPipeline(steps...)
	if err := p.FitDataset(ds, "label"); err != nil {
		t.Fatal(err)
	}
	return loadServer(t, saveModel(t, p, jobrt.Manifest{Name: "num"}), cfg)
}

// toyData is fitModel's data: x (numeric) and color (categorical) to a
// label.
func toyData(t testing.TB) *experiments.Dataset {
	t.Helper()
	n := 60
	x := make([]float64, n)
	color := make([]string, n)
	label := make([]string, n)
	for i := range x {
		x[i] = float64(i%10) + 0.25*float64(i%3)
		color[i] = []string{"red", "green", "blue"}[i%3]
		label[i] = "low"
		if x[i] > 4.5 || color[i] == "blue" {
			label[i] = "high"
		}
	}
	ds, err := experiments.FromColumns([]string{"x", "color", "label"}, x, color, label)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func newTestServer(t testing.TB, cfg Config) (*Server, *experiments.Pipeline, *experiments.Dataset) {
	dir, p, ds := fitModel(t)
	m, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return NewServer(m, cfg), p, ds
}

func do(t testing.TB, h http.Handler, method, path, body string) (int, map[string]any, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var v map[string]any
	json.Unmarshal(rec.Body.Bytes(), &v)
	return rec.Code, v, rec.Body.String()
}

func TestLoadRefusesChangedModel(t *testing.T) {
	dir, _, _ := fitModel(t)
	if _, err := Load(dir); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "model.gob"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0})
	f.Close()
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "refusing model") {
		t.Errorf("changed model: %v", err)
	}
	if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "run the training job first") {
		t.Errorf("no model: %v", err)
	}
}

func TestEndpoints(t *testing.T) {
	s, p, ds := newTestServer(t, Config{MaxBody: 2048, MaxRows: 5})
	rows, _ := ds.Rows([]int{0, 4, 5, 7})
	wantLabels, err := p.PredictLabels(rows)
	if err != nil {
		t.Fatal(err)
	}
	wantProba, _ := p.PredictProbaDataset(rows)
	xs, _ := rows.Floats("x")
	colors, _ := rows.Strings("color")
	xj, _ := json.Marshal(xs)
	cj, _ := json.Marshal(colors)
	v2 := fmt.Sprintf(`{"id": "r1", "inputs": [{"name": "x", "shape": [4], "datatype": "FP64", "data": %s}, {"name": "color", "shape": [4, 1], "datatype": "BYTES", "data": %s}]}`, xj, cj)

	code, v, body := do(t, s, "POST", "/v2/models/toy/infer", v2)
	if code != 200 {
		t.Fatalf("infer: %d %s", code, body)
	}
	if v["id"] != "r1" || v["model_name"] != "toy" {
		t.Errorf("infer response %s", body)
	}
	outs := v["outputs"].([]any)
	if len(outs) != 3 {
		t.Fatalf("outputs %s", body)
	}
	labels := outs[1].(map[string]any)["data"].([]any)
	proba := outs[2].(map[string]any)["data"].([]any)
	for i, l := range labels {
		if l != wantLabels[i] {
			t.Errorf("row %d: label %v, want %v", i, l, wantLabels[i])
		}
		for k := 0; k < 2; k++ {
			if got := proba[i*2+k].(float64); got != wantProba.At(i, k) {
				t.Errorf("row %d class %d: proba %v, want %v (bit for bit)", i, k, got, wantProba.At(i, k))
			}
		}
	}
	// The same rows again come from the cache, identical.
	code, v2again, _ := do(t, s, "POST", "/v2/models/toy/infer", v2)
	if code != 200 || fmt.Sprint(v2again["outputs"]) != fmt.Sprint(v["outputs"]) {
		t.Errorf("cached answer differs: %v", v2again)
	}
	if h := s.metrics.hits.Load(); h != 4 {
		t.Errorf("cache hits = %d, want 4", h)
	}

	// /predict with named features.
	inst := fmt.Sprintf(`{"instances": [{"x": %v, "color": %q}, {"x": %v, "color": %q}]}`, xs[0], colors[0], xs[3], colors[3])
	code, v, body = do(t, s, "POST", "/predict", inst)
	if code != 200 {
		t.Fatalf("predict: %d %s", code, body)
	}
	preds := v["predictions"].([]any)
	if preds[0].(map[string]any)["label"] != wantLabels[0] || preds[1].(map[string]any)["label"] != wantLabels[3] {
		t.Errorf("predict: %s, want %v %v", body, wantLabels[0], wantLabels[3])
	}
	if pr := preds[1].(map[string]any)["proba"].(map[string]any); pr[p.TargetLevels()[0]].(float64) != wantProba.At(3, 0) {
		t.Errorf("predict proba %v", pr)
	}
	code, _, body = do(t, s, "POST", "/predict", fmt.Sprintf(`{"x": %v, "color": %q}`, xs[0], colors[0]))
	if code != 200 || !strings.Contains(body, wantLabels[0]) {
		t.Errorf("predict one object: %d %s", code, body)
	}

	errs := []struct {
		method, path, body string
		code               int
		msg                string
	}{
		{"POST", "/v2/models/toy/infer", `{"inputs": [{"name": "y", "shape": [1], "datatype": "FP64", "data": [1]}]}`, 400, `inputs[0]: unknown input "y" (the model takes x, color`},
		{"POST", "/v2/models/toy/infer", `{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [1]}]}`, 400, `input "color" is missing`},
		{"POST", "/v2/models/toy/infer", `{"inputs": [{"name": "x", "shape": [2], "datatype": "FP64", "data": [1]}]}`, 400, `input "x": shape [2] means 2 values, data has 1`},
		{"POST", "/v2/models/toy/infer", `{"inputs": [{"name": "x", "shape": [1, 2, 3], "datatype": "FP64", "data": [1]}]}`, 400, `input "x": shape [1 2 3], want [N] or [N, 1]`},
		{"POST", "/v2/models/toy/infer", `{"inputs": [{"name": "x", "shape": [1], "datatype": "BYTES", "data": ["a"]}]}`, 400, `input "x": datatype "BYTES", but the column is numeric`},
		{"POST", "/v2/models/toy/infer", `{"inputs": [{"name": "color", "shape": [1], "datatype": "FP64", "data": [1]}]}`, 400, `input "color": datatype "FP64", but the column is categorical`},
		{"POST", "/v2/models/toy/infer", `{"inputs": [{"name": "x", "shape": [2], "datatype": "FP64", "data": [1, "a"]}]}`, 400, `input "x": data[1] is "a", not a number`},
		{"POST", "/v2/models/toy/infer", `{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [1]}, {"name": "color", "shape": [2], "datatype": "BYTES", "data": ["a", "b"]}]}`, 400, `input "color": shape [2] has 2 rows, input "x" has 1`},
		{"POST", "/v2/models/toy/infer", `{"inputs": [{"name": "m", "shape": [1, 2], "datatype": "FP64", "data": [1, 2]}]}`, 400, `one [N, F] input needs numeric columns, but "color" is categorical`},
		{"POST", "/v2/models/toy/infer", `{"inputs": [{"name": "x", "shape": [6], "datatype": "FP64", "data": [1,2,3,4,5,6]}]}`, 400, `6 rows, more than the 5`},
		{"POST", "/v2/models/toy/infer", `{"inputs": "x"}`, 400, `field "inputs": got a JSON string, want an array`},
		{"POST", "/v2/models/toy/infer", `{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [1]}, {"name": "color", "shape": [1], "datatype": "BYTES", "data": ["red"]}], "outputs": [{"name": "logits"}]}`, 400, `outputs: unknown output "logits" (the model has predict, label, proba)`},
		{"POST", "/v2/models/toy/infer", `{"inputs": [`, 400, `body is not valid JSON`},
		{"POST", "/v2/models/toy/infer", ``, 400, `empty body`},
		{"POST", "/v2/models/toy/infer", `{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [` + strings.Repeat("1,", 2000) + `1]}]}`, 413, `request body larger than 2048 bytes`},
		{"POST", "/v2/models/other/infer", `{}`, 404, `model "other" not found: this server serves "toy"`},
		{"GET", "/v2/models/toy/versions/nope", ``, 404, `has no version "nope"`},
		{"POST", "/predict", `{"instances": [{"x": 1, "color": "red", "size": 2}]}`, 400, `instance 0: unknown feature "size" (the model takes x, color)`},
		{"POST", "/predict", `{"instances": [{"x": "big", "color": "red"}]}`, 400, `instance 0: feature "x" is numeric, got "big"`},
		{"POST", "/predict", `{"instances": [{"x": 1, "color": 3}]}`, 400, `instance 0: feature "color" is categorical (a string), got 3`},
		{"POST", "/predict", `{"instances": [{"x": 1}]}`, 400, `instance 0: feature "color" is missing`},
		{"POST", "/predict", `{"instances": []}`, 400, `instances: empty`},
		{"POST", "/v2/models/toy/infer", `{"inputs": [{"name": "m", "shape": [1.0, 2], "datatype": "FP64", "data": [1, 2]}]}`, 400, `got a JSON number 1.0, want an integer`},
		{"POST", "/v2/models/toy/infer", `{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [1e400]}, {"name": "color", "shape": [1], "datatype": "BYTES", "data": ["red"]}]}`, 400, `input "x": data[0] is 1e400, out of the range of float64 (-1.7976931348623157e+308 to 1.7976931348623157e+308)`},
		{"POST", "/v2/models/toy/infer", `{"inputs": [{"name": "m", "shape": [2, 1], "datatype": "FP64", "data": [1, 2]}]}`, 400, `input "m": shape [2 1] has 1 column, the model takes 2`},
		{"POST", "/v2/models/toy/infer", `{"inputs": [{"name": "x", "shape": [2], "datatype": "FP64", "data": [1, 2]}, {"name": "color", "shape": [1], "datatype": "BYTES", "data": ["a"]}]}`, 400, `input "color": shape [1] has 1 row, input "x" has 2`},
		{"POST", "/v2/models/toy/infer", `{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [1, 2]}]}`, 400, `input "x": shape [1] means 1 value, data has 2`},
		{"POST", "/predict", `{"x": -1e400, "color": "red"}`, 400, `instance 0: feature "x" is -1e400, out of the range of float64`},
		{"POST", "/predict", `{"x": 4.6, "color": "red", "x": 9.9}`, 400, `instance 0: feature "x" given twice`},
		{"POST", "/predict", `{"instances": [{"x": 1, "color": "red"}, {"x": 1, "color": "red", "color": "blue"}]}`, 400, `instance 1: feature "color" given twice`},
		{"POST", "/predict", `{"instances": [{"x": 1, "color": "red"}], "instances": [{"x": 2, "color": "red"}]}`, 400, `field "instances" given twice`},
		{"POST", "/predict", ` [{"x": 1, "color": "red"}]`, 400, `the body is an array: send an object of feature names to values, or several as {"instances": [...]}`},
		{"GET", "/nowhere", ``, 404, `no endpoint GET /nowhere`},
	}
	for _, e := range errs {
		code, v, body := do(t, s, e.method, e.path, e.body)
		msg, _ := v["error"].(string)
		if code != e.code || !strings.Contains(msg, e.msg) {
			t.Errorf("%s %s %.60s: %d %s, want %d %q", e.method, e.path, e.body, code, body, e.code, e.msg)
		}
	}

	// Null is a missing value; this pipeline has no imputer, so the
	// server refuses it, naming the feature (TestMissingValues has more).
	code, _, body = do(t, s, "POST", "/predict", `{"x": null, "color": "red"}`)
	if code != 400 || !strings.Contains(body, `feature \"x\" is null, but the model needs a value for it`) {
		t.Errorf("null feature without an imputer: %d %s", code, body)
	}

	for _, path := range []string{"/v2/health/live", "/v2/health/ready", "/v2/models/toy", "/v2/models/toy/ready", "/v2"} {
		if code, _, body := do(t, s, "GET", path, ""); code != 200 {
			t.Errorf("GET %s: %d %s", path, code, body)
		}
	}
	_, v, _ = do(t, s, "GET", "/v2/models/toy", "")
	if ins := v["inputs"].([]any); len(ins) != 2 || ins[1].(map[string]any)["datatype"] != "BYTES" {
		t.Errorf("model metadata inputs %v", ins)
	}
	s.SetReady(false)
	if code, _, _ := do(t, s, "GET", "/v2/health/ready", ""); code != 503 {
		t.Errorf("ready while shutting down: %d", code)
	}
	if code, _, _ := do(t, s, "GET", "/v2/health/live", ""); code != 200 {
		t.Errorf("live while shutting down: %d", code)
	}
}

func TestMetricsFormat(t *testing.T) {
	s, _, _ := newTestServer(t, Config{})
	do(t, s, "GET", "/v2/health/live", "")
	do(t, s, "POST", "/predict", `{"x": 1, "color": "red"}`)
	do(t, s, "POST", "/predict", `{"x": 1, "color": "red"}`)
	do(t, s, "POST", "/predict", `{"x": "a", "color": "red"}`)
	_, _, text := do(t, s, "GET", "/metrics", "")
	for _, want := range []string{
		`gopherlab_requests_total{endpoint="predict",code="200"} 2`,
		`gopherlab_requests_total{endpoint="predict",code="400"} 1`,
		`gopherlab_requests_total{endpoint="live",code="200"} 1`,
		`gopherlab_request_duration_seconds_bucket{endpoint="predict",le="+Inf"} 3`,
		`gopherlab_request_duration_seconds_count{endpoint="predict"} 3`,
		"gopherlab_cache_hits_total 1",
		"gopherlab_cache_misses_total 1",
		"gopherlab_predictions_total 2",
		`gopherlab_model_info{name="toy"`,
		"# TYPE gopherlab_request_duration_seconds histogram",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q:\n%s", want, text)
		}
	}
	// Every sample line is "name{labels} value" or "name value", and bucket
	// counts never decrease.
	var last float64
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		var v float64
		if len(f) != 2 || func() error { _, err := fmt.Sscan(f[1], &v); return err }() != nil {
			t.Errorf("bad sample line %q", line)
		}
		if strings.Contains(line, `_bucket{endpoint="predict"`) {
			if v < last {
				t.Errorf("bucket counts decrease at %q", line)
			}
			last = v
		}
	}
}

func TestLRU(t *testing.T) {
	c := newLRU(2)
	c.put("a", Result{Value: 1})
	c.put("b", Result{Value: 2})
	c.get([]byte("a"))
	c.put("c", Result{Value: 3}) // evicts b, the least recently used
	if _, ok := c.get([]byte("b")); ok {
		t.Error("b not evicted")
	}
	if r, ok := c.get([]byte("a")); !ok || r.Value != 1 {
		t.Error("a lost")
	}
	if c.len() != 2 {
		t.Errorf("len %d", c.len())
	}
	off := newLRU(0)
	off.put("a", Result{})
	if _, ok := off.get([]byte("a")); ok || off.len() != 0 {
		t.Error("a zero-size cache keeps results")
	}
}

func TestConcurrentRequests(t *testing.T) {
	s, _, _ := newTestServer(t, Config{CacheSize: 8})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				body := fmt.Sprintf(`{"x": %d, "color": "red"}`, (g*50+i)%20)
				if code, _, b := do(t, s, "POST", "/predict", body); code != 200 {
					t.Errorf("%d %s", code, b)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	if n := s.metrics.predictions.Load(); n != 400 {
		t.Errorf("predictions %d", n)
	}
	var b bytes.Buffer
	s.metrics.write(&b, s.model, s.cache.len(), 8)
	if s.cache.len() > 8 {
		t.Errorf("cache holds %d > 8", s.cache.len())
	}
}

// TestMissingValues checks that null is offered, taken and refused as the
// pipeline takes a missing value: the toy pipeline has no imputer, so x
// needs a value (color, one-hot encoded, takes a missing one); with an
// imputer every feature takes one.
func TestMissingValues(t *testing.T) {
	toy, _, _ := newTestServer(t, Config{})
	imp := experiments.NewPipeline(&experiments.OneHotEncoder{}, &experiments.SimpleImputer{}, &experiments.StandardScaler{}, &experiments.LogisticRegression{})
	if err := imp.FitDataset(toyData(t), "label"); err != nil {
		t.Fatal(err)
	}
	imputed := loadServer(t, saveModel(t, imp, jobrt.Manifest{Name: "toy"}), Config{})
	num := numericServer(t, []string{"a", "b"}, Config{}, &experiments.StandardScaler{}, &experiments.LogisticRegression{})
	infer := func(x, color string) string {
		shape := "[2]"
		if strings.HasPrefix(x, "[[") {
			shape = "[2, 1]"
		}
		return `{"inputs": [{"name": "x", "shape": ` + shape + `, "datatype": "FP64", "data": ` + x + `}, {"name": "color", "shape": [2], "datatype": "BYTES", "data": ` + color + `}]}`
	}
	for _, tc := range []struct {
		s          *Server
		path, body string
		code       int
		msg        string // in the error; "" for 200
	}{
		{toy, "/predict", `{"color": "red"}`, 400, `instance 0: feature "x" is missing (the model needs a value for it)`},
		{toy, "/predict", `{"x": 1}`, 400, `instance 0: feature "color" is missing (send null for a missing value)`},
		{toy, "/predict", `{"x": null, "color": "red"}`, 400, `instance 0: feature "x" is null, but the model needs a value for it: its pipeline does not fill in missing values`},
		{toy, "/predict", `{"instances": [{"x": 1, "color": "red"}, {"color": "red", "x": null}]}`, 400, `instance 1: feature "x" is null, but the model needs a value for it`},
		{toy, "/predict", `{"x": 1, "color": null}`, 200, ""},
		{toy, "/v2/models/toy/infer", infer(`[1, null]`, `["red", "blue"]`), 400, `input "x": data[1] is null, but the model needs a value for it`},
		{toy, "/v2/models/toy/infer", infer(`[[1], [null]]`, `["red", "blue"]`), 400, `input "x": data[1] is null, but the model needs a value for it`},
		{toy, "/v2/models/toy/infer", infer(`[1, 2]`, `["red", null]`), 200, ""},
		{imputed, "/predict", `{"color": "red"}`, 400, `instance 0: feature "x" is missing (send null for a missing value)`},
		{imputed, "/predict", `{"x": null, "color": "red"}`, 200, ""},
		{imputed, "/predict", `{"instances": [{"x": 1, "color": "red"}, {"x": null, "color": null}]}`, 200, ""},
		{imputed, "/v2/models/toy/infer", infer(`[1, null]`, `["red", null]`), 200, ""},
		{num, "/v2/models/num/infer", `{"inputs": [{"name": "m", "shape": [2, 2], "datatype": "FP64", "data": [1, 2, 3, null]}]}`, 400, `input "m": data[3] (feature "b") is null, but the model needs a value for it`},
		{num, "/v2/models/num/infer", `{"inputs": [{"name": "m", "shape": [2, 2], "datatype": "FP64", "data": [[1, 2], [null, 4]]}]}`, 400, `input "m": data[2] (feature "a") is null`},
		{num, "/predict", `{"a": 1}`, 400, `feature "b" is missing (the model needs a value for it)`},
	} {
		code, v, body := do(t, tc.s, "POST", tc.path, tc.body)
		msg, _ := v["error"].(string)
		if code != tc.code || tc.msg != "" && !strings.Contains(msg, tc.msg) {
			t.Errorf("%s %s: %d %s, want %d %q", tc.path, tc.body, code, body, tc.code, tc.msg)
		}
	}
	if !slices.Equal(toy.model.takesMissing, []bool{false, true}) || !slices.Equal(imputed.model.takesMissing, []bool{true, true}) || imputed.model.needsValue != nil {
		t.Errorf("takes missing values: toy %v, imputed %v (needs %v)", toy.model.takesMissing, imputed.model.takesMissing, imputed.model.needsValue)
	}
}

// TestInferInputs checks the fields the v2 protocol requires of an input
// (name, shape, datatype, data) and that integer datatypes hold integers.
func TestInferInputs(t *testing.T) {
	toy, _, _ := newTestServer(t, Config{})
	num := numericServer(t, []string{"a", "b"}, Config{}, &experiments.StandardScaler{}, &experiments.LogisticRegression{})
	color := `, {"name": "color", "shape": [2], "datatype": "BYTES", "data": ["red", "blue"]}]}`
	x := func(dt, data string) string {
		return `{"inputs": [{"name": "x", "shape": [2], "datatype": "` + dt + `", "data": ` + data + `}` + color
	}
	for _, tc := range []struct {
		s    *Server
		body string
		code int
		msg  string // in the error; "" for 200
	}{
		{num, `{"inputs": [{"name": "m", "datatype": "FP64", "data": [[1, 2]]}]}`, 400, `input "m": no "shape" (want [N] or [N, 1] for a feature column, [N, 2] for one input of them all)`},
		{num, `{"inputs": [{"shape": [1, 2], "datatype": "FP64", "data": [1, 2]}]}`, 400, `inputs[0]: no "name"`},
		{num, `{"inputs": [{"name": "", "shape": [1, 2], "datatype": "FP64", "data": [1, 2]}]}`, 400, `inputs[0]: no "name"`},
		{toy, `{"inputs": [{"shape": [2], "datatype": "FP64", "data": [1, 2]}` + color, 400, `inputs[0]: no "name"`},
		{toy, `{"inputs": [{"name": "x", "shape": [], "datatype": "FP64", "data": [1, 2]}` + color, 400, `input "x": no "shape"`},
		{toy, `{"inputs": [{"name": "x", "shape": [2], "data": [1, 2]}` + color, 400, `input "x": no "datatype" (FP64 for a numeric column, BYTES for a categorical one)`},
		{toy, `{"inputs": [{"name": "x", "shape": [2], "datatype": "FP64"}` + color, 400, `input "x": no "data"`},
		{toy, x("INT64", `[1, 17.99]`), 400, `input "x": data[1] is 17.99, not an integer (datatype INT64)`},
		{toy, x("INT32", `[1, 2.5]`), 400, `input "x": data[1] is 2.5, not an integer (datatype INT32)`},
		{toy, x("UINT8", `[255, 256]`), 400, `input "x": data[1] is 256, out of the range of UINT8 (0 to 255)`},
		{toy, x("UINT16", `[-1, 0]`), 400, `input "x": data[0] is -1, out of the range of UINT16 (0 to 65535)`},
		{toy, x("INT8", `[-129, 0]`), 400, `out of the range of INT8 (-128 to 127)`},
		{toy, x("INT64", `[1e19, 0]`), 400, `out of the range of INT64 (-9223372036854775808 to 9223372036854775807)`},
		{num, `{"inputs": [{"name": "m", "shape": [2, 2], "datatype": "INT32", "data": [[1, 2], [3, 4.5]]}]}`, 400, `input "m": data[3] is 4.5, not an integer (datatype INT32)`},
		{toy, x("INT64", `[17, 17.0]`), 200, ""},
		{toy, x("INT8", `[-128, 1.27e2]`), 200, ""},
		{toy, x("UINT64", `[0, 18446744073709549568]`), 200, ""},
		{toy, x("BOOL", `[true, false]`), 200, ""},
		{toy, x("BOOL", `[true, 1]`), 400, `input "x": data[1] is 1, not true or false (datatype BOOL)`},
		{toy, x("BOOL", `[0, true]`), 400, `input "x": data[0] is 0, not true or false (datatype BOOL)`},
		{toy, x("FP32", `[17.99, -0.5]`), 200, ""},
		{toy, x("FP32", `[1e39, 0]`), 400, `input "x": data[0] is 1e39, out of the range of FP32 (-3.4028235e+38 to 3.4028235e+38)`},
		{toy, x("FP32", `[0, -3.4028236e38]`), 400, `input "x": data[1] is -3.4028236e38, out of the range of FP32`},
		{toy, x("FP32", `[3.4028234e38, -3.4028235e38]`), 200, ""},
		{toy, x("FP16", `[65504, -65519.5]`), 200, ""},
		{toy, x("FP16", `[65520.5, 0]`), 400, `input "x": data[0] is 65520.5, out of the range of FP16 (-65504 to 65504)`},
		{toy, x("FP64", `[1e300, 0]`), 200, ""},
		{num, `{"inputs": [{"name": "m", "shape": [2, 2], "datatype": "INT64", "data": [[1, 2], [3, 4]]}]}`, 200, ""},
	} {
		code, v, body := do(t, tc.s, "POST", "/v2/models/"+tc.s.model.Name+"/infer", tc.body)
		msg, _ := v["error"].(string)
		if code != tc.code || tc.msg != "" && !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: %d %s, want %d %q", tc.body, code, body, tc.code, tc.msg)
		}
	}
}

// TestInferNestedData checks that nested data must follow its shape, as
// the v2 protocol has it: a [2, 4] input sent feature-major, ragged or
// nested deeper is refused, naming where, not read as other rows.
func TestInferNestedData(t *testing.T) {
	num := numericServer(t, []string{"a", "b", "c", "d"}, Config{}, &experiments.StandardScaler{}, &experiments.LogisticRegression{})
	toy, _, _ := newTestServer(t, Config{})
	m := func(shape, data string) string {
		return `{"inputs": [{"name": "m", "shape": ` + shape + `, "datatype": "FP64", "data": ` + data + `}]}`
	}
	col := func(xShape, x, cShape, c string) string {
		return `{"inputs": [{"name": "x", "shape": ` + xShape + `, "datatype": "FP64", "data": ` + x + `}, {"name": "color", "shape": ` + cShape + `, "datatype": "BYTES", "data": ` + c + `}]}`
	}
	for _, tc := range []struct {
		s    *Server
		body string
		msg  string // in the 400 error; "" for 200
	}{
		{num, m("[2, 4]", `[1, 2, 3, 4, 5, 6, 7, 8]`), ""},
		{num, m("[2, 4]", `[[1, 2, 3, 4], [5, 6, 7, 8]]`), ""},
		{num, m("[2, 4]", `[[1, 5], [2, 6], [3, 7], [4, 8]]`), `input "m": data[0] has 2 elements, shape [2 4] says 4`},
		{num, m("[2, 4]", `[[1], [2, 3, 4, 5, 6, 7, 8]]`), `input "m": data[0] has 1 element, shape [2 4] says 4`},
		{num, m("[2, 4]", `[[1, 2, 3, 4]]`), `input "m": data has 1 element, shape [2 4] says 2`},
		{num, m("[2, 4]", `[[1, 2, 3, 4], [5, 6, 7, [8]]]`), `input "m": data[1][3] is an array, but shape [2 4] has 2 dimensions`},
		{num, m("[2, 4]", `[[[1, 2, 3, 4]], [[5, 6, 7, 8]]]`), `input "m": data[0][0] is an array, but shape [2 4] has 2 dimensions`},
		{num, m("[2, 4]", `[[1, 2, 3, 4], 5, 6, 7, 8]`), `input "m": data[1] is 5, not an array of 4 (shape [2 4])`},
		{num, m("[2, 4]", `[1, 2, 3, 4, [5, 6, 7, 8]]`), `input "m": data[4] is an array, data[0] is not: send data flat, or nested as shape [2 4] says`},
		{num, m("[2, 4]", `[[1, 2, 3, 4], []]`), `input "m": data[1] has 0 elements, shape [2 4] says 4`},
		{toy, col("[2, 1]", `[[1], [2]]`, "[2, 1]", `[["red"], ["blue"]]`), ""},
		{toy, col("[2, 1]", `[1, 2]`, "[2]", `["red", "blue"]`), ""},
		{toy, col("[2]", `[[1], [2]]`, "[2]", `["red", "blue"]`), `input "x": data[0] is an array, but shape [2] has 1 dimension`},
		{toy, col("[2]", `[1, 2]`, "[2, 1]", `[["red", "blue"]]`), `input "color": data[0] has 2 elements, shape [2 1] says 1`},
		{toy, col("[2]", `[1, 2]`, "[2]", `[["red"], ["blue"]]`), `input "color": data[0] is an array, but shape [2] has 1 dimension`},
	} {
		code, v, body := do(t, tc.s, "POST", "/v2/models/"+tc.s.model.Name+"/infer", tc.body)
		msg, _ := v["error"].(string)
		if tc.msg == "" && code != 200 || tc.msg != "" && (code != 400 || msg != tc.msg) {
			t.Errorf("%s: %d %s, want %q", tc.body, code, body, tc.msg)
		}
	}
	// Flat and nested data of the same rows predict the same.
	_, _, flat := do(t, num, "POST", "/v2/models/num/infer", m("[2, 4]", `[1, 2, 3, 4, 5, 6, 7, 8]`))
	_, _, nested := do(t, num, "POST", "/v2/models/num/infer", m("[2, 4]", `[[1, 2, 3, 4], [5, 6, 7, 8]]`))
	if flat != nested {
		t.Errorf("flat %s, nested %s", flat, nested)
	}
}

// TestMethodNotAllowed checks that a known path asked with another method
// gets 405 with the methods it takes.
func TestMethodNotAllowed(t *testing.T) {
	s, _, _ := newTestServer(t, Config{})
	for _, tc := range []struct {
		method, path string
		code         int
		allow        string
	}{
		{"GET", "/predict", 405, "POST"},
		{"GET", "/v2/models/toy/infer", 405, "POST"},
		{"PUT", "/v2/models/toy/versions/1/infer", 405, "POST"},
		{"POST", "/v2/models/toy", 405, "GET, HEAD"},
		{"POST", "/v2/health/ready", 405, "GET, HEAD"},
		{"DELETE", "/metrics", 405, "GET, HEAD"},
		{"GET", "/nowhere", 404, ""},
		{"POST", "/v2/models/toy/nowhere", 404, ""},
		{"HEAD", "/v2/health/live", 200, ""},
	} {
		req := httptest.NewRequest(tc.method, tc.path, nil)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != tc.code || rec.Header().Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d Allow %q, want %d %q (%s)", tc.method, tc.path, rec.Code, rec.Header().Get("Allow"), tc.code, tc.allow, rec.Body.String())
		}
		if tc.code == 405 && !strings.Contains(rec.Body.String(), "method "+tc.method+" not allowed on "+tc.path+": use "+tc.allow) {
			t.Errorf("%s %s: %s", tc.method, tc.path, rec.Body.String())
		}
	}
}

// TestDefaultLimitsAgree sends the largest batch the default -max-rows
// allows, 30 features at full precision, under the default body limit:
// it is served, and one row more is refused for its rows, not its size.
func TestDefaultLimitsAgree(t *testing.T) {
	names := make([]string, 30)
	for i := range names {
		names[i] = fmt.Sprintf("m%02d", i+1)
	}
	s := numericServer(t, names, Config{CacheSize: -1}, &experiments.StandardScaler{}, &experiments.LogisticRegression{})
	body := func(rows int) string {
		var b strings.Builder
		b.WriteString(`{"instances": [`)
		for r := 0; r < rows; r++ {
			if r > 0 {
				b.WriteString(", ")
			}
			b.WriteString("{")
			for i, n := range names {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "%q: %v", n, -1.2345678901234567e-10*float64(r+i+1))
			}
			b.WriteString("}")
		}
		b.WriteString("]}")
		return b.String()
	}
	full := body(10000)
	code, v, resp := do(t, s, "POST", "/predict", full)
	if preds, _ := v["predictions"].([]any); code != 200 || len(preds) != 10000 {
		t.Errorf("10000 rows, %d bytes under a limit of %d: %d %.200s", len(full), s.MaxBody(), code, resp)
	}
	if code, _, resp := do(t, s, "POST", "/predict", body(10001)); code != 400 || !strings.Contains(resp, "10001 rows, more than the 10000") {
		t.Errorf("10001 rows: %d %.200s", code, resp)
	}
	if s := NewServer(s.model, Config{MaxRows: 10}); s.MaxBody() != 1<<20 {
		t.Errorf("10 rows: limit %d, want the 1 MiB floor", s.MaxBody())
	}
}

// TestModelRunID checks that a model exported from a tracked run names
// it in model.json and in the v2 metadata's parameters.
func TestModelRunID(t *testing.T) {
	ds := toyData(t)
	p := experiments.NewPipeline(&experiments.OneHotEncoder{}, &experiments.LogisticRegression{})
	if err := p.FitDataset(ds, "label"); err != nil {
		t.Fatal(err)
	}
	run := &jobrt.TrackedRun{ID: "0123abcd-4567-89ef-0123-456789abcdef", Experiment: "iris"}
	dir := saveModel(t, p, jobrt.Manifest{Name: "toy", TrackedRun: run})
	var mm map[string]any
	if b, err := os.ReadFile(filepath.Join(dir, "model.json")); err != nil || json.Unmarshal(b, &mm) != nil || mm["run_id"] != run.ID || mm["experiment"] != "iris" || mm["target"] != "label" {
		t.Errorf("model.json: %v %v", err, mm)
	}
	_, v, body := do(t, loadServer(t, dir, Config{}), "GET", "/v2/models/toy", "")
	if params, _ := v["parameters"].(map[string]any); params["run_id"] != run.ID || params["experiment"] != "iris" {
		t.Errorf("metadata: %s", body)
	}
	// The protocol's parameters are scalars: a list is JSON text.
	params, _ := v["parameters"].(map[string]any)
	for k, pv := range params {
		switch pv.(type) {
		case string, float64, bool:
		default:
			t.Errorf("metadata parameter %s is %T, not a scalar: %s", k, pv, body)
		}
	}
	if params["steps"] != "onehotencoder + logisticregression" || !strings.HasPrefix(fmt.Sprint(params["classes"]), `["`) {
		t.Errorf("metadata steps and classes: %s", body)
	}
	_, v, body = do(t, loadServer(t, saveModel(t, p, jobrt.Manifest{Name: "toy"}), Config{}), "GET", "/v2/models/toy", "")
	if params, _ := v["parameters"].(map[string]any); params == nil || params["run_id"] != nil {
		t.Errorf("metadata without a tracked run: %s", body)
	}
}
