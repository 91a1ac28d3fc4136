package goeval

import (
	"go/ast"

	"github.com/gopherlab/gopherlab/internal/fieldname"
)

// declareFieldNames gives the display the source names of the fields of
// every struct type a cell spells out (declared types, anonymous structs
// in statements), which yaegi renames when they are not exported (see
// internal/fieldname).
func declareFieldNames(prs []*parsedRun) {
	for _, pr := range prs {
		ast.Inspect(pr.file, func(n ast.Node) bool {
			st, ok := n.(*ast.StructType)
			if !ok || st.Fields == nil {
				return true
			}
			var names []string
			for _, f := range st.Fields.List {
				if len(f.Names) == 0 {
					names = append(names, typeName(f.Type)) // embedded: its type's name
					continue
				}
				for _, id := range f.Names {
					names = append(names, id.Name)
				}
			}
			fieldname.Declare(names)
			return true
		})
	}
}
