// Package gocell holds what the interpreter (kernel/goeval) and the
// notebook exporter (export) must agree on about a cell's Go source: its
// cut into top-level imports, declarations and statements (a cell mixes
// what Go only accepts in different places, a file and a function body,
// so both evaluate or move a cell piece by piece), which of its lines are
// magics, and which final calls show no result.
package gocell

import (
	"go/scanner"
	"go/token"
)

// Kind says what a top-level piece of a cell is.
type Kind int

const (
	Import Kind = iota + 1 // import declaration
	Decl                   // func, method, type, var or const declaration
	Stmt                   // statement (x := 1, f(), for ..., an expression)
)

// String returns "import", "decl" or "stmt" ("?" for any other value).
func (k Kind) String() string {
	switch k {
	case Import:
		return "import"
	case Decl:
		return "decl"
	case Stmt:
		return "stmt"
	}
	return "?"
}

// Piece is one top-level declaration or statement of a cell. Pieces tile
// the cell: each starts where the previous one ended (so comments and blank
// lines before a declaration belong to it, its doc comment included) and the
// last one runs to the end of the cell. TokStart is the offset of the
// part's first token.
type Piece struct {
	Kind       Kind // what the piece is
	Start, End int  // byte offsets in the source: the piece is src[Start:End]
	TokStart   int  // byte offset of the piece's first token
}

// Split cuts Go source into its top-level declarations and statements,
// in order. yaegi parses a snippet either as a file (declarations only) or
// as the body of main (statements only), so a notebook cell that mixes both
// has to be cut and evaluated piece by piece. The cut is lexical: a piece
// ends at a semicolon (written or inserted at a line end) outside any
// brackets. Syntax errors are left for the parser to report on each piece.
func Split(src string) []Piece {
	type tok struct {
		off  int
		tok  token.Token
		auto bool // semicolon inserted by the scanner at a newline or EOF
	}
	var toks []tok
	fset := token.NewFileSet()
	file := fset.AddFile("", fset.Base(), len(src))
	var s scanner.Scanner
	s.Init(file, []byte(src), func(token.Position, string) {}, 0)
	for {
		pos, t, lit := s.Scan()
		if t == token.EOF {
			break
		}
		off := file.Offset(pos)
		toks = append(toks, tok{off: off, tok: t, auto: t == token.SEMICOLON && lit != ";"})
	}

	var parts []Piece
	depth := 0
	first := -1 // index in toks of the current piece's first token
	prevEnd := 0
	flush := func(end, last int) {
		k := Classify(func(i int) token.Token {
			if first+i > last || first+i >= len(toks) {
				return token.EOF
			}
			return toks[first+i].tok
		})
		parts = append(parts, Piece{Kind: k, Start: prevEnd, End: end, TokStart: toks[first].off})
		prevEnd = end
		first = -1
	}
	// The header of an if, for or switch statement has semicolons of its
	// own at depth 0 ("for i := 0; i < n; i++ {"): they do not end the
	// statement. The header ends at the block's brace, which is told from
	// the brace of a composite or function literal in the header ([]int{1},
	// map[K]V{}, func() {...}) by the type tokens before it.
	header, typeLit := false, false
	prev := token.ILLEGAL
	for i, t := range toks {
		if depth == 0 {
			switch t.tok {
			case token.IF, token.FOR, token.SWITCH:
				header, typeLit = true, false
			case token.LBRACK:
				if header && !endsOperand(prev) {
					typeLit = true
				}
			case token.MAP, token.STRUCT, token.FUNC, token.CHAN:
				if header {
					typeLit = true
				}
			case token.LBRACE:
				if header && !typeLit {
					header = false
				}
				typeLit = false
			case token.IDENT, token.PERIOD, token.RBRACK, token.MUL, token.RPAREN, token.LPAREN, token.ARROW:
			default:
				typeLit = false
			}
		}
		prev = t.tok
		switch t.tok {
		case token.LPAREN, token.LBRACK, token.LBRACE:
			depth++
		case token.RPAREN, token.RBRACK, token.RBRACE:
			if depth > 0 {
				depth--
			}
		}
		if t.tok == token.SEMICOLON && depth == 0 && header {
			continue
		}
		if t.tok == token.SEMICOLON && depth == 0 {
			header = false
			if first < 0 {
				// An empty statement: a written ';' joins the previous
				// piece (a file cannot start with one).
				if n := len(parts); n > 0 && !t.auto {
					parts[n-1].End = t.off + 1
					prevEnd = t.off + 1
				}
				continue
			}
			end := t.off
			if !t.auto {
				end++ // keep a written ';' with its piece
			}
			if end < prevEnd {
				end = prevEnd
			}
			flush(end, i-1)
			continue
		}
		if first < 0 {
			first = i
		}
	}
	if first >= 0 {
		flush(len(src), len(toks)-1)
	}
	if len(parts) > 0 {
		parts[len(parts)-1].End = len(src)
	}
	return parts
}

// Classify decides a piece's kind from its first tokens; at(i) returns the
// piece's i-th token, EOF past its end.
func Classify(at func(int) token.Token) Kind {
	switch at(0) {
	case token.IMPORT:
		return Import
	case token.TYPE, token.VAR, token.CONST:
		return Decl
	case token.FUNC:
		switch at(1) {
		case token.IDENT:
			return Decl // func Name(
		case token.LPAREN:
			// A method declaration has a receiver followed by a name and
			// its parameters; a function literal has parameters followed
			// by results or a body.
			depth := 0
			for i := 1; ; i++ {
				switch at(i) {
				case token.LPAREN, token.LBRACK, token.LBRACE:
					depth++
				case token.RPAREN, token.RBRACK, token.RBRACE:
					depth--
					if depth == 0 {
						if at(i+1) == token.IDENT && (at(i+2) == token.LPAREN || at(i+2) == token.LBRACK) {
							return Decl
						}
						return Stmt
					}
				case token.EOF:
					return Stmt
				}
			}
		}
	}
	return Stmt
}

// endsOperand reports whether a token can end an operand, so that a '['
// after it indexes rather than starts a slice type.
func endsOperand(t token.Token) bool {
	switch t {
	case token.IDENT, token.RPAREN, token.RBRACK, token.RBRACE, token.STRING, token.INT,
		token.FLOAT, token.IMAG, token.CHAR:
		return true
	}
	return false
}
