package export

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime/debug"
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

// Exporting again replaces what the earlier export wrote and what its job
// and server made, and refuses, changing nothing, when that would delete
// a file the user added or edited there, unless forced.
func TestStagingKeepsUserFiles(t *testing.T) {
	// earlier is the earlier export: its parts as written, with the
	// marker listing them unless legacy (an export before the list).
	earlier := map[string]string{
		"job/main.go": "package main", "job/go.mod": "module m/job", "job/internal/gopherlab/x/x.go": "package x",
		"serve/main.go": "package main", "serve/k8s/hpa.yaml": "kind: HPA", "serve/model/.keep": "",
	}
	tests := []struct {
		name   string
		legacy bool
		force  bool
		after  map[string]string // what the user and the job did since ("" content: removed)
		want   []string          // in the error, or all replaced if none
	}{
		{name: "unchanged", after: nil},
		{name: "job and server ran", after: map[string]string{"job/job": "bin", "serve/server": "bin", "serve/model/model.gob": "m", "serve/model/model.json": "{}"}},
		{name: "a file removed", after: map[string]string{"job/main.go": ""}},
		{name: "files added", after: map[string]string{"serve/DEPLOY_NOTES.md": "notes", "job/mydata.csv": "1,2", "job/job": "bin"},
			want: []string{"job/mydata.csv", "serve/DEPLOY_NOTES.md"}},
		{name: "a file edited", after: map[string]string{"job/main.go": "package main // mine"},
			want: []string{"job/main.go (changed)"}},
		{name: "forced", force: true, after: map[string]string{"job/main.go": "package main // mine", "job/mydata.csv": "1,2"}},
		{name: "legacy marker: generated names", legacy: true, after: map[string]string{"job/main.go": "package main // mine", "serve/model/model.gob": "m"}},
		{name: "legacy marker: other files", legacy: true, after: map[string]string{"serve/DEPLOY_NOTES.md": "notes", "job/data/x.csv": "1"},
			want: []string{"job/data/x.csv", "serve/DEPLOY_NOTES.md"}},
	}
	write := func(t *testing.T, dir string, files map[string]string) {
		t.Helper()
		for name, content := range files {
			p := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	read := func(t *testing.T, dir string) map[string]string {
		t.Helper()
		got := map[string]string{}
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || d.Name() == marker {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			b, err := os.ReadFile(p)
			got[filepath.ToSlash(rel)] = string(b)
			return err
		})
		return got
	}
	stage := func(t *testing.T, out string, force bool, files map[string]string) (*staging, error) {
		t.Helper()
		st, err := newStaging(out, force)
		if err != nil {
			return nil, err
		}
		write(t, st.tmp, files)
		return st, nil
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			if tt.legacy {
				write(t, out, earlier)
				write(t, out, map[string]string{"job/" + marker: "made by gopherlab export; the next export replaces this directory\n", "serve/" + marker: "made by gopherlab export; the next export replaces this directory\n"})
			} else {
				st, err := stage(t, out, false, earlier)
				if err != nil {
					t.Fatal(err)
				}
				if err := st.commit(); err != nil {
					t.Fatal(err)
				}
			}
			for name, content := range tt.after {
				if content == "" {
					os.Remove(filepath.Join(out, filepath.FromSlash(name)))
				} else {
					write(t, out, map[string]string{name: content})
				}
			}
			before := read(t, out)
			next := map[string]string{"job/main.go": "package main // new", "serve/main.go": "package main // new"}
			st, err := stage(t, out, tt.force, next)
			if err == nil {
				err = st.commit()
			}
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if got := read(t, out); !maps.Equal(got, next) {
					t.Errorf("after the export: %v, want %v", got, next)
				}
				return
			}
			if err == nil {
				t.Fatalf("export replaced %v", before)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %s", err, w)
				}
			}
			if !strings.Contains(err.Error(), "--force") {
				t.Errorf("error %q does not say how to proceed", err)
			}
			if got := read(t, out); !maps.Equal(got, before) {
				t.Errorf("the refused export changed %v into %v", before, got)
			}
		})
	}
}

// A file added while the export runs is kept: commit looks again.
func TestStagingCommitChecksAgain(t *testing.T) {
	out := t.TempDir()
	for range 2 {
		st, err := newStaging(out, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range []string{"job", "serve"} {
			if err := os.MkdirAll(st.dir(d), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(st.dir(d), "main.go"), []byte("package main"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := os.Stat(filepath.Join(out, "job")); err == nil {
			if err := os.WriteFile(filepath.Join(out, "job", "notes.txt"), []byte("mine"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		err = st.commit()
		st.abort()
		if _, statErr := os.Stat(filepath.Join(out, "job", "notes.txt")); statErr == nil {
			if err == nil || !strings.Contains(err.Error(), "job/notes.txt") {
				t.Errorf("commit: %v", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("no second export")
}

func TestWithRevision(t *testing.T) {
	rev := []debug.BuildSetting{{Key: "vcs.revision", Value: "1b33f9c2ab71d0e1f2a3b4c5d6e7f8091a2b3c4d"}, {Key: "vcs.modified", Value: "false"}}
	for _, tc := range []struct {
		version  string
		settings []debug.BuildSetting
		want     string
	}{
		{"v0.3.0", rev, "v0.3.0"},
		{"(devel)", rev, "(devel) 1b33f9c2ab71"},
		{"(devel)", append(rev[:1:1], debug.BuildSetting{Key: "vcs.modified", Value: "true"}), "(devel) 1b33f9c2ab71+dirty"},
		{"(devel)", nil, "(devel)"}, // built without VCS information (-buildvcs=false, go run)
	} {
		if got := withRevision(tc.version, tc.settings); got != tc.want {
			t.Errorf("withRevision(%q, %v) = %q, want %q", tc.version, tc.settings, got, tc.want)
		}
	}
}
