package serving

import (
	"strings"

	"github.com/gopherlab/gopherlab/experiments"
)

// A categorical value comes to the server as the client spells it, but
// the notebook's pipeline was fitted on values as experiments.ReadCSV
// read them: with spaces trimmed and, in a column that turned categorical
// because some of its values are not numbers, each number in Go's
// shortest form ("007", "7.0" and "7" are all the level "7"). A column
// named in CSVOptions.Categorical keeps its values as written ("02134").
// Serving the client's spelling as is would make the notebook's level "7"
// an unseen one (all zeros in a one-hot encoding) for "007": the server
// would predict otherwise than the notebook on the same row.
//
// So the server reads a value as ReadCSV would. The fitted pipeline does
// not record how a column was read, only its levels (those of the first
// step that encodes it, a OneHotEncoder), so the rule goes by them:
//
//   - a known level is used as is;
//   - otherwise the value with its spaces trimmed, if that is a level;
//   - otherwise, if the value is a number (as ReadCSV parses numbers: not
//     hex, no '_') whose shortest form is a level, that level, unless the
//     column has a level that is a number not in its shortest form
//     ("02134", "7.0"), which ReadCSV only keeps in a column named in
//     CSVOptions.Categorical: such a column is read as written.
//
// A value that maps to no level stays as it is, unseen, as the
// notebook's would be. The one case left open is a column named in
// CSVOptions.Categorical whose numeric levels all happen to be in
// shortest form: there "7.0" is taken as "7" where the notebook would
// see an unseen level.
type levelNorm struct {
	levels   map[string]bool
	verbatim bool // a level is a number not in shortest form: no canonical forms
}

// levelNorms returns, for each categorical input column of the schema,
// its normalisation (nil for numeric columns and columns no step
// encodes, whose values reach the pipeline as sent).
func levelNorms(p *experiments.Pipeline, schema []experiments.SchemaColumn) []*levelNorm {
	type categorizer interface{ Categories() map[string][]string }
	norms := make([]*levelNorm, len(schema))
	for _, st := range p.Steps {
		enc, ok := st.Estimator.(categorizer)
		if !ok {
			continue
		}
		cats := enc.Categories()
		for c, sc := range schema {
			levels, ok := cats[sc.Name]
			if !ok || sc.Kind == experiments.Numeric || norms[c] != nil {
				continue
			}
			n := &levelNorm{levels: make(map[string]bool, len(levels))}
			for _, l := range levels {
				n.levels[l] = true
				if nl, ok := experiments.NumberLevel(l); ok && nl != l {
					n.verbatim = true
				}
			}
			norms[c] = n
		}
	}
	return norms
}

// level returns the level the pipeline knows value s as (see levelNorm),
// or s.
func (n *levelNorm) level(s string) string {
	if n == nil || n.levels[s] {
		return s
	}
	t := strings.TrimSpace(s)
	if n.levels[t] {
		return t
	}
	if n.verbatim {
		return s
	}
	if l, ok := experiments.NumberLevel(t); ok {
		if n.levels[l] {
			return l
		}
	}
	return s
}
