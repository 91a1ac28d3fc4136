package gocell

import (
	"go/scanner"
	"go/token"
	"strings"
)

// MagicLine reports whether line i of a cell (lines as
// strings.SplitAfter(cell, "\n") cuts them) is a magic or shell line: it
// starts with % or ! after spaces, and the code above it from line from
// (the line after the last such line) leaves it where a statement may
// start, not in a raw string, a comment, a block or an expression, which
// are Go's. The code above is scanned only for a line that starts so.
// The kernel runs such lines as magics, and the exporter refuses them by
// the same rule.
func MagicLine(lines []string, from, i int) bool {
	t := strings.TrimSpace(lines[i])
	return (strings.HasPrefix(t, "%") || strings.HasPrefix(t, "!")) && AtStatementStart(strings.Join(lines[from:i], ""))
}

// AtStatementStart reports whether Go code src, followed by a new line,
// leaves that line at the start of a top-level statement: not inside a
// raw string, a comment or brackets, and not continuing an expression
// (`ok := a &&` then `!b`).
func AtStatementStart(src string) bool {
	fset := token.NewFileSet()
	f := fset.AddFile("", -1, len(src))
	var sc scanner.Scanner
	bad := false
	sc.Init(f, []byte(src), func(token.Position, string) { bad = true }, 0)
	depth := 0
	last := token.SEMICOLON
	for {
		_, tok, _ := sc.Scan()
		if tok == token.EOF {
			break
		}
		switch tok {
		case token.LPAREN, token.LBRACK, token.LBRACE:
			depth++
		case token.RPAREN, token.RBRACK, token.RBRACE:
			depth--
		}
		last = tok
	}
	return !bad && depth == 0 && last == token.SEMICOLON
}
