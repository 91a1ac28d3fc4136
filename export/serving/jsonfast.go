package serving

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// A hand-written JSON reader and writer for the request path. The reader
// accepts only the plain shape of a well-formed request (strings without
// escapes, known keys, no duplicates); anything else makes it give up, and
// the caller decodes the body again with encoding/json, which accepts
// every valid body and words the error of every bad one. So the fast path
// never changes what a request means or what an error says.

// scanner reads JSON from a byte slice.
type scanner struct {
	b []byte
	i int
	// needs, when set, is Model.needsValue: the data readers give up on
	// a null bound for a column that refuses one, for the slow path to
	// word the error.
	needs []bool
}

// refuses reports whether a null may not go to index i of a batch's
// values (row-major: its column is i modulo the number of columns).
func (s *scanner) refuses(i int) bool {
	return s.needs != nil && s.needs[i%len(s.needs)]
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, or 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// eat consumes c after white space.
func (s *scanner) eat(c byte) bool {
	if s.peek() == c {
		s.i++
		return true
	}
	return false
}

// lit consumes the literal word (null, true, false).
func (s *scanner) lit(word string) bool {
	if len(s.b)-s.i >= len(word) && string(s.b[s.i:s.i+len(word)]) == word {
		s.i += len(word)
		return true
	}
	return false
}

// str reads a string without escapes and returns its bytes (a slice of
// the input). It gives up on escapes, control characters and invalid
// UTF-8, which encoding/json would decode or replace.
func (s *scanner) str() ([]byte, bool) {
	if !s.eat('"') {
		return nil, false
	}
	start := s.i
	ascii := true
	for ; s.i < len(s.b); s.i++ {
		c := s.b[s.i]
		switch {
		case c == '"':
			v := s.b[start:s.i]
			s.i++
			if !ascii && !utf8.Valid(v) {
				return nil, false
			}
			return v, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= 0x80:
			ascii = false
		}
	}
	return nil, false
}

// number reads a JSON number (its grammar checked here, since
// strconv.ParseFloat accepts more) as a float64.
func (s *scanner) number() (float64, bool) {
	s.ws()
	start := s.i
	b := s.b
	i := s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return 0, false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return 0, false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	// Small integers, the common case, need no strconv.
	if v, ok := smallInt(b[start:i]); ok {
		s.i = i
		return v, true
	}
	v, err := strconv.ParseFloat(string(b[start:i]), 64)
	if err != nil {
		return 0, false // out of range: encoding/json refuses it too
	}
	s.i = i
	return v, true
}

// smallInt converts an integer literal of at most 15 digits, which a
// float64 holds exactly.
func smallInt(b []byte) (float64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	v := float64(n)
	if neg {
		v = -v
	}
	return v, true
}

// integer reads a JSON integer that fits an int.
func (s *scanner) integer() (int, bool) {
	s.ws()
	start := s.i
	i := s.i
	if i < len(s.b) && s.b[i] == '-' {
		i++
	}
	digits := i
	for i < len(s.b) && s.b[i] >= '0' && s.b[i] <= '9' {
		i++
	}
	if i == digits || (s.b[digits] == '0' && i-digits > 1) || i-digits > 15 {
		return 0, false
	}
	if i < len(s.b) && (s.b[i] == '.' || s.b[i] == 'e' || s.b[i] == 'E') {
		return 0, false
	}
	n, err := strconv.Atoi(string(s.b[start:i]))
	if err != nil {
		return 0, false
	}
	s.i = i
	return n, true
}

// skip reads past one JSON value of any kind, checking it, and returns
// its bytes. Strings may have escapes here: their value is not needed.
func (s *scanner) skip(depth int) ([]byte, bool) {
	if depth > 64 {
		return nil, false
	}
	c := s.peek()
	start := s.i
	switch {
	case c == '{':
		s.i++
		if !s.eat('}') {
			for {
				if _, ok := s.skipString(); !ok || !s.eat(':') {
					return nil, false
				}
				if _, ok := s.skip(depth + 1); !ok {
					return nil, false
				}
				if s.eat('}') {
					break
				}
				if !s.eat(',') {
					return nil, false
				}
			}
		}
	case c == '[':
		s.i++
		if !s.eat(']') {
			for {
				if _, ok := s.skip(depth + 1); !ok {
					return nil, false
				}
				if s.eat(']') {
					break
				}
				if !s.eat(',') {
					return nil, false
				}
			}
		}
	case c == '"':
		return s.skipString()
	case c == 'n':
		if !s.lit("null") {
			return nil, false
		}
	case c == 't':
		if !s.lit("true") {
			return nil, false
		}
	case c == 'f':
		if !s.lit("false") {
			return nil, false
		}
	default:
		if _, ok := s.number(); !ok {
			return nil, false
		}
	}
	return s.b[start:s.i], true
}

// skipString reads past a string, escapes included.
func (s *scanner) skipString() ([]byte, bool) {
	if !s.eat('"') {
		return nil, false
	}
	start := s.i - 1
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.b[start:s.i], true
		case c < 0x20:
			return nil, false
		case c == '\\':
			s.i++
			if s.i >= len(s.b) {
				return nil, false
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				if len(s.b)-s.i < 5 {
					return nil, false
				}
				for _, h := range s.b[s.i+1 : s.i+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return nil, false
					}
				}
				s.i += 5
			default:
				return nil, false
			}
		default:
			s.i++
		}
	}
	return nil, false
}

// end reports whether only white space is left.
func (s *scanner) end() bool {
	s.ws()
	return s.i == len(s.b)
}

// appendFloat appends v as encoding/json writes a float64. It reports
// false for NaN and infinities, which JSON cannot hold.
func appendFloat(b []byte, v float64) ([]byte, bool) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return b, false
	}
	abs := math.Abs(v)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, v, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9, as encoding/json does
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

// appendFloats appends a JSON array of numbers.
func appendFloats(b []byte, vs []float64) ([]byte, bool) {
	b = append(b, '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		var ok bool
		if b, ok = appendFloat(b, v); !ok {
			return b, false
		}
	}
	return append(b, ']'), true
}
