package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// The open-loop generator runs in its own process (this program with
// -loadgen), so it can be pinned to a core and its CPU time is its own. It
// speaks HTTP/1.1 over raw keep-alive connections with the request bytes
// made once: far cheaper than net/http's client, so what it measures is
// the server. It reports, besides the latencies from each request's
// scheduled time (the goal's figure: a late server cannot hide its
// queue), how late it sent requests (its own overhead) and its CPU time.

// loadResult is what the generator prints, as JSON.
type loadResult struct {
	Sent, Errors, Conns int
	P50, P99, Max       float64 // seconds from the scheduled time to the whole response
	ServiceP99          float64 // seconds from the write to the whole response
	LagP50, LagP99      float64 // seconds from the scheduled time to the write
	CPU                 float64 // the generator's CPU seconds (user + system)
	Wall                float64
}

// loadgen sends rate requests per second of body to target for dur.
// target "null" starts a trivial responder in this process first: the
// generator's own floor.
func loadgen(target string, rate int, dur time.Duration) (*loadResult, error) {
	if target == "null" {
		addr, err := nullServer()
		if err != nil {
			return nil, err
		}
		target = "http://" + addr + "/predict"
	}
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	req := []byte(fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", u.RequestURI(), u.Host, len(body), body))
	var (
		mu    sync.Mutex
		idle  []*hconn
		conns int
	)
	get := func() (*hconn, error) {
		mu.Lock()
		if n := len(idle); n > 0 {
			c := idle[n-1]
			idle = idle[:n-1]
			mu.Unlock()
			return c, nil
		}
		conns++
		mu.Unlock()
		return dial(u.Host)
	}
	put := func(c *hconn) {
		if c.closing {
			c.Close()
			return
		}
		mu.Lock()
		idle = append(idle, c)
		mu.Unlock()
	}
	// Warm up: 16 connections, each used once.
	var warm []*hconn
	for range 16 {
		c, err := get()
		if err != nil {
			return nil, err
		}
		if err := c.do(req); err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
		warm = append(warm, c)
	}
	for _, c := range warm {
		put(c)
	}

	n := int(dur.Seconds() * float64(rate))
	interval := time.Second / time.Duration(rate)
	lat := make([]float64, n)
	svc := make([]float64, n)
	lag := make([]float64, n)
	var errs int
	var wg sync.WaitGroup
	// Go's timers wake up to a millisecond late (the poller waits in
	// whole milliseconds): the schedule sleeps in nanosleep on its own
	// thread instead, without the kernel's default 50 µs timer slack, and
	// writes each request itself; goroutines read the responses.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const prSetTimerSlack = 29
	syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerSlack, 1, 0)
	cpu0 := cpuSelf()
	start := time.Now()
	for i := range n {
		at := start.Add(time.Duration(i) * interval)
		if d := time.Until(at); d > 0 {
			ts := syscall.NsecToTimespec(int64(d))
			for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
			}
		}
		c, err := get()
		sent := time.Now()
		lag[i] = sent.Sub(at).Seconds()
		if err == nil {
			c.SetDeadline(sent.Add(10 * time.Second))
			_, err = c.Write(req)
		}
		if err != nil {
			if c != nil {
				c.Close()
			}
			errs++
			lat[i], svc[i] = dur.Seconds(), dur.Seconds() // counts as slow
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := c.read()
			done := time.Now()
			if err != nil {
				c.Close()
				mu.Lock()
				errs++
				mu.Unlock()
				lat[i], svc[i] = dur.Seconds(), dur.Seconds()
				return
			}
			put(c)
			lat[i] = done.Sub(at).Seconds()
			svc[i] = done.Sub(sent).Seconds()
		}()
	}
	wg.Wait()
	wall := time.Since(start).Seconds()
	cpu := cpuSelf() - cpu0
	for _, c := range idle {
		c.Close()
	}
	pct := func(v []float64, p int) float64 { return v[min(len(v)-1, len(v)*p/100)] }
	slices.Sort(lat)
	slices.Sort(svc)
	slices.Sort(lag)
	return &loadResult{Sent: n, Errors: errs, Conns: conns, P50: pct(lat, 50), P99: pct(lat, 99), Max: lat[n-1],
		ServiceP99: pct(svc, 99), LagP50: pct(lag, 50), LagP99: pct(lag, 99), CPU: cpu, Wall: wall}, nil
}

// hconn is a keep-alive HTTP/1.1 connection that sends a request and
// reads the whole response.
type hconn struct {
	net.Conn
	r       *bufio.Reader
	closing bool // the server closes the connection after this response
}

func dial(addr string) (*hconn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &hconn{Conn: c, r: bufio.NewReaderSize(c, 16<<10)}, nil
}

// do writes req and reads a response with a Content-Length (the servers
// measured send one), failing on a status other than 200.
func (c *hconn) do(req []byte) error {
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(req); err != nil {
		return err
	}
	return c.read()
}

// read reads a response; it closes the connection when the server
// says it will (gunicorn's sync workers close every connection).
func (c *hconn) read() error {
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(line, []byte("HTTP/1.1 200 ")) {
		return fmt.Errorf("response %q", bytes.TrimSpace(line))
	}
	length := -1
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(v)); err != nil {
				return fmt.Errorf("content-length %q", v)
			}
		case bytes.EqualFold(k, []byte("Connection")) && bytes.EqualFold(v, []byte("close")):
			c.closing = true
		}
	}
	if length < 0 {
		return fmt.Errorf("response without Content-Length")
	}
	_, err = c.r.Discard(length)
	return err
}

// nullServer answers every request on loopback with a fixed small JSON
// response, reading requests with a Content-Length.
func nullServer() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n{\"predictions\":1}")
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					length := 0
					for {
						line, err := r.ReadSlice('\n')
						if err != nil {
							return
						}
						line = bytes.TrimRight(line, "\r\n")
						if len(line) == 0 {
							break
						}
						if k, v, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(k, []byte("Content-Length")) {
							length, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
						}
					}
					if _, err := r.Discard(length); err != nil {
						return
					}
					if _, err := c.Write(resp); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String(), nil
}

// cpuSelf returns this process's CPU seconds.
func cpuSelf() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return tv(ru.Utime) + tv(ru.Stime)
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

// loadgenMain is the -loadgen child: it prints a loadResult.
func loadgenMain(target string, rate int, dur time.Duration) {
	res, err := loadgen(target, rate, dur)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(res)
}

// runLoadgen runs the generator in a child process (pinned with taskset
// when cpus is not "", at the given nice value).
func runLoadgen(target string, rate int, dur time.Duration, cpus string, nice int) (*loadResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{exe, "-loadgen", target, "-rate", strconv.Itoa(rate), "-d", dur.String()}
	if nice != 0 {
		args = append([]string{"nice", "-n", strconv.Itoa(nice)}, args...)
	}
	out, err := pinned(cpus, args...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("open-loop generator: %v: %s", err, ee.Stderr)
		}
		return nil, fmt.Errorf("open-loop generator: %w", err)
	}
	var res loadResult
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("open-loop generator output %q: %w", out, err)
	}
	return &res, nil
}
