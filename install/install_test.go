package install

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// testLocator resolves every location inside root, with env as the
// environment, so tests never touch real system or home directories.
func testLocator(root string, env map[string]string) locator {
	return locator{
		getenv:    func(k string) string { return env[k] },
		home:      func() (string, error) { return filepath.Join(root, "home"), nil },
		sysPrefix: func() (string, error) { return filepath.Join(root, "sysprefix"), nil },
		systemDir: filepath.Join(root, "system", "share", "jupyter"),
	}
}

const fakeBinary = "/opt/gopherlab/bin/gopherlab"

func readSpec(t *testing.T, dir string) Spec {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "kernel.json"))
	if err != nil {
		t.Fatalf("read kernel.json: %v", err)
	}
	var s Spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("decode kernel.json: %v\n%s", err, data)
	}
	return s
}

func TestRunFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantDir string // relative to the test root; "" when an error is expected
		display string
		wantErr string
	}{
		{name: "default is the system path", args: nil,
			wantDir: "system/share/jupyter/kernels/gopherlab", display: DefaultDisplayName},
		{name: "user with JUPYTER_DATA_DIR", args: []string{"--user"},
			env:     map[string]string{"JUPYTER_DATA_DIR": "ROOT/jdd", "XDG_DATA_HOME": "ROOT/xdg"},
			wantDir: "jdd/kernels/gopherlab", display: DefaultDisplayName},
		{name: "user with XDG_DATA_HOME", args: []string{"--user"},
			env:     map[string]string{"XDG_DATA_HOME": "ROOT/xdg"},
			wantDir: "xdg/jupyter/kernels/gopherlab", display: DefaultDisplayName},
		{name: "user in home", args: []string{"--user"},
			wantDir: "home/.local/share/jupyter/kernels/gopherlab", display: DefaultDisplayName},
		{name: "single dash flag", args: []string{"-user"},
			wantDir: "home/.local/share/jupyter/kernels/gopherlab", display: DefaultDisplayName},
		{name: "sys-prefix", args: []string{"--sys-prefix"},
			wantDir: "sysprefix/share/jupyter/kernels/gopherlab", display: DefaultDisplayName},
		{name: "prefix as separate argument", args: []string{"--prefix", "ROOT/p"},
			wantDir: "p/share/jupyter/kernels/gopherlab", display: DefaultDisplayName},
		{name: "prefix with equals", args: []string{"--prefix=ROOT/p2"},
			wantDir: "p2/share/jupyter/kernels/gopherlab", display: DefaultDisplayName},
		{name: "name is lower-cased and becomes the display name", args: []string{"--user", "--name", "Go-Dev"},
			wantDir: "home/.local/share/jupyter/kernels/go-dev", display: "go-dev"},
		{name: "name and display name", args: []string{"--user", "--name", "go1", "--display-name", "Go 1"},
			wantDir: "home/.local/share/jupyter/kernels/go1", display: "Go 1"},
		{name: "display name only", args: []string{"--user", "--display-name=My Go"},
			wantDir: "home/.local/share/jupyter/kernels/gopherlab", display: "My Go"},
		{name: "user and prefix conflict", args: []string{"--user", "--prefix", "ROOT/p"},
			wantErr: "at most one"},
		{name: "user and sys-prefix conflict", args: []string{"--sys-prefix", "--user"},
			wantErr: "at most one"},
		{name: "invalid name", args: []string{"--user", "--name", "go lab"},
			wantErr: "invalid kernel name"},
		{name: "unknown flag", args: []string{"--bogus"},
			wantErr: "flag provided but not defined"},
		{name: "positional argument", args: []string{"--user", "extra"},
			wantErr: `unexpected argument "extra"`},
		{name: "prefix without value", args: []string{"--prefix"},
			wantErr: "flag needs an argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			env := map[string]string{}
			for k, v := range tt.env {
				env[k] = strings.ReplaceAll(v, "ROOT", root)
			}
			args := make([]string, len(tt.args))
			for i, a := range tt.args {
				args[i] = strings.ReplaceAll(a, "ROOT", root)
			}
			var out bytes.Buffer
			err := testLocator(root, env).run(args, fakeBinary, &out)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("run(%q) error = %v, want one containing %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("run(%q): %v", tt.args, err)
			}
			dir := filepath.Join(root, tt.wantDir)
			if !strings.Contains(out.String(), "Installed kernelspec "+filepath.Base(dir)+" in "+dir) {
				t.Errorf("output does not say where it installed:\n%s", out.String())
			}
			s := readSpec(t, dir)
			want := []string{fakeBinary, "kernel", "{connection_file}"}
			if strings.Join(s.Argv, "\x00") != strings.Join(want, "\x00") {
				t.Errorf("argv = %q, want %q", s.Argv, want)
			}
			if s.DisplayName != tt.display {
				t.Errorf("display_name = %q, want %q", s.DisplayName, tt.display)
			}
			if s.Language != "go" || s.InterruptMode != "message" || s.Metadata == nil {
				t.Errorf("language/interrupt_mode/metadata = %q/%q/%v", s.Language, s.InterruptMode, s.Metadata)
			}
			for _, size := range []int{32, 64} {
				name := filepath.Join(dir, fmt.Sprintf("logo-%dx%d.png", size, size))
				f, err := os.Open(name)
				if err != nil {
					t.Fatal(err)
				}
				img, err := png.Decode(f)
				f.Close()
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if b := img.Bounds(); b.Dx() != size || b.Dy() != size {
					t.Errorf("%s is %v, want %dx%d", name, b, size, size)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "logo-svg.svg")); err != nil {
				t.Error(err)
			}
			// Nothing but the kernelspec is left in the kernels directory.
			entries, err := os.ReadDir(filepath.Dir(dir))
			if err != nil || len(entries) != 1 {
				t.Errorf("kernels directory holds %v (%v), want only %s", entries, err, filepath.Base(dir))
			}
		})
	}
}

func TestRunHelp(t *testing.T) {
	root := t.TempDir()
	var out bytes.Buffer
	if err := testLocator(root, nil).run([]string{"--help"}, fakeBinary, &out); err != nil {
		t.Fatalf("--help: %v", err)
	}
	for _, want := range []string{"usage: gopherlab install", "-sys-prefix", "-display-name", "-replace"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, out.String())
		}
	}
	if _, err := os.Stat(filepath.Join(root, "system")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("--help installed something: %v", err)
	}
}

func TestReplace(t *testing.T) {
	root := t.TempDir()
	l := testLocator(root, nil)
	prefix := filepath.Join(root, "p")
	dir := filepath.Join(prefix, "share", "jupyter", "kernels", "gopherlab")
	steps := []struct {
		args    []string
		binary  string
		wantErr bool
		display string
	}{
		{args: nil, binary: fakeBinary, display: DefaultDisplayName},
		// The same kernelspec again: an idempotent re-install.
		{args: nil, binary: fakeBinary, display: DefaultDisplayName},
		// A different one is refused without --replace and leaves the old one.
		{args: []string{"--display-name", "Other"}, binary: fakeBinary, wantErr: true, display: DefaultDisplayName},
		{args: nil, binary: "/other/gopherlab", wantErr: true, display: DefaultDisplayName},
		{args: []string{"--display-name", "Other", "--replace"}, binary: fakeBinary, display: "Other"},
	}
	for i, st := range steps {
		var out bytes.Buffer
		err := l.run(append([]string{"--prefix", prefix}, st.args...), st.binary, &out)
		if (err != nil) != st.wantErr {
			t.Fatalf("step %d (%q): error = %v, wantErr %v", i, st.args, err, st.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "--replace") {
			t.Errorf("step %d: error %q does not mention --replace", i, err)
		}
		if got := readSpec(t, dir).DisplayName; got != st.display {
			t.Errorf("step %d: display_name = %q, want %q", i, got, st.display)
		}
	}
}

func TestRunNotOnSearchPath(t *testing.T) {
	root := t.TempDir()
	prefix := filepath.Join(root, "p")
	var out bytes.Buffer
	if err := testLocator(root, nil).run([]string{"--prefix", prefix}, fakeBinary, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "JUPYTER_PATH="+filepath.Join(prefix, "share", "jupyter")) {
		t.Errorf("no JUPYTER_PATH hint for a prefix Jupyter does not search:\n%s", out.String())
	}
	out.Reset()
	env := map[string]string{"JUPYTER_PATH": filepath.Join(prefix, "share", "jupyter")}
	if err := testLocator(root, env).run([]string{"--prefix", prefix, "--replace"}, fakeBinary, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "JUPYTER_PATH") {
		t.Errorf("JUPYTER_PATH hint although the prefix is on it:\n%s", out.String())
	}
}

func TestKernelspec(t *testing.T) {
	tests := []struct {
		binary, display string
		wantErr         bool
		wantDisplay     string
	}{
		{binary: "/usr/local/bin/gopherlab", wantDisplay: DefaultDisplayName},
		{binary: "/x/gopherlab", display: "Go dev", wantDisplay: "Go dev"},
		{binary: "gopherlab", wantErr: true},
		{binary: "./bin/gopherlab", wantErr: true},
	}
	for _, tt := range tests {
		b, err := Kernelspec(tt.binary, tt.display)
		if (err != nil) != tt.wantErr {
			t.Fatalf("Kernelspec(%q) error = %v, wantErr %v", tt.binary, err, tt.wantErr)
		}
		if err != nil {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		argv, _ := m["argv"].([]any)
		if len(argv) != 3 || argv[0] != tt.binary || argv[1] != "kernel" || argv[2] != "{connection_file}" {
			t.Errorf("argv = %v", m["argv"])
		}
		if m["display_name"] != tt.wantDisplay || m["language"] != "go" || m["interrupt_mode"] != "message" {
			t.Errorf("kernel.json = %s", b)
		}
		if _, ok := m["metadata"].(map[string]any); !ok {
			t.Errorf("metadata missing: %s", b)
		}
	}
}

// TestRunUsesResolvedExecutable checks the exported entry point records the
// running binary with symlinks resolved.
func TestRunUsesResolvedExecutable(t *testing.T) {
	prefix := t.TempDir()
	var out bytes.Buffer
	if err := Run([]string{"--prefix", prefix}, &out); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	exe, err = filepath.EvalSymlinks(exe)
	if err != nil {
		t.Fatal(err)
	}
	s := readSpec(t, filepath.Join(prefix, "share", "jupyter", "kernels", "gopherlab"))
	if s.Argv[0] != exe {
		t.Errorf("argv[0] = %q, want %q", s.Argv[0], exe)
	}
}

// TestJupyterFindsKernelspec asks jupyter_client itself to list the
// installed kernelspec.
func TestJupyterFindsKernelspec(t *testing.T) {
	if _, err := os.Stat(Python); err != nil {
		t.Skipf("%s not installed", Python)
	}
	if err := exec.Command(Python, "-c", "import jupyter_client.kernelspecapp").Run(); err != nil {
		t.Skipf("jupyter_client not importable by %s (install python3-jupyter-client): %v", Python, err)
	}
	prefix := t.TempDir()
	var out bytes.Buffer
	if err := testLocator(prefix, nil).run([]string{"--prefix", prefix, "--name", "gopherlab-test"}, fakeBinary, &out); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(prefix, "share", "jupyter")
	cmd := exec.Command(Python, "-m", "jupyter_client.kernelspecapp", "list", "--json")
	cmd.Env = append(os.Environ(), "JUPYTER_PATH="+data, "PYDEVD_DISABLE_FILE_VALIDATION=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("kernelspecapp list: %v\n%s", err, stderr.String())
	}
	var list struct {
		Kernelspecs map[string]struct {
			ResourceDir string `json:"resource_dir"`
			Spec        Spec   `json:"spec"`
		} `json:"kernelspecs"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatalf("decode kernelspec list: %v\n%s", err, b)
	}
	ks, ok := list.Kernelspecs["gopherlab-test"]
	if !ok {
		t.Fatalf("jupyter_client does not list gopherlab-test:\n%s", b)
	}
	if want := filepath.Join(data, "kernels", "gopherlab-test"); ks.ResourceDir != want {
		t.Errorf("resource_dir = %q, want %q", ks.ResourceDir, want)
	}
	if ks.Spec.Language != "go" || ks.Spec.InterruptMode != "message" || len(ks.Spec.Argv) != 3 || ks.Spec.Argv[0] != fakeBinary {
		t.Errorf("jupyter_client read spec %+v", ks.Spec)
	}
}
