package serving

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopherlab/gopherlab/experiments"
)

// Config configures a Server. The zero value works: batches of up to
// 10000 rows, bodies large enough for them, a cache of 10000 results.
type Config struct {
	// MaxBody is the largest request body accepted, in bytes (0:
	// defaultMaxBody, room for MaxRows rows).
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
	// allow maps the paths the routes serve, whatever the method, to
	// their methods (an allowHandler), for 405's Allow header.
	allow   *http.ServeMux
	methods map[string][]string // path pattern -> methods, while routing

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
	switch {
	case cfg.CacheSize == 0:
		cfg.CacheSize = 10000
	case cfg.CacheSize < 0:
		cfg.CacheSize = 0
	}
	if cfg.MaxRows <= 0 {
		cfg.MaxRows = 10000
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = defaultMaxBody(m, cfg.MaxRows)
	}
	s := &Server{model: m, cfg: cfg, cache: newLRU(cfg.CacheSize), metrics: newMetrics(), mux: http.NewServeMux(),
		allow: http.NewServeMux(), methods: map[string][]string{}}
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
	for path, methods := range s.methods {
		s.allow.Handle(path, allowHandler(strings.Join(methods, ", ")))
	}
	s.methods = nil
	s.route("/", epOther, s.noRoute)
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

// defaultMaxBody is the body limit when none is set: room for maxRows
// rows of m's features in /predict's form, the longest (every row names
// every feature), with numbers at full precision (24 bytes) and
// categorical values of 64 bytes, twice over for white space; at least 1
// MiB. So a request of maxRows rows is refused for its rows, not its size.
func defaultMaxBody(m *Model, maxRows int) int64 {
	row := int64(len(`{}, `))
	for _, c := range m.schema {
		v := int64(len(`-1.2345678901234567e-308`))
		if c.Kind != experiments.Numeric {
			v = 64
		}
		row += int64(len(c.Name)+len(`"": , `)) + v
	}
	return max(1<<20, 2*row*int64(maxRows)+64<<10)
}

// MaxBody returns the body limit the server applies.
func (s *Server) MaxBody() int64 { return s.cfg.MaxBody }

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
	if method, path, ok := strings.Cut(pattern, " "); ok {
		s.methods[path] = append(s.methods[path], method)
		if method == http.MethodGet { // the mux serves HEAD with GET's handler
			s.methods[path] = append(s.methods[path], http.MethodHead)
		}
	}
}

// allowHandler holds the methods a path allows; it is looked up, never
// served.
type allowHandler string

func (allowHandler) ServeHTTP(http.ResponseWriter, *http.Request) {}

// noRoute answers a request no route took: 405 with the methods allowed
// when the path is known, else 404.
func (s *Server) noRoute(w *call, r *http.Request) {
	if h, pattern := s.allow.Handler(r); pattern != "" {
		if methods, ok := h.(allowHandler); ok {
			w.Header().Set("Allow", string(methods))
			s.fail(w, http.StatusMethodNotAllowed, "method %s not allowed on %s: use %s", r.Method, r.URL.Path, methods)
			return
		}
	}
	m := s.model
	s.fail(w, http.StatusNotFound, "no endpoint %s %s (see GET /v2/models/%s for the model, POST /v2/models/%s/infer or /predict to predict)", r.Method, r.URL.Path, m.Name, m.Name)
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
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(strings.TrimSpace(ce), "identity") {
		// A compressed body is not JSON: say so rather than "not valid
		// JSON". Accept-Encoding tells the client what to send (RFC 7694).
		c.Header().Set("Accept-Encoding", "identity")
		return &requestError{http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Encoding %s is not supported: send the body uncompressed", ce)}
	}
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
		"parameters": s.modelParams(),
	}
	s.writeJSON(w, http.StatusOK, meta)
}

// modelParams are the metadata's parameters: the model's provenance.
// run_id and experiment name the tracked run the model was exported from
// (export --run), when there was one. The Open Inference Protocol's
// parameters are scalars (bool, number or string), which clients such as
// Triton's decode as such: lists are JSON text ("classes": "[\"a\",\"b\"]"),
// the steps are joined with " + ", and each parameter the model was
// trained with is a string of its own, "param.NAME".
func (s *Server) modelParams() map[string]any {
	m := s.model
	classes, _ := json.Marshal(m.classNames())
	p := map[string]any{
		"sha256": m.Manifest.SHA256, "steps": strings.Join(m.Manifest.Steps, " + "),
		"classes": string(classes),
	}
	for k, v := range m.Manifest.Params {
		p["param."+k] = v
	}
	if m.Manifest.RunID != "" {
		p["run_id"] = m.Manifest.RunID
		p["experiment"] = m.Manifest.Experiment
	}
	return p
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
	case "float64":
		return "a number"
	case "int", "int64":
		return "an integer"
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
