package symbols

// Member describes one exported identifier of a package the kernel ships,
// for completion and inspection. Methods are named "Type.Method".
type Member struct {
	Name      string `json:"name"`
	Kind      string `json:"kind"` // "func", "type", "var", "const" or "method"
	Signature string `json:"signature"`
	Doc       string `json:"doc"`
}

// Packages returns the import paths of every package cells can import,
// sorted.
func Packages() []string { return docPackages() }

// PackageDoc returns the package's doc comment.
func PackageDoc(path string) string { return docPackage(path) }

// Members returns the exported members of the package at path, sorted by
// name; methods are included as "Type.Method".
func Members(path string) []Member { return docMembers(path) }

// Lookup finds one member ("Name" or "Type.Method") of the package at path.
func Lookup(path, name string) (Member, bool) { return docLookup(path, name) }
