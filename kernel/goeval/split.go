package goeval

import "github.com/gopherlab/gopherlab/internal/gocell"

// run is a sequence of consecutive parts evaluated together: declarations
// (imports first, as in a Go file) or statements.
type run struct {
	decl       bool
	start, end int
	parts      []gocell.Piece
}

// groupRuns merges consecutive parts into runs. Declarations stay together
// so that mutually recursive functions and types compile as one file; an
// import after another declaration starts a new run, as Go files want
// imports first.
func groupRuns(parts []gocell.Piece) []run {
	var runs []run
	for _, p := range parts {
		decl := p.Kind != gocell.Stmt
		if n := len(runs); n > 0 && runs[n-1].decl == decl {
			r := &runs[n-1]
			last := r.parts[len(r.parts)-1]
			if !(p.Kind == gocell.Import && last.Kind != gocell.Import) {
				r.parts = append(r.parts, p)
				r.end = p.End
				continue
			}
		}
		runs = append(runs, run{decl: decl, start: p.Start, end: p.End, parts: []gocell.Piece{p}})
	}
	return runs
}
