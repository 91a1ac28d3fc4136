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
	"syscall"
	"time"
)

// Main runs the server: it loads the model, listens, and on SIGTERM or
// SIGINT stops being ready, finishes the requests in flight and exits.
func Main() {
	modelDir := flag.String("model-dir", "model", "directory holding model.json and the model file it names")
	addr := flag.String("addr", ":8080", "address to listen on (port 0 picks a free port)")
	name := flag.String("name", "", "serve the model under this name (default: the name in model.json)")
	maxBody := flag.Int64("max-body", 1<<20, "largest request body, in bytes")
	cache := flag.Int("cache", 10000, "recent per-row results kept (0: no cache)")
	maxRows := flag.Int("max-rows", 10000, "largest batch a request may ask for")
	grace := flag.Duration("shutdown-timeout", 10*time.Second, "how long requests in flight may take to finish at shutdown")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile (go tool pprof) to this file until the server stops")
	flag.Parse()
	// The request path allocates little and the heap is small (the model
	// and per-request buffers): collecting at 5x the live heap instead of
	// 2x costs a few megabytes and saves most collections. GOGC, when
	// set, wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
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
	if err := run(*modelDir, *addr, *name, *maxBody, *cache, *maxRows, *grace, log); err != nil {
		log.Error(err.Error())
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(modelDir, addr, name string, maxBody int64, cache, maxRows int, grace time.Duration, log *slog.Logger) error {
	m, err := Load(modelDir)
	if err != nil {
		return err
	}
	if name != "" {
		m.Name = name
	}
	if cache == 0 {
		cache = -1
	}
	s := NewServer(m, Config{MaxBody: maxBody, CacheSize: cache, MaxRows: maxRows})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("serving: %w", err)
	}
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	fmt.Printf("serving model %s version %s on http://%s\n", m.Name, m.Version, ln.Addr())
	select {
	case err := <-done:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", grace)
	s.SetReady(false)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("serving: shutdown: %w", err)
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", err)
	}
	log.Info("stopped")
	return nil
}
