// Command tracking measures how fast and how safely the tracking package
// records metrics: one writer, the cost of writing one batch, and many
// processes writing to the same SQLite file at once.
//
//	go run ./bench/tracking                 # defaults: 1e6 points, 8 processes x 100k points
//	go run ./bench/tracking -procs 16 -per-proc 50000
//
// It prints one figure per line and exits non-zero if a goal is missed.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gopherlab/gopherlab/tracking"
)

func main() {
	points := flag.Int("points", 1_000_000, "points logged by the single writer")
	batches := flag.Int("batches", 300, "batches of -batch points timed one by one")
	batch := flag.Int("batch", tracking.DefaultBatchSize, "points per batch")
	procs := flag.Int("procs", 8, "writer processes sharing one database")
	perProc := flag.Int("per-proc", 100_000, "points logged by each writer process")
	dir := flag.String("dir", "", "directory for the databases (default: a temporary directory, removed after)")
	worker := flag.Bool("worker", false, "internal: run as one writer process")
	flag.Parse()

	if *worker {
		os.Exit(runWorker())
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "tracking-bench-")
		if err != nil {
			fatal(err)
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	fmt.Printf("tracking benchmark: %s, %d CPUs, %s/%s\n", runtime.Version(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	ok := true
	ok = single(filepath.Join(*dir, "single.db"), *points) && ok
	ok = batchLatency(filepath.Join(*dir, "batch.db"), *batches, *batch) && ok
	unbatched(filepath.Join(*dir, "unbatched.db"), 2000)
	ok = multi(filepath.Join(*dir, "multi.db"), *procs, *perProc) && ok
	if !ok {
		fmt.Println("RESULT: a goal was missed")
		os.Exit(1)
	}
	fmt.Println("RESULT: all goals met")
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench/tracking:", err)
	os.Exit(1)
}

func goal(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}

// single logs n points from one goroutine with default batching.
func single(path string, n int) bool {
	s, err := tracking.Open(path)
	if err != nil {
		fatal(err)
	}
	defer s.Close()
	r, err := s.StartRun("bench", &tracking.RunOptions{Name: "single"})
	if err != nil {
		fatal(err)
	}
	start := time.Now()
	for i := 0; i < n; i++ {
		if err := r.LogMetric("loss", 1/float64(i+1), i); err != nil {
			fatal(err)
		}
	}
	if err := r.Finish(); err != nil {
		fatal(err)
	}
	el := time.Since(start)
	counts, err := s.MetricCount(r.ID())
	if err != nil {
		fatal(err)
	}
	rate := float64(n) / el.Seconds()
	fmt.Printf("single writer: %d points in %v = %.0f points/s (%.0f ns/point, stored %d) [goal >= 100000/s: %s]\n",
		n, el.Round(time.Millisecond), rate, float64(el.Nanoseconds())/float64(n), counts["loss"], goal(rate >= 100_000 && counts["loss"] == n))
	return rate >= 100_000 && counts["loss"] == n
}

// batchLatency times Flush of k batches of size points each.
func batchLatency(path string, k, size int) bool {
	s, err := tracking.Open(path)
	if err != nil {
		fatal(err)
	}
	defer s.Close()
	s.SetBatching(1<<30, 0) // only explicit flushes
	r, err := s.StartRun("bench", &tracking.RunOptions{Name: "batches"})
	if err != nil {
		fatal(err)
	}
	lat := make([]time.Duration, 0, k)
	step := 0
	for b := 0; b < k; b++ {
		for i := 0; i < size; i++ {
			// Two metrics, like a training loop logging loss and accuracy.
			key := "loss"
			if i%2 == 1 {
				key = "acc"
			}
			r.LogMetric(key, float64(step), step)
			step++
		}
		t0 := time.Now()
		if err := r.Flush(); err != nil {
			fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	r.Finish()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))] }
	p50, p99 := pct(0.50), pct(0.99)
	ok := p50 <= 5*time.Millisecond
	fmt.Printf("batch of %d points: p50 %v, p90 %v, p99 %v, max %v over %d batches [goal p50 <= 5ms: %s]\n",
		size, p50.Round(time.Microsecond), pct(0.90).Round(time.Microsecond), p99.Round(time.Microsecond),
		lat[len(lat)-1].Round(time.Microsecond), k, goal(ok))
	return ok
}

// unbatched shows what batching buys: one transaction per point.
func unbatched(path string, n int) {
	s, err := tracking.Open(path)
	if err != nil {
		fatal(err)
	}
	defer s.Close()
	s.SetBatching(1, 0)
	r, err := s.StartRun("bench", &tracking.RunOptions{Name: "unbatched"})
	if err != nil {
		fatal(err)
	}
	start := time.Now()
	for i := 0; i < n; i++ {
		if err := r.LogMetric("loss", float64(i), i); err != nil {
			fatal(err)
		}
	}
	el := time.Since(start)
	r.Finish()
	fmt.Printf("for comparison, one transaction per point: %.0f points/s\n", float64(n)/el.Seconds())
}

type workerReport struct {
	Run    string   `json:"run"`
	Points int      `json:"points"`
	Locked int      `json:"locked"`
	Errors []string `json:"errors"`
	Secs   float64  `json:"secs"`
}

// multi starts procs copies of this program writing to one database at
// the same moment.
func multi(path string, procs, perProc int) bool {
	exe, err := os.Executable()
	if err != nil {
		fatal(err)
	}
	type proc struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		out   *bufio.Reader
	}
	ps := make([]proc, procs)
	for i := range ps {
		cmd := exec.Command(exe, "-worker")
		cmd.Env = append(os.Environ(), "BENCH_DB="+path, "BENCH_POINTS="+strconv.Itoa(perProc), "BENCH_NAME=w"+strconv.Itoa(i))
		cmd.Stderr = os.Stderr
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			fatal(err)
		}
		ps[i] = proc{cmd, stdin, bufio.NewReader(stdout)}
	}
	for i, p := range ps {
		if line, err := p.out.ReadString('\n'); strings.TrimSpace(line) != "ready" {
			fatal(fmt.Errorf("worker %d: %q %v", i, line, err))
		}
	}
	start := time.Now()
	for _, p := range ps {
		io.WriteString(p.stdin, "go\n")
	}
	reps := make([]workerReport, procs)
	for i, p := range ps {
		if err := json.NewDecoder(p.out).Decode(&reps[i]); err != nil {
			fatal(fmt.Errorf("worker %d: %v", i, err))
		}
		p.cmd.Wait()
	}
	el := time.Since(start)

	s, err := tracking.Open(path)
	if err != nil {
		fatal(err)
	}
	defer s.Close()
	locked, otherErrs, logged, stored := 0, 0, 0, 0
	var slowest float64
	for _, rep := range reps {
		locked += rep.Locked
		otherErrs += len(rep.Errors) - rep.Locked
		logged += rep.Points
		slowest = max(slowest, rep.Secs)
		counts, err := s.MetricCount(rep.Run)
		if err != nil {
			fatal(err)
		}
		stored += counts["loss"]
	}
	want := procs * perProc
	lost := want - stored
	rate := float64(stored) / el.Seconds()
	integrity := "ok"
	if err := s.IntegrityCheck(); err != nil {
		integrity = err.Error()
	}
	ok := locked == 0 && otherErrs == 0 && lost == 0 && rate >= 50_000 && integrity == "ok"
	fmt.Printf("%d processes x %d points: %d stored in %v = %.0f points/s total; \"database is locked\" errors: %d, other errors: %d, rows lost: %d, integrity_check: %s [goal 0 locked, 0 lost, >= 50000/s: %s]\n",
		procs, perProc, stored, el.Round(time.Millisecond), rate, locked, otherErrs, lost, integrity, goal(ok))
	return ok
}

func runWorker() int {
	path := os.Getenv("BENCH_DB")
	n, _ := strconv.Atoi(os.Getenv("BENCH_POINTS"))
	rep := workerReport{}
	note := func(err error) {
		rep.Errors = append(rep.Errors, err.Error())
		if strings.Contains(err.Error(), "locked") || strings.Contains(err.Error(), "busy") {
			rep.Locked++
		}
	}
	defer func() { json.NewEncoder(os.Stdout).Encode(rep) }()
	s, err := tracking.Open(path)
	if err != nil {
		note(err)
		fmt.Println("ready")
		return 1
	}
	defer s.Close()
	r, err := s.StartRun("bench-multi", &tracking.RunOptions{Name: os.Getenv("BENCH_NAME")})
	if err != nil {
		note(err)
		fmt.Println("ready")
		return 1
	}
	rep.Run = r.ID()
	fmt.Println("ready")
	bufio.NewReader(os.Stdin).ReadString('\n')
	start := time.Now()
	for i := 0; i < n; i++ {
		if err := r.LogMetric("loss", 1/float64(i+1), i); err != nil {
			note(err)
			continue
		}
		rep.Points++
	}
	if err := r.Finish(); err != nil {
		note(err)
	}
	rep.Secs = time.Since(start).Seconds()
	return 0
}
