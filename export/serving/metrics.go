package serving

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Prometheus text exposition, written by hand: request counts by endpoint
// and status code, a latency histogram by endpoint, prediction and cache
// counters.

// latencyBuckets are the histogram's upper bounds in seconds; serving a
// small model takes well under a millisecond, so the low end is fine.
var latencyBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

// endpoints are the label values of the endpoint label: bounded, so a
// client cannot blow up the series count with random paths.
var endpoints = []string{"infer", "predict", "model", "model_ready", "live", "ready", "server", "metrics", "other"}

type histogram struct {
	counts []atomic.Uint64 // per bucket, not cumulative; last is +Inf
	sum    atomic.Uint64   // float64 bits
	n      atomic.Uint64
}

func (h *histogram) observe(s float64) {
	i := sort.SearchFloat64s(latencyBuckets, s)
	h.counts[i].Add(1)
	h.n.Add(1)
	for {
		old := h.sum.Load()
		if h.sum.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+s)) {
			return
		}
	}
}

type metrics struct {
	hist        map[string]*histogram
	mu          sync.Mutex
	codes       map[string]map[int]*atomic.Uint64 // endpoint -> code -> count
	predictions atomic.Uint64
	hits        atomic.Uint64
	misses      atomic.Uint64
	inflight    atomic.Int64
	started     time.Time
}

func newMetrics() *metrics {
	m := &metrics{hist: map[string]*histogram{}, codes: map[string]map[int]*atomic.Uint64{}, started: time.Now()}
	for _, e := range endpoints {
		m.hist[e] = &histogram{counts: make([]atomic.Uint64, len(latencyBuckets)+1)}
		m.codes[e] = map[int]*atomic.Uint64{}
	}
	return m
}

func (m *metrics) record(endpoint string, code int, d time.Duration) {
	m.hist[endpoint].observe(d.Seconds())
	m.mu.Lock()
	c, ok := m.codes[endpoint][code]
	if !ok {
		c = &atomic.Uint64{}
		m.codes[endpoint][code] = c
	}
	m.mu.Unlock()
	c.Add(1)
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// write writes the metrics in the Prometheus text format (version 0.0.4).
func (m *metrics) write(w io.Writer, model *Model, cacheLen, cacheSize int) {
	fmt.Fprintln(w, "# HELP gopherlab_requests_total HTTP requests by endpoint and status code.")
	fmt.Fprintln(w, "# TYPE gopherlab_requests_total counter")
	m.mu.Lock()
	for _, e := range endpoints {
		codes := make([]int, 0, len(m.codes[e]))
		for c := range m.codes[e] {
			codes = append(codes, c)
		}
		sort.Ints(codes)
		for _, c := range codes {
			fmt.Fprintf(w, "gopherlab_requests_total{endpoint=%q,code=\"%d\"} %d\n", e, c, m.codes[e][c].Load())
		}
	}
	m.mu.Unlock()
	fmt.Fprintln(w, "# HELP gopherlab_request_duration_seconds HTTP request latency by endpoint.")
	fmt.Fprintln(w, "# TYPE gopherlab_request_duration_seconds histogram")
	for _, e := range endpoints {
		h := m.hist[e]
		n := h.n.Load()
		if n == 0 {
			continue
		}
		var cum uint64
		for i, b := range latencyBuckets {
			cum += h.counts[i].Load()
			fmt.Fprintf(w, "gopherlab_request_duration_seconds_bucket{endpoint=%q,le=%q} %d\n", e, fmtFloat(b), cum)
		}
		cum += h.counts[len(latencyBuckets)].Load()
		fmt.Fprintf(w, "gopherlab_request_duration_seconds_bucket{endpoint=%q,le=\"+Inf\"} %d\n", e, cum)
		fmt.Fprintf(w, "gopherlab_request_duration_seconds_sum{endpoint=%q} %s\n", e, fmtFloat(math.Float64frombits(h.sum.Load())))
		fmt.Fprintf(w, "gopherlab_request_duration_seconds_count{endpoint=%q} %d\n", e, cum)
	}
	fmt.Fprintln(w, "# HELP gopherlab_predictions_total Rows predicted (cached results included).")
	fmt.Fprintln(w, "# TYPE gopherlab_predictions_total counter")
	fmt.Fprintf(w, "gopherlab_predictions_total %d\n", m.predictions.Load())
	fmt.Fprintln(w, "# HELP gopherlab_cache_hits_total Rows answered from the cache of recent results.")
	fmt.Fprintln(w, "# TYPE gopherlab_cache_hits_total counter")
	fmt.Fprintf(w, "gopherlab_cache_hits_total %d\n", m.hits.Load())
	fmt.Fprintln(w, "# HELP gopherlab_cache_misses_total Rows the model computed.")
	fmt.Fprintln(w, "# TYPE gopherlab_cache_misses_total counter")
	fmt.Fprintf(w, "gopherlab_cache_misses_total %d\n", m.misses.Load())
	fmt.Fprintln(w, "# HELP gopherlab_cache_entries Results in the cache.")
	fmt.Fprintln(w, "# TYPE gopherlab_cache_entries gauge")
	fmt.Fprintf(w, "gopherlab_cache_entries %d\n", cacheLen)
	fmt.Fprintln(w, "# HELP gopherlab_cache_capacity Results the cache can hold.")
	fmt.Fprintln(w, "# TYPE gopherlab_cache_capacity gauge")
	fmt.Fprintf(w, "gopherlab_cache_capacity %d\n", cacheSize)
	fmt.Fprintln(w, "# HELP gopherlab_inflight_requests Requests being served.")
	fmt.Fprintln(w, "# TYPE gopherlab_inflight_requests gauge")
	fmt.Fprintf(w, "gopherlab_inflight_requests %d\n", m.inflight.Load())
	fmt.Fprintln(w, "# HELP gopherlab_model_info The served model.")
	fmt.Fprintln(w, "# TYPE gopherlab_model_info gauge")
	fmt.Fprintf(w, "gopherlab_model_info{name=%q,version=%q,sha256=%q} 1\n", model.Name, model.Version, model.Manifest.SHA256)
	fmt.Fprintln(w, "# HELP gopherlab_start_time_seconds When the server started (Unix time).")
	fmt.Fprintln(w, "# TYPE gopherlab_start_time_seconds gauge")
	fmt.Fprintf(w, "gopherlab_start_time_seconds %d\n", m.started.Unix())
}
