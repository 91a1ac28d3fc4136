package export

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Exporting again into the same directory says what it throws away that
// the earlier export's job made: the trained model, the built binaries.
func TestNoteReplaced(t *testing.T) {
	write := func(dir, name string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	note := func(out string) string {
		var logged []string
		noteReplaced(out, func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) })
		return strings.Join(logged, "\n")
	}
	out := t.TempDir()
	if s := note(out); s != "" {
		t.Errorf("empty directory: %q", s)
	}
	write(out, "job/"+marker)
	write(out, "serve/"+marker)
	write(out, "job/main.go")
	if s := note(out); s != "" {
		t.Errorf("nothing made from the export: %q", s)
	}
	write(out, "job/job")
	write(out, "serve/model/model.json")
	if s := note(out); !strings.Contains(s, "job/job (") || !strings.Contains(s, "serve/model/model.json (") || strings.Contains(s, "serve/server") {
		t.Errorf("note = %q", s)
	}
	// A directory an export did not make is refused by freshDir, not
	// described here.
	other := t.TempDir()
	write(other, "job/job")
	if s := note(other); s != "" {
		t.Errorf("foreign directory: %q", s)
	}
}
