package export

import (
	"bytes"
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

func TestSemverLess(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		less bool
	}{
		{"v0.57.0", "v0.59.0", true},
		{"v0.59.0", "v0.57.0", false},
		{"v1.2.3", "v1.2.3", false},
		{"v1.10.0", "v1.9.0", false},
		{"v2.77.0-RC1", "v2.77.0", true},
		{"v2.77.0", "v2.77.0-RC1", false},
		{"v2.76.0-RC.2", "v2.76.0-RC.10", true},
		{"v2.76.0-RC2", "v2.76.0-RC10", false}, // alphanumeric: compared as text
		{"v0.0.0-20211024235047-1546f124cd8b", "v0.0.0-20240319094008-0393e58bdf10", true},
		{"v0.6.1-0.20240319094008-0393e58bdf10", "v0.6.1", true},
		{"v1.0.0-alpha", "v1.0.0-alpha.1", true},
		{"v1.0.0-1", "v1.0.0-alpha", true},
		{"v2.0.0+incompatible", "v2.0.1", true},
	} {
		if got := semverLess(tt.a, tt.b); got != tt.less {
			t.Errorf("semverLess(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.less)
		}
	}
}

func TestWithBeam(t *testing.T) {
	gm, err := parseGoMod([]byte("module x\n\ngo 1.26.8\n\nrequire (\n\tgonum.org/v1/gonum v0.17.0\n\tgolang.org/x/net v0.57.0\n\tgolang.org/x/sys v9.0.0 // indirect\n)\n"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := withBeam(gm)
	if err != nil {
		t.Fatal(err)
	}
	if m.Requires[beamModule] == "" || m.Requires["gonum.org/v1/gonum"] != "v0.17.0" || m.Requires["golang.org/x/sys"] != "v9.0.0" {
		t.Errorf("merged requirements: %v", m.Requires)
	}
	if v := m.Requires["golang.org/x/net"]; !semverLess("v0.57.0", v) {
		t.Errorf("golang.org/x/net %s: Beam's newer version not taken", v)
	}
	f := string(m.file("iris/job"))
	if !strings.Contains(f, "Apache Beam") || !strings.Contains(f, "\t"+beamModule+" ") || !strings.Contains(f, "\nmodule iris/job\n") {
		t.Errorf("go.mod:\n%s", f)
	}
	// Every pinned module has its go.sum lines.
	sum := mergeSums([]byte("a v1 h1:x\n"), beamSum)
	for p, v := range m.Requires {
		if p == "golang.org/x/sys" || p == "gonum.org/v1/gonum" {
			continue // from the test's go.mod, not Beam's
		}
		if !bytes.Contains(sum, []byte(p+" "+v+"/go.mod ")) {
			t.Errorf("go.sum has no line for %s %s", p, v)
		}
	}
	if !bytes.HasPrefix(sum, []byte("a v1 h1:x\n")) && !bytes.Contains(sum, []byte("\na v1 h1:x\n")) {
		t.Error("merged go.sum lost a line")
	}
	if got := string(mergeSums([]byte("b 1\na 1\n"), []byte("a 1\nc 1\n"))); got != "a 1\nb 1\nc 1\n" {
		t.Errorf("mergeSums = %q", got)
	}
}

func TestBeamjobFile(t *testing.T) {
	src, err := beamjobFile("iris/job")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(src, []byte("//go:build")) || bytes.Contains(src, []byte("build constraint")) || bytes.Contains(src, []byte(`"`+ModulePath+"/")) {
		t.Errorf("the copy keeps the build constraint or gopherlab's import paths")
	}
	f, err := parser.ParseFile(token.NewFileSet(), "beamjob.go", src, parser.ImportsOnly|parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	if f.Name.Name != "beamjob" || f.Doc == nil || !strings.HasPrefix(f.Doc.Text(), "Package beamjob ") {
		t.Errorf("package %s, doc %q", f.Name.Name, f.Doc.Text())
	}
	var imports []string
	for _, is := range f.Imports {
		imports = append(imports, is.Path.Value)
	}
	all := strings.Join(imports, " ")
	for _, want := range []string{`"iris/job/internal/gopherlab/experiments"`, `"iris/job/internal/gopherlab/export/jobrt"`, "runners/prism", "runners/flink", "runners/spark", "runners/dataflow"} {
		if !strings.Contains(all, want) {
			t.Errorf("beamjob does not import %s", want)
		}
	}
}

func TestCheckBeamParams(t *testing.T) {
	nb := &Notebook{Cells: []*Cell{{Type: "code", Source: "seed := int64(1)\nproject := \"p\""}, {Type: "code", Source: "n := seed"}}}
	nb.Cells[0].SetTags([]string{TagParameters})
	nb.Cells[1].SetTags([]string{TagTrain}) // a parameters cell alone is no pipeline
	sel, err := Select(nb, SelectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = checkBeamParams(sel)
	if ce, ok := err.(*CellError); !ok || ce.Cell != 0 || ce.Line != 2 || !strings.Contains(ce.Msg, "parameter project has the name of a flag of Beam jobs (-project)") {
		t.Errorf("checkBeamParams = %v", err)
	}
	sel.Params = sel.Params[:1]
	if err := checkBeamParams(sel); err != nil {
		t.Error(err)
	}
}

func TestCheckJobParams(t *testing.T) {
	for _, tt := range []struct {
		param, want string
	}{
		{"workers", "parameter workers has the name of one of the job's own flags (-workers)"},
		{"q", "parameter q has the name"},
		{"dir", "parameter dir has the name"},
		{"h", "parameter h has the name"},
		{"trees", ""},
	} {
		sel := &Selection{Params: []Param{{Name: tt.param, Line: 2}}}
		err := checkJobParams(sel)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("parameter %s: %v, want %q", tt.param, err, tt.want)
		}
	}
}
