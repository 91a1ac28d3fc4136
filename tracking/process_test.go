package tracking

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as a writer process: with GOPHERLAB_TRACKING_HELPER
// set, TestMain runs the helper instead of the tests.
const helperEnv = "GOPHERLAB_TRACKING_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "writer":
		os.Exit(helperWriter())
	case "hang":
		os.Exit(helperHang())
	default:
		fmt.Fprintln(os.Stderr, "unknown helper", os.Getenv(helperEnv))
		os.Exit(2)
	}
}

type writerReport struct {
	Run    string `json:"run"`
	Points int    `json:"points"`
	Errors []string
}

// helperWriter opens the database, starts a run, says "ready", waits for a
// line on stdin, logs the points and reports.
func helperWriter() int {
	path := os.Getenv("DB")
	points, _ := strconv.Atoi(os.Getenv("POINTS"))
	rep := writerReport{}
	fail := func(err error) int {
		rep.Errors = append(rep.Errors, err.Error())
		json.NewEncoder(os.Stdout).Encode(rep)
		return 1
	}
	s, err := Open(path)
	if err != nil {
		return fail(err)
	}
	defer s.Close()
	r, err := s.StartRun("concurrent", &RunOptions{Name: os.Getenv("NAME"), Params: map[string]interface{}{"writer": os.Getenv("NAME")}})
	if err != nil {
		return fail(err)
	}
	rep.Run = r.ID()
	fmt.Println("ready")
	bufio.NewReader(os.Stdin).ReadString('\n')
	for i := 0; i < points; i++ {
		if err := r.LogMetric("loss", 1/float64(i+1), i); err != nil {
			rep.Errors = append(rep.Errors, err.Error())
			continue
		}
		rep.Points++
		if i%5000 == 0 {
			if err := r.SetTag("progress", strconv.Itoa(i)); err != nil {
				rep.Errors = append(rep.Errors, err.Error())
			}
		}
	}
	if err := r.Finish(); err != nil {
		rep.Errors = append(rep.Errors, err.Error())
	}
	json.NewEncoder(os.Stdout).Encode(rep)
	return 0
}

// helperHang logs forever after printing the run id: it is killed by the test.
func helperHang() int {
	s, err := Open(os.Getenv("DB"))
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	s.SetBatching(200, 5*time.Millisecond)
	r, err := s.StartRun("crash", &RunOptions{Name: "victim"})
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	r.LogParam("p", 1)
	r.LogArtifact("a", "text", []byte("hello"))
	announced := false
	for i := 0; ; i++ {
		r.LogMetric("m", float64(i), i)
		if i%1000 == 999 {
			r.Flush()
			r.SetTag("i", strconv.Itoa(i))
			if !announced {
				fmt.Println("RUN", r.ID())
				announced = true
			}
		}
	}
}

func helperCmd(t *testing.T, mode string, env ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{helperEnv + "=" + mode}, env...)...)
	cmd.Stderr = os.Stderr
	return cmd
}

func TestConcurrentWriterProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	const procs, points = 8, 20000
	path := filepath.Join(t.TempDir(), "shared.db")
	type proc struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		out   *bufio.Reader
	}
	ps := make([]proc, procs)
	for i := range ps {
		cmd := helperCmd(t, "writer", "DB="+path, "POINTS="+strconv.Itoa(points), fmt.Sprintf("NAME=w%d", i))
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ps[i] = proc{cmd, stdin, bufio.NewReader(stdout)}
	}
	// Every process opened the (new) database and started its run.
	for i, p := range ps {
		line, err := p.out.ReadString('\n')
		if strings.TrimSpace(line) != "ready" {
			t.Fatalf("writer %d: %q %v", i, line, err)
		}
	}
	// Read while they write.
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stop := make(chan struct{})
	var readErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			// Until a writer has logged loss, no run has it.
			if _, err := s.SearchRuns(SearchQuery{Filter: "metrics.loss < 0.5", OrderBy: "metrics.loss"}); err != nil && !errors.Is(err, ErrUnknownKey) {
				readErr = err
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	start := time.Now()
	for _, p := range ps {
		io.WriteString(p.stdin, "go\n")
	}
	reports := make([]writerReport, procs)
	for i, p := range ps {
		if err := json.NewDecoder(p.out).Decode(&reports[i]); err != nil {
			t.Fatalf("writer %d report: %v", i, err)
		}
		if err := p.cmd.Wait(); err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	if readErr != nil {
		t.Errorf("concurrent reader: %v", readErr)
	}
	total := 0
	for i, rep := range reports {
		if len(rep.Errors) > 0 {
			t.Errorf("writer %d: %d errors, first: %s", i, len(rep.Errors), rep.Errors[0])
		}
		counts, err := s.MetricCount(rep.Run)
		if err != nil {
			t.Fatal(err)
		}
		if counts["loss"] != points || rep.Points != points {
			t.Errorf("writer %d: logged %d, stored %d, want %d", i, rep.Points, counts["loss"], points)
		}
		ri, err := s.GetRun(rep.Run)
		if err != nil {
			t.Fatal(err)
		}
		if ri.Status != StatusFinished || ri.Metrics["loss"] != 1/float64(points) || ri.Tags["progress"] != "15000" {
			t.Errorf("writer %d: status %s, latest %v, tags %v", i, ri.Status, ri.Metrics["loss"], ri.Tags)
		}
		total += counts["loss"]
	}
	t.Logf("%d processes wrote %d points in %v (%.0f points/s)", procs, total, elapsed, float64(total)/elapsed.Seconds())
	if err := s.IntegrityCheck(); err != nil {
		t.Error(err)
	}
}

func TestKilledWriter(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	cmd := helperCmd(t, "hang", "DB="+path)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "RUN ") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper said %q, %v", line, err)
	}
	runID := strings.TrimSpace(strings.TrimPrefix(line, "RUN "))
	time.Sleep(300 * time.Millisecond) // mid-run, transactions in flight
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.IntegrityCheck(); err != nil {
		t.Fatal(err)
	}
	if s.Reaped() != 1 {
		t.Errorf("Reaped() = %d, want 1", s.Reaped())
	}
	ri, err := s.GetRun(runID)
	if err != nil {
		t.Fatal(err)
	}
	counts, _ := s.MetricCount(runID)
	t.Logf("killed run kept %d points; status %s: %s", counts["m"], ri.Status, ri.Error)
	if ri.Status != StatusKilled || ri.EndTime.IsZero() {
		t.Errorf("status %s end %v, want KILLED with an end time", ri.Status, ri.EndTime)
	}
	if counts["m"] < 1000 || ri.Params["p"] != "1" {
		t.Errorf("data before the kill: %d points, params %v", counts["m"], ri.Params)
	}
	// Points are stored contiguously from step 0: no torn batch.
	var maxStep, n int
	s.db.QueryRow(`SELECT MAX(step), COUNT(*) FROM metrics WHERE run_id = ?`, runID).Scan(&maxStep, &n)
	if maxStep != n-1 {
		t.Errorf("steps 0..%d but %d rows", maxStep, n)
	}
	if data, err := s.ReadArtifact(runID, "a"); err != nil || string(data) != "hello" {
		t.Errorf("artifact: %q %v", data, err)
	}
	// The database stays writable.
	r, err := s.StartRun("crash", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Finish(); err != nil {
		t.Fatal(err)
	}
}
