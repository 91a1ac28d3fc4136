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
// So the server reads a value as ReadCSV read the column's training
// values, which the fitted pipeline records for each categorical column
// (experiments.SchemaColumn.Levels):
//
//   - a known level is used as is;
//   - otherwise the value with its spaces trimmed, if that is a level;
//   - otherwise, in a column whose numbers are levels in their shortest
//     form (experiments.LevelsNumbers), if the value is a number (as
//     ReadCSV parses numbers: not hex, no '_') whose shortest form is a
//     level, that level. A column read as written
//     (experiments.LevelsAsWritten: named in CSVOptions.Categorical, or
//     made from strings) has no other spellings: "7.0" is not "7".
//
// A pipeline saved before the form was recorded (format version 4 and
// earlier: experiments.LevelsUnrecorded) is read by its levels, as then:
// numbers map to their shortest form unless the column has a level that
// is a number not in its shortest form ("02134", "7.0"), which ReadCSV
// only keeps in a column read as written. There a declared-categorical
// column whose numeric levels all happen to be in shortest form takes
// "7.0" as "7" where the notebook would see an unseen level; running the
// job again, which fits the pipeline again, records the form.
//
// A value that maps to no level stays as it is, unseen, as the
// notebook's would be.
type levelNorm struct {
	levels   map[string]bool
	verbatim bool // levels as written: no other spellings of numbers
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
			n := &levelNorm{levels: make(map[string]bool, len(levels)), verbatim: sc.Levels == experiments.LevelsAsWritten}
			for _, l := range levels {
				n.levels[l] = true
				if sc.Levels != experiments.LevelsUnrecorded {
					continue
				}
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
