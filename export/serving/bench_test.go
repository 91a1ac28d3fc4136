package serving

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkPredict is one /predict request of one row with the cache off:
// what the server does for each request of bench/serve.
func BenchmarkPredict(b *testing.B) {
	s, _, _ := newTestServer(b, Config{CacheSize: -1})
	body := `{"x": 3.5, "color": "green"}`
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/predict", strings.NewReader(body))
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Body.String())
		}
	}
}

// BenchmarkInfer is one v2 infer request of one row with the cache off.
func BenchmarkInfer(b *testing.B) {
	s, _, _ := newTestServer(b, Config{CacheSize: -1})
	body := `{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [3.5]}, {"name": "color", "shape": [1], "datatype": "BYTES", "data": ["green"]}]}`
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/v2/models/toy/infer", strings.NewReader(body))
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Body.String())
		}
	}
}
