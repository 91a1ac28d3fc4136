package serving

import (
	"fmt"
	"io"
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
var latencyBuckets = [...]float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

// endpoints are the label values of the endpoint label: bounded, so a
// client cannot blow up the series count with random paths.
var endpoints = []string{"infer", "predict", "model", "model_ready", "live", "ready", "server", "metrics", "other"}

// The endpoints' indexes.
const (
	epInfer = iota
	epPredict
	epModel
	epModelReady
	epLive
	epReady
	epServer
	epMetrics
	epOther
	numEndpoints
)

// codes are the status codes the server answers with, counted without a
// lock; any other code is counted in a locked map.
var codes = []int{200, 400, 404, 405, 413, 500, 503}

func codeIndex(code int) int {
	for i, c := range codes {
		if c == code {
			return i
		}
	}
	return -1
}

type histogram struct {
	counts [len(latencyBuckets) + 1]atomic.Uint64 // per bucket, not cumulative; last is +Inf
	sumNs  atomic.Uint64                          // nanoseconds
	n      atomic.Uint64
}

func (h *histogram) observe(d time.Duration) {
	s := d.Seconds()
	i := 0
	for i < len(latencyBuckets) && s > latencyBuckets[i] {
		i++
	}
	h.counts[i].Add(1)
	h.n.Add(1)
	h.sumNs.Add(uint64(max(d, 0)))
}

// metrics are counted with atomic operations only, on the request path.
type metrics struct {
	hist        [numEndpoints]histogram
	codes       [numEndpoints][8]atomic.Uint64 // by codeIndex
	mu          sync.Mutex
	other       map[[2]int]uint64 // {endpoint, code} -> count, for codes not in codes
	predictions atomic.Uint64
	hits        atomic.Uint64
	misses      atomic.Uint64
	inflight    atomic.Int64
	started     time.Time
}

func newMetrics() *metrics {
	return &metrics{other: map[[2]int]uint64{}, started: time.Now()}
}

func (m *metrics) record(endpoint, code int, d time.Duration) {
	m.hist[endpoint].observe(d)
	if i := codeIndex(code); i >= 0 {
		m.codes[endpoint][i].Add(1)
		return
	}
	m.mu.Lock()
	m.other[[2]int{endpoint, code}]++
	m.mu.Unlock()
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// write writes the metrics in the Prometheus text format (version 0.0.4).
func (m *metrics) write(w io.Writer, model *Model, cacheLen, cacheSize int) {
	fmt.Fprintln(w, "# HELP gopherlab_requests_total HTTP requests by endpoint and status code.")
	fmt.Fprintln(w, "# TYPE gopherlab_requests_total counter")
	m.mu.Lock()
	for e, name := range endpoints {
		counts := map[int]uint64{}
		for i, c := range codes {
			if n := m.codes[e][i].Load(); n > 0 {
				counts[c] = n
			}
		}
		for k, n := range m.other {
			if k[0] == e {
				counts[k[1]] = n
			}
		}
		keys := make([]int, 0, len(counts))
		for c := range counts {
			keys = append(keys, c)
		}
		sort.Ints(keys)
		for _, c := range keys {
			fmt.Fprintf(w, "gopherlab_requests_total{endpoint=%q,code=\"%d\"} %d\n", name, c, counts[c])
		}
	}
	m.mu.Unlock()
	fmt.Fprintln(w, "# HELP gopherlab_request_duration_seconds HTTP request latency by endpoint.")
	fmt.Fprintln(w, "# TYPE gopherlab_request_duration_seconds histogram")
	for e, name := range endpoints {
		h := &m.hist[e]
		n := h.n.Load()
		if n == 0 {
			continue
		}
		var cum uint64
		for i, b := range latencyBuckets {
			cum += h.counts[i].Load()
			fmt.Fprintf(w, "gopherlab_request_duration_seconds_bucket{endpoint=%q,le=%q} %d\n", name, fmtFloat(b), cum)
		}
		cum += h.counts[len(latencyBuckets)].Load()
		fmt.Fprintf(w, "gopherlab_request_duration_seconds_bucket{endpoint=%q,le=\"+Inf\"} %d\n", name, cum)
		fmt.Fprintf(w, "gopherlab_request_duration_seconds_sum{endpoint=%q} %s\n", name, fmtFloat(float64(h.sumNs.Load())/1e9))
		fmt.Fprintf(w, "gopherlab_request_duration_seconds_count{endpoint=%q} %d\n", name, cum)
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
