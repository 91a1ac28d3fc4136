package tracking

import (
	"fmt"
	"html"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Comparison shows runs side by side: one column per run, one row per
// param and per metric (its latest value). In a notebook it renders as an
// HTML table; String gives aligned text.
type Comparison struct {
	Runs    []RunInfo // one per column, in the order given
	Params  []string  // param keys, sorted
	Metrics []string  // metric keys, sorted
}

// Compare loads the runs (ids or unique prefixes) and lines them up.
func (s *Store) Compare(runIDs []string) (*Comparison, error) {
	s.catchUp()
	if len(runIDs) == 0 {
		return nil, fmt.Errorf("tracking: compare: no runs given")
	}
	ids := make([]string, len(runIDs))
	for i, id := range runIDs {
		full, err := s.ResolveRunID(id)
		if err != nil {
			return nil, err
		}
		ids[i] = full
	}
	runs, err := s.loadRuns(ids)
	if err != nil {
		return nil, err
	}
	return NewComparison(runs), nil
}

// NewComparison lines up runs that were already loaded (for example by
// SearchRuns).
func NewComparison(runs []RunInfo) *Comparison {
	c := &Comparison{Runs: runs}
	var params []map[string]string
	metrics := map[string]bool{}
	for _, r := range runs {
		params = append(params, r.Params)
		for k := range r.Metrics {
			metrics[k] = true
		}
	}
	c.Params = sortedKeys(params...)
	for k := range metrics {
		c.Metrics = append(c.Metrics, k)
	}
	sort.Strings(c.Metrics)
	return c
}

// Differs reports whether a param has different values (or is missing)
// across the runs.
func (c *Comparison) Differs(param string) bool {
	for i, r := range c.Runs {
		v, ok := r.Params[param]
		if !ok {
			return true
		}
		if i > 0 && v != c.Runs[0].Params[param] {
			return true
		}
	}
	return false
}

// Rows returns the table as text cells: a header row ("", then one label
// per run) followed by rows for run attributes, params.X and metrics.X.
func (c *Comparison) Rows() [][]string {
	head := []string{""}
	for _, r := range c.Runs {
		head = append(head, r.Label())
	}
	rows := [][]string{head}
	add := func(label string, cell func(r *RunInfo) string) {
		row := []string{label}
		for i := range c.Runs {
			row = append(row, cell(&c.Runs[i]))
		}
		rows = append(rows, row)
	}
	add("run_id", func(r *RunInfo) string { return r.ShortID() })
	add("experiment", func(r *RunInfo) string { return r.Experiment })
	add("status", func(r *RunInfo) string { return r.Status })
	add("duration", func(r *RunInfo) string { return durationText(r) })
	for _, k := range c.Params {
		add("params."+k, func(r *RunInfo) string {
			if v, ok := r.Params[k]; ok {
				return v
			}
			return "-"
		})
	}
	for _, k := range c.Metrics {
		add("metrics."+k, func(r *RunInfo) string {
			if v, ok := r.Metrics[k]; ok {
				return FormatMetric(v)
			}
			return "-"
		})
	}
	return rows
}

// String renders the comparison as an aligned text table; params whose
// values differ between runs are marked with "*".
func (c *Comparison) String() string {
	rows := c.Rows()
	c.markDiffering(rows)
	var b strings.Builder
	writeTable(&b, rows)
	return b.String()
}

// markDiffering marks with "*" the rows of params whose values differ
// between the runs, and indents the others under the header.
func (c *Comparison) markDiffering(rows [][]string) {
	for i := range rows {
		if k, ok := strings.CutPrefix(rows[i][0], "params."); ok && c.Differs(k) {
			rows[i][0] = "* " + rows[i][0]
		} else if i > 0 {
			rows[i][0] = "  " + rows[i][0]
		}
	}
}

// HTML renders the comparison as an HTML table; params that differ
// between runs are highlighted.
func (c *Comparison) HTML() string {
	rows := c.Rows()
	var b strings.Builder
	b.WriteString(`<table class="gopherlab-compare" style="border-collapse:collapse;font-family:sans-serif;font-size:13px">` + "\n<thead><tr>")
	for _, h := range rows[0] {
		b.WriteString(`<th style="border-bottom:2px solid #888;padding:4px 10px;text-align:left">` + html.EscapeString(h) + "</th>")
	}
	b.WriteString("</tr></thead>\n<tbody>\n")
	for _, row := range rows[1:] {
		style := ""
		if k, ok := strings.CutPrefix(row[0], "params."); ok && c.Differs(k) {
			style = ` style="background:#fff3c4"`
		}
		b.WriteString("<tr" + style + ">")
		for j, cell := range row {
			tag := "td"
			if j == 0 {
				tag = "th"
			}
			fmt.Fprintf(&b, `<%s style="border-bottom:1px solid #ddd;padding:3px 10px;text-align:%s">%s</%s>`,
				tag, map[bool]string{true: "left", false: "right"}[j == 0], html.EscapeString(cell), tag)
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody></table>")
	return b.String()
}

// FormatMetric formats a metric value compactly: up to 6 significant
// digits, NaN and ±Inf spelled out.
func FormatMetric(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// formatDuration rounds d to a precision that suits its size.
// durationText says for people how long a run took. A KILLED run ends at
// its last recorded activity (see Store.ReapOrphans), so it ran at least
// that long: "≥3.02s".
func durationText(r *RunInfo) string {
	if r.Status == StatusKilled {
		return "≥" + formatDuration(r.Duration())
	}
	return formatDuration(r.Duration())
}

func formatDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
