// Package install owns gopherlab's Jupyter kernelspec: the kernel.json that
// tells Jupyter how to start the kernel, the logos frontends show for it,
// and the `gopherlab install` command that writes them where Jupyter looks.
//
// Locations follow jupyter_core and `ipykernel install`:
//
//	(default)      /usr/local/share/jupyter/kernels/NAME   (first system path)
//	--user         $JUPYTER_DATA_DIR, else $XDG_DATA_HOME/jupyter,
//	               else ~/.local/share/jupyter; then /kernels/NAME
//	--sys-prefix   sys.prefix of /usr/bin/python3 (/usr on Debian)/share/jupyter/kernels/NAME
//	--prefix DIR   DIR/share/jupyter/kernels/NAME
package install

//go:generate go run ./internal/genlogo -out .

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// Defaults written into kernel.json.
const (
	DefaultName        = "gopherlab"
	DefaultDisplayName = "Go (gopherlab)"
	Language           = "go"
)

// SystemDataDir is where a plain `gopherlab install` puts the kernelspec:
// the first entry of jupyter_core's SYSTEM_JUPYTER_PATH on Linux.
const SystemDataDir = "/usr/local/share/jupyter"

// Python is the interpreter whose sys.prefix --sys-prefix uses. Jupyter's
// Python packages come from Debian and live under it.
const Python = "/usr/bin/python3"

//go:embed logo-32x32.png logo-64x64.png logo-svg.svg
var logos embed.FS

// logoFiles lists the embedded files copied into every kernelspec.
var logoFiles = []string{"logo-32x32.png", "logo-64x64.png", "logo-svg.svg"}

// Spec is the content of kernel.json.
type Spec struct {
	Argv          []string       `json:"argv"`
	DisplayName   string         `json:"display_name"`
	Language      string         `json:"language"`
	InterruptMode string         `json:"interrupt_mode"`
	Metadata      map[string]any `json:"metadata"`
}

// NewSpec returns the kernelspec that starts binary as a kernel. An empty
// displayName means DefaultDisplayName.
func NewSpec(binary, displayName string) Spec {
	if displayName == "" {
		displayName = DefaultDisplayName
	}
	return Spec{
		Argv:        []string{binary, "kernel", "{connection_file}"},
		DisplayName: displayName,
		Language:    Language,
		// Interrupts arrive as control-channel messages, so a frontend never
		// signals the kernel process (its interpreter runs in a child).
		InterruptMode: "message",
		Metadata:      map[string]any{"debugger": false},
	}
}

// Kernelspec returns the kernel.json bytes for binary, which must be an
// absolute path: Jupyter starts the kernel from an arbitrary directory.
func Kernelspec(binary, displayName string) ([]byte, error) {
	if !filepath.IsAbs(binary) {
		return nil, fmt.Errorf("install: kernel binary %q is not an absolute path", binary)
	}
	b, err := json.MarshalIndent(NewSpec(binary, displayName), "", " ")
	if err != nil {
		return nil, fmt.Errorf("install: encode kernel.json: %w", err)
	}
	return append(b, '\n'), nil
}

// Options select where and under which name the kernelspec is installed.
// At most one of User, SysPrefix and Prefix may be set; none means the
// system-wide directory.
type Options struct {
	User        bool
	SysPrefix   bool
	Prefix      string
	Name        string // kernelspec name; DefaultName if empty
	DisplayName string // DefaultDisplayName if empty (or Name, if Name is set)
	Replace     bool   // overwrite an existing, different kernelspec
}

// locator resolves data directories. Tests substitute its functions so they
// never touch real system or home directories.
type locator struct {
	getenv    func(string) string
	home      func() (string, error)
	sysPrefix func() (string, error)
	systemDir string
}

var defaultLocator = locator{
	getenv:    os.Getenv,
	home:      os.UserHomeDir,
	sysPrefix: pythonSysPrefix,
	systemDir: SystemDataDir,
}

// pythonSysPrefix asks Jupyter's Python for sys.prefix, falling back to
// /usr, which is what Debian's /usr/bin/python3 answers.
func pythonSysPrefix() (string, error) {
	out, err := exec.Command(Python, "-c", "import sys; print(sys.prefix)").Output()
	if err != nil {
		return "/usr", nil
	}
	p := strings.TrimSpace(string(out))
	if p == "" {
		return "/usr", nil
	}
	return p, nil
}

// userDataDir is jupyter_core's jupyter_data_dir() on Linux.
func (l locator) userDataDir() (string, error) {
	if d := l.getenv("JUPYTER_DATA_DIR"); d != "" {
		return d, nil
	}
	if x := l.getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "jupyter"), nil
	}
	home, err := l.home()
	if err != nil {
		return "", fmt.Errorf("install: find home directory for --user: %w", err)
	}
	return filepath.Join(home, ".local", "share", "jupyter"), nil
}

// dataDir returns the Jupyter data directory the options select.
func (l locator) dataDir(o Options) (string, error) {
	n := 0
	for _, set := range []bool{o.User, o.SysPrefix, o.Prefix != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		return "", errors.New("install: choose at most one of --user, --sys-prefix and --prefix")
	}
	switch {
	case o.User:
		return l.userDataDir()
	case o.SysPrefix:
		p, err := l.sysPrefix()
		if err != nil {
			return "", fmt.Errorf("install: find sys.prefix: %w", err)
		}
		return filepath.Join(p, "share", "jupyter"), nil
	case o.Prefix != "":
		p, err := filepath.Abs(o.Prefix)
		if err != nil {
			return "", fmt.Errorf("install: prefix: %w", err)
		}
		return filepath.Join(p, "share", "jupyter"), nil
	default:
		return l.systemDir, nil
	}
}

// searchPath approximates jupyter_core's jupyter_path() for a Debian
// system Python: $JUPYTER_PATH, the user data dir, sys.prefix, system dirs.
func (l locator) searchPath() []string {
	var dirs []string
	if jp := l.getenv("JUPYTER_PATH"); jp != "" {
		dirs = append(dirs, filepath.SplitList(jp)...)
	}
	if d, err := l.userDataDir(); err == nil {
		dirs = append(dirs, d)
	}
	return append(dirs, "/usr/share/jupyter", l.systemDir)
}

// kernelNamePattern is jupyter_client's rule for kernelspec names.
var kernelNamePattern = regexp.MustCompile(`^[a-z0-9._\-]+$`)

// normalize fills in default names the way `ipykernel install` does: names
// are lower-cased, and a custom name without a display name is shown as is.
func (o Options) normalize() (Options, error) {
	if o.Name == "" {
		o.Name = DefaultName
	}
	o.Name = strings.ToLower(o.Name)
	if !kernelNamePattern.MatchString(o.Name) {
		return o, fmt.Errorf("install: invalid kernel name %q: use ASCII letters, digits and - . _", o.Name)
	}
	if o.DisplayName == "" && o.Name != DefaultName {
		o.DisplayName = o.Name
	}
	if o.DisplayName == "" {
		o.DisplayName = DefaultDisplayName
	}
	return o, nil
}

// Dir returns the kernelspec directory the options select, without writing.
func Dir(o Options) (string, error) {
	return defaultLocator.dir(o)
}

func (l locator) dir(o Options) (string, error) {
	o, err := o.normalize()
	if err != nil {
		return "", err
	}
	data, err := l.dataDir(o)
	if err != nil {
		return "", err
	}
	return filepath.Join(data, "kernels", o.Name), nil
}

// Install writes the kernelspec that starts binary and returns its
// directory. An existing kernelspec of the same name is replaced when
// o.Replace is set or when its kernel.json is the one Install would write.
func Install(o Options, binary string) (string, error) {
	return defaultLocator.install(o, binary)
}

func (l locator) install(o Options, binary string) (string, error) {
	o, err := o.normalize()
	if err != nil {
		return "", err
	}
	spec, err := Kernelspec(binary, o.DisplayName)
	if err != nil {
		return "", err
	}
	dest, err := l.dir(o)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(dest); err == nil && !o.Replace {
		old, _ := os.ReadFile(filepath.Join(dest, "kernel.json"))
		if !bytes.Equal(old, spec) {
			return "", fmt.Errorf("install: a different kernelspec already exists in %s; use --replace to overwrite it", dest)
		}
	}

	// Build the new spec beside the destination and swap it in, so a failed
	// write never leaves a half-written kernelspec that Jupyter would list.
	parent := filepath.Dir(dest)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("install: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+o.Name+"-")
	if err != nil {
		return "", fmt.Errorf("install: %w", err)
	}
	defer os.RemoveAll(tmp) // no-op once renamed
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", fmt.Errorf("install: %w", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "kernel.json"), spec, 0o644); err != nil {
		return "", fmt.Errorf("install: write kernel.json: %w", err)
	}
	for _, name := range logoFiles {
		data, err := logos.ReadFile(name)
		if err != nil {
			return "", fmt.Errorf("install: read embedded %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(tmp, name), data, 0o644); err != nil {
			return "", fmt.Errorf("install: write %s: %w", name, err)
		}
	}
	if err := os.RemoveAll(dest); err != nil {
		return "", fmt.Errorf("install: remove old kernelspec: %w", err)
	}
	if err := os.Rename(tmp, dest); err != nil {
		return "", fmt.Errorf("install: %w", err)
	}
	return dest, nil
}

// Run implements `gopherlab install [flags]`; args exclude "install".
// It reports where it installed on stdout.
func Run(args []string, stdout io.Writer) error {
	bin, err := os.Executable()
	if err != nil {
		return fmt.Errorf("install: find the gopherlab binary: %w", err)
	}
	if bin, err = filepath.EvalSymlinks(bin); err != nil {
		return fmt.Errorf("install: find the gopherlab binary: %w", err)
	}
	return defaultLocator.run(args, bin, stdout)
}

const usage = `usage: gopherlab install [--user | --sys-prefix | --prefix DIR] [--name NAME] [--display-name NAME] [--replace]

Install the gopherlab kernelspec so Jupyter can start this binary as a kernel.
Without a location flag it goes to ` + SystemDataDir + `/kernels/NAME.

`

func (l locator) run(args []string, binary string, stdout io.Writer) error {
	var o Options
	fs := flag.NewFlagSet("gopherlab install", flag.ContinueOnError)
	fs.BoolVar(&o.User, "user", false, "install for the current user (Jupyter's user data directory)")
	fs.BoolVar(&o.SysPrefix, "sys-prefix", false, "install into sys.prefix of "+Python+" (/usr on Debian)")
	fs.StringVar(&o.Prefix, "prefix", "", "install into `DIR`/share/jupyter/kernels")
	fs.StringVar(&o.Name, "name", DefaultName, "kernelspec `NAME`; needed to install several gopherlab kernels side by side")
	fs.StringVar(&o.DisplayName, "display-name", "", "name frontends show (default \""+DefaultDisplayName+"\", or --name if given)")
	fs.BoolVar(&o.Replace, "replace", false, "overwrite an existing kernelspec of the same name")
	// Errors are returned to the caller, which prints them; help goes to stdout.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return nil
		}
		return fmt.Errorf("install: %w (see gopherlab install --help)", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("install: unexpected argument %q (see gopherlab install --help)", fs.Arg(0))
	}
	dest, err := l.install(o, binary)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Installed kernelspec %s in %s\n", filepath.Base(dest), dest)
	if !l.onSearchPath(filepath.Dir(filepath.Dir(dest))) {
		fmt.Fprintf(stdout, "Note: %s is not on Jupyter's search path; set JUPYTER_PATH=%s for Jupyter to find it.\n",
			filepath.Dir(filepath.Dir(dest)), filepath.Dir(filepath.Dir(dest)))
	}
	return nil
}

func (l locator) onSearchPath(dataDir string) bool {
	for _, d := range l.searchPath() {
		if filepath.Clean(d) == filepath.Clean(dataDir) {
			return true
		}
	}
	return false
}
