package export

import (
	"io/fs"
	"os"
	"path"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gopherlab/gopherlab/export/internal/exporttest"
)

// TestSourcePatterns checks that an FS holding only the files matched by
// SourcePatterns (what the gopherlab command embeds) has every package a
// job or a serving bundle copies, and the module files.
func TestSourcePatterns(t *testing.T) {
	root := os.DirFS(exporttest.RepoRoot(t))
	embedded := fstest.MapFS{}
	for _, pat := range strings.Fields(SourcePatterns) {
		matches, err := fs.Glob(root, pat)
		if err != nil || len(matches) == 0 {
			t.Fatalf("pattern %q: %v, %d files", pat, err, len(matches))
		}
		for _, m := range matches {
			b, err := fs.ReadFile(root, m)
			if err != nil {
				t.Fatal(err)
			}
			embedded[m] = &fstest.MapFile{Data: b}
		}
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		if _, ok := embedded[f]; !ok {
			t.Errorf("%s not embedded", f)
		}
	}
	roots := []string{ModulePath + "/export/jobrt", trackcheckPath, ModulePath + "/export/serving", ModulePath + "/display", ModulePath + "/experiments", ModulePath + "/tracking"}
	if _, err := copyPackages(embedded, t.TempDir(), "m/job", roots); err != nil {
		t.Fatalf("copy from the embedded files: %v", err)
	}
	// Without a package's files, the error names it.
	for name := range embedded {
		if path.Dir(name) == "display" {
			delete(embedded, name)
		}
	}
	_, err := copyPackages(embedded, t.TempDir(), "m/job", roots)
	if err == nil || !strings.Contains(err.Error(), "copy "+ModulePath+"/display") {
		t.Errorf("missing display: %v", err)
	}
}
