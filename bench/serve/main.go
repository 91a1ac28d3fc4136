// Command serve benchmarks the server of an exported serving bundle
// against scikit-learn behind Flask and gunicorn serving the same model.
//
// It exports export/testdata/iris.ipynb with package export, builds and
// runs the training job (which writes the model), builds the server as a
// static binary and starts it on loopback; it starts sklearn_app.py (beside
// this file: the same pipeline on the same data, the same /predict API)
// under gunicorn. Then, for each server, wrk measures the highest
// throughput and its latency (closed loop, -c connections), and an
// open-loop generator sends a fixed rate (1000 requests/s by default)
// measuring latency from each request's scheduled time, so a stalled
// server cannot hide its queue. The Go server's result cache is off for
// the comparison (every request computes), and measured on as well.
//
// It also exports export/testdata/digits.ipynb (a random forest,
// cross-validated) and times its job with -workers 1 and -workers 2 (the
// best of three runs each), checking that both print the same results.
//
//	go run ./bench/serve                 # about two minutes on 2 cores
//	go run ./bench/serve -d 5s -rate 500
//
// Needs the Debian packages wrk, gunicorn, python3-flask, python3-sklearn.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/gopherlab/gopherlab/export"
)

const irisCSV = "/usr/lib/python3/dist-packages/sklearn/datasets/data/iris.csv"

// body is one prediction request (a versicolor flower), the same for both
// servers.
const body = `{"sepal_length": 6.4, "sepal_width": 3.2, "petal_length": 4.5, "petal_width": 1.5}`

func main() {
	dur := flag.Duration("d", 10*time.Second, "duration of each measurement")
	conns := flag.Int("c", 32, "wrk connections")
	rate := flag.Int("rate", 1000, "requests per second of the fixed-rate measurement")
	gunicornWorkers := flag.Int("gunicorn-workers", 2*runtime.NumCPU()+1, "gunicorn sync workers (its documentation's 2 x cores + 1)")
	keep := flag.Bool("keep", false, "keep the work directory")
	trees := flag.Int("trees", 300, "trees of the digits job's forest (job speed-up)")
	skipJob := flag.Bool("skip-job", false, "skip the job speed-up measurement")
	flag.Parse()
	err := run(*dur, *conns, *rate, *gunicornWorkers, *keep)
	if err == nil && !*skipJob {
		err = jobSpeedup(*trees, *keep)
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

func run(dur time.Duration, conns, rate, gworkers int, keep bool) error {
	for _, tool := range []string{"wrk", "gunicorn"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found: apt-get install wrk gunicorn python3-flask python3-sklearn", tool)
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
	env := append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	if err := sh(res.JobDir, env, "go", "build", "-o", "job", "."); err != nil {
		return err
	}
	if err := sh(res.JobDir, env, "./job", "-q"); err != nil {
		return err
	}
	if err := sh(res.ServeDir, append(env, "CGO_ENABLED=0"), "go", "build", "-o", "server", "."); err != nil {
		return err
	}

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
		cmd := exec.Command(args[0], args[1:]...)
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
	goOff, err := start("gopherlab (Go, cache off)", res.ServeDir, os.Environ(), "/v2/health/ready", "./server", "-addr", "127.0.0.1:PORT", "-cache", "0")
	if err != nil {
		return err
	}
	goOn, err := start("gopherlab (Go, cache on)", res.ServeDir, os.Environ(), "/v2/health/ready", "./server", "-addr", "127.0.0.1:PORT")
	if err != nil {
		return err
	}
	py, err := start(fmt.Sprintf("scikit-learn (Flask, gunicorn -w %d)", gworkers), filepath.Join(root, "bench/serve"), append(os.Environ(), "IRIS_CSV="+irisCSV), "/health",
		"gunicorn", "-w", strconv.Itoa(gworkers), "-b", "127.0.0.1:PORT", "--log-level", "warning", "sklearn_app:app")
	if err != nil {
		return err
	}

	// Both answer the same question the same way.
	for _, s := range []*server{goOff, py} {
		out, err := post(http.DefaultClient, s.url+"/predict")
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		fmt.Printf("%s: %s\n", s.name, strings.TrimSpace(out))
	}

	script := filepath.Join(work, "post.lua")
	lua := fmt.Sprintf("wrk.method = \"POST\"\nwrk.body = %q\nwrk.headers[\"Content-Type\"] = \"application/json\"\n", body)
	if err := os.WriteFile(script, []byte(lua), 0o644); err != nil {
		return err
	}
	type row struct {
		name                 string
		rps, p50, p99        float64
		fixedP50, fixedP99   float64
		fixedErrs, fixedSent int
	}
	var rows []row
	for _, s := range []*server{goOff, goOn, py} {
		fmt.Printf("measuring %s ...\n", s.name)
		rps, p50, p99, err := runWrk(s.url+"/predict", script, conns, dur)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		fp50, fp99, errs, sent := fixedRate(s.url+"/predict", rate, dur)
		rows = append(rows, row{s.name, rps, p50, p99, fp50, fp99, errs, sent})
	}

	fmt.Printf("\nPOST /predict, one iris row, loopback, %d cores shared by client and server, %v per measurement\n", runtime.NumCPU(), dur)
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "server\tmax req/s (wrk -c %d)\tp50\tp99\t\tp50 at %d/s\tp99 at %d/s\terrors\t\n", conns, rate, rate)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t\t%s\t%s\t%d/%d\t\n", r.name, r.rps, ms(r.p50), ms(r.p99), ms(r.fixedP50), ms(r.fixedP99), r.fixedErrs, r.fixedSent)
	}
	tw.Flush()
	ratio := rows[0].rps / rows[2].rps
	fmt.Printf("\nthroughput, Go (cache off) / scikit-learn: %.1fx (goal: at least 20x)\n", ratio)
	fmt.Printf("Go (cache off) p99 at %d requests/s: %s (goal: at most 2 ms)\n", rate, ms(rows[0].fixedP99))
	return nil
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

// runWrk runs wrk and returns requests/s and the p50 and p99 latencies in
// seconds.
func runWrk(url, script string, conns int, dur time.Duration) (rps, p50, p99 float64, err error) {
	threads := min(runtime.NumCPU(), conns)
	out, err := exec.Command("wrk", "-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns), "-d", fmt.Sprintf("%ds", int(dur.Seconds())), "--latency", "-s", script, url).CombinedOutput()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "Non-2xx") {
		return 0, 0, 0, fmt.Errorf("wrk saw errors:\n%s", out)
	}
	m := rpsRE.FindSubmatch(out)
	if m == nil {
		return 0, 0, 0, fmt.Errorf("wrk output:\n%s", out)
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
	return rps, p50, p99, nil
}

// fixedRate sends rate requests per second for dur (open loop: each
// request leaves at its scheduled time whatever the server's state) and
// returns the p50 and p99 latencies measured from the scheduled times.
func fixedRate(url string, rate int, dur time.Duration) (p50, p99 float64, errs, sent int) {
	tr := &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 0, DisableCompression: true}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	defer tr.CloseIdleConnections()
	// Warm up the connections.
	for i := 0; i < 16; i++ {
		post(client, url)
	}
	n := int(dur.Seconds() * float64(rate))
	interval := time.Second / time.Duration(rate)
	lat := make([]float64, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), dur+15*time.Second)
	defer cancel()
	start := time.Now()
	for i := 0; i < n; i++ {
		at := start.Add(time.Duration(i) * interval)
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func(i int, at time.Time) {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err == nil {
				_, err = io.Copy(io.Discard, bufio.NewReader(resp.Body))
				resp.Body.Close()
				if resp.StatusCode != 200 {
					err = fmt.Errorf("status %d", resp.StatusCode)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs++
				lat[i] = dur.Seconds() // counts as slow
				return
			}
			lat[i] = time.Since(at).Seconds()
		}(i, at)
	}
	wg.Wait()
	sort.Float64s(lat)
	return lat[n/2], lat[n*99/100], errs, n
}

// jobSpeedup exports the digits notebook and times its job with 1 and 2
// workers.
func jobSpeedup(trees int, keep bool) error {
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
	env := append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	if err := sh(res.JobDir, env, "go", "build", "-o", "job", "."); err != nil {
		return err
	}
	best := map[int]time.Duration{}
	outs := map[int]string{}
	for rep := 0; rep < 3; rep++ {
		for _, w := range []int{1, 2} {
			cmd := exec.Command("./job", "-q", "-workers", strconv.Itoa(w), "-trees", strconv.Itoa(trees))
			cmd.Dir = res.JobDir
			start := time.Now()
			out, err := cmd.Output()
			if err != nil {
				return fmt.Errorf("job -workers %d: %v", w, err)
			}
			d := time.Since(start)
			if b, ok := best[w]; !ok || d < b {
				best[w] = d
			}
			outs[w] = string(out)
		}
	}
	if outs[1] != outs[2] {
		return fmt.Errorf("the job's results depend on -workers:\n1: %s2: %s", outs[1], outs[2])
	}
	fmt.Printf("digits job (random forest, %d trees, 5-fold cross-validation): %s", trees, outs[1])
	fmt.Printf("  -workers 1: %v   -workers 2: %v   speed-up %.2fx (goal: at least 1.8x); identical results\n",
		best[1].Round(time.Millisecond), best[2].Round(time.Millisecond), best[1].Seconds()/best[2].Seconds())
	return nil
}
