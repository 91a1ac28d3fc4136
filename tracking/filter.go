package tracking

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// A filter selects runs. Its grammar:
//
//	filter     = or
//	or         = and { "OR" and }
//	and        = unary { "AND" unary }
//	unary      = "NOT" unary | "(" or ")" | comparison
//	comparison = field op value
//	           | field ["NOT"] ("LIKE" | "ILIKE") string
//	           | field ["NOT"] "IN" "(" value { "," value } ")"
//	           | field "IS" ["NOT"] "NULL"
//	op         = "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">="
//	field      = ("metrics" | "params" | "tags") "." key | ["attributes" "."] attribute
//	key        = bare-key | `quoted key` | "quoted key"
//	value      = string | number
//
// Keywords are case-insensitive. Strings use single or double quotes;
// inside them \" \' \\ \n \t are escapes and any other backslash is kept
// (so LIKE patterns can say \% and \_). See SCHEMA.md for the meaning of
// each comparison.

// ParseError is a syntax or type error in a filter or order expression.
type ParseError struct {
	Input  string // the expression as given
	Offset int    // byte offset of the problem in Input
	Msg    string // what is wrong, without position
}

// Column returns the 1-based column (in characters) of the problem.
func (e *ParseError) Column() int {
	off := e.Offset
	if off > len(e.Input) {
		off = len(e.Input)
	}
	return utf8.RuneCountInString(e.Input[:off]) + 1
}

// Error returns "filter: column N: " followed by Msg.
func (e *ParseError) Error() string {
	return fmt.Sprintf("filter: column %d: %s", e.Column(), e.Msg)
}

// Context returns the input and a caret under the problem, on two lines.
func (e *ParseError) Context() string {
	in := strings.NewReplacer("\n", " ", "\t", " ", "\r", " ").Replace(e.Input)
	return in + "\n" + strings.Repeat(" ", e.Column()-1) + "^"
}

type tokKind int

const (
	tEOF tokKind = iota
	tWord
	tField // prefix.key
	tString
	tNumber
	tOp
	tLParen
	tRParen
	tComma
)

type token struct {
	kind   tokKind
	pos    int
	text   string // word, operator, or unescaped string
	prefix string // for tField
	key    string // for tField
	num    float64
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of input"
	case tString:
		return strconv.Quote(t.text)
	case tField:
		return t.prefix + "." + t.key
	}
	return strconv.Quote(t.text)
}

type lexer struct {
	in  string
	pos int
}

func (l *lexer) errorf(pos int, format string, args ...interface{}) *ParseError {
	return &ParseError{Input: l.in, Offset: pos, Msg: fmt.Sprintf(format, args...)}
}

func isWordStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isWordChar(c byte) bool { return isWordStart(c) || '0' <= c && c <= '9' }

// isKeyChar tells the characters allowed in an unquoted metric, param or
// tag key after the prefix.
func isKeyChar(c byte) bool {
	return isWordChar(c) || strings.IndexByte(".-/:@#%", c) >= 0
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func (l *lexer) next() (token, error) {
	for l.pos < len(l.in) && strings.IndexByte(" \t\r\n", l.in[l.pos]) >= 0 {
		l.pos++
	}
	start := l.pos
	if l.pos >= len(l.in) {
		return token{kind: tEOF, pos: start}, nil
	}
	c := l.in[l.pos]
	switch {
	case c == '(':
		l.pos++
		return token{kind: tLParen, pos: start, text: "("}, nil
	case c == ')':
		l.pos++
		return token{kind: tRParen, pos: start, text: ")"}, nil
	case c == ',':
		l.pos++
		return token{kind: tComma, pos: start, text: ","}, nil
	case c == '\'' || c == '"':
		s, err := l.quoted(c, true)
		if err != nil {
			return token{}, err
		}
		return token{kind: tString, pos: start, text: s}, nil
	case c == '=' || c == '!' || c == '<' || c == '>':
		op := string(c)
		l.pos++
		if l.pos < len(l.in) {
			two := op + string(l.in[l.pos])
			switch two {
			case "==", "!=", "<=", ">=", "<>":
				op = two
				l.pos++
			}
		}
		switch op {
		case "!":
			return token{}, l.errorf(start, `unexpected "!" (did you mean "!=" or NOT?)`)
		case "==":
			op = "="
		case "<>":
			op = "!="
		}
		return token{kind: tOp, pos: start, text: op}, nil
	case isDigit(c) || c == '.' || c == '-' || c == '+':
		return l.number()
	case isWordStart(c):
		for l.pos < len(l.in) && isWordChar(l.in[l.pos]) {
			l.pos++
		}
		word := l.in[start:l.pos]
		if l.pos < len(l.in) && l.in[l.pos] == '.' {
			return l.field(start, word)
		}
		return token{kind: tWord, pos: start, text: word}, nil
	}
	r, _ := utf8.DecodeRuneInString(l.in[l.pos:])
	return token{}, l.errorf(start, "unexpected character %q", r)
}

// quoted reads a string delimited by q starting at l.pos. With escapes,
// \q, \\, \n, \t and \r are decoded and any other backslash is kept; without
// (for `keys`), a doubled delimiter stands for itself.
func (l *lexer) quoted(q byte, escapes bool) (string, error) {
	start := l.pos
	l.pos++
	var b strings.Builder
	for l.pos < len(l.in) {
		c := l.in[l.pos]
		switch {
		case c == q:
			if !escapes && l.pos+1 < len(l.in) && l.in[l.pos+1] == q {
				b.WriteByte(q)
				l.pos += 2
				continue
			}
			l.pos++
			return b.String(), nil
		case c == '\\' && escapes && l.pos+1 < len(l.in):
			d := l.in[l.pos+1]
			switch d {
			case q, '\\':
				b.WriteByte(d)
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			default:
				b.WriteByte('\\')
				b.WriteByte(d)
			}
			l.pos += 2
		default:
			b.WriteByte(c)
			l.pos++
		}
	}
	return "", l.errorf(start, "unterminated string starting here")
}

func (l *lexer) number() (token, error) {
	start := l.pos
	i := l.pos
	if l.in[i] == '-' || l.in[i] == '+' {
		i++
	}
	digits := 0
	for i < len(l.in) && isDigit(l.in[i]) {
		i++
		digits++
	}
	if i < len(l.in) && l.in[i] == '.' {
		i++
		for i < len(l.in) && isDigit(l.in[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return token{}, l.errorf(start, "expected a number")
	}
	if i < len(l.in) && (l.in[i] == 'e' || l.in[i] == 'E') {
		j := i + 1
		if j < len(l.in) && (l.in[j] == '-' || l.in[j] == '+') {
			j++
		}
		k := j
		for k < len(l.in) && isDigit(l.in[k]) {
			k++
		}
		if k == j {
			return token{}, l.errorf(start, "malformed number %q", l.in[start:k])
		}
		i = k
	}
	if i < len(l.in) && (isWordChar(l.in[i]) || l.in[i] == '.') {
		return token{}, l.errorf(start, "malformed number %q", l.in[start:i+1])
	}
	text := l.in[start:i]
	v, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(v, 0) {
		return token{}, l.errorf(start, "number %s is out of range", text)
	}
	l.pos = i
	return token{kind: tNumber, pos: start, text: text, num: v}, nil
}

var prefixes = map[string]string{
	"metrics": "metrics", "metric": "metrics",
	"params": "params", "param": "params",
	"tags": "tags", "tag": "tags",
	"attributes": "attributes", "attribute": "attributes", "attr": "attributes",
}

func (l *lexer) field(start int, word string) (token, error) {
	prefix, ok := prefixes[strings.ToLower(word)]
	if !ok {
		return token{}, l.errorf(start, "unknown field prefix %q (want metrics., params., tags. or attributes.)", word)
	}
	l.pos++ // the dot
	keyStart := l.pos
	var key string
	if l.pos < len(l.in) && (l.in[l.pos] == '`' || l.in[l.pos] == '"') {
		q := l.in[l.pos]
		s, err := l.quoted(q, q == '"')
		if err != nil {
			return token{}, err
		}
		key = s
	} else {
		for l.pos < len(l.in) && isKeyChar(l.in[l.pos]) {
			l.pos++
		}
		key = l.in[keyStart:l.pos]
	}
	if key == "" {
		return token{}, l.errorf(keyStart, "expected a name after %q", word+".")
	}
	return token{kind: tField, pos: start, prefix: prefix, key: key}, nil
}

// field kinds
const (
	fMetric = "metrics"
	fParam  = "params"
	fTag    = "tags"
	fAttr   = "attributes"
)

type attrKind int

const (
	aString attrKind = iota
	aStatus
	aNumber
	aTime
)

type attrDef struct {
	name     string // canonical name
	col      string // SQL expression over r (runs) and e (experiments)
	nullCol  string // expression for IS NULL; "" if never NULL
	kind     attrKind
	nullable bool
	// id: the value may be a short id (a prefix, as runs list and the
	// report show them) when compared with = or !=.
	id bool
}

// nowMillisSQL is the current time in Unix milliseconds, in SQL.
const nowMillisSQL = `CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)`

var attrList = []attrDef{
	{name: "run_id", col: "r.id", kind: aString, id: true},
	{name: "name", col: "r.name", kind: aString},
	{name: "status", col: "r.status", kind: aStatus},
	{name: "experiment", col: "e.name", kind: aString},
	{name: "parent_run_id", col: "COALESCE(r.parent_run_id, '')", nullCol: "r.parent_run_id", kind: aString, id: true},
	{name: "start_time", col: "r.start_time", kind: aTime},
	{name: "end_time", col: "r.end_time", nullCol: "r.end_time", kind: aTime},
	{name: "duration", col: "((COALESCE(r.end_time, " + nowMillisSQL + ") - r.start_time) / 1000.0)", kind: aNumber},
	{name: "error", col: "r.error", kind: aString},
	{name: "notebook", col: "r.notebook", kind: aString},
	{name: "execution_count", col: "r.execution_count", kind: aNumber},
	{name: "source", col: "r.source", kind: aString},
	{name: "go_version", col: "r.go_version", kind: aString},
	{name: "seed", col: "r.seed", nullCol: "r.seed", kind: aNumber},
}

var attrAliases = map[string]string{
	"id": "run_id", "run_name": "name", "experiment_name": "experiment",
	"parent": "parent_run_id", "parent_id": "parent_run_id", "started": "start_time", "ended": "end_time",
}

func lookupAttr(name string) (attrDef, bool) {
	n := strings.ToLower(name)
	if a, ok := attrAliases[n]; ok {
		n = a
	}
	for _, a := range attrList {
		if a.name == n {
			return a, true
		}
	}
	return attrDef{}, false
}

func attrNames() string {
	names := make([]string, len(attrList))
	for i, a := range attrList {
		names[i] = a.name
	}
	return strings.Join(names, ", ")
}

// expression tree

type node interface {
	format(b *strings.Builder)
	compile(c *compiler)
}

type logicNode struct {
	op   string // AND, OR
	l, r node
}

type notNode struct{ x node }

type fieldRef struct {
	kind string // fMetric, fParam, fTag, fAttr
	key  string // metric/param/tag key, or canonical attribute name
	attr attrDef
}

type literal struct {
	isNum bool
	num   float64
	str   string
}

type cmpNode struct {
	f    fieldRef
	op   string // = != < <= > >= LIKE ILIKE NOT LIKE NOT ILIKE IN NOT IN IS NULL IS NOT NULL
	vals []literal
}

// Filter is a parsed filter expression. The zero Filter matches every run.
type Filter struct {
	root node
}

// ParseFilter parses a filter expression such as
//
//	metrics.accuracy > 0.9 and (params.model = "forest" or params.model = "knn")
//
// An empty or blank string gives a Filter that matches every run. Errors
// are *ParseError values that say where the problem is.
func ParseFilter(s string) (*Filter, error) {
	p := &parser{lex: lexer{in: s}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tEOF {
		return &Filter{}, nil
	}
	root, err := p.parseOr(0)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.lex.errorf(p.tok.pos, "unexpected %s (expected AND, OR or end of filter)", p.tok.describe())
	}
	return &Filter{root: root}, nil
}

// String returns the filter in canonical form: fully parenthesized, with
// keywords in capitals; parsing it gives the same filter.
func (f *Filter) String() string {
	if f == nil || f.root == nil {
		return ""
	}
	var b strings.Builder
	f.root.format(&b)
	return b.String()
}

type parser struct {
	lex lexer
	tok token
}

// maxDepth bounds nesting so that a hostile filter cannot exhaust SQLite's
// expression depth limit (1000) or the stack.
const maxDepth = 100

func (p *parser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) isWord(w string) bool {
	return p.tok.kind == tWord && strings.EqualFold(p.tok.text, w)
}

func (p *parser) parseOr(depth int) (node, error) {
	l, err := p.parseAnd(depth)
	if err != nil {
		return nil, err
	}
	for p.isWord("OR") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		r, err := p.parseAnd(depth)
		if err != nil {
			return nil, err
		}
		l = &logicNode{op: "OR", l: l, r: r}
	}
	return l, nil
}

func (p *parser) parseAnd(depth int) (node, error) {
	l, err := p.parseUnary(depth)
	if err != nil {
		return nil, err
	}
	for p.isWord("AND") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		r, err := p.parseUnary(depth)
		if err != nil {
			return nil, err
		}
		l = &logicNode{op: "AND", l: l, r: r}
	}
	return l, nil
}

func (p *parser) parseUnary(depth int) (node, error) {
	if depth >= maxDepth {
		return nil, p.lex.errorf(p.tok.pos, "filter is nested too deeply (more than %d levels)", maxDepth)
	}
	switch {
	case p.isWord("NOT"):
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.parseUnary(depth + 1)
		if err != nil {
			return nil, err
		}
		return &notNode{x: x}, nil
	case p.tok.kind == tLParen:
		open := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.parseOr(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tRParen {
			if p.tok.kind == tEOF {
				return nil, p.lex.errorf(open, "unclosed parenthesis")
			}
			return nil, p.lex.errorf(p.tok.pos, "unexpected %s (expected AND, OR or \")\")", p.tok.describe())
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		return x, nil
	}
	return p.parseComparison()
}

func (p *parser) parseField() (fieldRef, error) {
	t := p.tok
	switch t.kind {
	case tField:
		if t.prefix == fAttr {
			a, ok := lookupAttr(t.key)
			if !ok {
				return fieldRef{}, p.lex.errorf(t.pos, "unknown attribute %q (attributes are %s)", t.key, attrNames())
			}
			return fieldRef{kind: fAttr, key: a.name, attr: a}, p.advance()
		}
		return fieldRef{kind: t.prefix, key: t.key}, p.advance()
	case tWord:
		for _, kw := range []string{"AND", "OR", "NOT", "LIKE", "ILIKE", "IN", "IS", "NULL"} {
			if strings.EqualFold(t.text, kw) {
				return fieldRef{}, p.lex.errorf(t.pos, "expected a field (metrics.X, params.X, tags.X or an attribute), found %s", strings.ToUpper(t.text))
			}
		}
		a, ok := lookupAttr(t.text)
		if !ok {
			if _, isPrefix := prefixes[strings.ToLower(t.text)]; isPrefix {
				return fieldRef{}, p.lex.errorf(t.pos+len(t.text), "expected \".\" and a name after %q", t.text)
			}
			return fieldRef{}, p.lex.errorf(t.pos, "unknown field %q (use metrics.%s, params.%s or tags.%s, or an attribute: %s)",
				t.text, t.text, t.text, t.text, attrNames())
		}
		return fieldRef{kind: fAttr, key: a.name, attr: a}, p.advance()
	case tEOF:
		return fieldRef{}, p.lex.errorf(t.pos, "expected a comparison, found end of input")
	}
	return fieldRef{}, p.lex.errorf(t.pos, "expected a field (metrics.X, params.X, tags.X or an attribute), found %s", t.describe())
}

func (p *parser) parseComparison() (node, error) {
	fieldPos := p.tok.pos
	f, err := p.parseField()
	if err != nil {
		return nil, err
	}
	opPos := p.tok.pos
	var op string
	switch {
	case p.tok.kind == tOp:
		op = p.tok.text
	case p.isWord("LIKE"), p.isWord("ILIKE"), p.isWord("IN"):
		op = strings.ToUpper(p.tok.text)
	case p.isWord("NOT"):
		if err := p.advance(); err != nil {
			return nil, err
		}
		if !(p.isWord("LIKE") || p.isWord("ILIKE") || p.isWord("IN")) {
			return nil, p.lex.errorf(p.tok.pos, "expected LIKE, ILIKE or IN after NOT, found %s", p.tok.describe())
		}
		op = "NOT " + strings.ToUpper(p.tok.text)
	case p.isWord("IS"):
		if err := p.advance(); err != nil {
			return nil, err
		}
		op = "IS NULL"
		if p.isWord("NOT") {
			op = "IS NOT NULL"
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
		if !p.isWord("NULL") {
			return nil, p.lex.errorf(p.tok.pos, "expected NULL, found %s", p.tok.describe())
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		c := &cmpNode{f: f, op: op}
		if err := checkComparison(c); err != nil {
			return nil, p.lex.errorf(fieldPos, "%s", err)
		}
		return c, nil
	case p.tok.kind == tEOF:
		return nil, p.lex.errorf(p.tok.pos, "expected an operator after %s, found end of input", f.name())
	default:
		return nil, p.lex.errorf(p.tok.pos, "expected an operator (=, !=, <, <=, >, >=, LIKE, IN, IS) after %s, found %s", f.name(), p.tok.describe())
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	c := &cmpNode{f: f, op: op}
	if strings.HasSuffix(op, "IN") {
		if p.tok.kind != tLParen {
			return nil, p.lex.errorf(p.tok.pos, "expected \"(\" after %s, found %s", op, p.tok.describe())
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		for {
			v, err := p.parseValue(c)
			if err != nil {
				return nil, err
			}
			c.vals = append(c.vals, v)
			if p.tok.kind == tComma {
				if err := p.advance(); err != nil {
					return nil, err
				}
				continue
			}
			if p.tok.kind != tRParen {
				return nil, p.lex.errorf(p.tok.pos, "expected \",\" or \")\" in the IN list, found %s", p.tok.describe())
			}
			if err := p.advance(); err != nil {
				return nil, err
			}
			break
		}
		return c, nil
	}
	_ = opPos
	v, err := p.parseValue(c)
	if err != nil {
		return nil, err
	}
	c.vals = []literal{v}
	return c, nil
}

// parseValue reads one literal and checks that it suits the comparison.
func (p *parser) parseValue(c *cmpNode) (literal, error) {
	t := p.tok
	var v literal
	switch t.kind {
	case tString:
		v = literal{str: t.text}
	case tNumber:
		v = literal{isNum: true, num: t.num}
	case tEOF:
		return v, p.lex.errorf(t.pos, "expected a value after %s, found end of input", c.op)
	case tField, tWord:
		return v, p.lex.errorf(t.pos, "expected a value (a number or a quoted string) after %s, found %s; quote strings: \"%s\"", c.op, t.describe(), tokenText(t))
	default:
		return v, p.lex.errorf(t.pos, "expected a value after %s, found %s", c.op, t.describe())
	}
	v, err := checkValue(c, v)
	if err != nil {
		return v, p.lex.errorf(t.pos, "%s", err)
	}
	return v, p.advance()
}

func tokenText(t token) string {
	if t.kind == tField {
		return t.prefix + "." + t.key
	}
	return t.text
}

func (f fieldRef) name() string {
	if f.kind == fAttr {
		return f.key
	}
	return f.kind + "." + formatKey(f.key)
}

// checkComparison validates operators that take no value.
func checkComparison(c *cmpNode) error {
	if c.f.kind == fAttr && strings.HasPrefix(c.op, "IS") && c.f.attr.nullCol == "" {
		return fmt.Errorf("%s is never NULL", c.f.key)
	}
	return nil
}

// checkValue checks (and normalizes) a literal for a comparison.
func checkValue(c *cmpNode, v literal) (literal, error) {
	like := strings.HasSuffix(c.op, "LIKE")
	if like && v.isNum {
		return v, fmt.Errorf("%s needs a quoted pattern, like \"%%forest%%\"", c.op)
	}
	switch c.f.kind {
	case fMetric:
		if like {
			return v, fmt.Errorf("metrics are numbers: %s cannot be used with %s", c.op, c.f.name())
		}
		if !v.isNum {
			if f, err := strconv.ParseFloat(v.str, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
				return literal{isNum: true, num: f}, nil
			}
			return v, fmt.Errorf("metrics are numbers: compare %s with a number, not %q", c.f.name(), v.str)
		}
	case fAttr:
		switch c.f.attr.kind {
		case aStatus:
			if v.isNum {
				return v, fmt.Errorf("status is one of RUNNING, FINISHED, FAILED, KILLED, not a number")
			}
			if !like {
				u := strings.ToUpper(v.str)
				switch u {
				case StatusRunning, StatusFinished, StatusFailed, StatusKilled:
					return literal{str: u}, nil
				}
				return v, fmt.Errorf("status is one of RUNNING, FINISHED, FAILED, KILLED, not %q", v.str)
			}
		case aNumber:
			if like || !v.isNum {
				return v, fmt.Errorf("%s is a number: compare it with a number", c.f.key)
			}
		case aTime:
			if like {
				return v, fmt.Errorf("%s is a time: compare it with a date such as \"2026-01-31\" or Unix milliseconds", c.f.key)
			}
			if !v.isNum {
				t, err := parseTime(v.str)
				if err != nil {
					return v, fmt.Errorf("%s: cannot read %q as a time (use \"2006-01-02\", \"2006-01-02 15:04:05\", RFC 3339 or Unix milliseconds)", c.f.key, v.str)
				}
				return literal{str: v.str, num: float64(t.UnixMilli())}, nil
			}
		case aString:
			if v.isNum && c.f.key != "name" {
				return v, fmt.Errorf("%s is text: quote the value", c.f.key)
			}
		}
	}
	return v, nil
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad time %q", s)
}

// formatting

func (n *logicNode) format(b *strings.Builder) {
	b.WriteByte('(')
	n.l.format(b)
	b.WriteString(" " + n.op + " ")
	n.r.format(b)
	b.WriteByte(')')
}

func (n *notNode) format(b *strings.Builder) {
	b.WriteString("NOT ")
	n.x.format(b)
}

func (n *cmpNode) format(b *strings.Builder) {
	b.WriteString(n.f.name())
	b.WriteString(" " + n.op)
	if strings.HasPrefix(n.op, "IS") {
		return
	}
	b.WriteByte(' ')
	if strings.HasSuffix(n.op, "IN") {
		b.WriteByte('(')
		for i, v := range n.vals {
			if i > 0 {
				b.WriteString(", ")
			}
			v.format(b)
		}
		b.WriteByte(')')
		return
	}
	n.vals[0].format(b)
}

func (v literal) format(b *strings.Builder) {
	if v.isNum {
		b.WriteString(strconv.FormatFloat(v.num, 'g', -1, 64))
		return
	}
	b.WriteString(quoteString(v.str))
}

func quoteString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// formatKey writes a metric, param or tag key bare if it can be read back
// bare, else in backquotes.
func formatKey(k string) string {
	bare := k != ""
	for i := 0; i < len(k); i++ {
		if !isKeyChar(k[i]) {
			bare = false
			break
		}
	}
	if bare {
		return k
	}
	return "`" + strings.ReplaceAll(k, "`", "``") + "`"
}

// SQL compilation. Every user value becomes a bound parameter; the SQL
// text is built only from fixed fragments and column expressions.

type compiler struct {
	b    strings.Builder
	args []interface{}
}

// where returns the SQL condition (over runs r and experiments e) and its
// arguments. The zero filter gives "1".
func (f *Filter) where() (string, []interface{}) {
	if f == nil || f.root == nil {
		return "1", nil
	}
	c := &compiler{}
	f.root.compile(c)
	return c.b.String(), c.args
}

func (n *logicNode) compile(c *compiler) {
	c.b.WriteByte('(')
	n.l.compile(c)
	c.b.WriteString(" " + n.op + " ")
	n.r.compile(c)
	c.b.WriteByte(')')
}

func (n *notNode) compile(c *compiler) {
	c.b.WriteString("(NOT ")
	n.x.compile(c)
	c.b.WriteByte(')')
}

// Comparisons on metrics, params and tags are true only for runs that
// have the key (EXISTS), so NOT always selects exactly the other runs.
// Attribute comparisons are wrapped in COALESCE(..., 0) for the same
// two-valued logic.
func (n *cmpNode) compile(c *compiler) {
	switch n.f.kind {
	case fMetric, fParam, fTag:
		table := map[string]string{fMetric: "latest_metrics", fParam: "params", fTag: "tags"}[n.f.kind]
		switch n.op {
		case "IS NULL":
			c.b.WriteString("(NOT EXISTS (SELECT 1 FROM " + table + " x WHERE x.run_id = r.id AND x.key = ?))")
			c.args = append(c.args, n.f.key)
			return
		case "IS NOT NULL":
			c.b.WriteString("EXISTS (SELECT 1 FROM " + table + " x WHERE x.run_id = r.id AND x.key = ?)")
			c.args = append(c.args, n.f.key)
			return
		}
		c.b.WriteString("EXISTS (SELECT 1 FROM " + table + " x WHERE x.run_id = r.id AND x.key = ? AND ")
		c.args = append(c.args, n.f.key)
		n.valueCond(c, "x.value", n.f.kind != fMetric)
		c.b.WriteByte(')')
	case fAttr:
		a := n.f.attr
		switch n.op {
		case "IS NULL":
			c.b.WriteString("(" + a.nullCol + " IS NULL)")
			return
		case "IS NOT NULL":
			c.b.WriteString("(" + a.nullCol + " IS NOT NULL)")
			return
		}
		c.b.WriteString("COALESCE(")
		n.valueCond(c, a.col, a.kind == aString && n.f.key == "name")
		c.b.WriteString(", 0)")
	}
}

// valueCond writes the condition on one value expression. text says the
// column holds text that may spell a number (params, tags, run names):
// number literals then compare with gl_num(col).
func (n *cmpNode) valueCond(c *compiler, col string, text bool) {
	one := func(op string, v literal) {
		switch {
		case n.f.kind == fAttr && n.f.attr.id && !v.isNum && v.str != "" && len(v.str) < 36 && (op == "=" || op == "!="):
			// A short id matches the ids it starts.
			c.b.WriteString("substr(" + col + ", 1, " + strconv.Itoa(len(v.str)) + ") " + op + " ?")
			c.args = append(c.args, v.str)
		case v.isNum && text:
			c.b.WriteString("gl_num(" + col + ") " + op + " ?")
			c.args = append(c.args, v.num)
		case v.isNum || n.f.kind == fAttr && n.f.attr.kind == aTime:
			c.b.WriteString(col + " " + op + " ?")
			c.args = append(c.args, v.num)
		default:
			c.b.WriteString(col + " " + op + " ?")
			c.args = append(c.args, v.str)
		}
	}
	switch n.op {
	case "LIKE", "NOT LIKE":
		c.b.WriteString("(" + col + " " + n.op + ` ? ESCAPE '\')`)
		c.args = append(c.args, n.vals[0].str)
	case "ILIKE", "NOT ILIKE":
		not := strings.TrimSuffix(n.op, "ILIKE")
		c.b.WriteString("(lower(" + col + ") " + not + `LIKE lower(?) ESCAPE '\')`)
		c.args = append(c.args, n.vals[0].str)
	case "IN", "NOT IN":
		if n.op == "NOT IN" {
			c.b.WriteString("NOT ")
		}
		c.b.WriteByte('(')
		for i, v := range n.vals {
			if i > 0 {
				c.b.WriteString(" OR ")
			}
			one("=", v)
		}
		c.b.WriteByte(')')
	default:
		c.b.WriteByte('(')
		one(n.op, n.vals[0])
		c.b.WriteByte(')')
	}
}

// ordering

type orderTerm struct {
	f    fieldRef
	desc bool
}

// parseOrder reads "field [ASC|DESC] {, field [ASC|DESC]}".
func parseOrder(s string) ([]orderTerm, error) {
	p := &parser{lex: lexer{in: s}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	var terms []orderTerm
	for p.tok.kind != tEOF {
		f, err := p.parseField()
		if err != nil {
			return nil, err
		}
		t := orderTerm{f: f}
		switch {
		case p.isWord("DESC"):
			t.desc = true
			if err := p.advance(); err != nil {
				return nil, err
			}
		case p.isWord("ASC"):
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
		terms = append(terms, t)
		if p.tok.kind == tEOF {
			break
		}
		if p.tok.kind != tComma {
			return nil, p.lex.errorf(p.tok.pos, "expected ASC, DESC, \",\" or end of order, found %s", p.tok.describe())
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	return terms, nil
}

// orderSQL compiles order terms, with runs lacking a value last, then
// newest first as the tie-breaker.
func orderSQL(terms []orderTerm) (string, []interface{}) {
	var parts []string
	var args []interface{}
	for _, t := range terms {
		dir := " ASC NULLS LAST"
		if t.desc {
			dir = " DESC NULLS LAST"
		}
		switch t.f.kind {
		case fMetric:
			parts = append(parts, "(SELECT value FROM latest_metrics x WHERE x.run_id = r.id AND x.key = ?)"+dir)
			args = append(args, t.f.key)
		case fParam, fTag:
			table := map[string]string{fParam: "params", fTag: "tags"}[t.f.kind]
			// Numbers sort numerically, then other text.
			parts = append(parts,
				"(SELECT gl_num(value) FROM "+table+" x WHERE x.run_id = r.id AND x.key = ?)"+dir,
				"(SELECT value FROM "+table+" x WHERE x.run_id = r.id AND x.key = ?)"+dir)
			args = append(args, t.f.key, t.f.key)
		case fAttr:
			parts = append(parts, t.f.attr.col+dir)
		}
	}
	parts = append(parts, "r.start_time DESC", "r.rowid DESC")
	return strings.Join(parts, ", "), args
}
