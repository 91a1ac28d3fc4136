// Command serve benchmarks the server of an exported serving bundle
// against scikit-learn behind Flask and gunicorn serving the same model.
//
// It exports export/testdata/iris.ipynb with package export, builds and
// runs the training job (which writes the model), builds the server as a
// static binary and starts it on loopback; it starts sklearn_app.py (beside
// this file: the same pipeline on the same data, the same /predict API)
// under gunicorn. Then, for each server, wrk measures the highest
// throughput and its latency (closed loop, -c connections, the best of
// -n runs, the servers taking turns), and an open-loop generator sends a
// fixed rate (1000 requests/s by default) measuring latency from each
// request's scheduled time, so a stalled server cannot hide its queue.
// The Go server's result cache is off for the comparison (every request
// computes), and measured on as well.
//
// Both are measured in two CPU layouts. In "split" the server has CPU 0
// and the load generators CPU 1, as when they run on separate machines:
// every server gets the same core. In "shared" all of them share every
// CPU, and the generator's work comes out of the server's: wrk needs
// about 0.7 of a core to drive the Go server and 0.1 to drive Flask, so
// the faster server is left with less CPU. Each layout's figures are
// printed, and the summary gives the ratios of both.
//
// It also exports export/testdata/digits.ipynb (a random forest,
// cross-validated) and times its job with -workers 1 and -workers 2 (the
// best of three runs each), checking that both print the same results,
// for two forest sizes (-trees): the job's fixed part (start-up, reading
// the data, writing the run) weighs less in the larger one, and the two
// sizes give its length.
//
//	go run ./bench/serve                 # about five minutes on 2 cores
//	go run ./bench/serve -layouts split -n 1 -d 5s -rate 500
//
// Needs the Debian packages wrk, gunicorn, python3-flask, python3-sklearn.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/gopherlab/gopherlab/experiments"
	"github.com/gopherlab/gopherlab/export"
)

// body is one prediction request (a versicolor flower), the same for both
// servers.
const body = `{"sepal_length": 6.4, "sepal_width": 3.2, "petal_length": 4.5, "petal_width": 1.5}`

func main() {
	// The symbol tables the kernel links in include testing/quick, whose
	// init adds -quickchecks to the default flags: start from none.
	flag.CommandLine = flag.NewFlagSet(os.Args[0], flag.ExitOnError)
	dur := flag.Duration("d", 6*time.Second, "duration of each measurement")
	conns := flag.Int("c", 32, "wrk connections")
	rate := flag.Int("rate", 1000, "requests per second of the fixed-rate measurement")
	gunicornWorkers := flag.Int("gunicorn-workers", 2*runtime.NumCPU()+1, "gunicorn workers (its documentation's 2 x cores + 1)")
	gunicornClass := flag.String("gunicorn-class", "sync", "gunicorn worker class (sync, its default; gthread keeps connections alive)")
	lays := flag.String("layouts", "split,shared", "CPU layouts measured, in order: split (server on CPU 0, wrk and the generator on CPU 1, as on two machines), shared (all on every CPU)")
	reps := flag.Int("n", 3, "wrk runs per server and layout (the best is kept)")
	nice := flag.Int("nice", 0, "nice value of the servers and the generator during the fixed-rate measurement (negative: ahead of other work on a shared machine; needs root)")
	keep := flag.Bool("keep", false, "keep the work directory")
	trees := flag.String("trees", "300,1000", "trees of the digits job's forest, one speed-up measurement per size")
	skipJob := flag.Bool("skip-job", false, "skip the job speed-up measurement")
	skipServe := flag.Bool("skip-serve", false, "skip the serving measurements")
	lg := flag.String("loadgen", "", "internal: run the open-loop generator against this URL (or null) and print its result")
	flag.Parse()
	if *lg != "" {
		loadgenMain(*lg, *rate, *dur)
		return
	}
	var err error
	if !*skipServe {
		err = run(*dur, *conns, *rate, max(*reps, 1), *gunicornWorkers, *gunicornClass, *lays, *nice, *keep)
	}
	if err == nil && !*skipJob {
		var sizes []int
		for _, f := range strings.Split(*trees, ",") {
			n, perr := strconv.Atoi(strings.TrimSpace(f))
			if perr != nil || n < 1 {
				err = fmt.Errorf("-trees: %q is not a positive number of trees", f)
				break
			}
			sizes = append(sizes, n)
		}
		if err == nil {
			err = jobSpeedup(sizes, *keep)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/serve:", err)
		os.Exit(1)
	}
}

type server struct {
	name, url string
	cmd       *exec.Cmd
}

func (s *server) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
		}
	}
}

// pinned returns a command running args, on the given CPUs when cpus is
// not "".
func pinned(cpus string, args ...string) *exec.Cmd {
	if cpus != "" {
		args = append([]string{"taskset", "-c", cpus}, args...)
	}
	return exec.Command(args[0], args[1:]...)
}

// layout places the servers and the load generators on the machine's
// CPUs ("" is every CPU).
type layout struct {
	name           string
	server, client string
	where          string
}

// layouts parses the -layouts flag.
func layouts(spec string) ([]layout, error) {
	var out []layout
	for _, name := range strings.Split(spec, ",") {
		switch strings.TrimSpace(name) {
		case "split":
			if runtime.NumCPU() < 2 {
				return nil, fmt.Errorf("layout split needs 2 CPUs, have %d", runtime.NumCPU())
			}
			out = append(out, layout{"split", "0", "1", "server on CPU 0, wrk and the generator on CPU 1 (as on two machines; other work on the machine not excluded)"})
		case "shared":
			out = append(out, layout{"shared", "", "", fmt.Sprintf("server, wrk and the generator on all %d CPUs, shared", runtime.NumCPU())})
		default:
			return nil, fmt.Errorf("-layouts: unknown layout %q (want split, shared)", name)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-layouts: none given")
	}
	return out, nil
}

// setup is what every layout's servers are started from.
type setup struct {
	root, serveDir, modelJSON string
	gworkers                  int
	gclass                    string
}

// measured is one server's figures in one layout.
type measured struct {
	name          string
	rps, p50, p99 float64
	cpu           cpuShare
	fixed         *loadResult
}

func run(dur time.Duration, conns, rate, reps, gworkers int, gclass, layoutSpec string, nice int, keep bool) error {
	lays, err := layouts(layoutSpec)
	if err != nil {
		return err
	}
	tools := []string{"wrk", "gunicorn"}
	for _, l := range lays {
		if l.server != "" || l.client != "" {
			tools = append(tools, "taskset")
			break
		}
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found: apt-get install wrk gunicorn python3-flask python3-sklearn util-linux", tool)
		}
	}
	work, err := os.MkdirTemp("", "gopherlab-bench-serve-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Println("work directory:", work)
	} else {
		defer os.RemoveAll(work)
	}
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	fmt.Println("exporting export/testdata/iris.ipynb, building the job and the server ...")
	res, err := export.Export(filepath.Join(root, "export/testdata/iris.ipynb"), export.ExportOptions{Out: filepath.Join(work, "out")})
	if err != nil {
		return err
	}
	env := buildEnv()
	if err := sh(res.JobDir, env, "go", "build", "-o", "job", "."); err != nil {
		return err
	}
	if err := sh(res.JobDir, env, "./job", "-q"); err != nil {
		return err
	}
	if err := sh(res.ServeDir, append(env, "CGO_ENABLED=0"), "go", "build", "-o", "server", "."); err != nil {
		return err
	}
	// scikit-learn serves the very model the job fitted: its scaler's
	// and regression's fitted parameters, not a refit on other rows.
	modelJSON := filepath.Join(work, "sklearn-model.json")
	if err := writeSklearnModel(filepath.Join(res.ServeDir, "model"), modelJSON); err != nil {
		return err
	}
	script := filepath.Join(work, "post.lua")
	lua := fmt.Sprintf("wrk.method = \"POST\"\nwrk.body = %q\nwrk.headers[\"Content-Type\"] = \"application/json\"\n", body)
	if err := os.WriteFile(script, []byte(lua), 0o644); err != nil {
		return err
	}
	st := setup{root: root, serveDir: res.ServeDir, modelJSON: modelJSON, gworkers: gworkers, gclass: gclass}
	type result struct {
		l     layout
		rows  []measured
		floor *loadResult
	}
	var results []result
	for i, l := range lays {
		rows, floor, err := measureLayout(st, l, script, dur, conns, rate, reps, nice, i == 0)
		if err != nil {
			return fmt.Errorf("layout %s: %w", l.name, err)
		}
		results = append(results, result{l, rows, floor})
		printLayout(l, rows, floor, dur, conns, rate, reps, nice)
	}
	fmt.Println()
	for _, r := range results {
		goOff, py := r.rows[0], r.rows[2]
		fmt.Printf("%s: throughput, Go (cache off) / scikit-learn: %.1fx (goal: at least 20x); per server CPU-second: %.1fx; Go p99 at %d requests/s: %s (goal: at most 2 ms)\n",
			r.l.name, goOff.rps/py.rps, (goOff.rps/goOff.cpu.server)/(py.rps/py.cpu.server), rate, ms(goOff.fixed.P99))
	}
	return nil
}

// measureLayout starts the servers on l's CPUs and measures each: the
// best of reps wrk runs (the servers taking turns, so drifting load on
// the machine weighs on all alike), then the open-loop generator.
func measureLayout(st setup, l layout, script string, dur time.Duration, conns, rate, reps, nice int, check bool) ([]measured, *loadResult, error) {
	var servers []*server
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	start := func(name, dir string, env []string, health string, args ...string) (*server, error) {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		for i, a := range args {
			args[i] = strings.ReplaceAll(a, "PORT", strconv.Itoa(port))
		}
		cmd := pinned(l.server, args...)
		cmd.Dir, cmd.Env = dir, env
		var logs bytes.Buffer
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		s := &server{name: name, url: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd}
		servers = append(servers, s)
		deadline := time.Now().Add(30 * time.Second)
		for {
			resp, err := http.Get(s.url + health)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return s, nil
				}
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("%s did not start:\n%s", name, logs.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	goOff, err := start("gopherlab (Go, cache off)", st.serveDir, os.Environ(), "/v2/health/ready", "./server", "-addr", "127.0.0.1:PORT", "-cache", "0")
	if err != nil {
		return nil, nil, err
	}
	if _, err := start("gopherlab (Go, cache on)", st.serveDir, os.Environ(), "/v2/health/ready", "./server", "-addr", "127.0.0.1:PORT"); err != nil {
		return nil, nil, err
	}
	py, err := start(fmt.Sprintf("scikit-learn (Flask, gunicorn -w %d -k %s)", st.gworkers, st.gclass), filepath.Join(st.root, "bench/serve"),
		append(os.Environ(), "MODEL_JSON="+st.modelJSON), "/health",
		"gunicorn", "-w", strconv.Itoa(st.gworkers), "-k", st.gclass, "-b", "127.0.0.1:PORT", "--log-level", "warning", "sklearn_app:app")
	if err != nil {
		return nil, nil, err
	}
	if check {
		// Both answer the same question the same way.
		var answers [2]map[string]any
		for i, s := range []*server{goOff, py} {
			out, err := post(http.DefaultClient, s.url+"/predict")
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", s.name, err)
			}
			fmt.Printf("%s: %s\n", s.name, strings.TrimSpace(out))
			json.Unmarshal([]byte(out), &answers[i])
		}
		if err := samePrediction(answers[0], answers[1]); err != nil {
			return nil, nil, fmt.Errorf("the servers disagree: %w", err)
		}
	}
	threads := min(runtime.NumCPU(), conns)
	if l.client != "" {
		threads = 1
	}
	rows := make([]measured, len(servers))
	for i, s := range servers {
		rows[i].name = s.name
	}
	for rep := 0; rep < reps; rep++ {
		for i, s := range servers {
			fmt.Printf("%s layout, run %d of %d: %s ...\n", l.name, rep+1, reps, s.name)
			before := sampleCPU(s.cmd.Process.Pid)
			rps, p50, p99, wrkCPU, err := runWrk(s.url+"/predict", script, threads, conns, dur, l.client)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", s.name, err)
			}
			if rps > rows[i].rps {
				rows[i].rps, rows[i].p50, rows[i].p99 = rps, p50, p99
				rows[i].cpu = sampleCPU(s.cmd.Process.Pid).since(before, wrkCPU)
			}
		}
	}
	floor, err := runLoadgen("null", rate, dur, l.client, nice)
	if err != nil {
		return nil, nil, err
	}
	for i, s := range servers {
		if err := reniceTree(s.cmd.Process.Pid, nice); err != nil {
			return nil, nil, err
		}
		fixed, err := runLoadgen(s.url+"/predict", rate, dur, l.client, nice)
		reniceTree(s.cmd.Process.Pid, 0)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", s.name, err)
		}
		rows[i].fixed = fixed
	}
	return rows, floor, nil
}

// printLayout prints one layout's tables.
func printLayout(l layout, rows []measured, floor *loadResult, dur time.Duration, conns, rate, reps, nice int) {
	threads := min(runtime.NumCPU(), conns)
	if l.client != "" {
		threads = 1
	}
	fmt.Printf("\n== layout %s: POST /predict, one iris row, loopback, %s, %v per measurement\n", l.name, l.where, dur)
	fmt.Printf("closed loop: wrk -t %d -c %d, best of %d runs; CPU in cores busy during that run (server: its process tree; others: the rest of the machine)\n", threads, conns, reps)
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "server\tmax req/s\tp50\tp99\tserver CPU\twrk CPU\tothers' CPU\treq per server CPU-s\t\n")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%.2f\t%.2f\t%.2f\t%.0f\t\n", r.name, r.rps, ms(r.p50), ms(r.p99), r.cpu.server, r.cpu.client, r.cpu.others, r.rps/max(r.cpu.server, 1e-9))
	}
	tw.Flush()
	fmt.Printf("\nopen loop: %d requests/s from their scheduled times; send lag is the generator's own delay", rate)
	if nice != 0 {
		fmt.Printf("; servers and generator at nice %d", nice)
	}
	fmt.Println()
	tw = tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "server\tp50\tp99\tmax\tservice p99\tsend lag p50\tsend lag p99\tgenerator CPU\tconnections\terrors\t\n")
	frow := func(name string, f *loadResult) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f%%\t%d\t%d/%d\t\n", name, ms(f.P50), ms(f.P99), ms(f.Max), ms(f.ServiceP99),
			ms(f.LagP50), ms(f.LagP99), 100*f.CPU/f.Wall, f.Conns, f.Errors, f.Sent)
	}
	frow("null responder (generator floor)", floor)
	for _, r := range rows {
		frow(r.name, r.fixed)
	}
	tw.Flush()
}

// samePrediction checks two /predict answers give the same label and
// probabilities (to 1e-9: numpy and gonum sum in other orders).
func samePrediction(a, b map[string]any) error {
	pa, _ := a["predictions"].([]any)
	pb, _ := b["predictions"].([]any)
	if len(pa) != 1 || len(pb) != 1 {
		return fmt.Errorf("want one prediction each: %v, %v", a, b)
	}
	x, y := pa[0].(map[string]any), pb[0].(map[string]any)
	if x["label"] != y["label"] {
		return fmt.Errorf("labels %v and %v", x["label"], y["label"])
	}
	px, _ := x["proba"].(map[string]any)
	py, _ := y["proba"].(map[string]any)
	if len(px) != len(py) || len(px) == 0 {
		return fmt.Errorf("probabilities %v and %v", px, py)
	}
	for k, v := range px {
		w, ok := py[k].(float64)
		if !ok || math.Abs(v.(float64)-w) > 1e-9 {
			return fmt.Errorf("probability of %s: %v and %v", k, v, py[k])
		}
	}
	return nil
}

// writeSklearnModel writes the fitted parameters of the job's pipeline
// (StandardScaler, LogisticRegression) for sklearn_app.py.
func writeSklearnModel(modelDir, out string) error {
	var mm struct{ File string }
	b, err := os.ReadFile(filepath.Join(modelDir, "model.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &mm); err != nil {
		return err
	}
	p, err := experiments.LoadFile(filepath.Join(modelDir, mm.File))
	if err != nil {
		return err
	}
	if len(p.Steps) != 2 {
		return fmt.Errorf("model %s: want scaler and logistic regression, got %v", mm.File, p)
	}
	sc, ok1 := p.Steps[0].Estimator.(*experiments.StandardScaler)
	lr, ok2 := p.Steps[1].Estimator.(*experiments.LogisticRegression)
	if !ok1 || !ok2 {
		return fmt.Errorf("model %s: want scaler and logistic regression, got %v", mm.File, p)
	}
	coef := lr.Coef()
	k, f := coef.Dims()
	rows := make([][]float64, k)
	for i := range rows {
		rows[i] = coef.RawRowView(i)[:f]
	}
	params := map[string]any{"mean": sc.Mean(), "scale": sc.Scale(), "coef": rows, "intercept": lr.Intercept(), "classes": lr.Classes(), "levels": p.TargetLevels()}
	b, err = json.Marshal(params)
	if err != nil {
		return err
	}
	return os.WriteFile(out, b, 0o644)
}

// buildEnv is the environment of the exported modules' builds: outside
// the repository's workspace, resolving their go.mod, keeping the caller's
// GOFLAGS (for example -tags=purego).
func buildEnv() []string {
	return append(os.Environ(), "GOWORK=off", strings.TrimSpace("GOFLAGS=-mod=mod "+os.Getenv("GOFLAGS")))
}

func ms(s float64) string { return fmt.Sprintf("%.3f ms", s*1000) }

func sh(dir string, env []string, args ...string) error {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir, cmd.Env = dir, env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func post(c *http.Client, url string) (string, error) {
	resp, err := c.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	return string(b), nil
}

var (
	rpsRE = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	pctRE = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s)\s*$`)
)

// runWrk runs wrk and returns requests/s, the p50 and p99 latencies in
// seconds and wrk's CPU seconds.
func runWrk(url, script string, threads, conns int, dur time.Duration, cpus string) (rps, p50, p99, cpu float64, err error) {
	cmd := pinned(cpus, "wrk", "-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns), "-d", fmt.Sprintf("%ds", int(dur.Seconds())), "--latency", "-s", script, url)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, 0, 0, 0, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	cpu = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	if strings.Contains(string(out), "Non-2xx") {
		return 0, 0, 0, 0, fmt.Errorf("wrk saw errors:\n%s", out)
	}
	m := rpsRE.FindSubmatch(out)
	if m == nil {
		return 0, 0, 0, 0, fmt.Errorf("wrk output:\n%s", out)
	}
	rps, _ = strconv.ParseFloat(string(m[1]), 64)
	for _, pm := range pctRE.FindAllSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(string(pm[2]), 64)
		switch string(pm[3]) {
		case "us":
			v /= 1e6
		case "ms":
			v /= 1e3
		}
		if string(pm[1]) == "50" {
			p50 = v
		} else {
			p99 = v
		}
	}
	return rps, p50, p99, cpu, nil
}

// jobSpeedup exports the digits notebook and times its job with 1 and 2
// workers, for each forest size in sizes.
func jobSpeedup(sizes []int, keep bool) error {
	work, err := os.MkdirTemp("", "gopherlab-bench-job-")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(work)
	}
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	fmt.Println("\nexporting export/testdata/digits.ipynb and building its job ...")
	res, err := export.Export(filepath.Join(root, "export/testdata/digits.ipynb"), export.ExportOptions{Out: work})
	if err != nil {
		return err
	}
	env := buildEnv()
	if err := sh(res.JobDir, env, "go", "build", "-o", "job", "."); err != nil {
		return err
	}
	walls := map[int]float64{} // -workers 1, by size
	for _, trees := range sizes {
		w, err := timeJob(res.JobDir, trees)
		if err != nil {
			return err
		}
		walls[trees] = w
	}
	if len(sizes) >= 2 {
		// The time one worker takes grows with the trees; what is left at
		// zero trees is the job's fixed part (start-up, reading the data,
		// writing the run), which a second worker does not shorten.
		a, b := sizes[0], sizes[len(sizes)-1]
		if a != b {
			perTree := (walls[b] - walls[a]) / float64(b-a)
			fmt.Printf("\nfixed part of the job (-workers 1, extrapolated to 0 trees from %d and %d): %.0f ms; %.2f ms per tree\n",
				a, b, 1000*(walls[a]-perTree*float64(a)), 1000*perTree)
		}
	}
	return nil
}

// timeJob times the job with the given number of trees and returns the
// best wall time with -workers 1.
func timeJob(dir string, trees int) (float64, error) {
	// Each setting's best of three: wall time, and the CPU seconds the job
	// used and the cores it got (CPU/wall), with the cores the rest of the
	// machine kept busy meanwhile: on a shared machine a job with two
	// workers may not get two cores.
	type setting struct {
		name    string
		workers int
		env     []string
		cpus    string // taskset -c, "" for all
	}
	settings := []setting{
		{"-workers 1", 1, nil, ""},
		{"-workers 1, GOMAXPROCS=1", 1, []string{"GOMAXPROCS=1"}, ""},
		{"-workers 2", 2, nil, ""},
	}
	// One worker on each CPU alone: cores of a virtual machine need not
	// be equally fast (one may share its physical core with another
	// tenant), and two workers can do no better than both cores' speeds
	// added.
	pinnable := runtime.NumCPU() == 2
	if _, err := exec.LookPath("taskset"); err != nil {
		pinnable = false
	}
	if pinnable {
		settings = append(settings, setting{"-workers 1 on CPU 0 alone", 1, nil, "0"}, setting{"-workers 1 on CPU 1 alone", 1, nil, "1"})
	}
	type run struct {
		wall, cpu, others float64
	}
	best := make([]run, len(settings))
	outs := make([]string, len(settings))
	for rep := 0; rep < 3; rep++ {
		for i, st := range settings {
			cmd := pinned(st.cpus, "./job", "-q", "-workers", strconv.Itoa(st.workers), "-trees", strconv.Itoa(trees))
			cmd.Dir, cmd.Env = dir, append(os.Environ(), st.env...)
			m0 := machineBusy()
			start := time.Now()
			out, err := cmd.Output()
			if err != nil {
				return 0, fmt.Errorf("job %s: %v", st.name, err)
			}
			wall := time.Since(start).Seconds()
			cpu := (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
			r := run{wall, cpu, max(0, (machineBusy()-m0-cpu)/wall)}
			if best[i].wall == 0 || r.wall < best[i].wall {
				best[i] = r
			}
			outs[i] = string(out)
		}
	}
	for i := range outs {
		if outs[i] != outs[0] {
			return 0, fmt.Errorf("the job's results depend on the setting:\n%s: %s%s: %s", settings[0].name, outs[0], settings[i].name, outs[i])
		}
	}
	fmt.Printf("\ndigits job (random forest, %d trees, 5-fold cross-validation): %s", trees, outs[0])
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "setting\twall (best of 3)\tCPU\tcores the job got\tcores others used\t\n")
	for i, st := range settings {
		b := best[i]
		fmt.Fprintf(tw, "%s\t%.3fs\t%.3fs\t%.2f\t%.2f\t\n", st.name, b.wall, b.cpu, b.cpu/b.wall, b.others)
	}
	tw.Flush()
	fmt.Printf("%d trees: speed-up, -workers 2 over -workers 1: %.2fx (goal: at least 1.8x); over one core (GOMAXPROCS=1): %.2fx; identical results\n",
		trees, best[0].wall/best[2].wall, best[1].wall/best[2].wall)
	fmt.Printf("%d trees: upper bound on two idle cores (one core's CPU time over half of what two workers use): %.2fx\n", trees, best[1].cpu/(best[2].cpu/2))
	if pinnable {
		// The best two workers can do: both cores busy, each at its own
		// speed, the work shared between them.
		c0, c1 := best[3].wall, best[4].wall
		ideal := 1 / (1/c0 + 1/c1)
		fmt.Printf("%d trees: alone, CPU 0 takes %.3fs and CPU 1 %.3fs; two workers on these cores can at best take %.3fs, a %.2fx speed-up over the faster core;\n"+
			"  -workers 2 took %.3fs: %.0f%% parallel efficiency, which on two equal cores would be a %.2fx speed-up\n",
			trees, c0, c1, ideal, min(c0, c1)/ideal, best[2].wall, 100*ideal/best[2].wall, 2*ideal/best[2].wall)
	}
	return best[0].wall, nil
}
