package serving

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Main runs the server: it loads the model, listens, and on SIGTERM or
// SIGINT stops being ready, drains for -drain (a second signal ends the
// drain), finishes the requests in flight and exits.
func Main() {
	o, cpuProfile := parseFlags(flag.CommandLine, os.Args[1:])
	// The request path allocates little and the heap is small (the model
	// and per-request buffers): collecting at 5x the live heap instead of
	// 2x costs a few megabytes and saves most collections. GOGC, when
	// set, wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			log.Error("serving: cpu profile: " + err.Error())
			os.Exit(1)
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	if err := run(o, log); err != nil {
		log.Error(err.Error())
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// options are the server's flags.
type options struct {
	modelDir, addr, name string
	maxBody              int64
	cache, maxRows       int
	grace, drain         time.Duration
}

// parseFlags parses the server's flags from args into fs (exiting on an
// error, as flag.CommandLine does).
func parseFlags(fs *flag.FlagSet, args []string) (o options, cpuProfile string) {
	fs.StringVar(&o.modelDir, "model-dir", "model", "directory holding model.json and the model file it names")
	fs.StringVar(&o.addr, "addr", ":8080", "address to listen on (port 0 picks a free port)")
	fs.StringVar(&o.name, "name", "", "serve the model under this name (default: the name in model.json)")
	fs.Int64Var(&o.maxBody, "max-body", 0, "largest request body, in bytes (0: room for -max-rows rows of the model's features\nin /predict's JSON, numbers at full precision, twice over; at least 1 MiB; logged at start)")
	fs.IntVar(&o.cache, "cache", 10000, "recent per-row results kept (0: no cache)")
	fs.IntVar(&o.maxRows, "max-rows", 10000, "largest batch a request may ask for (the default -max-body grows with it)")
	fs.DurationVar(&o.grace, "shutdown-timeout", 10*time.Second, "how long requests in flight may take to finish at shutdown")
	fs.DurationVar(&o.drain, "drain", 0, "on SIGTERM, keep serving this long first, answering readiness probes with 503\n"+
		"and closing each connection after its response, so load balancers and clients move\n"+
		"elsewhere (a second signal ends it; 0: shut down at once)")
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile (go tool pprof) to this file until the server stops")
	fs.Parse(args)
	return o, cpuProfile
}

func run(o options, log *slog.Logger) error {
	m, err := Load(o.modelDir)
	if err != nil {
		return err
	}
	if o.name != "" {
		m.Name = o.name
	}
	if o.cache == 0 {
		o.cache = -1
	}
	s := NewServer(m, Config{MaxBody: o.maxBody, CacheSize: o.cache, MaxRows: o.maxRows})
	// Signals are caught before the server listens: one that comes as
	// soon as it does is a shutdown, not the default exit.
	stop := make(chan os.Signal, 2)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	defer signal.Stop(stop)
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("serving: %w", err)
	}
	memLimit := setMemoryLimit(os.Getenv, os.ReadFile)
	log.Info("limits", "max_body", s.MaxBody(), "max_rows", s.cfg.MaxRows, "drain", o.drain, "shutdown_timeout", o.grace, "memory_limit", memLimit)
	fmt.Printf("serving model %s version %s on http://%s\n", m.Name, m.Version, ln.Addr())
	return serve(s, ln, stop, o.drain, o.grace, log)
}

// MemoryLimitEnv names the environment variable holding the container's
// memory limit in bytes: the Kubernetes Deployment sets it from the
// container's limits.memory (Downward API resourceFieldRef).
const MemoryLimitEnv = "GOPHERLAB_MEMORY_LIMIT"

// memoryLimitShare is the part of the container's memory limit given to
// the Go runtime as its soft limit (debug.SetMemoryLimit): the GC works
// harder near it rather than let the heap reach the limit, where the
// kernel kills the container; the rest is room for what the runtime does
// not count (the binary's pages, the kernel's buffers for connections).
const memoryLimitShare = 0.9

// cgroupMemoryMax is where a container's memory limit reads under cgroup
// v2 ("max" when there is none): docker run --memory and Kubernetes set it.
const cgroupMemoryMax = "/sys/fs/cgroup/memory.max"

// setMemoryLimit gives the Go runtime a soft memory limit of
// memoryLimitShare of the container's limit (MemoryLimitEnv, else the
// cgroup's memory.max, read with readFile), unless GOMEMLIMIT sets one,
// and returns the limit in force ("" for none).
func setMemoryLimit(getenv func(string) string, readFile func(string) ([]byte, error)) string {
	if v := getenv("GOMEMLIMIT"); v != "" {
		return v + " (GOMEMLIMIT)"
	}
	from := MemoryLimitEnv
	n, err := strconv.ParseInt(strings.TrimSpace(getenv(MemoryLimitEnv)), 10, 64)
	if err != nil || n <= 0 {
		b, rerr := readFile(cgroupMemoryMax)
		if rerr != nil {
			return ""
		}
		from = cgroupMemoryMax
		// "max": no limit, which ParseInt refuses.
		if n, err = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err != nil || n <= 0 {
			return ""
		}
	}
	limit := int64(float64(n) * memoryLimitShare)
	debug.SetMemoryLimit(limit)
	return fmt.Sprintf("%d (%.0f%% of %s=%d)", limit, memoryLimitShare*100, from, n)
}

// serve serves s on ln until a value comes on stop, then shuts down:
// not ready, it drains for drain (until another value comes), then
// finishes the requests in flight, waiting at most grace.
func serve(s *Server, ln net.Listener, stop <-chan os.Signal, drain, grace time.Duration, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serving: %w", err)
	case <-stop:
	}
	if drain > 0 {
		// A load balancer learns of a shutdown late (its next probe, an
		// endpoint update): requests keep coming for a while. Serving
		// them, each on a connection closed after its response, moves
		// the clients to other servers without a reset connection.
		// (Keep-alives go first: a probe told "not ready" is told so on
		// a closing connection.)
		log.Info("draining", "drain", drain)
		srv.SetKeepAlivesEnabled(false)
		s.SetReady(false)
		t := time.NewTimer(drain)
		select {
		case <-t.C:
		case <-stop:
			t.Stop()
			log.Info("drain ended by a second signal")
		case err := <-done:
			t.Stop()
			return fmt.Errorf("serving: %w", err)
		}
	}
	s.SetReady(false)
	log.Info("shutting down", "grace", grace)
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("serving: shutdown: %w", err)
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", err)
	}
	log.Info("stopped")
	return nil
}
