package gocell

import "go/ast"

// A cell's final expression is shown as its result, but not every call
// has a result worth showing: the interpreter (kernel/goeval) and the
// exported job (export) both follow these two lists.

// NoValueBuiltin reports whether name is a builtin called for its effect
// (copy, print, panic, ...): as a cell's final call it shows nothing.
func NoValueBuiltin(name string) bool { return noValueBuiltins[name] }

var noValueBuiltins = map[string]bool{
	"copy": true, "print": true, "println": true, "panic": true,
	"close": true, "delete": true, "clear": true,
}

// ByteCount reports whether call is to a function or method whose
// results other than an error count bytes or items read or written
// (fmt.Println, w.Write, io.Copy, ...): a cell ending in one shows only
// a non-nil error, not how much was written.
func ByteCount(call *ast.CallExpr) bool {
	switch f := ast.Unparen(call.Fun).(type) {
	case *ast.Ident:
		return byteCounts[f.Name]
	case *ast.SelectorExpr:
		return byteCounts[f.Sel.Name]
	}
	return false
}

var byteCounts = map[string]bool{
	"Print": true, "Println": true, "Printf": true, "Fprint": true, "Fprintln": true, "Fprintf": true,
	"Scan": true, "Scanln": true, "Scanf": true, "Sscan": true, "Sscanln": true, "Sscanf": true,
	"Fscan": true, "Fscanln": true, "Fscanf": true,
	"Write": true, "WriteString": true, "WriteRune": true, "WriteAt": true, "WriteTo": true,
	"Read": true, "ReadAt": true, "ReadFrom": true, "ReadFull": true, "ReadAtLeast": true,
	"Copy": true, "CopyN": true, "CopyBuffer": true, "Discard": true,
}
