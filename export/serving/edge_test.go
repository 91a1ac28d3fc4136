package serving

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/gopherlab/gopherlab/experiments"
	"github.com/gopherlab/gopherlab/export/jobrt"
)

// regressionServer serves a linear regression y = 3a + 2b + 1 (the reg/
// case of the audit: a valid input can overflow its prediction).
func regressionServer(t *testing.T) *Server {
	t.Helper()
	n := 40
	a, b, y := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range a {
		a[i], b[i] = float64(i), float64(i%7)
		y[i] = 3*a[i] + 2*b[i] + 1
	}
	ds, err := experiments.FromColumns([]string{"a", "b", "y"}, a, b, y)
	if err != nil {
		t.Fatal(err)
	}
	p := experiments.NewPipeline(&experiments.LinearRegression{})
	if err := p.FitDataset(ds, "y"); err != nil {
		t.Fatal(err)
	}
	return loadServer(t, saveModel(t, p, jobrt.Manifest{Name: "reg"}), Config{})
}

// TestNonFinitePrediction: a well-formed request whose prediction
// overflows gets 422 naming the row, on both APIs, not a 500.
func TestNonFinitePrediction(t *testing.T) {
	s := regressionServer(t)
	for _, tt := range []struct{ path, body string }{
		{"/predict", `{"instances": [{"a": 1, "b": 2}, {"a": 1.7e308, "b": 1}]}`},
		{"/v2/models/reg/infer", `{"inputs": [{"name": "a", "shape": [2], "datatype": "FP64", "data": [1, 1.7e308]}, {"name": "b", "shape": [2], "datatype": "FP64", "data": [2, 1]}]}`},
	} {
		code, v, raw := do(t, s, "POST", tt.path, tt.body)
		msg, _ := v["error"].(string)
		if code != http.StatusUnprocessableEntity || !strings.Contains(msg, "row 1") || !strings.Contains(msg, "not finite") {
			t.Errorf("POST %s: %d %s, want 422 naming row 1 and saying the prediction is not finite", tt.path, code, raw)
		}
		// A finite prediction is answered as before.
		if code, _, raw := do(t, s, "POST", "/predict", `{"a": 1, "b": 2}`); code != http.StatusOK || !strings.Contains(raw, `"value":8`) {
			t.Errorf("POST /predict a finite row: %d %s", code, raw)
		}
	}
}

// TestCategoricalNumbersAsNotebook: the server reads categorical values as
// the notebook read its data with experiments.ReadCSV, so that it predicts
// what the notebook predicts for the same rows: in a column ReadCSV made
// categorical itself (code: numbers among words), "007", "7.0" and " 7"
// are the level "7"; in a column named in CSVOptions.Categorical (zip),
// values are levels as written, so "2134" is not "02134".
func TestCategoricalNumbersAsNotebook(t *testing.T) {
	dir := t.TempDir()
	var train strings.Builder
	train.WriteString("code,zip,x,label\n")
	codes := []string{"A", "7", "B", "12", "007", "10"}
	zips := []string{"02134", "10001", "7.0", "02134"}
	for i := 0; i < 48; i++ {
		code, zip := codes[i%len(codes)], zips[i%len(zips)]
		label := "no"
		if code == "7" || code == "007" || zip == "02134" && i%3 == 0 || i%5 == 0 {
			label = "yes"
		}
		fmt.Fprintf(&train, "%s,%s,%d,%s\n", code, zip, i%7, label)
	}
	// The rows to predict: as a client may spell them.
	probe := "code,zip,x,label\n" +
		"007,02134,1,no\n" + "7,2134,1,no\n" + "7.0,10001,2,no\n" + "07,10001.0,3,no\n" + " 7 ,7,4,no\n" +
		"+7,7.0,1,no\n" + "1e1, 02134,2,no\n" + "12.000,99,5,no\n" + "A,02134,1,no\n" + "a,10001,1,no\n" +
		"0x7,7.00,2,no\n" + "1_2,02134,3,no\n" + "inf,02134,3,no\n" + "8,10001,6,no\n" + "B,007.0,1,no\n"
	opts := experiments.CSVOptions{Categorical: []string{"zip"}}
	for name, data := range map[string]string{"train.csv": train.String(), "probe.csv": probe} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := experiments.ReadCSV(filepath.Join(dir, "train.csv"), opts)
	if err != nil {
		t.Fatal(err)
	}
	p := experiments.NewPipeline(&experiments.OneHotEncoder{}, &experiments.LogisticRegression{})
	if err := p.FitDataset(ds, "label"); err != nil {
		t.Fatal(err)
	}
	s := loadServer(t, saveModel(t, p, jobrt.Manifest{Name: "codes"}), Config{})

	// The notebook's predictions.
	pds, err := experiments.ReadCSV(filepath.Join(dir, "probe.csv"), opts)
	if err != nil {
		t.Fatal(err)
	}
	pds, err = pds.Drop("label")
	if err != nil {
		t.Fatal(err)
	}
	want, err := p.PredictProbaDataset(pds)
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSpace(probe), "\n")[1:]
	for i, row := range rows {
		f := strings.Split(row, ",")
		body := fmt.Sprintf(`{"code": %q, "zip": %q, "x": %s}`, f[0], f[1], f[2])
		code, v, raw := do(t, s, "POST", "/predict", body)
		if code != http.StatusOK {
			t.Fatalf("row %d %s: %d %s", i, body, code, raw)
		}
		pr := v["predictions"].([]any)[0].(map[string]any)["proba"].(map[string]any)
		for k, cls := range s.model.classNames() {
			if got := pr[cls].(float64); math.Abs(got-want.At(i, k)) > 1e-12 {
				t.Errorf("row %d %s: P(%s) = %v, the notebook %v", i, body, cls, got, want.At(i, k))
			}
		}
	}
}

// TestSetMemoryLimit: the container's memory limit becomes the Go
// runtime's soft limit, with headroom; GOMEMLIMIT, when set, wins.
func TestSetMemoryLimit(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(old)
	env := map[string]string{MemoryLimitEnv: "268435456"}
	cgroup := map[string]string{}
	readFile := func(name string) ([]byte, error) {
		if v, ok := cgroup[name]; ok {
			return []byte(v), nil
		}
		return nil, os.ErrNotExist
	}
	if got := setMemoryLimit(func(k string) string { return env[k] }, readFile); !strings.HasPrefix(got, "241591910 ") {
		t.Errorf("limit %q", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 241591910 {
		t.Errorf("runtime memory limit %d, want 90%% of 256 MiB", got)
	}
	debug.SetMemoryLimit(old)
	env["GOMEMLIMIT"] = "100MiB"
	if got := setMemoryLimit(func(k string) string { return env[k] }, readFile); !strings.Contains(got, "GOMEMLIMIT") || debug.SetMemoryLimit(-1) != old {
		t.Errorf("with GOMEMLIMIT: %q", got)
	}
	noEnv := func(string) string { return "" }
	if got := setMemoryLimit(noEnv, readFile); got != "" {
		t.Errorf("no limit: %q", got)
	}
	// A container started with docker run --memory: the cgroup's limit.
	cgroup[cgroupMemoryMax] = "max\n"
	if got := setMemoryLimit(noEnv, readFile); got != "" || debug.SetMemoryLimit(-1) != old {
		t.Errorf("cgroup without a limit: %q", got)
	}
	cgroup[cgroupMemoryMax] = "536870912\n"
	if got := setMemoryLimit(noEnv, readFile); !strings.Contains(got, "of "+cgroupMemoryMax+"=536870912") || debug.SetMemoryLimit(-1) != 483183820 {
		t.Errorf("cgroup limit 512 MiB: %q, runtime limit %d", got, debug.SetMemoryLimit(-1))
	}
	debug.SetMemoryLimit(old)
}

// TestUnsupportedBodies: a compressed body gets 415 (not "not valid
// JSON"); a v2 request asking for binary tensor data gets 400 saying the
// extension is not supported, rather than being answered as something
// else.
func TestUnsupportedBodies(t *testing.T) {
	s := regressionServer(t)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"a": 1, "b": 2}`))
	zw.Close()
	for _, path := range []string{"/predict", "/v2/models/reg/infer"} {
		req := httptest.NewRequest("POST", path, bytes.NewReader(gz.Bytes()))
		req.Header.Set("Content-Encoding", "gzip")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnsupportedMediaType || !strings.Contains(rec.Body.String(), "Content-Encoding gzip is not supported") || rec.Header().Get("Accept-Encoding") != "identity" {
			t.Errorf("POST %s gzip: %d %s %v", path, rec.Code, rec.Body, rec.Header())
		}
		req = httptest.NewRequest("POST", path, strings.NewReader(`{"a": 1, "b": 2}`))
		req.Header.Set("Content-Encoding", "identity")
		if path == "/predict" {
			rec = httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Errorf("POST %s identity: %d %s", path, rec.Code, rec.Body)
			}
		}
	}
	inputs := `{"name": "a", "shape": [1], "datatype": "FP64", "data": [1]}, {"name": "b", "shape": [1], "datatype": "FP64", "data": [2]}`
	for _, body := range []string{
		`{"inputs": [` + inputs + `], "outputs": [{"name": "predict", "parameters": {"binary_data": true}}]}`,
		`{"parameters": {"binary_data_output": true}, "inputs": [` + inputs + `]}`,
		`{"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "parameters": {"binary_data_size": 8}}, {"name": "b", "shape": [1], "datatype": "FP64", "data": [2]}]}`,
	} {
		code, v, raw := do(t, s, "POST", "/v2/models/reg/infer", body)
		if msg, _ := v["error"].(string); code != http.StatusBadRequest || !strings.Contains(msg, "binary tensor data") {
			t.Errorf("%s: %d %s", body, code, raw)
		}
	}
	req := httptest.NewRequest("POST", "/v2/models/reg/infer", strings.NewReader(`{"inputs":[]}`+"\x00\x00\x00\x00\x00\x00\xf0\x3f"))
	req.Header.Set("Inference-Header-Content-Length", "13")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "binary tensor data") {
		t.Errorf("binary body: %d %s", rec.Code, rec.Body)
	}
	// Outputs' other parameters, and binary_data false, are fine.
	if code, _, raw := do(t, s, "POST", "/v2/models/reg/infer", `{"inputs": [`+inputs+`], "outputs": [{"name": "predict", "parameters": {"binary_data": false}}]}`); code != http.StatusOK {
		t.Errorf("binary_data false: %d %s", code, raw)
	}
}

// TestDeclaredCategoricalNumbers: a column named in CSVOptions.Categorical
// whose levels are all numbers in shortest form (store: 12, 3, 7) is read
// as written, as the pipeline records: "7.0" is an unseen level for the
// notebook, and so for the server. A pipeline saved before the form was
// recorded (format version 4) is served as then: its levels alone cannot
// tell the column from one ReadCSV made categorical, and "7.0" is "7".
func TestDeclaredCategoricalNumbers(t *testing.T) {
	dir := t.TempDir()
	// The rows of experiments/testdata/pipeline-v4-declared-categorical.gob.
	var train strings.Builder
	train.WriteString("store,x,label\n")
	for i := 0; i < 30; i++ {
		s := []string{"7", "12", "3"}[i%3]
		label := "no"
		if s == "7" || i%4 == 0 {
			label = "yes"
		}
		fmt.Fprintf(&train, "%s,%d,%s\n", s, i%7, label)
	}
	probe := "store,x\n7,1\n7.0,1\n 7 ,1\n007,1\n12,2\n12.0,2\n1.2e1,2\n3,4\n8,4\n"
	opts := experiments.CSVOptions{Categorical: []string{"store"}}
	for name, data := range map[string]string{"train.csv": train.String(), "probe.csv": probe} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := experiments.ReadCSV(filepath.Join(dir, "train.csv"), opts)
	if err != nil {
		t.Fatal(err)
	}
	p := experiments.NewPipeline(&experiments.OneHotEncoder{}, &experiments.LogisticRegression{})
	if err := p.FitDataset(ds, "label"); err != nil {
		t.Fatal(err)
	}
	pds, err := experiments.ReadCSV(filepath.Join(dir, "probe.csv"), opts)
	if err != nil {
		t.Fatal(err)
	}
	notebook, err := p.PredictProbaDataset(pds)
	if err != nil {
		t.Fatal(err)
	}
	// The old pipeline predicts "7.0" as "7": the notebook's row 0.
	old := saveModel(t, p, jobrt.Manifest{Name: "stores"})
	v4, err := os.ReadFile("../../experiments/testdata/pipeline-v4-declared-categorical.gob")
	if err != nil {
		t.Fatal(err)
	}
	replaceModelFile(t, old, v4)
	recorded := saveModel(t, p, jobrt.Manifest{Name: "stores"})
	// model.json shows how each categorical column was read.
	if b, err := os.ReadFile(filepath.Join(recorded, "model.json")); err != nil || !strings.Contains(string(b), `"name": "store",
      "kind": "categorical",
      "read_as": "as written"`) {
		t.Errorf("model.json does not say store was read as written: %v\n%s", err, b)
	}
	rows := strings.Split(strings.TrimSpace(probe), "\n")[1:]
	for _, tt := range []struct {
		name string
		dir  string
		want []int // the notebook's row each probe row predicts as
	}{
		{"recorded", recorded, []int{0, 1, 2, 3, 4, 5, 6, 7, 8}},
		{"format version 4", old, []int{0, 0, 0, 0, 4, 4, 4, 7, 8}},
	} {
		s := loadServer(t, tt.dir, Config{})
		for i, row := range rows {
			store, x, _ := strings.Cut(row, ",")
			body := fmt.Sprintf(`{"store": %q, "x": %s}`, store, x)
			code, v, raw := do(t, s, "POST", "/predict", body)
			if code != http.StatusOK {
				t.Fatalf("%s: row %d %s: %d %s", tt.name, i, body, code, raw)
			}
			pr := v["predictions"].([]any)[0].(map[string]any)["proba"].(map[string]any)
			for k, cls := range s.model.classNames() {
				if got, want := pr[cls].(float64), notebook.At(tt.want[i], k); math.Abs(got-want) > 1e-12 {
					t.Errorf("%s: row %d %s: P(%s) = %v, the notebook's row %d %v", tt.name, i, body, cls, got, tt.want[i], want)
				}
			}
		}
	}
	// The notebook's own rows differ where the old server's did not: the
	// test tells the two rules apart.
	if notebook.At(0, 0) == notebook.At(1, 0) {
		t.Fatalf("the notebook predicts \"7\" and \"7.0\" alike: %v", notebook.RawMatrix().Data)
	}
}

// replaceModelFile puts model in place of the model file in dir, with its
// hash in model.json, as a job of an older version left it.
func replaceModelFile(t *testing.T, dir string, model []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "model.gob"), model, 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "model.json"))
	if err != nil {
		t.Fatal(err)
	}
	var mm map[string]any
	if err := json.Unmarshal(b, &mm); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(model)
	mm["sha256"], mm["size"] = hex.EncodeToString(sum[:]), len(model)
	if b, err = json.Marshal(mm); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "model.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}
