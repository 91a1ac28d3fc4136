package serving

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	calls   sync.Pool // *call

	// The prediction endpoints are dispatched before the mux; inferPath is
	// "" when the model's name would need escaping in a path.
	inferPath string
	// Response parts that never change, encoded once.
	predictHead []byte     // {"model_name":...,"model_version":...,"predictions":[
	inferHead   []byte     // {"model_name":...,"model_version":...
	labelJSON   [][]byte   // each target level, quoted
	probaKeys   []probaKey // /predict's proba object: class names sorted, as encoding/json sorts map keys
}

type probaKey struct {
	key   []byte // "name":
	class int    // index in the probabilities
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
	s.calls.New = func() any { return &call{} }
	s.ready.Store(true)
	s.route("GET /v2/health/live", epLive, s.live)
	s.route("GET /v2/health/ready", epReady, s.readyz)
	s.route("GET /v2", epServer, s.serverMeta)
	s.route("GET /v2/models/{name}", epModel, s.modelMeta)
	s.route("GET /v2/models/{name}/versions/{version}", epModel, s.modelMeta)
	s.route("GET /v2/models/{name}/ready", epModelReady, s.modelReady)
	s.route("GET /v2/models/{name}/versions/{version}/ready", epModelReady, s.modelReady)
	s.route("POST /v2/models/{name}/infer", epInfer, s.inferRoute)
	s.route("POST /v2/models/{name}/versions/{version}/infer", epInfer, s.inferRoute)
	s.route("POST /predict", epPredict, s.predict)
	s.route("GET /metrics", epMetrics, s.metricsz)
	s.route("/", epOther, func(w *call, r *http.Request) {
		s.fail(w, http.StatusNotFound, "no endpoint %s %s (see GET /v2/models/%s for the model, POST /v2/models/%s/infer or /predict to predict)", r.Method, r.URL.Path, m.Name, m.Name)
	})
	if m.Name != "" && m.Name != "." && m.Name != ".." && url.PathEscape(m.Name) == m.Name {
		s.inferPath = "/v2/models/" + m.Name + "/infer"
	}
	s.predictHead = fmt.Appendf(nil, `{"model_name":%s,"model_version":%s,"predictions":[`, quoteJSON(m.Name), quoteJSON(m.Version))
	s.inferHead = fmt.Appendf(nil, `{"model_name":%s,"model_version":%s`, quoteJSON(m.Name), quoteJSON(m.Version))
	for _, l := range m.levels {
		s.labelJSON = append(s.labelJSON, quoteJSON(l))
	}
	// encoding/json writes a map's keys sorted, and a name given twice
	// holds its last class.
	last := map[string]int{}
	for k, name := range m.classNames() {
		last[name] = k
	}
	for _, name := range slices.Sorted(maps.Keys(last)) {
		s.probaKeys = append(s.probaKeys, probaKey{append(quoteJSON(name), ':'), last[name]})
	}
	return s
}

// SetReady sets what the readiness endpoints answer; a shutting down
// server is not ready, so load balancers stop sending it requests.
func (s *Server) SetReady(ready bool) { s.ready.Store(ready) }

// ServeHTTP serves a request. The two prediction endpoints skip the mux's
// pattern matching.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		switch p := r.URL.Path; {
		case p == "/predict":
			s.serve(epPredict, s.predict, w, r)
			return
		case p == s.inferPath && s.inferPath != "":
			s.serve(epInfer, s.inferLatest, w, r)
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

// call is the state of one request, reused from request to request
// through Server.calls: the body, the response, the batch and its
// results. It is the handlers' ResponseWriter, remembering the status
// code for the metrics.
type call struct {
	w    http.ResponseWriter
	code int

	body, out, key []byte
	b, sub         batch
	res, subRes    results
	req            inferRequest
	miss           []int
	seen           []bool
}

func (c *call) Header() http.Header { return c.w.Header() }

func (c *call) WriteHeader(code int) {
	if c.code == 0 {
		c.code = code
	}
	c.w.WriteHeader(code)
}

func (c *call) Write(b []byte) (int, error) {
	if c.code == 0 {
		c.code = http.StatusOK
	}
	return c.w.Write(b)
}

// maxKept is the largest buffer a call keeps for the next request; a
// rare large request does not pin its memory.
const maxKept = 256 << 10

func (c *call) release() {
	c.w = nil
	if cap(c.body) > maxKept {
		c.body = nil
	}
	if cap(c.out) > maxKept {
		c.out = nil
	}
	if cap(c.b.nums) > maxKept/8 || cap(c.b.strs) > maxKept/16 {
		c.b = batch{}
	}
	if cap(c.res.proba) > maxKept/8 {
		c.res = results{}
	}
	c.sub, c.subRes = batch{}, results{}
	c.req.ID = ""
	c.req.Parameters = nil
	for i := range c.req.Inputs {
		c.req.Inputs[i] = inferInput{Shape: c.req.Inputs[i].Shape[:0]}
	}
	if cap(c.req.Inputs) > 64 {
		c.req.Inputs = nil
	}
}

func (s *Server) route(pattern string, endpoint int, h func(*call, *http.Request)) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { s.serve(endpoint, h, w, r) })
}

// serve runs a handler, counting the request in the metrics.
func (s *Server) serve(endpoint int, h func(*call, *http.Request), w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	s.metrics.inflight.Add(1)
	c := s.calls.Get().(*call)
	c.w, c.code = w, 0
	defer func() {
		s.metrics.inflight.Add(-1)
		code := c.code
		if code == 0 {
			code = http.StatusOK
		}
		s.metrics.record(endpoint, code, time.Since(start))
		c.release()
		s.calls.Put(c)
	}()
	h(c, r)
}

// readBody reads the request body into c.body, at most MaxBody bytes.
func (s *Server) readBody(c *call, r *http.Request) error {
	limit := s.cfg.MaxBody
	if r.ContentLength > limit {
		return &http.MaxBytesError{Limit: limit}
	}
	buf := c.body[:0]
	if r.ContentLength >= 0 && int64(cap(buf)) <= r.ContentLength {
		buf = make([]byte, 0, r.ContentLength+1) // +1: room to see the end
	}
	if cap(buf) == 0 {
		buf = make([]byte, 0, 4096)
	}
	if r.Body != nil {
		for {
			if len(buf) == cap(buf) {
				buf = slices.Grow(buf, len(buf))
			}
			n, err := r.Body.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if int64(len(buf)) > limit {
				c.body = buf[:0]
				return &http.MaxBytesError{Limit: limit}
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				c.body = buf[:0]
				return badRequest("reading the body: %v", err)
			}
		}
	}
	c.body = buf
	return nil
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
		// The rest of the body stays unread: the connection cannot
		// carry another request.
		w.Header().Set("Connection", "close")
		s.fail(w, http.StatusRequestEntityTooLarge, "request body larger than %d bytes", mb.Limit)
	default:
		s.fail(w, http.StatusInternalServerError, "%v", err)
	}
}

func (s *Server) live(w *call, r *http.Request) {
	s.writeJSON(w, http.StatusOK, map[string]bool{"live": true})
}

func (s *Server) readyz(w *call, r *http.Request) {
	code := http.StatusOK
	if !s.ready.Load() {
		code = http.StatusServiceUnavailable
	}
	s.writeJSON(w, code, map[string]bool{"ready": s.ready.Load()})
}

func (s *Server) serverMeta(w *call, r *http.Request) {
	s.writeJSON(w, http.StatusOK, map[string]any{"name": "gopherlab-serving", "version": "1", "extensions": []string{}})
}

// checkModel answers 404 unless the request names the served model (and
// version, if it names one).
func (s *Server) checkModel(w http.ResponseWriter, name, version string) bool {
	if name != s.model.Name {
		s.fail(w, http.StatusNotFound, "model %q not found: this server serves %q", name, s.model.Name)
		return false
	}
	if version != "" && version != s.model.Version {
		s.fail(w, http.StatusNotFound, "model %q has no version %q: it is version %q", s.model.Name, version, s.model.Version)
		return false
	}
	return true
}

type tensorMeta struct {
	Name     string `json:"name"`
	Datatype string `json:"datatype"`
	Shape    []int  `json:"shape"`
}

func (s *Server) modelMeta(w *call, r *http.Request) {
	if !s.checkModel(w, r.PathValue("name"), r.PathValue("version")) {
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

func (s *Server) modelReady(w *call, r *http.Request) {
	if !s.checkModel(w, r.PathValue("name"), r.PathValue("version")) {
		return
	}
	code := http.StatusOK
	if !s.ready.Load() {
		code = http.StatusServiceUnavailable
	}
	s.writeJSON(w, code, map[string]any{"name": s.model.Name, "ready": s.ready.Load()})
}

func (s *Server) metricsz(w *call, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	var b bytes.Buffer
	s.metrics.write(&b, s.model, s.cache.len(), s.cfg.CacheSize)
	w.Write(b.Bytes())
}

// run predicts a batch into c.res, answering rows seen recently from the
// cache.
func (s *Server) run(c *call, b *batch) (*results, error) {
	m := s.model
	s.metrics.predictions.Add(uint64(b.n))
	if s.cfg.CacheSize == 0 {
		s.metrics.misses.Add(uint64(b.n))
		if err := m.predict(b, &c.res); err != nil {
			return nil, badRequest("%v", err)
		}
		return &c.res, nil
	}
	res := &c.res
	res.reset(m, b.n)
	k := len(m.classes)
	miss := c.miss[:0]
	for r := 0; r < b.n; r++ {
		c.key = b.key(c.key[:0], m, r)
		if hit, ok := s.cache.get(c.key); ok {
			res.values[r] = hit.Value
			copy(res.proba[r*k:(r+1)*k], hit.Proba)
			continue
		}
		miss = append(miss, r)
	}
	c.miss = miss
	s.metrics.hits.Add(uint64(b.n - len(miss)))
	s.metrics.misses.Add(uint64(len(miss)))
	if len(miss) == 0 {
		return res, nil
	}
	todo := b
	if len(miss) < b.n {
		b.rows(m, miss, &c.sub)
		todo = &c.sub
	}
	if err := m.predict(todo, &c.subRes); err != nil {
		return nil, badRequest("%v", err)
	}
	for i, r := range miss {
		v := c.subRes.values[i]
		res.values[r] = v
		copy(res.proba[r*k:(r+1)*k], c.subRes.proba[i*k:(i+1)*k])
		hit := Result{Value: v}
		if l, ok := m.label(v); ok {
			hit.Label = m.levels[l]
		}
		if k > 0 {
			hit.Proba = slices.Clone(c.subRes.proba[i*k : (i+1)*k])
		}
		s.cache.put(string(b.key(c.key[:0], m, r)), hit)
	}
	return res, nil
}

// decode decodes a JSON request body into v with encoding/json: the path
// of the bodies the fast readers leave, so every error is worded as
// before.
func decode(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
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

// quoteJSON returns s as a JSON string, as the responses' encoder writes
// it (no HTML escaping).
func quoteJSON(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// appendQuoted appends s as a JSON string.
func appendQuoted(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			return append(b, quoteJSON(s)...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
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

// parseInfer reads a v2 request of the plain shape into req, reusing its
// memory; false sends the body to encoding/json.
func parseInfer(body []byte, req *inferRequest) bool {
	req.ID, req.Parameters = "", nil
	req.Inputs, req.Outputs = req.Inputs[:0], req.Outputs[:0]
	sc := scanner{b: body}
	if !sc.eat('{') || sc.eat('}') {
		return false
	}
	var seen [4]bool
	for {
		k, ok := sc.str()
		if !ok || !sc.eat(':') {
			return false
		}
		f := slices.Index([]string{"id", "parameters", "inputs", "outputs"}, string(k))
		if f < 0 || seen[f] {
			return false
		}
		seen[f] = true
		switch f {
		case 0:
			v, ok := sc.str()
			if !ok {
				return false
			}
			req.ID = string(v)
		case 1:
			v, ok := sc.skip(0)
			if !ok {
				return false
			}
			req.Parameters = v
		case 2:
			if !sc.eat('[') {
				return false
			}
			if !sc.eat(']') {
				for {
					if len(req.Inputs) < cap(req.Inputs) {
						req.Inputs = req.Inputs[:len(req.Inputs)+1]
					} else {
						req.Inputs = append(req.Inputs, inferInput{})
					}
					if !parseInput(&sc, &req.Inputs[len(req.Inputs)-1]) {
						return false
					}
					if sc.eat(']') {
						break
					}
					if !sc.eat(',') {
						return false
					}
				}
			}
		case 3:
			if !sc.eat('[') {
				return false
			}
			if !sc.eat(']') {
				for {
					if !sc.eat('{') {
						return false
					}
					k, ok := sc.str()
					if !ok || string(k) != "name" || !sc.eat(':') {
						return false
					}
					v, ok := sc.str()
					if !ok || !sc.eat('}') {
						return false
					}
					req.Outputs = append(req.Outputs, struct {
						Name string `json:"name"`
					}{string(v)})
					if sc.eat(']') {
						break
					}
					if !sc.eat(',') {
						return false
					}
				}
			}
		}
		if sc.eat('}') {
			break
		}
		if !sc.eat(',') {
			return false
		}
	}
	return sc.end()
}

// parseInput reads one input tensor into in, keeping its Shape's memory.
func parseInput(sc *scanner, in *inferInput) bool {
	*in = inferInput{Shape: in.Shape[:0]}
	if !sc.eat('{') || sc.eat('}') {
		return false
	}
	var seen [5]bool
	for {
		k, ok := sc.str()
		if !ok || !sc.eat(':') {
			return false
		}
		f := slices.Index([]string{"name", "shape", "datatype", "parameters", "data"}, string(k))
		if f < 0 || seen[f] {
			return false
		}
		seen[f] = true
		switch f {
		case 0, 2:
			v, ok := sc.str()
			if !ok {
				return false
			}
			if f == 0 {
				in.Name = string(v)
			} else {
				in.Datatype = datatypeString(v)
			}
		case 1:
			if !sc.eat('[') {
				return false
			}
			if !sc.eat(']') {
				for {
					d, ok := sc.integer()
					if !ok {
						return false
					}
					in.Shape = append(in.Shape, d)
					if sc.eat(']') {
						break
					}
					if !sc.eat(',') {
						return false
					}
				}
			}
		case 3, 4:
			v, ok := sc.skip(0)
			if !ok {
				return false
			}
			if f == 3 {
				in.Parameters = v
			} else {
				in.Data = v
			}
		}
		if sc.eat('}') {
			return true
		}
		if !sc.eat(',') {
			return false
		}
	}
}

// datatypes are the v2 datatype names, so reading one allocates nothing.
var datatypes = []string{"FP64", "FP32", "FP16", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64", "BOOL", "BYTES"}

func datatypeString(b []byte) string {
	for _, d := range datatypes {
		if d == string(b) {
			return d
		}
	}
	return string(b)
}

var numericTypes = map[string]bool{"FP64": true, "FP32": true, "FP16": true, "INT8": true, "INT16": true, "INT32": true, "INT64": true, "UINT8": true, "UINT16": true, "UINT32": true, "UINT64": true, "BOOL": true}

// inferRoute serves the infer endpoints the mux matched.
func (s *Server) inferRoute(c *call, r *http.Request) {
	s.infer(c, r, r.PathValue("name"), r.PathValue("version"))
}

// inferLatest serves POST /v2/models/NAME/infer, dispatched before the mux.
func (s *Server) inferLatest(c *call, r *http.Request) { s.infer(c, r, s.model.Name, "") }

func (s *Server) infer(c *call, r *http.Request, name, version string) {
	if !s.checkModel(c, name, version) {
		return
	}
	if err := s.readBody(c, r); err != nil {
		s.failErr(c, err)
		return
	}
	req := &c.req
	if !parseInfer(c.body, req) {
		*req = inferRequest{}
		if err := decode(c.body, req); err != nil {
			s.failErr(c, err)
			return
		}
	}
	b, err := s.inferBatch(c, req)
	if err != nil {
		s.failErr(c, err)
		return
	}
	m := s.model
	var wantPredict, wantLabel, wantProba bool
	for _, o := range req.Outputs {
		switch {
		case o.Name == "predict":
			wantPredict = true
		case o.Name == "label" && m.levels != nil:
			wantLabel = true
		case o.Name == "proba" && m.proba:
			wantProba = true
		default:
			s.fail(c, http.StatusBadRequest, "outputs: unknown output %q (the model has %s)", o.Name, strings.Join(s.outputNames(), ", "))
			return
		}
	}
	res, err := s.run(c, b)
	if err != nil {
		s.failErr(c, err)
		return
	}
	all := len(req.Outputs) == 0
	n, k := res.n, len(m.classes)
	out := append(c.out[:0], s.inferHead...)
	if req.ID != "" {
		out = append(out, `,"id":`...)
		out = appendQuoted(out, req.ID)
	}
	out = append(out, `,"outputs":[`...)
	sep := ""
	ok := true
	if all || wantPredict {
		out = fmt.Appendf(out, `{"name":"predict","shape":[%d],"datatype":"FP64","data":`, n)
		out, ok = appendFloats(out, res.values[:n])
		out = append(out, '}')
		sep = ","
	}
	if m.levels != nil && (all || wantLabel) {
		out = fmt.Appendf(out, `%s{"name":"label","shape":[%d],"datatype":"BYTES","data":[`, sep, n)
		for i, v := range res.values[:n] {
			if i > 0 {
				out = append(out, ',')
			}
			if l, ok := m.label(v); ok {
				out = append(out, s.labelJSON[l]...)
			} else {
				out = append(out, `""`...)
			}
		}
		out = append(out, "]}"...)
		sep = ","
	}
	if m.proba && (all || wantProba) && ok {
		out = fmt.Appendf(out, `%s{"name":"proba","shape":[%d,%d],"datatype":"FP64","data":`, sep, n, k)
		out, ok = appendFloats(out, res.proba[:n*k])
		out = append(out, '}')
	}
	out = append(out, "]}\n"...)
	c.out = out
	if !ok {
		// A NaN or infinite prediction has no JSON form.
		s.writeJSON(c, http.StatusOK, res.nonFinite())
		return
	}
	s.writeBody(c, out)
}

// writeBody answers 200 with a JSON body.
func (s *Server) writeBody(w *call, body []byte) {
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

var jsonContentType = []string{"application/json"}

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

// inferBatch reads the inputs of a v2 request into c.b: either one input
// per model column (shape [N] or [N, 1]), or one numeric input of shape
// [N, F] whose columns are the model's, in order.
func (s *Server) inferBatch(c *call, req *inferRequest) (*batch, error) {
	m := s.model
	if len(req.Inputs) == 0 {
		return nil, badRequest("inputs: none given (the model takes %s)", s.columnNames())
	}
	if len(req.Inputs) == 1 {
		in := &req.Inputs[0]
		if _, isCol := m.index[in.Name]; !isCol && len(in.Shape) == 2 {
			return s.matrixInput(c, in)
		}
	}
	n := -1
	b := &c.b
	seen := c.seenColumns(len(m.schema))
	for k := range req.Inputs {
		in := &req.Inputs[k]
		col, ok := m.index[in.Name]
		if !ok {
			return nil, badRequest("inputs[%d]: unknown input %q (the model takes %s, or one [N, %d] input of them all)", k, in.Name, s.columnNames(), len(m.schema))
		}
		if seen[col] {
			return nil, badRequest("inputs[%d]: input %q given twice", k, in.Name)
		}
		seen[col] = true
		rows, err := checkShape(in, 1)
		if err != nil {
			return nil, err
		}
		if n < 0 {
			n = rows
			if n > s.cfg.MaxRows {
				return nil, badRequest("input %q: %d rows, more than the %d a request may have", in.Name, n, s.cfg.MaxRows)
			}
			b.reset(m, n)
		} else if rows != n {
			return nil, badRequest("input %q: shape %v has %d rows, input %q has %d", in.Name, in.Shape, rows, req.Inputs[0].Name, n)
		}
		dst := strided{off: col, stride: b.f, n: n}
		if m.schema[col].Kind == experiments.Numeric {
			if !numericTypes[in.Datatype] {
				return nil, badRequest("input %q: datatype %q, but the column is numeric: use FP64 (or another numeric type)", in.Name, in.Datatype)
			}
			if err := readNumbers(in, b.nums, dst); err != nil {
				return nil, err
			}
		} else {
			if in.Datatype != "BYTES" {
				return nil, badRequest("input %q: datatype %q, but the column is categorical: use BYTES (strings)", in.Name, in.Datatype)
			}
			if err := readStrings(in, b.strs, dst); err != nil {
				return nil, err
			}
		}
	}
	for i, sc := range m.schema {
		if !seen[i] {
			return nil, badRequest("inputs: input %q is missing (the model takes %s)", sc.Name, s.columnNames())
		}
	}
	return b, nil
}

// seenColumns returns c.seen as n falses.
func (c *call) seenColumns(n int) []bool {
	if cap(c.seen) < n {
		c.seen = make([]bool, n)
	}
	c.seen = c.seen[:n]
	clear(c.seen)
	return c.seen
}

// matrixInput reads one [N, F] numeric input.
func (s *Server) matrixInput(c *call, in *inferInput) (*batch, error) {
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
	// The batch is row-major: the [N, F] data is its layout.
	c.b.reset(m, rows)
	if err := readNumbers(in, c.b.nums, strided{stride: 1, n: rows * len(m.schema)}); err != nil {
		return nil, err
	}
	return &c.b, nil
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

// strided places an input's n values in a batch: value i goes to
// off + i*stride.
type strided struct{ off, stride, n int }

func (d strided) at(i int) int { return d.off + i*d.stride }

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

// scanNumbers reads a (possibly nested) array of numbers (null: a missing
// value; true and false for BOOL) into dst; false when it is anything
// else or has more values than dst takes.
func (sc *scanner) numbers(dst []float64, d strided, k *int, isBool bool, depth int) bool {
	if depth > 32 || !sc.eat('[') {
		return false
	}
	if sc.eat(']') {
		return true
	}
	for {
		var v float64
		switch sc.peek() {
		case '[':
			if !sc.numbers(dst, d, k, isBool, depth+1) {
				return false
			}
			goto next
		case 'n':
			if !sc.lit("null") {
				return false
			}
			v = math.NaN()
		case 't', 'f':
			switch {
			case isBool && sc.lit("true"):
				v = 1
			case isBool && sc.lit("false"):
				v = 0
			default:
				return false
			}
		default:
			var ok bool
			if v, ok = sc.number(); !ok {
				return false
			}
		}
		if *k >= d.n {
			return false
		}
		dst[d.at(*k)] = v
		*k++
	next:
		if sc.eat(']') {
			return true
		}
		if !sc.eat(',') {
			return false
		}
	}
}

// readNumbers reads an input's data into dst at d, whose length the shape
// gave.
func readNumbers(in *inferInput, dst []float64, d strided) error {
	if len(in.Data) == 0 {
		return badRequest("input %q: no data", in.Name)
	}
	sc := scanner{b: in.Data}
	if k := 0; sc.numbers(dst, d, &k, in.Datatype == "BOOL", 0) && sc.end() && k == d.n {
		return nil
	}
	// The slow path, for its errors: a flat array of numbers...
	var flat []float64
	if err := json.Unmarshal(in.Data, &flat); err == nil {
		if len(flat) != d.n {
			return badRequest("input %q: shape %v means %d values, data has %d", in.Name, in.Shape, d.n, len(flat))
		}
		for i, v := range flat {
			dst[d.at(i)] = v
		}
		return nil
	}
	// ... or nested arrays, nulls and booleans.
	items, err := flatten(in.Data)
	if err != nil {
		return badRequest("input %q: data is not an array", in.Name)
	}
	if len(items) != d.n {
		return badRequest("input %q: shape %v means %d values, data has %d", in.Name, in.Shape, d.n, len(items))
	}
	for i, it := range items {
		t := bytes.TrimSpace(it)
		switch {
		case string(t) == "null":
			dst[d.at(i)] = math.NaN() // a missing value
		case string(t) == "true" && in.Datatype == "BOOL":
			dst[d.at(i)] = 1
		case string(t) == "false" && in.Datatype == "BOOL":
			dst[d.at(i)] = 0
		default:
			v, err := strconv.ParseFloat(string(t), 64)
			if err != nil {
				return badRequest("input %q: data[%d] is %s, not a number", in.Name, i, truncate(string(t)))
			}
			dst[d.at(i)] = v
		}
	}
	return nil
}

// strs reads a (possibly nested) array of strings (null: a missing value)
// into dst, as numbers does.
func (sc *scanner) strs(dst []string, d strided, k *int, depth int) bool {
	if depth > 32 || !sc.eat('[') {
		return false
	}
	if sc.eat(']') {
		return true
	}
	for {
		switch sc.peek() {
		case '[':
			if !sc.strs(dst, d, k, depth+1) {
				return false
			}
		default:
			v := ""
			if !sc.lit("null") {
				b, ok := sc.str()
				if !ok {
					return false
				}
				v = string(b)
			}
			if *k >= d.n {
				return false
			}
			dst[d.at(*k)] = v
			*k++
		}
		if sc.eat(']') {
			return true
		}
		if !sc.eat(',') {
			return false
		}
	}
}

// readStrings reads a BYTES input's data into dst at d.
func readStrings(in *inferInput, dst []string, d strided) error {
	sc := scanner{b: in.Data}
	if k := 0; sc.strs(dst, d, &k, 0) && sc.end() && k == d.n {
		return nil
	}
	items, err := flatten(in.Data)
	if err != nil {
		return badRequest("input %q: data is not an array", in.Name)
	}
	if len(items) != d.n {
		return badRequest("input %q: shape %v means %d values, data has %d", in.Name, in.Shape, d.n, len(items))
	}
	for i, it := range items {
		if string(bytes.TrimSpace(it)) == "null" {
			dst[d.at(i)] = "" // a missing value
			continue
		}
		if err := json.Unmarshal(it, &dst[d.at(i)]); err != nil {
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

func (s *Server) predict(c *call, r *http.Request) {
	if err := s.readBody(c, r); err != nil {
		s.failErr(c, err)
		return
	}
	if !s.parsePredict(c) {
		if err := s.parsePredictSlow(c); err != nil {
			s.failErr(c, err)
			return
		}
	}
	res, err := s.run(c, &c.b)
	if err != nil {
		s.failErr(c, err)
		return
	}
	m := s.model
	k := len(m.classes)
	out := append(c.out[:0], s.predictHead...)
	ok := true
	for i := 0; i < res.n && ok; i++ {
		if i > 0 {
			out = append(out, ',')
		}
		v := res.values[i]
		out = append(out, `{"value":`...)
		out, ok = appendFloat(out, v)
		if l, isLevel := m.label(v); isLevel && m.levels[l] != "" {
			out = append(out, `,"label":`...)
			out = append(out, s.labelJSON[l]...)
		}
		if m.proba && len(s.probaKeys) > 0 {
			out = append(out, `,"proba":{`...)
			for j, pk := range s.probaKeys {
				if j > 0 {
					out = append(out, ',')
				}
				out = append(out, pk.key...)
				if out, ok = appendFloat(out, res.proba[i*k+pk.class]); !ok {
					break
				}
			}
			out = append(out, '}')
		}
		out = append(out, '}')
	}
	out = append(out, "]}\n"...)
	c.out = out
	if !ok {
		// A NaN or infinite prediction has no JSON form.
		s.writeJSON(c, http.StatusOK, res.nonFinite())
		return
	}
	s.writeBody(c, out)
}

// parsePredict reads a /predict body of the plain shape into c.b; false
// sends it to parsePredictSlow.
func (s *Server) parsePredict(c *call) bool {
	m := s.model
	c.b.reset(m, 0)
	sc := scanner{b: c.body}
	if sc.peek() != '{' {
		return false
	}
	obj := sc.i
	sc.i++
	if k, ok := sc.str(); !ok || string(k) != "instances" {
		// One instance.
		sc.i = obj
		return s.parseInstance(&sc, c) && sc.end()
	}
	if !sc.eat(':') || !sc.eat('[') || sc.eat(']') {
		return false
	}
	for {
		if c.b.n >= s.cfg.MaxRows || !s.parseInstance(&sc, c) {
			return false
		}
		if sc.eat(']') {
			break
		}
		if !sc.eat(',') {
			return false
		}
	}
	return sc.eat('}') && sc.end()
}

// parseInstance reads one {"feature": value, ...} object, every feature
// given once, into a new row of c.b.
func (s *Server) parseInstance(sc *scanner, c *call) bool {
	m := s.model
	if !sc.eat('{') || sc.eat('}') {
		return false
	}
	r := c.b.addRow()
	f := c.b.f
	seen := c.seenColumns(f)
	given := 0
	for {
		k, ok := sc.str()
		if !ok || !sc.eat(':') {
			return false
		}
		col, ok := m.index[string(k)]
		if !ok || seen[col] {
			return false
		}
		seen[col] = true
		given++
		sc.ws()
		numeric := m.schema[col].Kind == experiments.Numeric
		switch {
		case sc.lit("null"):
			if numeric {
				c.b.nums[r*f+col] = math.NaN() // a missing value
			}
		case numeric:
			v, ok := sc.number()
			if !ok {
				return false
			}
			c.b.nums[r*f+col] = v
		default:
			v, ok := sc.str()
			if !ok {
				return false
			}
			c.b.strs[r*f+col] = string(v)
		}
		if sc.eat('}') {
			return given == f
		}
		if !sc.eat(',') {
			return false
		}
	}
}

// parsePredictSlow decodes a /predict body with encoding/json, wording
// each error.
func (s *Server) parsePredictSlow(c *call) error {
	var body map[string]json.RawMessage
	if err := decode(c.body, &body); err != nil {
		return err
	}
	var instances []map[string]json.RawMessage
	if raw, ok := body["instances"]; ok {
		if len(body) != 1 {
			return badRequest("a body with \"instances\" has no other fields")
		}
		if err := json.Unmarshal(raw, &instances); err != nil {
			return badRequest("instances: want an array of objects mapping feature names to values")
		}
	} else {
		instances = []map[string]json.RawMessage{body}
	}
	if len(instances) == 0 {
		return badRequest("instances: empty")
	}
	if len(instances) > s.cfg.MaxRows {
		return badRequest("instances: %d rows, more than the %d a request may have", len(instances), s.cfg.MaxRows)
	}
	m := s.model
	b := &c.b
	b.reset(m, len(instances))
	f := b.f
	for i, inst := range instances {
		for name, raw := range inst {
			col, ok := m.index[name]
			if !ok {
				return badRequest("instance %d: unknown feature %q (the model takes %s)", i, name, s.columnNames())
			}
			t := bytes.TrimSpace(raw)
			null := string(t) == "null"
			if m.schema[col].Kind == experiments.Numeric {
				if null {
					b.nums[i*f+col] = math.NaN()
					continue
				}
				if err := json.Unmarshal(t, &b.nums[i*f+col]); err != nil {
					return badRequest("instance %d: feature %q is numeric, got %s", i, name, truncate(string(t)))
				}
			} else {
				if null {
					b.strs[i*f+col] = ""
					continue
				}
				if err := json.Unmarshal(t, &b.strs[i*f+col]); err != nil {
					return badRequest("instance %d: feature %q is categorical (a string), got %s", i, name, truncate(string(t)))
				}
			}
		}
		for _, sc := range m.schema {
			if _, ok := inst[sc.Name]; !ok {
				return badRequest("instance %d: feature %q is missing (send null for a missing value)", i, sc.Name)
			}
		}
	}
	return nil
}
