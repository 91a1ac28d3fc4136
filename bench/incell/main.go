// Command incell compares a model fit run from a notebook cell (through the
// kernel's interpreter process) with the same fit in compiled Go, side by
// side. Both time only the fit, inside the process that runs it.
//
//	go run ./bench/incell [-reps 5]
//
// It runs the cells twice: with automatic tracking off, which measures the
// interpreter's cost alone, and on (the kernel's default), which adds what
// logging the run, its data and its model costs.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gopherlab/gopherlab/experiments"
	"github.com/gopherlab/gopherlab/kernel"
	"github.com/gopherlab/gopherlab/kernel/worker"
	"gonum.org/v1/gonum/mat"
)

const digits = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"

// The cell and the compiled code do the same work: load digits, fit.
const cellSetup = `import (
	"time"
	"github.com/gopherlab/gopherlab/experiments"
)
ds, _ := experiments.ReadCSV(%q, experiments.CSVOptions{NoHeader: true})
X, y, _ := ds.XY(ds.Columns()[len(ds.Columns())-1])`

var cases = []struct {
	name, model string
	fit         func() experiments.Model
}{
	{"random forest (100 trees)", "&experiments.RandomForestClassifier{Seed: 1}", func() experiments.Model { return &experiments.RandomForestClassifier{Seed: 1} }},
	{"logistic regression", "&experiments.LogisticRegression{}", func() experiments.Model { return &experiments.LogisticRegression{} }},
	{"k-nearest neighbours (CV 5)", "", nil},
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "worker" {
		if err := worker.Main(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	reps := flag.Int("reps", 5, "timed repetitions of each fit (the median is shown)")
	flag.Parse()

	ds, err := experiments.ReadCSV(digits, experiments.CSVOptions{NoHeader: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "incell:", err)
		os.Exit(1)
	}
	cols := ds.Columns()
	X, y, err := ds.XY(cols[len(cols)-1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "incell:", err)
		os.Exit(1)
	}

	// Autologging writes to a scratch store, not the working directory.
	dir, err := os.MkdirTemp("", "incell-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "incell:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	fmt.Printf("digits %dx%d, median of %d fits, each timed inside its own process\n", X.RawMatrix().Rows, X.RawMatrix().Cols, *reps)
	for _, autolog := range []string{"off", "on"} {
		fmt.Printf("\ncells with autologging %s\n", autolog)
		bench(X, y, *reps, []string{"GOPHERLAB_AUTOLOG=" + autolog, "GOPHERLAB_DB=" + dir + "/runs.db"})
	}
}

func bench(X *mat.Dense, y []float64, reps int, env []string) {
	exe, _ := os.Executable()
	eng := worker.New(worker.Config{Command: []string{exe, "worker"}, Env: env, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer eng.Close()
	out := &capture{}
	if r := eng.Execute(context.Background(), kernel.ExecuteRequest{Code: fmt.Sprintf(cellSetup, digits)}, out); r.Status != "ok" {
		fmt.Fprintln(os.Stderr, "incell: setup cell:", r.Evalue)
		os.Exit(1)
	}
	var err error
	fmt.Printf("%-28s %12s %12s %8s  %s\n", "fit", "compiled", "cell", "ratio", "goal <= 1.2x")
	for _, c := range cases {
		var compiled, cell []time.Duration
		for i := 0; i < reps; i++ {
			t0 := time.Now()
			if c.fit != nil {
				err = c.fit().Fit(X, y)
			} else {
				_, err = experiments.CrossValidate(&experiments.KNeighborsClassifier{}, X, y, experiments.CVOptions{K: 5})
			}
			compiled = append(compiled, time.Since(t0))
			if err != nil {
				fmt.Fprintln(os.Stderr, "incell:", err)
				os.Exit(1)
			}
			work := "err := (" + c.model + ").Fit(X, y)"
			if c.fit == nil {
				work = "_, err := experiments.CrossValidate(&experiments.KNeighborsClassifier{}, X, y, experiments.CVOptions{K: 5})"
			}
			out.reset()
			code := "t0 := time.Now()\n" + work + "\nif err != nil {\n\tpanic(err)\n}\nprintln(time.Since(t0).Nanoseconds())"
			if r := eng.Execute(context.Background(), kernel.ExecuteRequest{Code: code}, out); r.Status != "ok" {
				fmt.Fprintln(os.Stderr, "incell: cell:", r.Evalue, strings.Join(r.Traceback, "\n"))
				os.Exit(1)
			}
			ns, err := strconv.ParseInt(strings.TrimSpace(out.text()), 10, 64)
			if err != nil {
				fmt.Fprintf(os.Stderr, "incell: cell printed %q\n", out.text())
				os.Exit(1)
			}
			cell = append(cell, time.Duration(ns))
		}
		mc, mi := median(compiled), median(cell)
		ok := "met"
		if float64(mi) > 1.2*float64(mc) {
			ok = "NOT met"
		}
		fmt.Printf("%-28s %12v %12v %7.2fx  %s\n", c.name, mc.Round(time.Microsecond), mi.Round(time.Microsecond), float64(mi)/float64(mc), ok)
	}
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// capture is a kernel.Output that keeps what the cell printed (println
// writes to stderr).
type capture struct {
	mu sync.Mutex
	b  strings.Builder
}

func (c *capture) Stream(name, text string)                { c.mu.Lock(); c.b.WriteString(text); c.mu.Unlock() }
func (c *capture) Display(kernel.MIMEBundle, string, bool) {}
func (c *capture) Clear(bool)                              {}
func (c *capture) Input(string, bool) (string, error)      { return "", io.EOF }
func (c *capture) text() string                            { c.mu.Lock(); defer c.mu.Unlock(); return c.b.String() }
func (c *capture) reset()                                  { c.mu.Lock(); c.b.Reset(); c.mu.Unlock() }
