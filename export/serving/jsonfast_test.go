package serving

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

func TestAppendFloat(t *testing.T) {
	for _, v := range []float64{0, -0.0, 1, -1, 0.1, 1.0 / 3, 2.5e-7, 1e-6, 9.99e-7, 1e20, 1e21, 1.5e300, -4.9e-324, math.MaxFloat64, 123456789012345678} {
		got, ok := appendFloat(nil, v)
		want, _ := json.Marshal(v)
		if !ok || string(got) != string(want) {
			t.Errorf("%v: %s, want %s", v, got, want)
		}
	}
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, ok := appendFloat(nil, v); ok {
			t.Errorf("%v encoded", v)
		}
	}
}

func TestAppendQuoted(t *testing.T) {
	for _, s := range []string{"", "iris", `a"b`, `a\b`, "tab\there", "<&>", "é", "\u2028", "\xff"} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		enc.Encode(s)
		if got := appendQuoted(nil, s); string(got)+"\n" != want.String() {
			t.Errorf("%q: %s, want %s", s, got, want.String())
		}
	}
}

func TestScanNumber(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"0", true}, {"-0", true}, {"12", true}, {"-1.5e3", true}, {"1E+2", true}, {"0.25", true},
		{"123456789012345678901", true}, {"1e400", false}, {"01", true /* reads 0; the caller sees 1 left */},
		{"+1", false}, {".5", false}, {"1.", false}, {"1e", false}, {"-", false}, {"NaN", false}, {"", false},
	} {
		sc := scanner{b: []byte(tc.in)}
		v, ok := sc.number()
		if ok != tc.ok {
			t.Errorf("%q: ok %v", tc.in, ok)
			continue
		}
		if ok {
			var want float64
			json.Unmarshal([]byte(tc.in[:sc.i]), &want)
			if v != want || math.Signbit(v) != math.Signbit(want) {
				t.Errorf("%q: %v, want %v", tc.in, v, want)
			}
		}
	}
}

// predictBodies and inferBodies are bodies of every shape: plain ones the
// fast readers take, and others they must leave to encoding/json.
var predictBodies = []string{
	`{"x": 3.5, "color": "green"}`,
	`{"color":"red","x":-1e-3}`,
	` { "x" : 1.5 , "color" : null } `,
	`{"instances": [{"x": 1, "color": "red"}, {"x": 2, "color": "blue"}]}`,
	`{"instances": [{"x": 1, "color": "r\u00e9d"}]}`,
	`{"x": 1, "color": "red", "x": 2}`,
	`{"x": 1}`,
	`{"x": 1, "color": "red", "size": 3}`,
	`{"x": "1", "color": "red"}`,
	`{"x": 1, "color": 2}`,
	`{"x": 1e400, "color": "red"}`,
	`{"instances": []}`,
	`{"instances": [{"x": 1, "color": "red"}], "x": 1}`,
	`{"instances": {"x": 1}}`,
	`{"x": 1, "color": "red"} {}`,
	`{"x": 1, "color": "red"`,
	`[1, 2]`,
	``,
	`{"x": 01, "color": "red"}`,
	`{"x": 1, "color": "a` + "\x01" + `"}`,
	`{"x": 1, "color": "` + "\xff" + `"}`,
	`{"x": null, "color": "red"}`,
}

var inferBodies = []string{
	`{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [3.5]}, {"name": "color", "shape": [1], "datatype": "BYTES", "data": ["green"]}]}`,
	`{"id": "r1", "parameters": {"a": [1, "b\n", null]}, "inputs": [{"name": "x", "shape": [2, 1], "datatype": "FP32", "parameters": {}, "data": [[1], [null]]}, {"name": "color", "shape": [2], "datatype": "BYTES", "data": ["a", null]}], "outputs": [{"name": "label"}]}`,
	`{"inputs": [{"name": "x", "shape": [2], "datatype": "BOOL", "data": [true, false]}, {"name": "color", "shape": [2, 1], "datatype": "BYTES", "data": [["a"], ["b"]]}]}`,
	`{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [1, 2]}, {"name": "color", "shape": [1], "datatype": "BYTES", "data": ["a"]}]}`,
	`{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [true]}, {"name": "color", "shape": [1], "datatype": "BYTES", "data": ["a"]}]}`,
	`{"inputs": [{"name": "x", "shape": [1.0], "datatype": "FP64", "data": [1]}]}`,
	`{"Inputs": [{"Name": "x", "shape": [1], "datatype": "FP64", "data": [1]}, {"name": "color", "shape": [1], "datatype": "BYTES", "data": ["a"]}]}`,
	`{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [1]}, {"name": "color", "shape": [1], "datatype": "BYTES", "data": ["a"]}], "outputs": [{"name": "proba", "parameters": {}}]}`,
	`{"inputs": [{"name": "m", "shape": [1, 2], "datatype": "FP64", "data": [1, 2]}]}`,
	`{"inputs": "x"}`,
	`{"id": "a\"b", "inputs": []}`,
	`{}`,
	`{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [1]}, {"name": "color", "shape": [1], "datatype": "BYTES", "data": [3]}]}`,
	`{"inputs": [{"name": "x", "shape": [2], "datatype": "FP64", "data": [1, null]}, {"name": "color", "shape": [2], "datatype": "BYTES", "data": ["a", "b"]}]}`,
	`{"inputs": [{"name": "x", "shape": [2], "datatype": "INT64", "data": [1, 17.99]}, {"name": "color", "shape": [2], "datatype": "BYTES", "data": ["a", "b"]}]}`,
	`{"inputs": [{"name": "x", "shape": [2], "datatype": "UINT8", "data": [[255], [256]]}, {"name": "color", "shape": [2], "datatype": "BYTES", "data": ["a", "b"]}]}`,
	`{"inputs": [{"shape": [1], "datatype": "FP64", "data": [1]}]}`,
	`{"inputs": [{"name": "x", "datatype": "FP64", "data": [1, 2]}]}`,
	`{"inputs": [{"name": "x", "shape": [2], "datatype": "FP64", "data": [[1], [2]]}, {"name": "color", "shape": [2, 1], "datatype": "BYTES", "data": [["a"], "b"]}]}`,
	`{"inputs": [{"name": "x", "shape": [2, 1], "datatype": "FP64", "data": [[1, 2]]}, {"name": "color", "shape": [2, 1], "datatype": "BYTES", "data": [["a"], ["b", "c"]]}]}`,
	`{"inputs": [{"name": "x", "shape": [2, 1], "datatype": "FP64", "data": [[1], [[2]]]}, {"name": "color", "shape": [2, 1], "datatype": "BYTES", "data": [[], ["a", "b"]]}]}`,
	`{"inputs": [{"name": "m", "shape": [1, 2], "datatype": "FP64", "data": [[1], [2]]}]}`,
}

// TestFastReadersAgree checks that whenever the fast readers take a body,
// encoding/json reads the same request from it.
func TestFastReadersAgree(t *testing.T) {
	s, _, _ := newTestServer(t, Config{CacheSize: -1})
	for _, body := range predictBodies {
		checkPredictBody(t, s, body)
	}
	for _, body := range inferBodies {
		checkInferBody(t, s, body)
	}
	// The plain bodies take the fast path.
	for _, body := range predictBodies[:4] {
		if !s.parsePredict(&call{body: []byte(body)}) {
			t.Errorf("%s: not read by the fast reader", body)
		}
	}
	for _, body := range inferBodies[:3] {
		c := &call{}
		if !parseInfer([]byte(body), &c.req) {
			t.Errorf("%s: not read by the fast reader", body)
			continue
		}
		for _, in := range c.req.Inputs {
			sc := scanner{b: in.Data}
			k, d := 0, strided{stride: 1, n: 2}
			nt, _ := numericType(in.Datatype)
			if !(in.Datatype == "BYTES" && sc.strs(make([]string, 2), d, &k, in.Shape, 0) ||
				in.Datatype != "BYTES" && sc.numbers(make([]float64, 2), d, &k, nt, in.Shape, 0)) {
				t.Errorf("%s: data %s not read by the fast reader", body, in.Data)
			}
		}
	}
}

func FuzzPredictBody(f *testing.F) {
	s, _, _ := newTestServer(f, Config{CacheSize: -1, MaxRows: 8})
	for _, b := range predictBodies {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body string) { checkPredictBody(t, s, body) })
}

func FuzzInferBody(f *testing.F) {
	s, _, _ := newTestServer(f, Config{CacheSize: -1, MaxRows: 8})
	for _, b := range inferBodies {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body string) { checkInferBody(t, s, body) })
}

func checkPredictBody(t *testing.T, s *Server, body string) {
	t.Helper()
	fast := &call{body: []byte(body)}
	if !s.parsePredict(fast) {
		return
	}
	slow := &call{body: []byte(body)}
	if err := s.parsePredictSlow(slow); err != nil {
		t.Fatalf("%q: the fast reader took it, encoding/json says %v", body, err)
	}
	if !sameBatch(&fast.b, &slow.b) {
		t.Fatalf("%q: fast %+v, encoding/json %+v", body, fast.b, slow.b)
	}
}

func checkInferBody(t *testing.T, s *Server, body string) {
	t.Helper()
	fast := &call{}
	if !parseInfer([]byte(body), &fast.req) {
		return
	}
	slow := &call{}
	if err := decode([]byte(body), &slow.req); err != nil {
		t.Fatalf("%q: the fast reader took it, encoding/json says %v", body, err)
	}
	norm := func(r *inferRequest) {
		for i := range r.Inputs {
			if len(r.Inputs[i].Shape) == 0 {
				r.Inputs[i].Shape = nil
			}
		}
		if len(r.Inputs) == 0 {
			r.Inputs = nil
		}
		if len(r.Outputs) == 0 {
			r.Outputs = nil
		}
	}
	norm(&fast.req)
	norm(&slow.req)
	if !reflect.DeepEqual(fast.req, slow.req) {
		t.Fatalf("%q: fast %+v, encoding/json %+v", body, fast.req, slow.req)
	}
	// The data readers: the same batch or the same error.
	fb, ferr := s.inferBatch(fast, &fast.req)
	sb, serr := s.inferBatch(slow, &slow.req)
	if (ferr == nil) != (serr == nil) || (ferr != nil && ferr.Error() != serr.Error()) {
		t.Fatalf("%q: errors %v and %v", body, ferr, serr)
	}
	if ferr == nil && !sameBatch(fb, sb) {
		t.Fatalf("%q: batches %+v and %+v", body, fb, sb)
	}
}

func sameBatch(a, b *batch) bool {
	if a.n != b.n || a.f != b.f || len(a.nums) != len(b.nums) || !reflect.DeepEqual(a.strs, b.strs) {
		return false
	}
	for i := range a.nums {
		x, y := a.nums[i], b.nums[i]
		if x != y && !(math.IsNaN(x) && math.IsNaN(y)) || math.Signbit(x) != math.Signbit(y) {
			return false
		}
	}
	return true
}

// TestResponsesAsEncodingJSON checks the hand-written responses are the
// bytes encoding/json wrote for them before.
func TestResponsesAsEncodingJSON(t *testing.T) {
	s, _, _ := newTestServer(t, Config{CacheSize: -1})
	m := s.model
	names := m.classNames()
	row := func(x float64, color string) (float64, string, []float64) {
		c := &call{}
		c.b.reset(m, 1)
		c.b.nums[0], c.b.strs[1] = x, color
		res, err := s.run(c, &c.b)
		if err != nil {
			t.Fatal(err)
		}
		return res.values[0], m.levels[int(res.values[0])], append([]float64(nil), res.proba...)
	}
	v1, l1, p1 := row(3.5, "green")
	v2, l2, p2 := row(1, "blue")
	type pred struct {
		Value float64            `json:"value"`
		Label string             `json:"label,omitempty"`
		Proba map[string]float64 `json:"proba,omitempty"`
	}
	pm := func(p []float64) map[string]float64 {
		out := map[string]float64{}
		for k, v := range p {
			out[names[k]] = v
		}
		return out
	}
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	enc.Encode(map[string]any{"model_name": m.Name, "model_version": m.Version, "predictions": []pred{{v1, l1, pm(p1)}, {v2, l2, pm(p2)}}})
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("POST", "/predict", strings.NewReader(`{"instances": [{"x": 3.5, "color": "green"}, {"x": 1, "color": "blue"}]}`)))
	if rec.Body.String() != want.String() {
		t.Errorf("/predict:\n%s\nwant\n%s", rec.Body.String(), want.String())
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}

	type output struct {
		Name     string `json:"name"`
		Shape    []int  `json:"shape"`
		Datatype string `json:"datatype"`
		Data     any    `json:"data"`
	}
	want.Reset()
	enc.Encode(struct {
		ModelName    string   `json:"model_name"`
		ModelVersion string   `json:"model_version"`
		ID           string   `json:"id,omitempty"`
		Outputs      []output `json:"outputs"`
	}{m.Name, m.Version, "a\"<é>", []output{
		{"predict", []int{2}, "FP64", []float64{v1, v2}},
		{"label", []int{2}, "BYTES", []string{l1, l2}},
		{"proba", []int{2, 2}, "FP64", append(p1, p2...)},
	}})
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("POST", "/v2/models/toy/infer", strings.NewReader(`{"id": "a\"<é>", "inputs": [{"name": "x", "shape": [2], "datatype": "FP64", "data": [3.5, 1]}, {"name": "color", "shape": [2], "datatype": "BYTES", "data": ["green", "blue"]}]}`)))
	if rec.Body.String() != want.String() {
		t.Errorf("infer:\n%s\nwant\n%s", rec.Body.String(), want.String())
	}
}
