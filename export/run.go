package export

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gopherlab/gopherlab/kernel"
	"github.com/gopherlab/gopherlab/kernel/worker"
	"github.com/gopherlab/gopherlab/tracking"
)

// RunOptions controls Run.
type RunOptions struct {
	// Params are the values to inject, by parameter name, as text from
	// the command line ("0.5", "iris.csv", "true").
	Params map[string]string
	// Dir is the working directory of the cells; "" means the notebook's
	// directory, as Jupyter does.
	Dir string
	// CellTimeout, if positive, interrupts a cell that runs longer.
	CellTimeout time.Duration
	// AllowErrors keeps executing after a failing cell.
	AllowErrors bool
	// WorkerCommand starts the interpreter process (default: this
	// executable with the argument "worker", see package kernel/worker).
	WorkerCommand []string
	// Notebook is the notebook's path, recorded by tracking runs the
	// cells start (JPY_SESSION_NAME).
	Notebook string
	// Progress, if set, gets a line per executed cell.
	Progress io.Writer
}

// RunResult says how a run went.
type RunResult struct {
	Executed int // code cells executed
	// Failed is the index of the first failing cell in the notebook Run
	// executed (injected parameters included), or -1.
	Failed   int
	Ename    string        // error name of the failing cell
	Evalue   string        // error message of the failing cell
	Duration time.Duration // wall time of the whole run
}

// ExecutionError is returned by Run when a cell failed.
type ExecutionError struct {
	// Cell is the index of the cell in the notebook as the user wrote it
	// (before InjectParams), from 0; for the injected parameters cell,
	// the index of the parameters cell it follows.
	Cell          int
	Injected      bool   // the cell is the injected parameters cell
	Ename, Evalue string // the cell's error name and message
}

// Error returns "cell N failed: Ename: Evalue".
func (e *ExecutionError) Error() string {
	return fmt.Sprintf("%s failed: %s: %s", cellName(e.Cell, e.Injected), e.Ename, e.Evalue)
}

// cellName names a cell as ExecutionError numbers it.
func cellName(n int, injected bool) string {
	if injected {
		return fmt.Sprintf("the injected parameters cell (after cell %d)", n)
	}
	return fmt.Sprintf("cell %d", n)
}

// InjectParams returns a copy of nb whose parameters take the given values:
// the values are checked against the types of the parameters cell's
// variables, and a cell tagged injected-parameters that assigns them is
// inserted after the parameters cell, replacing one left by an earlier run
// (as papermill does).
func InjectParams(nb *Notebook, values map[string]string) (*Notebook, error) {
	out := *nb
	out.Cells, out.origin = nil, nil
	pc := -1
	var params []Param
	for i, c := range nb.Cells {
		if c.Type == "code" && c.HasTag(TagInjected) {
			continue
		}
		if c.Type == "code" && c.HasTag(TagParameters) && pc < 0 {
			code, err := parseCell(i, c.Source, TagParameters)
			if err != nil {
				return nil, err
			}
			if params, err = readParams(code, TagParameters); err != nil {
				return nil, err
			}
			pc = len(out.Cells)
		}
		out.Cells = append(out.Cells, c)
		out.origin = append(out.origin, i)
	}
	if len(values) == 0 {
		return &out, nil
	}
	if pc < 0 {
		return nil, fmt.Errorf("export: the notebook has no cell tagged %q, so it takes no parameters", TagParameters)
	}
	var names []string
	for _, p := range params {
		names = append(names, p.Name)
	}
	var b strings.Builder
	b.WriteString("// Parameters injected by gopherlab run\n")
	for _, name := range sortedKeys(values) {
		i := slices.IndexFunc(params, func(p Param) bool { return p.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("export: unknown parameter %q (the parameters cell has %s)", name, strings.Join(names, ", "))
		}
		lit, err := ParseParam(params[i].Type, values[name], false)
		if err != nil {
			return nil, fmt.Errorf("export: parameter %s: %v", name, err)
		}
		fmt.Fprintf(&b, "%s = %s\n", name, lit)
	}
	inj := &Cell{ID: "injected-parameters", Type: "code", Source: strings.TrimSuffix(b.String(), "\n")}
	inj.SetTags([]string{TagInjected})
	out.Cells = slices.Insert(out.Cells, pc+1, inj)
	out.origin = slices.Insert(out.origin, pc+1, -1)
	return &out, nil
}

// ParamValues returns the values of nb's parameters, as text by name
// (strings unquoted, as `gopherlab run -p` takes them): those of its cell
// tagged parameters, replaced by those of a cell tagged
// injected-parameters. It returns nil when nb has no parameters cell.
func ParamValues(nb *Notebook) (map[string]string, error) {
	var params, injected []Param
	found := false
	for i, c := range nb.Cells {
		if c.Type != "code" {
			continue
		}
		tag := ""
		switch {
		case c.HasTag(TagParameters) && !found:
			tag, found = TagParameters, true
		case c.HasTag(TagInjected):
			tag = TagInjected
		default:
			continue
		}
		code, err := parseCell(i, c.Source, tag)
		if err != nil {
			return nil, err
		}
		ps, err := readParams(code, tag)
		if err != nil {
			return nil, err
		}
		if tag == TagParameters {
			params = ps
		} else {
			injected = append(injected, ps...)
		}
	}
	if !found {
		return nil, nil
	}
	out := map[string]string{}
	for _, p := range append(params, injected...) {
		if !slices.ContainsFunc(params, func(q Param) bool { return q.Name == p.Name }) {
			continue // InjectParams refuses these; keep to the notebook's
		}
		v := p.Value
		if p.Type == "string" {
			if s, err := strconv.Unquote(v); err == nil {
				v = s
			}
		}
		out[p.Name] = v
	}
	return out, nil
}

// Run executes every code cell of nb in order through the gopherlab
// kernel's engine (an interpreter in a supervised worker process) and
// records outputs and execution counts in nb, as Jupyter would. It stops at
// the first failing cell unless AllowErrors; the cells after it are left
// unexecuted and an *ExecutionError is returned with the result.
func Run(ctx context.Context, nb *Notebook, opts RunOptions) (*RunResult, error) {
	var env []string
	if opts.Notebook != "" {
		env = append(env, "JPY_SESSION_NAME="+opts.Notebook)
	}
	// The runs the cells make record the parameters' values (a notebook
	// whose parameters cell export would refuse records none).
	if vals, err := ParamValues(nb); err == nil && len(vals) > 0 {
		b, _ := json.Marshal(vals)
		env = append(env, tracking.EnvNotebookParams+"="+string(b))
	}
	eng := worker.New(worker.Config{
		Command: opts.WorkerCommand,
		Dir:     opts.Dir,
		Env:     env,
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Info:    kernel.Info{Implementation: "gopherlab", Language: kernel.LanguageInfo{Name: "go"}},
	})
	defer eng.Close()

	res := &RunResult{Failed: -1}
	start := time.Now()
	for _, c := range nb.Cells {
		if c.Type == "code" {
			c.ExecutionCount, c.Outputs = nil, nil
		}
	}
	count := 0
	shared := &displays{}
	var firstErr *ExecutionError
	for i, c := range nb.Cells {
		if c.Type != "code" || strings.TrimSpace(c.Source) == "" {
			continue
		}
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		count++
		out := &cellOutput{cell: c, shared: shared}
		cctx, cancel := ctx, context.CancelFunc(func() {})
		if opts.CellTimeout > 0 {
			cctx, cancel = context.WithTimeout(ctx, opts.CellTimeout)
		}
		stop := context.AfterFunc(cctx, eng.Interrupt)
		t0 := time.Now()
		rep := eng.Execute(context.Background(), kernel.ExecuteRequest{Code: c.Source, StoreHistory: true, ExecutionCount: count}, out)
		stop()
		cancel()
		n := count
		c.ExecutionCount = &n
		out.finish(rep, count)
		res.Executed++
		num, injected := nb.cellNumber(i)
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "%s [%d] %s in %v\n", cellName(num, injected), count, rep.Status, time.Since(t0).Round(time.Millisecond))
		}
		if rep.Status == "error" && c.HasTag("raises-exception") {
			// The cell is meant to fail (a tour's error message), as
			// nbclient and papermill take the tag: its error is shown,
			// and the run goes on.
			continue
		}
		if rep.Status == "error" || rep.Status == "aborted" {
			evalue := rep.Evalue
			if cctx.Err() == context.DeadlineExceeded {
				evalue += fmt.Sprintf(" (the cell ran past the %v timeout)", opts.CellTimeout)
			}
			if firstErr == nil {
				firstErr = &ExecutionError{Cell: num, Injected: injected, Ename: rep.Ename, Evalue: evalue}
				res.Failed, res.Ename, res.Evalue = i, rep.Ename, evalue
			}
			if !opts.AllowErrors {
				break
			}
		}
	}
	res.Duration = time.Since(start)
	if firstErr != nil {
		return res, firstErr
	}
	return res, nil
}

// displays maps display ids to the outputs showing them, across cells,
// so update_display_data changes earlier outputs as it does in Jupyter.
type displays struct {
	mu   sync.Mutex
	byID map[string][]*displayRef
}

type displayRef struct {
	cell *Cell
	i    int
}

// cellOutput is the kernel.Output of one executing cell: it appends
// nbformat outputs to the cell.
type cellOutput struct {
	mu        sync.Mutex
	cell      *Cell
	shared    *displays
	clearWait bool
}

func (o *cellOutput) pendingClear() {
	if o.clearWait {
		o.cell.Outputs = nil
		o.clearWait = false
	}
}

func (o *cellOutput) Stream(name, text string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.pendingClear()
	// Consecutive text on one stream is one output, as nbclient writes it.
	if n := len(o.cell.Outputs); n > 0 {
		var last struct {
			OutputType string `json:"output_type"`
			Name       string `json:"name"`
			Text       any    `json:"text"`
		}
		if json.Unmarshal(o.cell.Outputs[n-1], &last) == nil && last.OutputType == "stream" && last.Name == name {
			prev, _ := multiline(mustJSON(last.Text))
			o.cell.Outputs[n-1] = mustJSON(map[string]any{"output_type": "stream", "name": name, "text": splitLines(prev + text)})
			return
		}
	}
	o.cell.Outputs = append(o.cell.Outputs, mustJSON(map[string]any{"output_type": "stream", "name": name, "text": splitLines(text)}))
}

func (o *cellOutput) Display(b kernel.MIMEBundle, displayID string, update bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := map[string]any{"output_type": "display_data", "data": nbData(b.Data), "metadata": nbMeta(b.Metadata)}
	if update {
		o.shared.mu.Lock()
		defer o.shared.mu.Unlock()
		for _, ref := range o.shared.byID[displayID] {
			if ref.i < len(ref.cell.Outputs) {
				ref.cell.Outputs[ref.i] = mustJSON(out)
			}
		}
		return
	}
	o.pendingClear()
	if displayID != "" {
		o.shared.mu.Lock()
		if o.shared.byID == nil {
			o.shared.byID = map[string][]*displayRef{}
		}
		o.shared.byID[displayID] = append(o.shared.byID[displayID], &displayRef{cell: o.cell, i: len(o.cell.Outputs)})
		o.shared.mu.Unlock()
	}
	o.cell.Outputs = append(o.cell.Outputs, mustJSON(out))
}

func (o *cellOutput) Clear(wait bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if wait {
		o.clearWait = true
		return
	}
	o.cell.Outputs = nil
}

func (o *cellOutput) Input(prompt string, password bool) (string, error) {
	return "", errors.New("no standard input in a headless run")
}

// finish records the execution's result or error.
func (o *cellOutput) finish(rep kernel.ExecuteReply, count int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.pendingClear()
	if rep.Result != nil {
		o.cell.Outputs = append(o.cell.Outputs, mustJSON(map[string]any{
			"output_type": "execute_result", "execution_count": count,
			"data": nbData(rep.Result.Data), "metadata": nbMeta(rep.Result.Metadata),
		}))
	}
	if rep.Status == "error" || rep.Status == "aborted" {
		tb := rep.Traceback
		if tb == nil {
			tb = []string{}
		}
		o.cell.Outputs = append(o.cell.Outputs, mustJSON(map[string]any{
			"output_type": "error", "ename": rep.Ename, "evalue": rep.Evalue, "traceback": tb,
		}))
	}
	if o.cell.Outputs == nil {
		o.cell.Outputs = []json.RawMessage{}
	}
}

// nbData stores text MIME types as lists of lines, as nbformat writes
// them.
func nbData(data map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range data {
		if s, ok := v.(string); ok && (strings.HasPrefix(k, "text/") || k == "image/svg+xml") {
			out[k] = splitLines(s)
			continue
		}
		out[k] = v
	}
	return out
}

func nbMeta(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]any{"output_type": "stream", "name": "stderr", "text": "gopherlab run: output not encodable: " + err.Error()})
	}
	return b
}

// paramFlags collects repeated -p name=value flags.
type paramFlags map[string]string

func (p paramFlags) String() string { return "" }
func (p paramFlags) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return fmt.Errorf("want name=value, got %q", s)
	}
	if _, dup := p[name]; dup {
		return fmt.Errorf("parameter %s given twice", name)
	}
	p[name] = value
	return nil
}

// parseInterspersed parses flags that may come before or after the
// positional arguments (gopherlab run NB.ipynb -p a=1).
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// RunCommand is `gopherlab run NOTEBOOK.ipynb [-p name=value ...] [-o OUT.ipynb]`:
// it executes the notebook headless with the given parameters and writes
// the executed notebook (NOTEBOOK.out.ipynb by default).
func RunCommand(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stdout)
	params := paramFlags{}
	fs.Var(params, "p", "set a parameter: name=value (repeatable); the value is checked against the parameter's Go type")
	out := fs.String("o", "", "executed notebook to write (default NOTEBOOK.out.ipynb)")
	cwd := fs.String("cwd", "", "working directory of the cells (default: the notebook's directory)")
	timeout := fs.Duration("timeout", 0, "interrupt a cell that runs longer than this (0: no limit)")
	allowErrors := fs.Bool("allow-errors", false, "keep executing after a failing cell (the command still exits with status 1 if one failed, after writing the notebook)")
	quiet := fs.Bool("q", false, "do not print a line per cell")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: gopherlab run NOTEBOOK.ipynb [-p name=value ...] [-o OUT.ipynb] [-cwd DIR] [-timeout D] [-allow-errors]")
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("run: %w", err)
	}
	if len(pos) != 1 {
		fs.Usage()
		return fmt.Errorf("run: want one notebook, got %d arguments", len(pos))
	}
	in := pos[0]
	// The notebook's and the parameters' errors come from code export
	// shares: the command says it is run's.
	asRun := func(err error) error {
		return errors.New("run: " + strings.TrimPrefix(err.Error(), "export: "))
	}
	nb, err := ReadNotebook(in)
	if err != nil {
		return asRun(err)
	}
	nb, err = InjectParams(nb, params)
	if err != nil {
		return asRun(err)
	}
	if *out == "" {
		*out = strings.TrimSuffix(in, filepath.Ext(in)) + ".out.ipynb"
	}
	// Where the results go and where the cells run are checked before
	// any cell does: a run that cannot be written is time lost, and runs
	// it tracked meanwhile would have no notebook to go with.
	if st, err := os.Stat(filepath.Dir(*out)); err != nil || !st.IsDir() {
		return fmt.Errorf("run: -o %s: no directory %s to write it in", *out, filepath.Dir(*out))
	}
	if st, err := os.Stat(*out); err == nil && st.IsDir() {
		return fmt.Errorf("run: -o %s: is a directory, not a notebook file", *out)
	}
	abs, err := filepath.Abs(in)
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	dir := *cwd
	if dir == "" {
		dir = filepath.Dir(abs)
	} else if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("run: -cwd %s: no such directory", dir)
	}
	opts := RunOptions{Params: params, Dir: dir, CellTimeout: *timeout, AllowErrors: *allowErrors, Notebook: abs}
	if !*quiet {
		opts.Progress = stdout
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	started := time.Now().UTC()
	res, runErr := Run(ctx, nb, opts)
	recordRun(nb, in, *out, params, started, res)
	if err := nb.WriteFile(*out); err != nil {
		return asRun(err)
	}
	cells := "cells"
	if res.Executed == 1 {
		cells = "cell"
	}
	fmt.Fprintf(stdout, "executed %d %s in %v; wrote %s\n", res.Executed, cells, res.Duration.Round(time.Millisecond), *out)
	if runErr != nil {
		return fmt.Errorf("run: %w (see %s)", runErr, *out)
	}
	return nil
}

// recordRun notes the run in the notebook's metadata, as papermill does
// under "papermill".
func recordRun(nb *Notebook, in, out string, params map[string]string, started time.Time, res *RunResult) {
	if nb.Metadata == nil {
		nb.Metadata = map[string]json.RawMessage{}
	}
	m := map[string]any{
		"input_path": in, "output_path": out, "parameters": params,
		"start_time": started.Format(time.RFC3339Nano), "duration": res.Duration.Seconds(),
		"go_version": runtime.Version(), "exception": res.Failed >= 0,
	}
	if params == nil {
		m["parameters"] = map[string]string{}
	}
	nb.Metadata["gopherlab_run"] = mustJSON(m)
}
