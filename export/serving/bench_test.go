package serving

import (
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/gopherlab/gopherlab/experiments"
	"github.com/gopherlab/gopherlab/export/jobrt"
)

// fitIrisLike fits what bench/serve serves: four numeric features, a
// standard scaler and a three-class logistic regression.
func fitIrisLike(b *testing.B) *Server {
	b.Helper()
	n := 150
	cols := make([][]float64, 4)
	for c := range cols {
		cols[c] = make([]float64, n)
	}
	label := make([]string, n)
	for i := 0; i < n; i++ {
		k := i % 3
		for c := range cols {
			cols[c][i] = float64(k+c) + math.Sin(float64(i*(c+1)))
		}
		label[i] = []string{"setosa", "versicolor", "virginica"}[k]
	}
	ds, err := experiments.FromColumns([]string{"sepal_length", "sepal_width", "petal_length", "petal_width", "species"}, cols[0], cols[1], cols[2], cols[3], label)
	if err != nil {
		b.Fatal(err)
	}
	p := experiments.NewPipeline(&experiments.StandardScaler{}, &experiments.LogisticRegression{C: 10})
	if err := p.FitDataset(ds, "species"); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	j := &jobrt.Job{ModelDir: dir, Manifest: jobrt.Manifest{Name: "iris"}}
	if err := j.SaveModel(p, nil); err != nil {
		b.Fatal(err)
	}
	m, err := Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	return NewServer(m, Config{CacheSize: -1})
}

// serveBench runs one request per iteration through the handler, as the
// HTTP server calls it (the request and recorder are made once: the
// server's own per-request cost is what is measured).
func serveBench(b *testing.B, s *Server, path, body string) {
	req := httptest.NewRequest("POST", path, nil)
	rd := strings.NewReader(body)
	w := &benchWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(body)
		req.Body = nopCloser{rd}
		w.code, w.body = 0, w.body[:0]
		s.ServeHTTP(w, req)
		if w.code != 200 {
			b.Fatal(string(w.body))
		}
	}
}

// benchWriter is a reusable http.ResponseWriter.
type benchWriter struct {
	h    http.Header
	code int
	body []byte
}

func (w *benchWriter) Header() http.Header { return w.h }

func (w *benchWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *benchWriter) Write(b []byte) (int, error) {
	w.WriteHeader(200)
	w.body = append(w.body, b...)
	return len(b), nil
}

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }

// BenchmarkPredict is one /predict request of one row with the cache off
// (a numeric and a categorical feature: the dataset path).
func BenchmarkPredict(b *testing.B) {
	s, _, _ := newTestServer(b, Config{CacheSize: -1})
	serveBench(b, s, "/predict", `{"x": 3.5, "color": "green"}`)
}

// BenchmarkInfer is one v2 infer request of one row with the cache off.
func BenchmarkInfer(b *testing.B) {
	s, _, _ := newTestServer(b, Config{CacheSize: -1})
	serveBench(b, s, "/v2/models/toy/infer", `{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [3.5]}, {"name": "color", "shape": [1], "datatype": "BYTES", "data": ["green"]}]}`)
}

// BenchmarkPredictIris is bench/serve's request: /predict of one row of
// four numeric features, cache off.
func BenchmarkPredictIris(b *testing.B) {
	serveBench(b, fitIrisLike(b), "/predict", `{"sepal_length": 6.4, "sepal_width": 3.2, "petal_length": 4.5, "petal_width": 1.5}`)
}

// BenchmarkInferIris is the same row as one v2 [1, 4] input.
func BenchmarkInferIris(b *testing.B) {
	serveBench(b, fitIrisLike(b), "/v2/models/iris/infer", `{"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP64", "data": [6.4, 3.2, 4.5, 1.5]}]}`)
}

// BenchmarkPredictIrisBatch is /predict of 100 rows.
func BenchmarkPredictIrisBatch(b *testing.B) {
	row := `{"sepal_length": 6.4, "sepal_width": 3.2, "petal_length": 4.5, "petal_width": 1.5}`
	serveBench(b, fitIrisLike(b), "/predict", `{"instances": [`+strings.Repeat(row+",", 99)+row+`]}`)
}

// BenchmarkPipelineIris is the experiments package's share of
// BenchmarkPredictIris: Predict and PredictProba of one 1×4 matrix.
func BenchmarkPipelineIris(b *testing.B) {
	s := fitIrisLike(b)
	X := mat.NewDense(1, 4, []float64{6.4, 3.2, 4.5, 1.5})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.model.Pipeline.Predict(X); err != nil {
			b.Fatal(err)
		}
		if _, err := s.model.Pipeline.PredictProba(X); err != nil {
			b.Fatal(err)
		}
	}
}
