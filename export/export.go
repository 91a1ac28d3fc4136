package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/gopherlab/gopherlab/export/jobrt"
	"github.com/gopherlab/gopherlab/tracking"
)

// ExportOptions controls Export.
type ExportOptions struct {
	// Out is the directory to write job/ and serve/ into.
	Out string
	// All exports untagged code cells too.
	All bool
	// Name names the job, the model and the modules (default: the
	// notebook's file name).
	Name string
	// Model is the variable holding the fitted *experiments.Pipeline to
	// serve (default: the only one, else the last one a train cell
	// defines).
	Model string
	// RunID exports the pipeline of a tracked run: its parameters become
	// the job's defaults and its metrics what the job must reproduce.
	RunID string
	// DB is the tracking database for RunID ("" means the default).
	DB string
	// Beam adds the Apache Beam mode to the job: with -runner it runs the
	// cells' model-selection fits as a Beam pipeline (see beam.go). The
	// job's module then requires the Beam Go SDK.
	Beam bool
	// Force replaces an earlier export in Out even where it holds files
	// that export did not write, or wrote and were changed since, which
	// are otherwise kept and make the export fail.
	Force bool
	// Log, if set, gets a line per step.
	Log io.Writer
}

// ExportResult says what Export wrote.
type ExportResult struct {
	JobDir   string         // absolute path of the job's module (Out/job)
	ServeDir string         // absolute path of the serving bundle (Out/serve); "" if none was written
	Manifest jobrt.Manifest // the job's manifest, as written to JobDir/manifest.json
}

// marker marks directories Export made, which it may replace.
const marker = ".gopherlab-export"

// Export turns the chosen cells of a notebook into a training job (a Go
// module in Out/job) and a serving bundle (Out/serve); see the package
// documentation.
func Export(nbPath string, opts ExportOptions) (*ExportResult, error) {
	logf := func(format string, args ...any) {
		if opts.Log != nil {
			fmt.Fprintf(opts.Log, format+"\n", args...)
		}
	}
	if opts.Out == "" {
		return nil, errors.New("export: no output directory (-o DIR)")
	}
	var tracked *jobrt.TrackedRun
	var runInfo *tracking.RunInfo
	if opts.RunID != "" {
		tr, ri, err := trackedRun(opts.DB, opts.RunID)
		if err != nil {
			return nil, err
		}
		tracked, runInfo = tr, ri
		nb := ri.Notebook
		if nbPath == "" {
			if nb == "" {
				return nil, fmt.Errorf("export: run %s records no notebook: name it", opts.RunID)
			}
			nbPath = nb
		}
	}
	if nbPath == "" {
		return nil, errors.New("export: no notebook")
	}
	absNB, err := filepath.Abs(nbPath)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	nb, err := ReadNotebook(absNB)
	if err != nil {
		return nil, err
	}
	sel, err := Select(nb, SelectOptions{All: opts.All})
	if err != nil {
		return nil, err
	}
	if tracked != nil {
		if err := checkRunCell(sel, absNB, runInfo, logf); err != nil {
			return nil, err
		}
		if err := applyRunParams(sel, tracked, logf); err != nil {
			return nil, err
		}
	}
	if err := checkJobParams(sel); err != nil {
		return nil, err
	}
	if opts.Beam {
		if err := checkBeamParams(sel); err != nil {
			return nil, err
		}
	}
	name := opts.Name
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(absNB), filepath.Ext(absNB))
	}
	name = sanitizeName(name)
	src, err := sourceFS()
	if err != nil {
		return nil, err
	}
	gomodData, err := fs.ReadFile(src, "go.mod")
	if err != nil {
		return nil, fmt.Errorf("export: gopherlab sources: %w", err)
	}
	gosum, err := fs.ReadFile(src, "go.sum")
	if err != nil {
		return nil, fmt.Errorf("export: gopherlab sources: %w", err)
	}
	gm, err := parseGoMod(gomodData)
	if err != nil {
		return nil, err
	}
	jobMod, jobSum := gm, gosum
	if opts.Beam {
		if jobMod, err = withBeam(gm); err != nil {
			return nil, err
		}
		jobSum = mergeSums(gosum, beamSum)
	}

	out, err := filepath.Abs(opts.Out)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	st, err := newStaging(out, opts.Force)
	if err != nil {
		return nil, err
	}
	defer st.abort()
	jobDir := st.dir("job")
	module := name + "/job"
	roots := []string{ModulePath + "/export/jobrt"}
	for _, p := range sel.imports {
		if p == ModulePath || strings.HasPrefix(p, ModulePath+"/") {
			roots = append(roots, p)
		}
		if p == ModulePath+"/tracking" || p == ModulePath+"/experiments" {
			// The job logs its fits, as the kernel does.
			roots = append(roots, ModulePath+"/tracking", trackcheckPath)
		}
	}
	copied, err := copyPackages(src, jobDir, module, roots)
	if err != nil {
		return nil, err
	}
	logf("job: copied %s", strings.Join(copied, ", "))
	if err := writeFiles(jobDir, map[string][]byte{
		"go.mod": jobMod.file(module),
		"go.sum": jobSum,
	}); err != nil {
		return nil, err
	}
	logf("job: type-checking the cells (compiles the packages they import)")
	g, mainGo, err := generateJob(sel, module, jobDir, absNB, opts.Model, opts.Beam)
	if err != nil {
		return nil, err
	}
	m, err := buildManifest(sel, g, absNB, name, jobMod)
	if err != nil {
		return nil, err
	}
	m.TrackedRun = tracked
	for _, u := range m.Unpinned {
		logf("warning: cell %d reads a file with %s: its name is computed, so the manifest cannot pin its content (write the path as a string or a parameter); the job compares the data its run uses with the tracked run's", u.Cell, u.Call)
	}
	if opts.Beam {
		m.Beam = jobMod.Requires[beamModule]
		src, err := beamjobFile(module)
		if err != nil {
			return nil, err
		}
		if err := writeFiles(jobDir, map[string][]byte{
			"internal/gopherlab/export/beamjob/beamjob.go": src,
			"beam.go": fmt.Appendf(nil, beamGo, copiedPath(module, beamjobPath)),
		}); err != nil {
			return nil, err
		}
		logf("job: Apache Beam mode (Go SDK %s): -runner prism|direct|flink|spark|universal|dataflow", m.Beam)
	}
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("export: manifest: %w", err)
	}
	cgo := slices.Contains(roots, ModulePath+"/tracking") // go-sqlite3
	readme, err := render(jobReadme, map[string]any{"M": m, "Name": name, "Cgo": cgo})
	if err != nil {
		return nil, err
	}
	if err := writeFiles(jobDir, map[string][]byte{
		"main.go":       mainGo,
		"manifest.json": append(manifest, '\n'),
		"README.md":     readme,
	}); err != nil {
		return nil, err
	}
	res := &ExportResult{JobDir: filepath.Join(out, "job"), Manifest: *m}
	if m.Model != "" {
		if err := writeServe(src, st.dir("serve"), name, gm, gosum, m); err != nil {
			return nil, err
		}
		res.ServeDir = filepath.Join(out, "serve")
	}
	noteReplaced(out, logf)
	kept, err := st.check()
	if err != nil {
		return nil, err
	}
	if len(kept) > 0 {
		logf("export: --force: deleting what the earlier export did not write, or wrote and was changed since: %s", strings.Join(kept, ", "))
	}
	if err := st.commit(); err != nil {
		return nil, err
	}
	logf("job: %s (%d cells, %d parameters, %d data files)", res.JobDir, len(m.Cells), len(m.Params), len(m.Data))
	if m.Model == "" {
		logf("serve: no *experiments.Pipeline or *experiments.GridSearch variable in the exported cells: no serving bundle")
	} else {
		logf("serve: %s (model written by the job to %s)", res.ServeDir, filepath.Join(res.ServeDir, "model"))
	}
	return res, nil
}

// staging is where an export is written: a directory beside its
// destination, moved into place only when the export is whole, so that
// an export that fails (an error in a cell) or is interrupted leaves the
// earlier export, its built job and trained model as they were.
type staging struct {
	out, tmp string
	// force replaces the earlier export's parts even when they hold
	// files it did not make, or made and the user changed.
	force bool
}

// stagingPrefix names staging directories; one older than staleStaging
// was left by an interrupted export and is removed by the next.
const (
	stagingPrefix = ".export-"
	staleStaging  = time.Hour
)

func newStaging(out string, force bool) (*staging, error) {
	s := &staging{out: out, force: force}
	if _, err := s.check(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if entries, err := os.ReadDir(out); err == nil {
		for _, e := range entries {
			if !e.IsDir() || !strings.HasPrefix(e.Name(), stagingPrefix) {
				continue
			}
			if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleStaging {
				os.RemoveAll(filepath.Join(out, e.Name()))
			}
		}
	}
	tmp, err := os.MkdirTemp(out, stagingPrefix)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	s.tmp = tmp
	return s, nil
}

// dir returns the staging directory of one part of the export (job,
// serve), empty.
func (s *staging) dir(name string) string { return filepath.Join(s.tmp, name) }

// check reports an error if replacing the earlier export's parts would
// delete anything but what that export wrote, unchanged, and what its
// job and server make; with force it returns those files instead (paths
// relative to out, slash-separated).
func (s *staging) check() ([]string, error) {
	var kept []string
	for _, name := range []string{"job", "serve"} {
		dir := filepath.Join(s.out, name)
		if err := replaceable(dir); err != nil {
			return nil, err
		}
		files, err := userFiles(dir)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			kept = append(kept, name+"/"+f)
		}
	}
	if len(kept) == 0 || s.force {
		return kept, nil
	}
	const show = 20
	list := kept
	if len(list) > show {
		list = append(list[:show:show], fmt.Sprintf("and %d more", len(kept)-show))
	}
	return nil, fmt.Errorf("export: %s holds files the earlier export did not write, or wrote and were changed since: %s; exporting again would delete them: move them out of %s/job and %s/serve, or pass --force to replace them anyway",
		s.out, strings.Join(list, ", "), s.out, s.out)
}

// commit replaces the earlier export's parts with the staged ones. A
// part the new export does not have (serve, when no pipeline is
// exported) is removed, so what is left is this export's alone. Both
// parts are checked again first: the user may have added files while
// the export ran.
func (s *staging) commit() error {
	if _, err := s.check(); err != nil {
		return err
	}
	for _, name := range []string{"job", "serve"} {
		if _, err := os.Stat(s.dir(name)); err != nil {
			continue
		}
		if err := writeMarker(s.dir(name)); err != nil {
			return err
		}
	}
	for _, name := range []string{"job", "serve"} {
		dst := filepath.Join(s.out, name)
		if err := os.RemoveAll(dst); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if _, err := os.Stat(s.dir(name)); err != nil {
			continue
		}
		if err := os.Rename(s.dir(name), dst); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	return os.RemoveAll(s.tmp)
}

// abort removes what was staged; after commit there is nothing left.
func (s *staging) abort() { os.RemoveAll(s.tmp) }

// sanitizeName makes a name usable as a module path element and a model
// name: lower case letters, digits, '-' and '_'.
func sanitizeName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	n := strings.Trim(b.String(), "-_")
	if n == "" {
		n = "model"
	}
	return n
}

// replaceable reports an error unless dir is missing, empty, or made by
// an earlier export (it has the marker file).
func replaceable(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist), err == nil && len(entries) == 0:
		return nil
	case err != nil:
		return fmt.Errorf("export: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, marker)); err != nil {
		return fmt.Errorf("export: %s exists and was not made by gopherlab export: remove it or choose another -o", dir)
	}
	return nil
}

// markerHead is the marker file's first line; the lines after it list
// the files the export wrote, as sha256sum does: the hex SHA-256, two
// spaces, the path relative to the directory.
const markerHead = "made by gopherlab export: the next export replaces the files listed here (SHA-256, path) and what the job or server makes, and stops at any other file or a listed one changed since (--force replaces them)\n"

// madeByRun are the files the job and the server make in their own
// directories when built and run as their READMEs say (the binaries,
// `go build` naming them after the module; the model the job writes):
// the next export replaces them.
var madeByRun = map[string]bool{
	"job/job": true, "job/job.exe": true,
	"serve/server": true, "serve/server.exe": true, "serve/serve": true, "serve/serve.exe": true,
	"serve/model/model.gob": true, "serve/model/model.json": true,
}

// legacyWritten reports whether an export older than the marker's file
// list may have written the file rel of part (job, serve): without the
// list, only the names an export writes are taken as its own.
func legacyWritten(part, rel string) bool {
	if strings.HasPrefix(rel, "internal/gopherlab/") {
		return true
	}
	switch rel {
	case "go.mod", "go.sum", "main.go", "README.md":
		return true
	}
	if part == "job" {
		return rel == "manifest.json" || rel == "beam.go"
	}
	switch rel {
	case "Dockerfile", ".dockerignore", "model/.keep", "k8s/deployment.yaml", "k8s/service.yaml", "k8s/hpa.yaml":
		return true
	}
	return false
}

// writeMarker lists every file in dir with its SHA-256 in dir's marker
// file, so that the next export knows which files it may replace.
func writeMarker(dir string) error {
	var b strings.Builder
	b.WriteString(markerHead)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		sum, _, err := jobrt.FileSHA256(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s  %s\n", sum, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return writeFiles(dir, map[string][]byte{marker: []byte(b.String())})
}

// readMarker returns the SHA-256 of each file the export that made dir
// wrote, by path, or nil for an older export's marker without the list.
func readMarker(dir string) (map[string]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, marker))
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	var sums map[string]string
	for _, line := range strings.Split(string(b), "\n") {
		sum, rel, ok := strings.Cut(line, "  ")
		if !ok || len(sum) != 64 || strings.Trim(sum, "0123456789abcdef") != "" || rel == "" {
			continue
		}
		if sums == nil {
			sums = map[string]string{}
		}
		sums[rel] = sum
	}
	return sums, nil
}

// userFiles lists the files in dir, a part (job, serve) of an earlier
// export, that replacing it would lose: files the export did not write
// or the user changed since, except those its job and server make.
// Paths are relative to dir, slash-separated, sorted.
func userFiles(dir string) ([]string, error) {
	if _, err := os.Stat(filepath.Join(dir, marker)); err != nil {
		return nil, nil // missing or empty: replaceable said so
	}
	sums, err := readMarker(dir)
	if err != nil {
		return nil, err
	}
	part := filepath.Base(dir)
	var kept []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case rel == marker, madeByRun[part+"/"+rel]:
			return nil
		case sums == nil:
			if legacyWritten(part, rel) {
				return nil
			}
		case sums[rel] != "":
			if d.Type().IsRegular() {
				sum, _, err := jobrt.FileSHA256(p)
				if err != nil {
					return err
				}
				if sum == sums[rel] {
					return nil
				}
			}
			rel += " (changed)"
		}
		kept = append(kept, rel)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return kept, nil
}

// noteReplaced says what an export into out removes that an earlier
// export's job made: a trained model and built binaries are not rebuilt
// by exporting again.
func noteReplaced(out string, logf func(string, ...any)) {
	var gone []string
	for _, f := range []string{"job/job", "serve/server", "serve/model/model.json"} {
		p := filepath.Join(out, filepath.FromSlash(f))
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), marker)); err != nil && f != "serve/model/model.json" {
			continue // not a directory an export made
		}
		if fi, err := os.Stat(p); err == nil {
			gone = append(gone, fmt.Sprintf("%s (%s)", f, fi.ModTime().Format("2006-01-02 15:04")))
		}
	}
	if len(gone) > 0 {
		logf("export: replacing the earlier export in %s, with what was made from it: %s; build and run the job again", out, strings.Join(gone, ", "))
	}
}

func writeFiles(dir string, files map[string][]byte) error {
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	return nil
}

// seedParams are the parameter names taken as the job's random seed.
var seedParams = []string{"seed", "Seed", "random_state", "randomState", "rngSeed"}

// buildManifest describes the job.
func buildManifest(sel *Selection, g *generator, absNB, name string, gm *goMod) (*jobrt.Manifest, error) {
	sum, _, err := jobrt.FileSHA256(absNB)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	m := &jobrt.Manifest{
		Format: jobrt.Format, Name: name, Notebook: absNB, NotebookSHA256: sum,
		WorkDir: filepath.Dir(absNB), ExportedAt: time.Now().UTC().Truncate(time.Second),
		GoVersion: runtime.Version(), GoDirective: gm.Go, Modules: gm.Requires,
		Gopherlab: gopherlabVersion(), Params: []jobrt.ManifestParam{}, Data: []jobrt.DataFile{},
	}
	for _, c := range sel.Cells {
		m.Cells = append(m.Cells, jobrt.ManifestCell{Index: c.Index, Tag: c.Tag, ID: c.Cell.ID})
	}
	for _, p := range sel.Params {
		m.Params = append(m.Params, jobrt.ManifestParam{Name: p.Name, Type: p.Type, Default: p.Value, From: p.From})
		for _, s := range seedParams {
			if p.Name == s && (p.Type == "int" || p.Type == "int64") && m.Seed == nil {
				v, _ := strconv.ParseInt(p.Value, 10, 64)
				m.Seed, m.SeedParam = &v, p.Name
			}
		}
	}
	for _, path := range g.dataSeq {
		ref := g.data[path]
		abs := path
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(m.WorkDir, path)
		}
		sum, size, err := jobrt.FileSHA256(abs)
		if err != nil {
			return nil, &CellError{Cell: ref.cells[0], Msg: fmt.Sprintf("reads the data file %s, which cannot be hashed for the manifest: %v", path, err)}
		}
		m.Data = append(m.Data, jobrt.DataFile{Path: path, Param: ref.param, SHA256: sum, Size: size, Cells: ref.cells})
	}
	m.Unpinned = g.unpinned
	if mv := g.modelVar(); mv != nil {
		m.Model = mv.name
	}
	return m, nil
}

// gopherlabVersion is the version of the running gopherlab module.
func gopherlabVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Path == ModulePath && bi.Main.Version != "" {
			return withRevision(bi.Main.Version, bi.Settings)
		}
		for _, d := range bi.Deps {
			if d.Path == ModulePath {
				return d.Version
			}
		}
	}
	return "(devel)"
}

// withRevision adds to a "(devel)" version, a binary built from a
// checkout, the commit it was built from, as go build records it
// ("(devel) 1b33f9c2ab71", "+dirty" for uncommitted changes): the
// manifest then says which gopherlab made the job.
func withRevision(version string, settings []debug.BuildSetting) string {
	if version != "(devel)" {
		return version
	}
	var rev, dirty string
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev == "" {
		return version
	}
	return version + " " + rev[:min(12, len(rev))] + dirty
}

// trackedRun reads a tracked run: its parameters, metrics and notebook.
func trackedRun(db, id string) (*jobrt.TrackedRun, *tracking.RunInfo, error) {
	store, err := tracking.OpenExisting(db)
	if err != nil {
		return nil, nil, fmt.Errorf("export: --run: %w", err)
	}
	defer store.Close()
	ri, err := store.GetRun(id)
	if err != nil {
		return nil, nil, fmt.Errorf("export: --run: %w", err)
	}
	return &jobrt.TrackedRun{ID: ri.ID, Experiment: ri.Experiment, Name: ri.Name, Params: ri.Params, Metrics: ri.Metrics}, ri, nil
}

// checkJobParams refuses parameters named like one of the job's own flags
// (-workers, -dir, ...), which the job could not take.
func checkJobParams(sel *Selection) error {
	fs := flag.NewFlagSet("job", flag.ContinueOnError)
	new(jobrt.Job).Flags(fs)
	for _, p := range sel.Params {
		if fs.Lookup(p.Name) != nil || p.Name == "h" || p.Name == "help" {
			return &CellError{Cell: sel.ParamsCell, Line: p.Line, Tag: TagParameters,
				Msg: fmt.Sprintf("parameter %s has the name of one of the job's own flags (-%s): rename it", p.Name, p.Name)}
		}
	}
	return nil
}

// checkRunCell refuses a run that the exported cells of notebook nbPath
// did not make: a run of another notebook, a fold or trial of another
// run, or a run of a cell left out (tagged skip, or untagged), since the
// job could not reproduce it. A run of a cell that is no longer in the
// notebook as it ran is only reported: the job says whether it
// reproduces the run.
func checkRunCell(sel *Selection, nbPath string, ri *tracking.RunInfo, logf func(string, ...any)) error {
	// Notebooks are told apart by name: a notebook moved to another
	// folder is the same one.
	if ri.Notebook != "" && filepath.Base(ri.Notebook) != filepath.Base(nbPath) {
		return fmt.Errorf("export: --run %s: the run was made by notebook %s, not %s: export that notebook", ri.ShortID(), ri.Notebook, filepath.Base(nbPath))
	}
	if ri.ParentID != "" {
		return fmt.Errorf("export: --run %s: %q is part of run %s (a fold or a trial): export that run", ri.ShortID(), ri.Name, tracking.ShortID(ri.ParentID))
	}
	src := strings.TrimSpace(ri.Source)
	if src == "" || strings.HasPrefix(src, "gopherlab job ") {
		return nil // logged by hand, or by an exported job (its cells are exported ones)
	}
	for _, c := range sel.Cells {
		if strings.TrimSpace(c.Cell.Source) == src {
			return nil
		}
	}
	for i, c := range sel.Notebook.Cells {
		if c.Type == "code" && strings.TrimSpace(c.Source) == src {
			why := "untagged (export with --all to include untagged cells)"
			if c.HasTag(TagSkip) {
				why = "tagged " + TagSkip
			}
			return fmt.Errorf("export: --run %s: the run was made by cell %d, which the export leaves out (%s): export a run of an exported cell", ri.ShortID(), i, why)
		}
	}
	logf("export: run %s was made by a cell that is not in the notebook as it ran (edited since?); the job will say whether it reproduces the run", ri.ShortID())
	return nil
}

// applyRunParams sets the parameters to the values a tracked run
// recorded (params notebook.NAME, see tracking.SetNotebookParams; a
// param named as the parameter for runs that predate them).
func applyRunParams(sel *Selection, tr *jobrt.TrackedRun, logf func(string, ...any)) error {
	var set, kept []string
	for i := range sel.Params {
		p := &sel.Params[i]
		v, ok := tr.Params[tracking.NotebookParamPrefix+p.Name]
		if !ok {
			v, ok = tr.Params[p.Name]
		}
		if !ok {
			kept = append(kept, p.Name+"="+p.Value)
			continue
		}
		lit, err := ParseParam(p.Type, v, false)
		if err != nil {
			return fmt.Errorf("export: run %s parameter %s: %v", tr.ID, p.Name, err)
		}
		p.Value, p.From = lit, "run "+tracking.ShortID(tr.ID)
		set = append(set, p.Name+"="+lit)
	}
	if len(set) > 0 {
		logf("export: parameters from run %s: %s", tracking.ShortID(tr.ID), strings.Join(set, ", "))
	}
	if len(kept) > 0 {
		logf("export: run %s does not record %s: the notebook's values stay", tracking.ShortID(tr.ID), strings.Join(kept, ", "))
	}
	return nil
}

func render(t *template.Template, data any) ([]byte, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("export: %s: %w", t.Name(), err)
	}
	return b.Bytes(), nil
}

// ExportCommand is `gopherlab export NOTEBOOK.ipynb -o DIR [--all]
// [--run RUN_ID] [--db FILE] [--name NAME] [--model VAR] [--beam] [--force]`.
func ExportCommand(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stdout)
	out := fs.String("o", "", "directory to write job/ and serve/ into (required)")
	all := fs.Bool("all", false, "export untagged code cells too (cells tagged skip stay out)")
	runID := fs.String("run", "", "export the pipeline of this tracked run (its parameters become the defaults)")
	db := fs.String("db", "", "tracking database for --run (default $GOPHERLAB_DB or ./gopherlab.db)")
	name := fs.String("name", "", "name of the job and the served model (default: the notebook's name)")
	model := fs.String("model", "", "variable holding the fitted *experiments.Pipeline to serve, or a *experiments.GridSearch over one (its refitted best pipeline); default: the only one, or the last one a train cell defines")
	force := fs.Bool("force", false, "replace an earlier export in -o DIR even where it holds files that export did not write, or wrote and were changed since (they are deleted)")
	beam := fs.Bool("beam", false, "give the job an Apache Beam mode: -runner prism|direct|flink|spark|universal|dataflow runs its cross-validation and grid-search fits as a Beam pipeline (the job's module then requires the Beam Go SDK)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: gopherlab export NOTEBOOK.ipynb -o DIR [--all] [--run RUN_ID] [--db FILE] [--name NAME] [--model VAR] [--beam] [--force]\n       gopherlab export --run RUN_ID -o DIR [...]   (the run's own notebook)")
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("export: %w", err)
	}
	if len(pos) > 1 || (len(pos) == 0 && *runID == "") || *out == "" {
		fs.Usage()
		return errors.New("export: want a notebook (or --run RUN_ID) and -o DIR")
	}
	nb := ""
	if len(pos) == 1 {
		nb = pos[0]
	}
	res, err := Export(nb, ExportOptions{Out: *out, All: *all, Name: *name, Model: *model, RunID: *runID, DB: *db, Beam: *beam, Force: *force, Log: stdout})
	var ce *CellError
	if errors.As(err, &ce) && !strings.HasPrefix(err.Error(), "export: ") {
		// Every error of the command reads "export: ...", a cell's too.
		return fmt.Errorf("export: %w", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\ntrain:  cd %s && go build -o job . && ./job   (flags: ./job -h)\n", res.JobDir)
	if *beam {
		fmt.Fprintf(stdout, "        ./job -runner prism   (the fits as an Apache Beam pipeline; -runner flink -endpoint HOST:PORT -beam_temp DIR for a cluster)\n")
	}
	if res.ServeDir != "" {
		fmt.Fprintf(stdout, "serve:  cd %s && go build -o server . && ./server   (after the job wrote model/)\n", res.ServeDir)
	}
	return nil
}
