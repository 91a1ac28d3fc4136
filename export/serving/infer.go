package serving

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gopherlab/gopherlab/experiments"
)

// The v2 request (KServe Open Inference Protocol, REST); infer writes the
// response by hand.
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
	Outputs    []inferOutput   `json:"outputs,omitempty"`
}

type inferOutput struct {
	Name       string          `json:"name"`
	Parameters json.RawMessage `json:"parameters,omitempty"`
}

// binaryData returns an error when a v2 request asks for the binary
// tensor data extension (a binary body after a JSON header, inputs of
// binary_data_size, outputs as binary_data), which the server does not
// implement: ignoring it would read or answer something else than the
// client means.
func binaryData(r *http.Request, req *inferRequest) error {
	const msg = "binary tensor data (the v2 binary data extension) is not supported: send the tensors as JSON data"
	if r != nil && r.Header.Get("Inference-Header-Content-Length") != "" {
		return badRequest("%s (the request has an Inference-Header-Content-Length header)", msg)
	}
	param := func(raw json.RawMessage, key string) bool {
		if len(raw) == 0 {
			return false
		}
		var p map[string]json.RawMessage
		if json.Unmarshal(raw, &p) != nil {
			return false
		}
		v, ok := p[key]
		return ok && string(v) != "false" && string(v) != "null"
	}
	if param(req.Parameters, "binary_data_output") {
		return badRequest("parameters: binary_data_output: %s", msg)
	}
	for _, in := range req.Inputs {
		if param(in.Parameters, "binary_data_size") {
			return badRequest("input %q: binary_data_size: %s", in.Name, msg)
		}
	}
	for _, o := range req.Outputs {
		if param(o.Parameters, "binary_data") {
			return badRequest("output %q: binary_data: %s", o.Name, msg)
		}
	}
	return nil
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
					req.Outputs = append(req.Outputs, inferOutput{Name: string(v)})
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

// numType is what the data of a numeric datatype may hold: numbers, in
// range for FP32 and FP16; whole numbers in range for the integer types,
// as the v2 protocol has data match its datatype. BOOL holds true and
// false only, read as 1 and 0: the input's datatype says they are
// booleans, where /predict's untyped JSON takes numbers only.
type numType struct {
	name    string
	isBool  bool
	integer bool
	lo, hi  float64 // integers: lo <= v < hi; FP32, FP16: |v| < hi (what does not round to infinity)
	span    string  // the range, for errors
}

var numTypes = [...]numType{
	{name: "FP64"}, floatType("FP32", 128, 24), floatType("FP16", 16, 11), {name: "BOOL", isBool: true},
	intType("INT64", 64, true), intType("INT32", 32, true), intType("INT16", 16, true), intType("INT8", 8, true),
	intType("UINT64", 64, false), intType("UINT32", 32, false), intType("UINT16", 16, false), intType("UINT8", 8, false),
}

// float64Range says why a JSON number too large for a float64 is refused.
var float64Range = fmt.Sprintf("out of the range of float64 (-%g to %g)", math.MaxFloat64, math.MaxFloat64)

// floatType is a binary floating-point type whose finite values are
// below 2^exp, with mant bits of mantissa: a value from the midpoint
// between its largest and 2^exp on rounds to infinity.
func floatType(name string, exp, mant int) numType {
	largest := math.Ldexp(1, exp) - math.Ldexp(1, exp-mant)
	limit := math.Ldexp(1, exp) - math.Ldexp(1, exp-mant-1)
	m := strconv.FormatFloat(largest, 'g', -1, 32) // both types' values are float32s
	return numType{name: name, hi: limit, span: "-" + m + " to " + m}
}

func intType(name string, bits int, signed bool) numType {
	t := numType{name: name, integer: true}
	if signed {
		t.lo, t.hi = -math.Ldexp(1, bits-1), math.Ldexp(1, bits-1)
		t.span = fmt.Sprintf("%d to %d", int64(math.MinInt64)>>(64-bits), int64(math.MaxInt64)>>(64-bits))
	} else {
		t.hi = math.Ldexp(1, bits)
		t.span = fmt.Sprintf("0 to %d", uint64(math.MaxUint64)>>(64-bits))
	}
	return t
}

// numericType returns the numeric datatype named dt; false when dt is not
// one.
func numericType(dt string) (*numType, bool) {
	for i := range numTypes {
		if numTypes[i].name == dt {
			return &numTypes[i], true
		}
	}
	return nil, false
}

// holds reports whether v is a value of the datatype.
func (t *numType) holds(v float64) bool {
	if t.integer {
		return v == math.Trunc(v) && v >= t.lo && v < t.hi
	}
	return t.hi == 0 || math.Abs(v) < t.hi
}

// check words why data[i], tok, is not a value of the datatype.
func (t *numType) check(in *inferInput, i int, v float64, tok []byte) error {
	switch {
	case t.holds(v):
		return nil
	case t.integer && v != math.Trunc(v):
		return badRequest("input %q: data[%d] is %s, not an integer (datatype %s)", in.Name, i, truncate(string(tok)), t.name)
	}
	return badRequest("input %q: data[%d] is %s, out of the range of %s (%s)", in.Name, i, truncate(string(tok)), t.name, t.span)
}

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
			if berr := binaryData(r, req); berr != nil {
				err = berr // a binary body is no JSON: say why
			}
			s.failErr(c, err)
			return
		}
	}
	if err := binaryData(r, req); err != nil {
		s.failErr(c, err)
		return
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
	s.writeResult(c, out, ok, res)
}

// writeResult answers 200 with out, a response written by hand, or, when
// a prediction was not finite (ok false: NaN and infinities have no JSON
// form), 422 naming the row: the request was well formed, but the model
// cannot answer it (a regression on inputs far outside the training
// data overflows), which is the client's to change, not a server fault.
func (s *Server) writeResult(c *call, out []byte, ok bool, res *results) {
	c.out = out
	if !ok {
		row, v, what, bad := res.nonFinite(s.model.classNames())
		if !bad {
			s.fail(c, http.StatusInternalServerError, "the response cannot be encoded as JSON")
			return
		}
		s.fail(c, http.StatusUnprocessableEntity, "row %d: the %s is not finite (%v), which JSON cannot carry: the row's features are likely far outside the training data", row, what, v)
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
	for k := range req.Inputs {
		if err := s.checkInput(k, &req.Inputs[k]); err != nil {
			return nil, err
		}
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
			return nil, badRequest("input %q: shape %v has %d %s, input %q has %d", in.Name, in.Shape, rows, plural(rows, "row"), req.Inputs[0].Name, n)
		}
		dst := strided{off: col, stride: b.f, n: n}
		if m.schema[col].Kind == experiments.Numeric {
			t, ok := numericType(in.Datatype)
			if !ok {
				return nil, badRequest("input %q: datatype %q, but the column is numeric: use FP64 (or another numeric type)", in.Name, in.Datatype)
			}
			if err := s.readNumbers(in, t, b.nums, dst); err != nil {
				return nil, err
			}
		} else {
			if in.Datatype != "BYTES" {
				return nil, badRequest("input %q: datatype %q, but the column is categorical: use BYTES (strings)", in.Name, in.Datatype)
			}
			if err := s.readStrings(in, b.strs, dst); err != nil {
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

// checkInput checks that an input has the fields the v2 protocol
// requires: name, shape, datatype and data.
func (s *Server) checkInput(k int, in *inferInput) error {
	switch {
	case in.Name == "":
		return badRequest(`inputs[%d]: no "name" (name a feature column, or any name for one [N, %d] input of them all)`, k, len(s.model.schema))
	case len(in.Shape) == 0:
		return badRequest(`input %q: no "shape" (want [N] or [N, 1] for a feature column, [N, %d] for one input of them all)`, in.Name, len(s.model.schema))
	case in.Datatype == "":
		return badRequest(`input %q: no "datatype" (FP64 for a numeric column, BYTES for a categorical one)`, in.Name)
	case len(in.Data) == 0:
		return badRequest(`input %q: no "data"`, in.Name)
	}
	return nil
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
		return nil, badRequest("input %q: shape %v has %d %s, the model takes %d (%s)", in.Name, in.Shape, in.Shape[1], plural(in.Shape[1], "column"), len(m.schema), s.columnNames())
	}
	for _, c := range m.schema {
		if c.Kind != experiments.Numeric {
			return nil, badRequest("input %q: one [N, F] input needs numeric columns, but %q is categorical: send one input per column", in.Name, c.Name)
		}
	}
	t, ok := numericType(in.Datatype)
	if !ok {
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
	if err := s.readNumbers(in, t, c.b.nums, strided{stride: 1, n: rows * len(m.schema)}); err != nil {
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

// shapedItems returns the elements of an input's data in row-major
// order. The v2 protocol takes data flat, or nested as its shape says:
// then each array has the length of its dimension and only the innermost
// hold values, so data that is ragged, deeper than the shape or laid out
// another way (feature-major) is refused, not read as other rows.
func shapedItems(in *inferInput) ([]json.RawMessage, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(in.Data, &items); err != nil {
		return nil, badRequest("input %q: data is not an array", in.Name)
	}
	if len(items) == 0 || !isArray(items[0]) {
		for i, it := range items {
			if isArray(it) {
				return nil, badRequest("input %q: data[%d] is an array, data[0] is not: send data flat, or nested as shape %v says", in.Name, i, in.Shape)
			}
		}
		return items, nil
	}
	var out []json.RawMessage
	var walk func(items []json.RawMessage, dim int, pos string) error
	walk = func(items []json.RawMessage, dim int, pos string) error {
		inner := dim < len(in.Shape)-1
		for i, it := range items {
			at := fmt.Sprintf("%s[%d]", pos, i)
			switch {
			case !inner && isArray(it):
				return badRequest("input %q: %s is an array, but shape %v has %d %s", in.Name, at, in.Shape, len(in.Shape), plural(len(in.Shape), "dimension"))
			case !inner:
				out = append(out, it)
				continue
			case !isArray(it):
				return badRequest("input %q: %s is %s, not an array of %d (shape %v)", in.Name, at, truncate(string(bytes.TrimSpace(it))), in.Shape[dim+1], in.Shape)
			}
			var sub []json.RawMessage
			if err := json.Unmarshal(it, &sub); err != nil {
				return badRequest("input %q: %s is not an array", in.Name, at)
			}
			if err := walk(sub, dim+1, at); err != nil {
				return err
			}
		}
		if len(items) != in.Shape[dim] {
			return badRequest("input %q: %s has %d %s, shape %v says %d", in.Name, pos, len(items), plural(len(items), "element"), in.Shape, in.Shape[dim])
		}
		return nil
	}
	if err := walk(items, 0, "data"); err != nil {
		return nil, err
	}
	return out, nil
}

func isArray(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && t[0] == '['
}

// plural returns word, with an s unless n is 1.
func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// numbers reads an array of numbers of datatype t (null: a missing
// value; true and false for BOOL), flat or nested as shape says (see
// shapedItems; dim is the array's dimension), into dst; false when it is
// anything else, has more values than dst takes, or has a null where
// sc.needs refuses one.
func (sc *scanner) numbers(dst []float64, d strided, k *int, t *numType, shape []int, dim int) bool {
	if !sc.eat('[') {
		return false
	}
	nested, inner := sc.nesting(shape, dim)
	if sc.eat(']') {
		return !nested
	}
	for n := 1; ; n++ {
		var v float64
		if (sc.peek() == '[') != inner {
			return false
		}
		switch sc.peek() {
		case '[':
			if !sc.numbers(dst, d, k, t, shape, dim+1) {
				return false
			}
			goto next
		case 'n':
			if !sc.lit("null") || sc.refuses(d.at(*k)) {
				return false
			}
			v = math.NaN()
		case 't', 'f':
			switch {
			case t.isBool && sc.lit("true"):
				v = 1
			case t.isBool && sc.lit("false"):
				v = 0
			default:
				return false
			}
		default:
			var ok bool
			if v, ok = sc.number(); !ok || t.isBool || !t.holds(v) {
				return false // the slow path says what is wrong
			}
		}
		if *k >= d.n {
			return false
		}
		dst[d.at(*k)] = v
		*k++
	next:
		if sc.eat(']') {
			return !nested || n == shape[dim]
		}
		if !sc.eat(',') {
			return false
		}
	}
}

// nesting says, for an array of dimension dim whose '[' was just read,
// whether the data is nested (at dimension 0, its first element is an
// array) and whether the array's elements are arrays.
func (sc *scanner) nesting(shape []int, dim int) (nested, inner bool) {
	nested = dim > 0 || sc.peek() == '['
	return nested, nested && dim < len(shape)-1
}

// readNumbers reads an input's data, of datatype t, into dst at d, whose
// length the shape gave.
func (s *Server) readNumbers(in *inferInput, t *numType, dst []float64, d strided) error {
	sc := scanner{b: in.Data, needs: s.model.needsValue}
	if k := 0; sc.numbers(dst, d, &k, t, in.Shape, 0) && sc.end() && k == d.n {
		return nil
	}
	// The slow path, for its errors. (Not json.Unmarshal into []float64:
	// it reads null as 0.)
	items, err := inputItems(in, d)
	if err != nil {
		return err
	}
	for i, it := range items {
		tok := bytes.TrimSpace(it)
		switch {
		case string(tok) == "null":
			if err := s.refuseNull(in, d, i); err != nil {
				return err
			}
			dst[d.at(i)] = math.NaN() // a missing value
		case string(tok) == "true" && t.isBool:
			dst[d.at(i)] = 1
		case string(tok) == "false" && t.isBool:
			dst[d.at(i)] = 0
		case t.isBool:
			return badRequest("input %q: data[%d] is %s, not true or false (datatype BOOL)", in.Name, i, truncate(string(tok)))
		default:
			v, err := strconv.ParseFloat(string(tok), 64)
			if errors.Is(err, strconv.ErrRange) {
				return badRequest("input %q: data[%d] is %s, %s", in.Name, i, truncate(string(tok)), float64Range)
			}
			if err != nil {
				return badRequest("input %q: data[%d] is %s, not a number", in.Name, i, truncate(string(tok)))
			}
			if err := t.check(in, i, v, tok); err != nil {
				return err
			}
			dst[d.at(i)] = v
		}
	}
	return nil
}

// refuseNull answers a null at data[i] of an input when its column needs
// a value.
func (s *Server) refuseNull(in *inferInput, d strided, i int) error {
	m := s.model
	col := d.at(i) % len(m.schema)
	if !m.needs(col) {
		return nil
	}
	if name := m.schema[col].Name; name != in.Name {
		return badRequest("input %q: data[%d] (feature %q) is null, but the model needs a value for it: %s", in.Name, i, name, noImputer)
	}
	return badRequest("input %q: data[%d] is null, but the model needs a value for it: %s", in.Name, i, noImputer)
}

// strs reads an array of strings (null: a missing value), flat or nested
// as shape says, into dst, as numbers does.
func (sc *scanner) strs(dst []string, d strided, k *int, shape []int, dim int) bool {
	if !sc.eat('[') {
		return false
	}
	nested, inner := sc.nesting(shape, dim)
	if sc.eat(']') {
		return !nested
	}
	for n := 1; ; n++ {
		if (sc.peek() == '[') != inner {
			return false
		}
		switch sc.peek() {
		case '[':
			if !sc.strs(dst, d, k, shape, dim+1) {
				return false
			}
		default:
			v := ""
			if sc.lit("null") {
				if sc.refuses(d.at(*k)) {
					return false
				}
			} else {
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
			return !nested || n == shape[dim]
		}
		if !sc.eat(',') {
			return false
		}
	}
}

// inputItems splits an input's data (flat or nested) into its d.n values.
func inputItems(in *inferInput, d strided) ([]json.RawMessage, error) {
	items, err := shapedItems(in)
	if err != nil {
		return nil, err
	}
	if len(items) != d.n {
		return nil, badRequest("input %q: shape %v means %d %s, data has %d", in.Name, in.Shape, d.n, plural(d.n, "value"), len(items))
	}
	return items, nil
}

// readStrings reads a BYTES input's data into dst at d.
func (s *Server) readStrings(in *inferInput, dst []string, d strided) error {
	sc := scanner{b: in.Data, needs: s.model.needsValue}
	if k := 0; sc.strs(dst, d, &k, in.Shape, 0) && sc.end() && k == d.n {
		return nil
	}
	items, err := inputItems(in, d)
	if err != nil {
		return err
	}
	for i, it := range items {
		if string(bytes.TrimSpace(it)) == "null" {
			if err := s.refuseNull(in, d, i); err != nil {
				return err
			}
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
