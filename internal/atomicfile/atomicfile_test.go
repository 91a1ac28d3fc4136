package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.gob")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	for _, tc := range []struct {
		name  string
		write func(io.Writer) error
		err   error
		want  string
	}{
		{"a failure half-way keeps the old file", func(w io.Writer) error { io.WriteString(w, "half"); return boom }, boom, "old"},
		{"a complete write replaces it", func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }, nil, "new"},
	} {
		err := Write(path, 0o644, tc.write)
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.err)
		}
		if b, _ := os.ReadFile(path); string(b) != tc.want {
			t.Errorf("%s: file holds %q, want %q", tc.name, b, tc.want)
		}
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode().Perm())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); left != nil {
		t.Errorf("temporary files left: %v", left)
	}
	if err := Write(filepath.Join(dir, "no", "dir", "x"), 0o644, func(io.Writer) error { return nil }); err == nil {
		t.Error("a path in a missing directory was written")
	}
}
