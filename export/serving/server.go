package serving

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gopherlab/gopherlab/experiments"
)

// Config configures a Server. The zero value works: 1 MiB bodies, a cache
// of 10000 results.
type Config struct {
	// MaxBody is the largest request body accepted, in bytes (0: 1 MiB).
	MaxBody int64
	// CacheSize is how many recent per-row results are kept (0: 10000;
	// negative: no cache).
	CacheSize int
	// MaxRows is the largest batch a request may ask for (0: 10000).
	MaxRows int
}

// Server serves one model over HTTP. It implements http.Handler.
type Server struct {
	model   *Model
	cfg     Config
	cache   *lru
	metrics *metrics
	ready   atomic.Bool
	mux     *http.ServeMux
}

// NewServer returns a server of m, ready.
func NewServer(m *Model, cfg Config) *Server {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	switch {
	case cfg.CacheSize == 0:
		cfg.CacheSize = 10000
	case cfg.CacheSize < 0:
		cfg.CacheSize = 0
	}
	if cfg.MaxRows <= 0 {
		cfg.MaxRows = 10000
	}
	s := &Server{model: m, cfg: cfg, cache: newLRU(cfg.CacheSize), metrics: newMetrics(), mux: http.NewServeMux()}
	s.ready.Store(true)
	s.route("GET /v2/health/live", "live", s.live)
	s.route("GET /v2/health/ready", "ready", s.readyz)
	s.route("GET /v2", "server", s.serverMeta)
	s.route("GET /v2/models/{name}", "model", s.modelMeta)
	s.route("GET /v2/models/{name}/versions/{version}", "model", s.modelMeta)
	s.route("GET /v2/models/{name}/ready", "model_ready", s.modelReady)
	s.route("GET /v2/models/{name}/versions/{version}/ready", "model_ready", s.modelReady)
	s.route("POST /v2/models/{name}/infer", "infer", s.infer)
	s.route("POST /v2/models/{name}/versions/{version}/infer", "infer", s.infer)
	s.route("POST /predict", "predict", s.predict)
	s.route("GET /metrics", "metrics", s.metricsz)
	s.route("/", "other", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, http.StatusNotFound, "no endpoint %s %s (see GET /v2/models/%s for the model, POST /v2/models/%s/infer or /predict to predict)", r.Method, r.URL.Path, m.Name, m.Name)
	})
	return s
}

// SetReady sets what the readiness endpoints answer; a shutting down
// server is not ready, so load balancers stop sending it requests.
func (s *Server) SetReady(ready bool) { s.ready.Store(ready) }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// statusWriter remembers the status code for the metrics.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (s *Server) route(pattern, endpoint string, h http.HandlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		s.metrics.inflight.Add(1)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			s.metrics.inflight.Add(-1)
			if sw.code == 0 {
				sw.code = http.StatusOK
			}
			s.metrics.record(endpoint, sw.code, time.Since(start))
		}()
		if r.Body != nil {
			r.Body = http.MaxBytesReader(sw, r.Body, s.cfg.MaxBody)
		}
		h(sw, r)
	})
}

// requestError is a client error: its status and message go back as is.
type requestError struct {
	code int
	msg  string
}

func (e *requestError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &requestError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

func (s *Server) writeJSON(w http.ResponseWriter, code int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// A NaN or infinite prediction has no JSON form.
		code = http.StatusInternalServerError
		b.Reset()
		enc.Encode(map[string]string{"error": "the response cannot be encoded as JSON: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(b.Bytes())
}

func (s *Server) fail(w http.ResponseWriter, code int, format string, args ...any) {
	s.writeJSON(w, code, map[string]string{"error": fmt.Sprintf(format, args...)})
}

// failErr answers an error: a requestError with its status, a too-large
// body with 413, anything else with 500.
func (s *Server) failErr(w http.ResponseWriter, err error) {
	var re *requestError
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, &re):
		s.fail(w, re.code, "%s", re.msg)
	case errors.As(err, &mb):
		s.fail(w, http.StatusRequestEntityTooLarge, "request body larger than %d bytes", mb.Limit)
	default:
		s.fail(w, http.StatusInternalServerError, "%v", err)
	}
}

func (s *Server) live(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, http.StatusOK, map[string]bool{"live": true})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	code := http.StatusOK
	if !s.ready.Load() {
		code = http.StatusServiceUnavailable
	}
	s.writeJSON(w, code, map[string]bool{"ready": s.ready.Load()})
}

func (s *Server) serverMeta(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, http.StatusOK, map[string]any{"name": "gopherlab-serving", "version": "1", "extensions": []string{}})
}

// checkModel answers 404 unless the request names the served model (and
// version, if it names one).
func (s *Server) checkModel(w http.ResponseWriter, r *http.Request) bool {
	if name := r.PathValue("name"); name != s.model.Name {
		s.fail(w, http.StatusNotFound, "model %q not found: this server serves %q", name, s.model.Name)
		return false
	}
	if v := r.PathValue("version"); v != "" && v != s.model.Version {
		s.fail(w, http.StatusNotFound, "model %q has no version %q: it is version %q", s.model.Name, v, s.model.Version)
		return false
	}
	return true
}

type tensorMeta struct {
	Name     string `json:"name"`
	Datatype string `json:"datatype"`
	Shape    []int  `json:"shape"`
}

func (s *Server) modelMeta(w http.ResponseWriter, r *http.Request) {
	if !s.checkModel(w, r) {
		return
	}
	m := s.model
	var inputs []tensorMeta
	for _, c := range m.schema {
		dt := "FP64"
		if c.Kind == experiments.Categorical {
			dt = "BYTES"
		}
		inputs = append(inputs, tensorMeta{c.Name, dt, []int{-1}})
	}
	outputs := []tensorMeta{{"predict", "FP64", []int{-1}}}
	if m.levels != nil {
		outputs = append(outputs, tensorMeta{"label", "BYTES", []int{-1}})
	}
	if m.proba {
		outputs = append(outputs, tensorMeta{"proba", "FP64", []int{-1, len(m.classes)}})
	}
	meta := map[string]any{
		"name": m.Name, "versions": []string{m.Version}, "platform": "gopherlab_go",
		"inputs": inputs, "outputs": outputs,
		"parameters": map[string]any{
			"sha256": m.Manifest.SHA256, "steps": m.Manifest.Steps,
			"classes": m.classNames(), "trained_with": m.Manifest.Params,
		},
	}
	s.writeJSON(w, http.StatusOK, meta)
}

func (s *Server) modelReady(w http.ResponseWriter, r *http.Request) {
	if !s.checkModel(w, r) {
		return
	}
	code := http.StatusOK
	if !s.ready.Load() {
		code = http.StatusServiceUnavailable
	}
	s.writeJSON(w, code, map[string]any{"name": s.model.Name, "ready": s.ready.Load()})
}

func (s *Server) metricsz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	var b bytes.Buffer
	s.metrics.write(&b, s.model, s.cache.len(), s.cfg.CacheSize)
	w.Write(b.Bytes())
}

// run predicts a batch, answering rows seen recently from the cache.
func (s *Server) run(b *batch) ([]Result, error) {
	s.metrics.predictions.Add(uint64(b.n))
	if s.cfg.CacheSize == 0 {
		s.metrics.misses.Add(uint64(b.n))
		res, err := s.model.predict(b)
		if err != nil {
			return nil, badRequest("%v", err)
		}
		return res, nil
	}
	out := make([]Result, b.n)
	keys := make([]string, b.n)
	var miss []int
	for r := 0; r < b.n; r++ {
		keys[r] = b.key(r)
		if res, ok := s.cache.get(keys[r]); ok {
			out[r] = res
			continue
		}
		miss = append(miss, r)
	}
	s.metrics.hits.Add(uint64(b.n - len(miss)))
	s.metrics.misses.Add(uint64(len(miss)))
	if len(miss) == 0 {
		return out, nil
	}
	todo := b
	if len(miss) < b.n {
		todo = b.rows(miss)
	}
	res, err := s.model.predict(todo)
	if err != nil {
		return nil, badRequest("%v", err)
	}
	for k, r := range miss {
		out[r] = res[k]
		s.cache.put(keys[r], res[k])
	}
	return out, nil
}

// decode reads a JSON request body into v.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return err
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return badRequest("field %q: got a JSON %s, want %s", te.Field, te.Value, jsonKind(te.Type.Kind().String()))
		}
		if err == io.EOF {
			return badRequest("empty body: send a JSON object")
		}
		return badRequest("body is not valid JSON: %v", err)
	}
	if dec.More() {
		return badRequest("body has data after the JSON object")
	}
	return nil
}

func jsonKind(k string) string {
	switch k {
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	case "string":
		return "a string"
	case "float64", "int", "int64":
		return "a number"
	}
	return k
}

// v2 request and response (KServe Open Inference Protocol, REST).
type inferInput struct {
	Name       string          `json:"name"`
	Shape      []int           `json:"shape"`
	Datatype   string          `json:"datatype"`
	Parameters json.RawMessage `json:"parameters,omitempty"`
	Data       json.RawMessage `json:"data"`
}

type inferRequest struct {
	ID         string          `json:"id,omitempty"`
	Parameters json.RawMessage `json:"parameters,omitempty"`
	Inputs     []inferInput    `json:"inputs"`
	Outputs    []struct {
		Name string `json:"name"`
	} `json:"outputs,omitempty"`
}

type inferOutput struct {
	Name     string `json:"name"`
	Shape    []int  `json:"shape"`
	Datatype string `json:"datatype"`
	Data     any    `json:"data"`
}

type inferResponse struct {
	ModelName    string        `json:"model_name"`
	ModelVersion string        `json:"model_version"`
	ID           string        `json:"id,omitempty"`
	Outputs      []inferOutput `json:"outputs"`
}

var numericTypes = map[string]bool{"FP64": true, "FP32": true, "FP16": true, "INT8": true, "INT16": true, "INT32": true, "INT64": true, "UINT8": true, "UINT16": true, "UINT32": true, "UINT64": true, "BOOL": true}

func (s *Server) infer(w http.ResponseWriter, r *http.Request) {
	if !s.checkModel(w, r) {
		return
	}
	var req inferRequest
	if err := decode(r, &req); err != nil {
		s.failErr(w, err)
		return
	}
	b, err := s.inferBatch(&req)
	if err != nil {
		s.failErr(w, err)
		return
	}
	want := map[string]bool{}
	for _, o := range req.Outputs {
		switch {
		case o.Name == "predict", o.Name == "label" && s.model.levels != nil, o.Name == "proba" && s.model.proba:
			want[o.Name] = true
		default:
			s.fail(w, http.StatusBadRequest, "outputs: unknown output %q (the model has %s)", o.Name, strings.Join(s.outputNames(), ", "))
			return
		}
	}
	res, err := s.run(b)
	if err != nil {
		s.failErr(w, err)
		return
	}
	resp := inferResponse{ModelName: s.model.Name, ModelVersion: s.model.Version, ID: req.ID}
	all := len(want) == 0
	if all || want["predict"] {
		vals := make([]float64, len(res))
		for i, x := range res {
			vals[i] = x.Value
		}
		resp.Outputs = append(resp.Outputs, inferOutput{"predict", []int{len(res)}, "FP64", vals})
	}
	if s.model.levels != nil && (all || want["label"]) {
		labels := make([]string, len(res))
		for i, x := range res {
			labels[i] = x.Label
		}
		resp.Outputs = append(resp.Outputs, inferOutput{"label", []int{len(res)}, "BYTES", labels})
	}
	if s.model.proba && (all || want["proba"]) {
		c := len(s.model.classes)
		flat := make([]float64, 0, len(res)*c)
		for _, x := range res {
			flat = append(flat, x.Proba...)
		}
		resp.Outputs = append(resp.Outputs, inferOutput{"proba", []int{len(res), c}, "FP64", flat})
	}
	s.writeJSON(w, http.StatusOK, resp)
}

func (s *Server) outputNames() []string {
	names := []string{"predict"}
	if s.model.levels != nil {
		names = append(names, "label")
	}
	if s.model.proba {
		names = append(names, "proba")
	}
	return names
}

func (s *Server) columnNames() string {
	names := make([]string, len(s.model.schema))
	for i, c := range s.model.schema {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

// inferBatch reads the inputs of a v2 request: either one input per model
// column (shape [N] or [N, 1]), or one numeric input of shape [N, F] whose
// columns are the model's, in order.
func (s *Server) inferBatch(req *inferRequest) (*batch, error) {
	m := s.model
	if len(req.Inputs) == 0 {
		return nil, badRequest("inputs: none given (the model takes %s)", s.columnNames())
	}
	if len(req.Inputs) == 1 {
		in := req.Inputs[0]
		if _, isCol := m.index[in.Name]; !isCol && len(in.Shape) == 2 {
			return s.matrixInput(&in)
		}
	}
	n := -1
	var b *batch
	seen := map[string]bool{}
	for k := range req.Inputs {
		in := &req.Inputs[k]
		col, ok := m.index[in.Name]
		if !ok {
			return nil, badRequest("inputs[%d]: unknown input %q (the model takes %s, or one [N, %d] input of them all)", k, in.Name, s.columnNames(), len(m.schema))
		}
		if seen[in.Name] {
			return nil, badRequest("inputs[%d]: input %q given twice", k, in.Name)
		}
		seen[in.Name] = true
		rows, err := checkShape(in, 1)
		if err != nil {
			return nil, err
		}
		if n < 0 {
			n = rows
			if n > s.cfg.MaxRows {
				return nil, badRequest("input %q: %d rows, more than the %d a request may have", in.Name, n, s.cfg.MaxRows)
			}
			b = m.newBatch(n)
		} else if rows != n {
			return nil, badRequest("input %q: shape %v has %d rows, input %q has %d", in.Name, in.Shape, rows, req.Inputs[0].Name, n)
		}
		if m.schema[col].Kind == experiments.Numeric {
			if !numericTypes[in.Datatype] {
				return nil, badRequest("input %q: datatype %q, but the column is numeric: use FP64 (or another numeric type)", in.Name, in.Datatype)
			}
			if err := readNumbers(in, b.nums[col]); err != nil {
				return nil, err
			}
		} else {
			if in.Datatype != "BYTES" {
				return nil, badRequest("input %q: datatype %q, but the column is categorical: use BYTES (strings)", in.Name, in.Datatype)
			}
			if err := readStrings(in, b.strs[col]); err != nil {
				return nil, err
			}
		}
	}
	for _, c := range m.schema {
		if !seen[c.Name] {
			return nil, badRequest("inputs: input %q is missing (the model takes %s)", c.Name, s.columnNames())
		}
	}
	return b, nil
}

// matrixInput reads one [N, F] numeric input.
func (s *Server) matrixInput(in *inferInput) (*batch, error) {
	m := s.model
	if in.Shape[1] != len(m.schema) {
		return nil, badRequest("input %q: shape %v has %d columns, the model takes %d (%s)", in.Name, in.Shape, in.Shape[1], len(m.schema), s.columnNames())
	}
	for _, c := range m.schema {
		if c.Kind != experiments.Numeric {
			return nil, badRequest("input %q: one [N, F] input needs numeric columns, but %q is categorical: send one input per column", in.Name, c.Name)
		}
	}
	if !numericTypes[in.Datatype] {
		return nil, badRequest("input %q: datatype %q: use FP64 (or another numeric type)", in.Name, in.Datatype)
	}
	rows, err := checkShape(in, 2)
	if err != nil {
		return nil, err
	}
	if rows > s.cfg.MaxRows {
		return nil, badRequest("input %q: %d rows, more than the %d a request may have", in.Name, rows, s.cfg.MaxRows)
	}
	flat := make([]float64, rows*len(m.schema))
	if err := readNumbers(in, flat); err != nil {
		return nil, err
	}
	b := m.newBatch(rows)
	for r := 0; r < rows; r++ {
		for c := range m.schema {
			b.nums[c][r] = flat[r*len(m.schema)+c]
		}
	}
	return b, nil
}

// checkShape checks an input's shape: [N] or [N, 1] for a column (dims 1),
// [N, F] for a matrix (dims 2). It returns N.
func checkShape(in *inferInput, dims int) (int, error) {
	for _, d := range in.Shape {
		if d < 0 {
			return 0, badRequest("input %q: shape %v has a negative dimension", in.Name, in.Shape)
		}
	}
	switch {
	case dims == 1 && (len(in.Shape) == 1 || (len(in.Shape) == 2 && in.Shape[1] == 1)):
	case dims == 2 && len(in.Shape) == 2:
	default:
		want := "[N] or [N, 1]"
		if dims == 2 {
			want = "[N, F]"
		}
		return 0, badRequest("input %q: shape %v, want %s", in.Name, in.Shape, want)
	}
	if in.Shape[0] == 0 {
		return 0, badRequest("input %q: shape %v has no rows", in.Name, in.Shape)
	}
	return in.Shape[0], nil
}

// flatten returns the elements of a (possibly nested) JSON array.
func flatten(raw json.RawMessage) ([]json.RawMessage, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, err
	}
	var out []json.RawMessage
	for _, it := range items {
		if t := bytes.TrimSpace(it); len(t) > 0 && t[0] == '[' {
			sub, err := flatten(t)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
			continue
		}
		out = append(out, it)
	}
	return out, nil
}

// readNumbers reads an input's data into dst, whose length the shape gave.
func readNumbers(in *inferInput, dst []float64) error {
	if len(in.Data) == 0 {
		return badRequest("input %q: no data", in.Name)
	}
	// Fast path: a flat array of numbers.
	var flat []float64
	if err := json.Unmarshal(in.Data, &flat); err == nil {
		if len(flat) != len(dst) {
			return badRequest("input %q: shape %v means %d values, data has %d", in.Name, in.Shape, len(dst), len(flat))
		}
		copy(dst, flat)
		return nil
	}
	items, err := flatten(in.Data)
	if err != nil {
		return badRequest("input %q: data is not an array", in.Name)
	}
	if len(items) != len(dst) {
		return badRequest("input %q: shape %v means %d values, data has %d", in.Name, in.Shape, len(dst), len(items))
	}
	for i, it := range items {
		t := bytes.TrimSpace(it)
		switch {
		case string(t) == "null":
			dst[i] = math.NaN() // a missing value
		case string(t) == "true" && in.Datatype == "BOOL":
			dst[i] = 1
		case string(t) == "false" && in.Datatype == "BOOL":
			dst[i] = 0
		default:
			v, err := strconv.ParseFloat(string(t), 64)
			if err != nil {
				return badRequest("input %q: data[%d] is %s, not a number", in.Name, i, truncate(string(t)))
			}
			dst[i] = v
		}
	}
	return nil
}

// readStrings reads a BYTES input's data into dst.
func readStrings(in *inferInput, dst []string) error {
	items, err := flatten(in.Data)
	if err != nil {
		return badRequest("input %q: data is not an array", in.Name)
	}
	if len(items) != len(dst) {
		return badRequest("input %q: shape %v means %d values, data has %d", in.Name, in.Shape, len(dst), len(items))
	}
	for i, it := range items {
		if string(bytes.TrimSpace(it)) == "null" {
			dst[i] = "" // a missing value
			continue
		}
		if err := json.Unmarshal(it, &dst[i]); err != nil {
			return badRequest("input %q: data[%d] is %s, not a string", in.Name, i, truncate(string(it)))
		}
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// /predict: {"instances": [{"feature": value, ...}, ...]} or one
// {"feature": value, ...} object.
type prediction struct {
	Value float64            `json:"value"`
	Label string             `json:"label,omitempty"`
	Proba map[string]float64 `json:"proba,omitempty"`
}

func (s *Server) predict(w http.ResponseWriter, r *http.Request) {
	var body map[string]json.RawMessage
	if err := decode(r, &body); err != nil {
		s.failErr(w, err)
		return
	}
	var instances []map[string]json.RawMessage
	if raw, ok := body["instances"]; ok {
		if len(body) != 1 {
			s.fail(w, http.StatusBadRequest, "a body with \"instances\" has no other fields")
			return
		}
		if err := json.Unmarshal(raw, &instances); err != nil {
			s.fail(w, http.StatusBadRequest, "instances: want an array of objects mapping feature names to values")
			return
		}
	} else {
		instances = []map[string]json.RawMessage{body}
	}
	if len(instances) == 0 {
		s.fail(w, http.StatusBadRequest, "instances: empty")
		return
	}
	if len(instances) > s.cfg.MaxRows {
		s.fail(w, http.StatusBadRequest, "instances: %d rows, more than the %d a request may have", len(instances), s.cfg.MaxRows)
		return
	}
	m := s.model
	b := m.newBatch(len(instances))
	for i, inst := range instances {
		for name, raw := range inst {
			col, ok := m.index[name]
			if !ok {
				s.fail(w, http.StatusBadRequest, "instance %d: unknown feature %q (the model takes %s)", i, name, s.columnNames())
				return
			}
			t := bytes.TrimSpace(raw)
			null := string(t) == "null"
			if m.schema[col].Kind == experiments.Numeric {
				if null {
					b.nums[col][i] = math.NaN()
					continue
				}
				if err := json.Unmarshal(t, &b.nums[col][i]); err != nil {
					s.fail(w, http.StatusBadRequest, "instance %d: feature %q is numeric, got %s", i, name, truncate(string(t)))
					return
				}
			} else {
				if null {
					continue
				}
				if err := json.Unmarshal(t, &b.strs[col][i]); err != nil {
					s.fail(w, http.StatusBadRequest, "instance %d: feature %q is categorical (a string), got %s", i, name, truncate(string(t)))
					return
				}
			}
		}
		for _, c := range m.schema {
			if _, ok := inst[c.Name]; !ok {
				s.fail(w, http.StatusBadRequest, "instance %d: feature %q is missing (send null for a missing value)", i, c.Name)
				return
			}
		}
	}
	res, err := s.run(b)
	if err != nil {
		s.failErr(w, err)
		return
	}
	names := m.classNames()
	out := make([]prediction, len(res))
	for i, x := range res {
		out[i] = prediction{Value: x.Value, Label: x.Label}
		if x.Proba != nil {
			out[i].Proba = make(map[string]float64, len(names))
			for k, p := range x.Proba {
				out[i].Proba[names[k]] = p
			}
		}
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"model_name": m.Name, "model_version": m.Version, "predictions": out})
}
