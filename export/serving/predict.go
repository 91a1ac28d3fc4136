package serving

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/gopherlab/gopherlab/experiments"
)

// predict serves /predict: {"instances": [{"feature": value, ...}, ...]}
// or one {"feature": value, ...} object in; {"model_name", "model_version",
// "predictions": [{"value", "label", "proba": {class: p}}]} out, written as
// encoding/json wrote it (proba's keys sorted, label omitted when empty).
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
	s.writeResult(c, out, ok, res)
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
			if m.needs(col) {
				return false // parsePredictSlow words the error
			}
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

// noImputer says why a model refuses a missing value.
const noImputer = "its pipeline does not fill in missing values (fit it with an imputer to take them)"

// parsePredictSlow decodes a /predict body with encoding/json, wording
// each error.
func (s *Server) parsePredictSlow(c *call) error {
	if t := bytes.TrimSpace(c.body); len(t) > 0 && t[0] == '[' {
		return badRequest("the body is an array: send an object of feature names to values, or several as {\"instances\": [...]}")
	}
	var body map[string]json.RawMessage
	if err := decode(c.body, &body); err != nil {
		return err
	}
	// A map keeps the last of a key given twice; the objects' own bytes
	// (raws) show it, to refuse it as v2 infer refuses an input given
	// twice.
	var instances []map[string]json.RawMessage
	var raws []json.RawMessage
	if raw, ok := body["instances"]; ok {
		if len(body) != 1 {
			return badRequest("a body with \"instances\" has no other fields")
		}
		if k, dup := duplicateKey(c.body); dup {
			return badRequest("field %q given twice", k)
		}
		if err := json.Unmarshal(raw, &instances); err != nil {
			return badRequest("instances: want an array of objects mapping feature names to values")
		}
		json.Unmarshal(raw, &raws)
	} else {
		instances = []map[string]json.RawMessage{body}
		raws = []json.RawMessage{c.body}
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
		if k, dup := duplicateKey(raws[i]); dup {
			return badRequest("instance %d: feature %q given twice", i, k)
		}
		for name, raw := range inst {
			col, ok := m.index[name]
			if !ok {
				return badRequest("instance %d: unknown feature %q (the model takes %s)", i, name, s.columnNames())
			}
			t := bytes.TrimSpace(raw)
			null := string(t) == "null"
			if null && m.needs(col) {
				return badRequest("instance %d: feature %q is null, but the model needs a value for it: %s", i, name, noImputer)
			}
			if m.schema[col].Kind == experiments.Numeric {
				if null {
					b.nums[i*f+col] = math.NaN()
					continue
				}
				if err := json.Unmarshal(t, &b.nums[i*f+col]); err != nil {
					// A JSON number encoding/json refuses is one no
					// float64 holds.
					if _, err := strconv.ParseFloat(string(t), 64); errors.Is(err, strconv.ErrRange) {
						return badRequest("instance %d: feature %q is %s, %s", i, name, truncate(string(t)), float64Range)
					}
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
		for c, sc := range m.schema {
			if _, ok := inst[sc.Name]; !ok {
				if m.takesMissing[c] {
					return badRequest("instance %d: feature %q is missing (send null for a missing value)", i, sc.Name)
				}
				return badRequest("instance %d: feature %q is missing (the model needs a value for it)", i, sc.Name)
			}
		}
	}
	return nil
}

// duplicateKey returns a key the JSON object raw has twice; false if it
// has none, or raw is not an object.
func duplicateKey(raw []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", false
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return "", false
		}
		k, _ := t.(string)
		if seen[k] {
			return k, true
		}
		seen[k] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return "", false
		}
	}
	return "", false
}
