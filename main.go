// Command gopherlab is a Jupyter kernel for Go built for machine-learning
// work. Run `gopherlab help` for its commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gopherlab/gopherlab/export"
	"github.com/gopherlab/gopherlab/install"
	"github.com/gopherlab/gopherlab/internal/jupyterserver"
	"github.com/gopherlab/gopherlab/internal/memtrim"
	"github.com/gopherlab/gopherlab/kernel"
	"github.com/gopherlab/gopherlab/kernel/wire"
	"github.com/gopherlab/gopherlab/kernel/worker"
	"github.com/gopherlab/gopherlab/tracking"
)

// Version is the gopherlab release; set with -ldflags "-X main.Version=...".
var Version = "0.1.0-dev"

type command struct {
	name, usage, summary string
	run                  func(args []string) error
	hidden               bool
}

var commands []command

func init() {
	commands = []command{
		{name: "kernel", usage: "gopherlab kernel [-log-level LEVEL] CONNECTION_FILE", summary: "run the Jupyter kernel (started by Jupyter from the kernelspec)", run: runKernel},
		{name: "install", usage: "gopherlab install [--user | --sys-prefix | --prefix DIR] [--name NAME] [--display-name NAME] [--replace]", summary: "install the gopherlab kernelspec so Jupyter finds it", run: func(args []string) error { return install.Run(args, os.Stdout) }},
		{name: "export", usage: "gopherlab export [NOTEBOOK.ipynb] -o DIR [--all] [--run RUN_ID] [--db FILE] [--name NAME] [--model VAR] [--beam] [--force]", summary: "turn a notebook's tagged pipeline into a reproducible training job and a serving bundle", run: func(args []string) error { return export.ExportCommand(args, os.Stdout) }},
		{name: "run", usage: "gopherlab run NOTEBOOK.ipynb [-p NAME=VALUE ...] [-o OUT.ipynb]", summary: "execute a notebook headless with injected parameters and write the executed notebook", run: func(args []string) error { return export.RunCommand(args, os.Stdout) }},
		{name: "runs", usage: "gopherlab runs list|show|compare|export|experiments [-db FILE] [-experiment NAME] [-filter EXPR] [-order KEY] [-format table|json|csv]", summary: "list, search, compare and export tracked runs", run: func(args []string) error { return tracking.RunsCommand(args, os.Stdout) }},
		{name: "report", usage: "gopherlab report EXPERIMENT -o report.html [-db FILE] [-metric NAME] [-goal max|min]", summary: "write a self-contained HTML report of an experiment for domain experts", run: func(args []string) error { return tracking.ReportCommand(args, os.Stdout) }},
		{name: "version", usage: "gopherlab version", summary: "print the version", run: runVersion},
		{name: "help", usage: "gopherlab help [COMMAND]", summary: "show help for gopherlab or one command", run: runHelp},
		{name: "worker", usage: "gopherlab worker", summary: "the kernel's interpreter process (started by the kernel)", run: func([]string) error { return worker.Main() }, hidden: true},
	}
}

func main() {
	if len(os.Args) < 2 {
		usage(os.Stderr)
		os.Exit(2)
	}
	name := os.Args[1]
	switch name {
	case "-h", "--help", "-help":
		name = "help"
	case "--version", "-version":
		name = "version"
	}
	for _, c := range commands {
		if c.name == name {
			if err := c.run(os.Args[2:]); err != nil {
				if errors.Is(err, flag.ErrHelp) {
					return // -h printed the usage
				}
				fmt.Fprintf(os.Stderr, "gopherlab: %v\n", err)
				os.Exit(1)
			}
			return
		}
	}
	fmt.Fprintf(os.Stderr, "gopherlab: unknown command %q\n\n", name)
	usage(os.Stderr)
	os.Exit(2)
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "gopherlab %s: a Jupyter kernel for Go, built for machine learning.\n\nUsage:\n", Version)
	for _, c := range commands {
		if !c.hidden {
			fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
		}
	}
	fmt.Fprintf(w, "\nRun 'gopherlab help COMMAND' for a command's usage.\n")
}

func runHelp(args []string) error {
	if len(args) == 0 {
		usage(os.Stdout)
		return nil
	}
	for _, c := range commands {
		if c.name != args[0] || c.hidden {
			continue
		}
		switch c.name {
		case "export", "run", "runs", "report", "install", "kernel":
			// The command's own -h lists every flag.
			if err := c.run([]string{"-h"}); err != nil && !errors.Is(err, flag.ErrHelp) {
				return err
			}
		default:
			fmt.Printf("usage: %s\n\n%s.\n", c.usage, strings.ToUpper(c.summary[:1])+c.summary[1:])
		}
		return nil
	}
	return fmt.Errorf("unknown command %q", args[0])
}

func runVersion([]string) error {
	fmt.Printf("gopherlab %s (%s, %s/%s)\n", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/traefik/yaegi" || d.Path == "github.com/go-zeromq/zmq4" {
				fmt.Printf("  %s %s\n", d.Path, d.Version)
			}
		}
	}
	return nil
}

func runKernel(args []string) error {
	fs := flag.NewFlagSet("kernel", flag.ContinueOnError)
	fs.SetOutput(os.Stdout)
	level := fs.String("log-level", envOr("GOPHERLAB_LOG_LEVEL", "warn"), "log level: debug, info, warn or error (logs go to stderr)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: gopherlab kernel [-log-level LEVEL] CONNECTION_FILE\n\n"+
			"Runs the Jupyter kernel on the ports and key of CONNECTION_FILE (Jupyter starts it\n"+
			"so, from the kernelspec that gopherlab install writes).\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("kernel: %w", err)
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("kernel: want one connection file (usage: gopherlab kernel [-log-level LEVEL] CONNECTION_FILE)")
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		return fmt.Errorf("bad -log-level %q: want debug, info, warn or error", *level)
	}
	if _, err := memtrim.ParseIdleDelay(os.Getenv("GOPHERLAB_IDLE_TRIM")); err != nil {
		return fmt.Errorf("kernel: %w", err)
	}
	// The protocol process only moves messages: one P spares it the
	// thread hand-offs (each a context switch, costly under
	// virtualization) that more would make, and cuts the round trip
	// (cells run in the worker, with every core).
	procs := 1
	if v := os.Getenv("GOPHERLAB_KERNEL_PROCS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return fmt.Errorf("kernel: GOPHERLAB_KERNEL_PROCS=%q: want a positive number of threads", v)
		}
		procs = n
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lv})).With("component", "gopherlab")
	slog.SetDefault(log)
	ci, err := wire.ReadConnectionFile(fs.Arg(0))
	if err != nil {
		return err
	}
	runtime.GOMAXPROCS(procs)
	ctx, parentGone := watchParent(log)
	// Runs are filed under the notebook's name: the classic Notebook does
	// not pass it (JPY_SESSION_NAME) but says it when asked.
	var notebook func() string
	if os.Getenv("JPY_SESSION_NAME") == "" {
		notebook = jupyterserver.Watch(ctx, fs.Arg(0), time.Minute)
	}
	eng := worker.New(worker.Config{Log: log, Info: kernelInfo(), Notebook: notebook})
	trim := memtrim.New(memtrim.IdleDelay())
	err = kernel.Serve(ctx, kernel.Config{Conn: ci, Engine: eng, Log: log, HistoryFile: historyFile(), Activity: trim.Activity})
	if parentGone() {
		return nil // shut down as if asked to
	}
	return err
}

// watchParent returns a context that ends when the process that started
// the kernel exits, when Jupyter started it (it sets JPY_PARENT_PID): a
// kernel whose Jupyter server died without stopping it would otherwise
// run, with its worker, for ever. Like ipykernel, it polls every second
// for the kernel being given another parent.
func watchParent(log *slog.Logger) (ctx context.Context, gone func() bool) {
	var exited atomic.Bool
	parent := os.Getppid()
	if os.Getenv("JPY_PARENT_PID") == "" || parent <= 1 {
		return context.Background(), exited.Load // not Jupyter's, or orphaned already
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for range time.Tick(time.Second) {
			if os.Getppid() != parent {
				log.Warn("the process that started the kernel exited: shutting down", "parent", parent)
				exited.Store(true)
				cancel()
				return
			}
		}
	}()
	return ctx, exited.Load
}

// cellGoVersion is the version of Go whose syntax and semantics cells
// get: yaegi v0.16.1's.
const cellGoVersion = "1.22"

func kernelInfo() kernel.Info {
	goVersion := strings.TrimPrefix(runtime.Version(), "go")
	return kernel.Info{
		Implementation:        "gopherlab",
		ImplementationVersion: Version,
		// The language of the cells is the interpreter's (yaegi v0.16.1
		// implements Go up to 1.22); the packages they call were
		// compiled by goVersion, which the banner says too.
		Language: kernel.LanguageInfo{
			Name: "go", Version: cellGoVersion, MIMEType: "text/x-go", FileExtension: ".go",
			PygmentsLexer: "go", CodemirrorMode: "go", NBConvert: "script",
		},
		Banner: fmt.Sprintf("gopherlab %s: Go for machine learning. Cells are Go %s (yaegi interpreter);\n"+
			"the packages they import (standard library, gonum, gonum/plot) are compiled, Go %s.\n"+
			"Type %%help for magics, %%packages for packages, name? for documentation.", Version, cellGoVersion, goVersion),
		HelpLinks: []kernel.HelpLink{
			{Text: "Go documentation", URL: "https://go.dev/doc/"},
			{Text: "Go standard library", URL: "https://pkg.go.dev/std"},
			{Text: "gonum", URL: "https://pkg.go.dev/gonum.org/v1/gonum"},
			{Text: "gonum/plot", URL: "https://pkg.go.dev/gonum.org/v1/plot"},
		},
	}
}

// historyFile is where input history persists across sessions, like
// IPython's history database; GOPHERLAB_HISTORY=off keeps it in memory.
func historyFile() string {
	switch v := os.Getenv("GOPHERLAB_HISTORY"); v {
	case "off", "0", "false":
		return ""
	case "":
	default:
		return v
	}
	dir := os.Getenv("XDG_DATA_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(dir, "gopherlab", "history.jsonl")
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
