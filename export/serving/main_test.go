package serving

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// serverArgsEnv, set, makes the test binary the server: the shutdown
// tests start it as a process of its own and send it signals.
const serverArgsEnv = "GOPHERLAB_SERVING_TEST_ARGS"

func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv(serverArgsEnv); ok {
		o, _ := parseFlags(flag.NewFlagSet("server", flag.ExitOnError), strings.Split(args, "\x1f"))
		if err := run(o, slog.New(slog.NewTextHandler(os.Stderr, nil))); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serverProc is a server running in a process of its own.
type serverProc struct {
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:PORT
	exited chan error
	stderr *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startServer runs the server on a free loopback port, serving the model
// in dir, with the extra flags.
func startServer(t *testing.T, dir string, flags ...string) *serverProc {
	t.Helper()
	args := append([]string{"-model-dir", dir, "-addr", "127.0.0.1:0"}, flags...)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serverArgsEnv+"="+strings.Join(args, "\x1f"))
	p := &serverProc{cmd: cmd, exited: make(chan error, 1), stderr: &syncBuffer{}}
	cmd.Stderr = p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exited
	})
	stdout := bufio.NewReader(out)
	line, err := stdout.ReadString('\n')
	go func() {
		io.Copy(io.Discard, stdout)
		p.exited <- cmd.Wait()
	}()
	i := strings.LastIndex(line, "http://")
	if err != nil || i < 0 {
		t.Fatalf("server: %q %v\n%s", line, err, p.stderr.String())
	}
	p.base = strings.TrimSpace(line[i:])
	return p
}

func (p *serverProc) signal(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
}

// wait waits for the server to exit, at most d, and reports its error.
func (p *serverProc) wait(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case err := <-p.exited:
		p.exited <- err // for the cleanup
		if err != nil {
			t.Errorf("server: %v\n%s", err, p.stderr.String())
		}
	case <-time.After(d):
		t.Fatalf("the server did not stop within %v\n%s", d, p.stderr.String())
	}
}

// untilReady polls the readiness endpoint until it answers want.
func untilReady(t *testing.T, c *http.Client, base string, want int) *http.Response {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		resp, err := c.Get(base + "/v2/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == want {
				return resp
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("readiness never answered %d: %v %v", want, resp, err)
		}
	}
}

// TestShutdownDrains sends SIGTERM to a server with -drain: during the
// drain readiness answers 503 and requests are served, each closing its
// connection; then the server stops, cleanly.
func TestShutdownDrains(t *testing.T) {
	dir, _, _ := fitModel(t)
	const drain = 2 * time.Second
	p := startServer(t, dir, "-drain", drain.String())
	c := &http.Client{Timeout: 5 * time.Second}
	predict := func() *http.Response {
		t.Helper()
		resp, err := c.Post(p.base+"/predict", "application/json", strings.NewReader(`{"x": 1, "color": "red"}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("predict: %s %s", resp.Status, body)
		}
		return resp
	}
	if resp := predict(); resp.Close {
		t.Fatal("before SIGTERM: the response closes the connection")
	}
	sent := time.Now()
	p.signal(t)
	// (Close is the client's reading of "Connection: close", a header it
	// removes.)
	if resp := untilReady(t, c, p.base, http.StatusServiceUnavailable); !resp.Close {
		t.Error("readiness during the drain: no Connection: close")
	}
	if resp := predict(); !resp.Close {
		t.Error("predict during the drain: no Connection: close")
	}
	if d := time.Since(sent); d >= drain {
		t.Fatalf("the checks took %v, longer than the drain: inconclusive", d)
	}
	p.wait(t, drain+10*time.Second)
	if d := time.Since(sent); d < drain {
		t.Errorf("the server stopped %v after SIGTERM, before the end of the %v drain", d, drain)
	}
}

// TestShutdownSecondSignal ends a long drain with a second SIGTERM, and
// checks that without -drain SIGTERM stops the server at once.
func TestShutdownSecondSignal(t *testing.T) {
	dir, _, _ := fitModel(t)
	c := &http.Client{Timeout: 5 * time.Second}
	p := startServer(t, dir, "-drain", "1h")
	p.signal(t)
	untilReady(t, c, p.base, http.StatusServiceUnavailable)
	p.signal(t)
	p.wait(t, 10*time.Second)

	p = startServer(t, dir)
	untilReady(t, c, p.base, http.StatusOK)
	p.signal(t)
	p.wait(t, 10*time.Second)
}
