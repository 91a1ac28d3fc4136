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
					names = append(names, embeddedName(f.Type))
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

// embeddedName is the field name of an embedded type: its type name.
func embeddedName(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.Ident:
			return x.Name
		case *ast.StarExpr:
			e = x.X
		case *ast.SelectorExpr:
			return x.Sel.Name
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.ParenExpr:
			e = x.X
		default:
			return ""
		}
	}
}
