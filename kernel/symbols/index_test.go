package symbols

import (
	"path"
	"sort"
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		path, name string
		kind, sig  string
		docPrefix  string
	}{
		{"strings", "Repeat", "func", "func Repeat(s string, count int) string", "Repeat returns a new string consisting of count copies"},
		{"fmt", "Println", "func", "func Println(a ...any) (n int, err error)", "Println formats using the default formats"},
		{"io", "EOF", "var", `var EOF = errors.New("EOF")`, "EOF is the error returned by Read"},
		{"math", "MaxInt64", "const", "const MaxInt64 = 1<<63 - 1", ""},
		{"time", "Duration", "type", "type Duration int64", "A Duration represents the elapsed time"},
		{"time", "Duration.Seconds", "method", "func (d Duration) Seconds() float64", "Seconds returns the duration as a floating point number"},
		{"gonum.org/v1/gonum/mat", "Dense", "type", "type Dense struct", "Dense is a dense matrix representation."},
		{"gonum.org/v1/gonum/mat", "Dense.Mul", "method", "func (m *Dense) Mul(a, b Matrix)", "Mul takes the matrix product of a and b"},
		{"gonum.org/v1/gonum/mat", "NewDense", "func", "func NewDense(r, c int, data []float64) *Dense", "NewDense creates a new Dense matrix"},
		{"gonum.org/v1/gonum/mat", "Matrix", "type", "type Matrix interface", "Matrix is the basic matrix interface type."},
		{"gonum.org/v1/gonum/mat", "Matrix.At", "method", "func (Matrix) At(i, j int) float64", "At returns the value of a matrix element"},
		{"gonum.org/v1/gonum/stat/distuv", "Normal.Rand", "method", "func (n Normal) Rand() float64", "Rand returns a random sample"},
		{"gonum.org/v1/plot/plotter", "NewScatter", "func", "func NewScatter(xys XYer) (*Scatter, error)", "NewScatter returns a Scatter"},
		{"gonum.org/v1/plot/vg", "Inch", "const", "const Inch = font.Inch", ""},
		{"slices", "Contains", "func", "func Contains[S ~[]E, E comparable](s S, v E) bool", "(Interpreted generic function"},
	}
	for _, tt := range tests {
		t.Run(tt.path+"."+tt.name, func(t *testing.T) {
			m, ok := Lookup(tt.path, tt.name)
			if !ok {
				t.Fatalf("Lookup(%q, %q) found nothing", tt.path, tt.name)
			}
			if m.Name != tt.name || m.Kind != tt.kind || m.Signature != tt.sig {
				t.Errorf("Lookup(%q, %q) = %q %q %q, want %q %q %q", tt.path, tt.name, m.Name, m.Kind, m.Signature, tt.name, tt.kind, tt.sig)
			}
			if !strings.HasPrefix(m.Doc, tt.docPrefix) {
				t.Errorf("doc = %q, want prefix %q", m.Doc, tt.docPrefix)
			}
		})
	}
}

func TestLookupMissing(t *testing.T) {
	tests := []struct{ path, name string }{
		{"strings", "NoSuchFunc"},
		{"strings", "repeat"}, // unexported
		{"no/such/package", "Repeat"},
		{"strings", "Lines"},       // an iterator: left out
		{"iter", "Seq"},            // a package yaegi v0.16.1 cannot use
		{"sync/atomic", "Pointer"}, // generic type skipped by yaegi extract
		{"gonum.org/v1/gonum/mat", "Dense.NoSuchMethod"},
		{"gonum.org/v1/gonum/mat", ""},
	}
	for _, tt := range tests {
		if m, ok := Lookup(tt.path, tt.name); ok {
			t.Errorf("Lookup(%q, %q) = %+v, want nothing", tt.path, tt.name, m)
		}
	}
}

func TestMembers(t *testing.T) {
	tests := []struct {
		path string
		want []string
	}{
		{"fmt", []string{"Println", "Sprintf", "Stringer", "Stringer.String", "Errorf"}},
		{"gonum.org/v1/gonum/mat", []string{"NewDense", "Dense", "Dense.Mul", "Dense.At", "Formatted", "Squeeze"}},
		{"gonum.org/v1/plot", []string{"New", "Plot", "Plot.Add", "Plot.WriterTo", "Plot.Save"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			ms := Members(tt.path)
			names := map[string]bool{}
			for _, m := range ms {
				names[m.Name] = true
			}
			for _, w := range tt.want {
				if !names[w] {
					t.Errorf("Members(%q) lacks %q", tt.path, w)
				}
			}
			if !sort.SliceIsSorted(ms, func(i, j int) bool { return ms[i].Name < ms[j].Name }) {
				t.Errorf("Members(%q) is not sorted by name", tt.path)
			}
		})
	}
	if ms := Members("no/such/package"); ms != nil {
		t.Errorf("Members of an unknown package = %v, want nil", ms)
	}
	// Callers get their own copy.
	ms := Members("fmt")
	ms[0].Name = "changed"
	if Members("fmt")[0].Name == "changed" {
		t.Error("Members returns the index's own slice")
	}
}

func TestPackages(t *testing.T) {
	ps := Packages()
	if !sort.StringsAreSorted(ps) {
		t.Error("Packages is not sorted")
	}
	has := map[string]bool{}
	for _, p := range ps {
		if has[p] {
			t.Errorf("Packages lists %q twice", p)
		}
		has[p] = true
		if strings.Contains(p, "internal") || strings.HasPrefix(p, "github.com/traefik/yaegi") {
			t.Errorf("Packages offers %q", p)
		}
	}
	for _, w := range []string{"fmt", "math/rand/v2", "encoding/json", "gonum.org/v1/gonum/mat", "gonum.org/v1/plot/plotter", "gonum.org/v1/plot/vg/vgimg", "github.com/gopherlab/gopherlab/display"} {
		if !has[w] {
			t.Errorf("Packages lacks %q", w)
		}
	}
}

func TestPackageDoc(t *testing.T) {
	tests := []struct{ path, synopsis, docPrefix string }{
		{"fmt", "Package fmt implements formatted I/O with functions analogous to C's printf and scanf.", "Package fmt implements formatted I/O"},
		{"gonum.org/v1/gonum/mat", "Package mat provides implementations of float64 and complex128 matrix structures and linear algebra operations on them.", "Package mat provides"},
		{"no/such/package", "", ""},
	}
	for _, tt := range tests {
		if got := PackageSynopsis(tt.path); got != tt.synopsis {
			t.Errorf("PackageSynopsis(%q) = %q, want %q", tt.path, got, tt.synopsis)
		}
		if got := PackageDoc(tt.path); !strings.HasPrefix(got, tt.docPrefix) || (tt.docPrefix == "") != (got == "") {
			t.Errorf("PackageDoc(%q) = %.80q..., want prefix %q", tt.path, got, tt.docPrefix)
		}
	}
}

// The index must describe exactly the packages that have tables, and offer only
// names a cell can use: a table entry, or a method of one. A failure here
// means the index is stale: run go generate ./kernel/symbols.
func TestIndexMatchesSymbols(t *testing.T) {
	if err := loadDocsErr(); err != nil {
		t.Fatal(err)
	}
	tables := map[string]map[string]bool{}
	for key, syms := range All() {
		names := map[string]bool{}
		for n := range syms {
			names[n] = true
		}
		tables[path.Dir(key)] = names
	}
	for _, p := range Packages() {
		if _, ok := loadDocs()[p]; !ok {
			t.Errorf("index has no entry for %q", p)
			continue
		}
		for _, m := range Members(p) {
			top, _, isMethod := strings.Cut(m.Name, ".")
			if isMethod != (m.Kind == "method") {
				t.Errorf("%s.%s has kind %q", p, m.Name, m.Kind)
			}
			if m.Signature == "" || strings.Contains(m.Signature, "\n") {
				t.Errorf("%s.%s: bad signature %q", p, m.Name, m.Signature)
			}
			if len(m.Doc) > 1600 {
				t.Errorf("%s.%s: doc of %d bytes is not trimmed", p, m.Name, len(m.Doc))
			}
			if !tables[p][top] && !strings.HasPrefix(m.Doc, "(Interpreted generic function") {
				t.Errorf("%s.%s is documented but not in the symbol table", p, m.Name)
			}
		}
	}
	if n := len(loadDocs()); n != len(Packages()) {
		t.Errorf("index has %d packages, Packages() %d", n, len(Packages()))
	}
}

func TestDecodeIndexErrors(t *testing.T) {
	for _, data := range [][]byte{[]byte("not gzip"), {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}} {
		if _, err := decodeIndex(data); err == nil {
			t.Errorf("decodeIndex(%q) succeeded", data)
		}
	}
	pkgs, err := decodeIndex(nil)
	if err != nil || len(pkgs) != 0 {
		t.Errorf("decodeIndex(nil) = %v, %v; want an empty index", pkgs, err)
	}
}

func loadDocsErr() error {
	loadDocs()
	return docs.err
}

// The first use may come from several requests at once.
func TestConcurrentUse(t *testing.T) {
	done := make(chan bool)
	for range 8 {
		go func() {
			_, ok := Lookup("strings", "Repeat")
			done <- ok && len(Packages()) > 0 && PackageDoc("fmt") != ""
		}()
	}
	for range 8 {
		if !<-done {
			t.Error("concurrent lookup failed")
		}
	}
}

// The cost of the first completion or inspection request.
func BenchmarkDecodeIndex(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeIndex(docIndexData); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	loadDocs()
	for b.Loop() {
		if _, ok := Lookup("gonum.org/v1/gonum/mat", "Dense.Mul"); !ok {
			b.Fatal("not found")
		}
	}
}
