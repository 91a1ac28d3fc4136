package goeval

import (
	"fmt"
	"github.com/gopherlab/gopherlab/internal/gocell"
	"go/scanner"
	"go/token"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/gopherlab/gopherlab/display"
	"github.com/gopherlab/gopherlab/kernel/symbols"
)

// Inspect documents the identifier at cursor (code points): a package, a
// package member (pkg.Name, pkg.Type.Method), or a name the session
// declared (its declaration and, for variables, the value's type). With
// the cursor inside a call's parentheses it documents the function called.
// data has text/plain and text/markdown. detail 1 (name?? in IPython)
// adds the full source of session declarations.
func (s *Session) Inspect(code string, cursor, detail int) (found bool, data map[string]any) {
	defer func() {
		if recover() != nil {
			found, data = false, map[string]any{}
		}
	}()
	return s.inspect(code, cursor, detail)
}

func (s *Session) inspect(code string, cursor, detail int) (found bool, data map[string]any) {
	off := runeToByte(code, cursor)
	if off > len(code) {
		off = len(code)
	}
	expr := exprAt(code, off)
	if expr == "" {
		expr = calleeAt(code, off)
	}
	if expr == "" {
		return false, map[string]any{}
	}
	return s.inspectExpr(s.current(), expr, detail)
}

// exprAt returns the a.b.c chain around off.
func exprAt(code string, off int) string {
	start, end := off, off
	for start > 0 {
		r, w := utf8.DecodeLastRuneInString(code[:start])
		if !isIdentRune(r) && r != '.' {
			break
		}
		start -= w
	}
	for end < len(code) {
		r, w := utf8.DecodeRuneInString(code[end:])
		if !isIdentRune(r) {
			break
		}
		end += w
	}
	return strings.Trim(code[start:end], ".")
}

// calleeAt returns the function whose call's parentheses enclose off.
func calleeAt(code string, off int) string {
	depth := 0
	for i := off - 1; i >= 0 && off-i < 2000; i-- {
		switch code[i] {
		case ')':
			depth++
		case '(':
			if depth == 0 {
				return exprAt(code, i)
			}
			depth--
		case '\n':
			if depth == 0 && i > 0 && code[i-1] == '\n' {
				return "" // stop at a blank line
			}
		}
	}
	return ""
}

// inspectExpr documents a dotted name.
func (s *Session) inspectExpr(st *state, expr string, detail int) (bool, map[string]any) {
	parts := strings.Split(expr, ".")
	var sig, doc, src, typ string
	found := false
	s.meta.RLock()
	fd, tdecl, vd := st.funcs[parts[0]], st.types[parts[0]], st.vars[parts[0]]
	var md *declInfo
	if len(parts) == 2 {
		if tdecl != nil {
			md = st.methods[parts[0]+"."+parts[1]]
		}
	}
	var methods []string
	if tdecl != nil && len(parts) == 1 {
		for key := range st.methods {
			if t, _, _ := strings.Cut(key, "."); t == parts[0] {
				methods = append(methods, key)
			}
		}
	}
	s.meta.RUnlock()

	switch {
	case len(parts) == 1 && fd != nil:
		found, sig, doc, src = true, signatureOf(fd.src), fd.doc, fd.src
	case len(parts) == 1 && tdecl != nil:
		found, sig, doc, src = true, stripDoc(tdecl.src), tdecl.doc, tdecl.src
		if len(methods) > 0 {
			var b strings.Builder
			s.meta.RLock()
			for _, key := range sortedKeys(mapOf(methods)) {
				b.WriteString("\n" + signatureOf(st.methods[key].src))
			}
			s.meta.RUnlock()
			sig += "\n" + b.String()
		}
	case len(parts) == 1 && vd != nil:
		found, doc, src = true, vd.doc, vd.src
		sig = stripDoc(vd.src)
		if t, text, ok := s.globalPreview(st, parts[0]); ok {
			typ = t.String()
			if n := s.varTypeName(st, parts[0]); n != "" && !strings.Contains(typ, n) {
				typ = n + " (" + typ + ")"
			}
			sig = sig + "\n\nType:  " + typ + "\nValue: " + text
		} else if vd.typ != "" {
			sig = sig + "\n\nType:  " + vd.typ
		}
	case md != nil:
		found, sig, doc, src = true, signatureOf(md.src), md.doc, md.src
	}
	if !found && len(parts) == 2 && vd != nil {
		// A method or field of a session variable.
		tname := s.varTypeName(st, parts[0])
		s.meta.RLock()
		m := st.methods[tname+"."+parts[1]]
		s.meta.RUnlock()
		if m != nil {
			found, sig, doc, src = true, signatureOf(m.src), m.doc, m.src
		} else if v, ok := s.globalValue(st, parts[0]); ok {
			for _, f := range fieldsOf(v.Type()) {
				if f.Name == parts[1] {
					found, sig = true, parts[1]+" "+f.Type.String()
				}
			}
			for _, t := range []reflect.Type{v.Type(), reflect.PointerTo(v.Type())} {
				if m, ok := t.MethodByName(parts[1]); ok && !found {
					found, sig = true, "func ("+t.String()+") "+m.Name+strings.TrimPrefix(methodType(m), "func")
					// A compiled package's method: its doc comment, as go doc
					// gives it.
					base := t
					for base.Kind() == reflect.Pointer {
						base = base.Elem()
					}
					if base.PkgPath() != "" && base.Name() != "" {
						if dm, ok := symbols.Lookup(base.PkgPath(), base.Name()+"."+m.Name); ok {
							doc = dm.Doc
						}
					}
				}
			}
		}
	}
	if !found && fd == nil && tdecl == nil && vd == nil {
		if path, ok := s.resolvePkg(st, "", parts[0]); ok {
			if len(parts) == 1 {
				found, sig = true, fmt.Sprintf("package %s // import %q", s.pkgs[path], path)
				doc = symbols.PackageDoc(path)
			} else if m, ok := s.member(path, strings.Join(parts[1:], ".")); ok {
				found, doc = true, m.Doc
				sig = qualify(m.Signature, s.pkgs[path], m.Kind, m.Name)
			}
		} else if len(parts) == 1 {
			if d, ok := builtinDocs[parts[0]]; ok {
				found = true
				sig, doc, _ = strings.Cut(d, "\n\n")
			}
		}
	}
	if !found {
		return false, map[string]any{}
	}
	plain := sig
	md2 := "```go\n" + sig + "\n```"
	if doc = strings.TrimSpace(doc); doc != "" {
		plain += "\n\n" + doc
		md2 += "\n\n" + doc
	}
	if detail > 0 && src != "" && strings.TrimSpace(stripDoc(src)) != strings.TrimSpace(sig) {
		plain += "\n\nSource:\n" + src
		md2 += "\n\nSource:\n\n```go\n" + src + "\n```"
	}
	return true, map[string]any{"text/plain": plain, "text/markdown": md2}
}

func mapOf(l []string) map[string]bool {
	m := map[string]bool{}
	for _, k := range l {
		m[k] = true
	}
	return m
}

// qualify writes a package member's signature with its package name:
// func strings.Repeat(...), method signatures unchanged.
func qualify(sig, pkg, kind, name string) string {
	if kind == "method" || strings.Contains(name, ".") {
		return sig
	}
	for _, kw := range []string{"func ", "type ", "var ", "const "} {
		if strings.HasPrefix(sig, kw+name) {
			return kw + pkg + "." + sig[len(kw):]
		}
	}
	return sig
}

// preview formats a value briefly.
func preview(v reflect.Value) (s string) {
	defer func() {
		if recover() != nil {
			s = "?"
		}
	}()
	if !v.CanInterface() {
		return "?"
	}
	s = display.RenderText(unwrapInterpreted(v.Interface()))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// IsComplete tells a console whether code can run as is ("complete"),
// needs more lines ("incomplete", with the indent for the next line) or
// cannot be valid ("invalid").
func (s *Session) IsComplete(code string) (status, indent string) {
	defer func() {
		if recover() != nil {
			status, indent = "unknown", ""
		}
	}()
	return s.isComplete(code)
}

func (s *Session) isComplete(code string) (status, indent string) {
	if strings.TrimSpace(code) == "" {
		return "complete", ""
	}
	if _, _, ok := helpQuery(code); ok {
		return "complete", ""
	}
	// Leave out the magic and shell lines, which may stand wherever a
	// statement may (see executeCell); %time and %timeit keep the code
	// on their line.
	lines := strings.SplitAfter(code, "\n")
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if !gocell.MagicLine(lines, 0, i) {
			continue
		}
		lines[i] = blankLine(l)
		if name, args := splitMagic(t); strings.HasPrefix(t, "%") && (name == "time" || name == "timeit") {
			lines[i] = args + blankLine(l)
		}
	}
	code = strings.Join(lines, "")

	var errs scanner.ErrorList
	var sc scanner.Scanner
	fset := token.NewFileSet()
	file := fset.AddFile("", fset.Base(), len(code))
	sc.Init(file, []byte(code), func(pos token.Position, msg string) { errs.Add(pos, msg) }, 0)
	depth := 0
	last := token.ILLEGAL
	for {
		_, t, lit := sc.Scan()
		if t == token.EOF {
			break
		}
		switch t {
		case token.LPAREN, token.LBRACK, token.LBRACE:
			depth++
		case token.RPAREN, token.RBRACK, token.RBRACE:
			depth--
			if depth < 0 {
				return "invalid", ""
			}
		}
		if !(t == token.SEMICOLON && lit == "\n") {
			last = t
		}
	}
	for _, e := range errs {
		switch {
		case strings.Contains(e.Msg, "raw string literal not terminated"), strings.Contains(e.Msg, "comment not terminated"):
			return "incomplete", strings.Repeat("\t", depth)
		}
	}
	if len(errs) > 0 {
		return "invalid", ""
	}
	if depth > 0 {
		return "incomplete", strings.Repeat("\t", depth)
	}
	switch last {
	case token.ADD, token.SUB, token.MUL, token.QUO, token.REM, token.AND, token.OR, token.XOR,
		token.SHL, token.SHR, token.AND_NOT, token.LAND, token.LOR, token.EQL, token.LSS, token.GTR,
		token.NEQ, token.LEQ, token.GEQ, token.ASSIGN, token.DEFINE, token.COMMA, token.PERIOD,
		token.ADD_ASSIGN, token.SUB_ASSIGN, token.MUL_ASSIGN, token.QUO_ASSIGN, token.REM_ASSIGN,
		token.ARROW, token.COLON,
		// Keywords that cannot end a statement: the rest is to come.
		token.ELSE, token.IF, token.FOR, token.SWITCH, token.SELECT, token.GO, token.DEFER,
		token.FUNC, token.IMPORT, token.VAR, token.CONST, token.TYPE, token.STRUCT,
		token.INTERFACE, token.MAP, token.CHAN, token.RANGE, token.GOTO:
		return "incomplete", ""
	}
	c := newCellCode(0, code)
	for _, r := range groupRuns(gocell.Split(code)) {
		if _, err := parseRun(c, r); err != nil {
			return "invalid", ""
		}
	}
	return "complete", ""
}
