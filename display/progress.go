package display

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
)

// progressInterval is the least time between two published updates of a
// Progress: a tight loop calling Add must not flood the notebook (or the
// kernel's iopub socket) with messages.
const progressInterval = 100 * time.Millisecond

// Progress is a progress bar in a cell's output, updated in place like
// tqdm's: an HTML bar with percentage, count, elapsed time, rate and ETA,
// and the same as one line of text/plain.
//
// Updates are published at most about ten times a second; a change that
// falls in between is published when the interval ends, and Done always
// publishes the final state. Progress is safe for concurrent use, so worker
// goroutines can each call Add.
//
// The zero value is a bar with an unknown total, shown at its first change.
type Progress struct {
	mu     sync.Mutex
	h      Handle
	total  int
	n      int
	label  string
	start  time.Time
	last   time.Time // when the last update was published
	shown  bool
	dirty  bool // changed since the last publish
	done   bool
	failed bool   // stopped by a failing cell
	full   bool   // the last publish showed the total reached
	stop   func() // cancels the pending trailing update, if any

	// Test hooks; nil means time.Now and time.AfterFunc.
	now   func() time.Time
	after func(d time.Duration, f func()) (stop func())
}

// NewProgress displays a progress bar for total steps (0 or less if the
// total is unknown) with an optional label, and returns it.
func NewProgress(total int, label string) *Progress {
	p := &Progress{total: total, label: label}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.publish(p.clock())
	return p
}

// update applies change to a live bar and schedules its redraw; a nil or
// finished bar ignores it.
func (p *Progress) update(change func()) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	change()
	p.changed()
}

// Add advances the bar by n steps.
func (p *Progress) Add(n int) {
	p.update(func() { p.n += n })
}

// Set sets the number of steps done to n.
func (p *Progress) Set(n int) {
	p.update(func() { p.n = n })
}

// SetLabel changes the text shown before the bar.
func (p *Progress) SetLabel(label string) {
	p.update(func() { p.label = label })
}

// Done publishes the final state at once and freezes the bar: later calls
// change nothing. Calling Done again does nothing. A bar done before its
// total turns red, as tqdm's does when closed early.
func (p *Progress) Done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	p.done = true
	p.cancelTrailing()
	p.publish(p.clock())
	p.finish()
}

// finish tells a publisher that holds output back that the bar is final.
// Called with p.mu held.
func (p *Progress) finish() {
	if f, ok := publisher().(finisher); ok && p.h.id != "" {
		f.Finish(p.h.id)
	}
}

// String returns the bar as text, like tqdm's line.
func (p *Progress) String() string {
	if p == nil {
		return "<nil>"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state(p.clock()).text()
}

func (p *Progress) clock() time.Time {
	if p.now != nil {
		return p.now()
	}
	return time.Now()
}

// changed publishes the new state now if the last update is old enough
// or the bar just reached its total, else makes sure a trailing update
// will publish it. Called with p.mu held.
func (p *Progress) changed() {
	p.dirty = true
	now := p.clock()
	wait := p.interval() - now.Sub(p.last)
	if !p.shown || wait <= 0 || p.total > 0 && p.n >= p.total && !p.full {
		p.publish(now)
		return
	}
	if p.stop == nil {
		p.schedule(wait)
	}
}

// interval is the least time between two published updates: a tenth of
// a second, or longer where the publisher writes updates as lines.
func (p *Progress) interval() time.Duration {
	if pc, ok := publisher().(paced); ok {
		return pc.progressInterval()
	}
	return progressInterval
}

// cancelTrailing cancels the pending trailing update, if any. Called
// with p.mu held.
func (p *Progress) cancelTrailing() {
	if p.stop != nil {
		p.stop()
		p.stop = nil
	}
}

// schedule arranges a trailing update after d. Called with p.mu held.
func (p *Progress) schedule(d time.Duration) {
	after := p.after
	if after == nil {
		after = func(d time.Duration, f func()) func() {
			t := time.AfterFunc(d, f)
			return func() { t.Stop() }
		}
	}
	p.stop = after(d, p.flush)
}

// flush is the trailing update: it shows changes made since the last
// publish, so the bar never stays stale when a loop slows down or stops.
// If an update went out meanwhile, it waits out that update's interval.
func (p *Progress) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stop = nil
	if p.done || !p.dirty {
		return
	}
	now := p.clock()
	if wait := p.interval() - now.Sub(p.last); wait > 0 {
		p.schedule(wait)
		return
	}
	p.publish(now)
}

// publish shows the state at now and, unless the bar is done, counts it
// among the bars the running cell changed (see EndCell). Called with
// p.mu held, which keeps updates in order.
func (p *Progress) publish(now time.Time) {
	p.render(now)
	if !p.done {
		live.add(p)
	}
}

// render shows the state at now. Called with p.mu held.
func (p *Progress) render(now time.Time) {
	if p.start.IsZero() {
		p.start = now
	}
	s := p.state(now)
	b := newBundle()
	b.Data[MIMEHTML] = s.html()
	b.Data[MIMEText] = s.text()
	p.h.Update(b)
	p.last, p.shown, p.dirty = now, true, false
	p.full = p.total > 0 && p.n >= p.total
}

// live holds the bars published since the last EndCell that were not
// done then, for EndCell to settle.
var live liveBars

type liveBars struct {
	mu   sync.Mutex
	bars map[*Progress]struct{}
}

func (l *liveBars) add(p *Progress) {
	l.mu.Lock()
	if l.bars == nil {
		l.bars = map[*Progress]struct{}{}
	}
	l.bars[p] = struct{}{}
	l.mu.Unlock()
}

func (l *liveBars) take() map[*Progress]struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bars
	l.bars = nil
	return b
}

// EndCell settles the progress bars changed while a cell ran; the kernel
// calls it as the cell ends, before its reply. A change still waiting for
// its redraw (at most a tenth of a second) is published now, so that a
// notebook saved right after the cell (nbclient, nbconvert, papermill)
// holds each bar's last state. With failed (the cell raised an error or
// was interrupted) every bar not yet Done stops there and turns red, as
// tqdm's does on an exception. A bar that outlives a successful cell
// (updated from a goroutine) goes on as before.
func EndCell(failed bool) {
	defer func() {
		if f, ok := publisher().(flusher); ok {
			f.Flush()
		}
	}()
	for p := range live.take() {
		p.mu.Lock()
		switch {
		case p.done:
		case failed:
			p.done, p.failed = true, true
			p.cancelTrailing()
			p.publish(p.clock())
			p.finish()
		case p.dirty:
			p.cancelTrailing()
			// Rendered, not published: settling the bar is not a change
			// of the next cell's, which a failure of it would stop.
			p.render(p.clock())
		}
		p.mu.Unlock()
	}
}

func (p *Progress) state(now time.Time) progressState {
	var elapsed time.Duration
	if !p.start.IsZero() {
		elapsed = now.Sub(p.start)
	}
	return progressState{n: p.n, total: p.total, label: p.label, elapsed: elapsed, done: p.done, failed: p.failed}
}

// progressState is one rendering of a Progress.
type progressState struct {
	n, total int
	label    string
	elapsed  time.Duration
	done     bool
	failed   bool
}

// fraction is the part done, in [0, 1]; only meaningful with a total.
func (s progressState) fraction() float64 {
	return math.Min(math.Max(float64(s.n)/float64(s.total), 0), 1)
}

func (s progressState) rate() float64 {
	if s.n <= 0 || s.elapsed <= 0 {
		return 0
	}
	return float64(s.n) / s.elapsed.Seconds()
}

// stats is tqdm's "42/100 [00:04<00:05, 9.87it/s]" (or "42it [00:04,
// 9.87it/s]" without a total).
func (s progressState) stats() string {
	r := s.rate()
	rate := "?it/s"
	switch {
	case r >= 1:
		rate = strconv.FormatFloat(r, 'f', 2, 64) + "it/s"
	case r > 0:
		rate = strconv.FormatFloat(1/r, 'f', 2, 64) + "s/it"
	}
	if s.total <= 0 {
		return fmt.Sprintf("%dit [%s, %s]", s.n, formatInterval(s.elapsed), rate)
	}
	eta := "?"
	switch {
	case s.n >= s.total:
		eta = formatInterval(0)
	case r > 0:
		eta = formatInterval(time.Duration(float64(s.total-s.n) / r * float64(time.Second)))
	}
	return fmt.Sprintf("%d/%d [%s<%s, %s]", s.n, s.total, formatInterval(s.elapsed), eta, rate)
}

// percent is floored so a bar never reads 100% before it is full.
func (s progressState) percent() int { return int(math.Floor(s.fraction() * 100)) }

const barWidth = 10

// text renders like tqdm: "label:  42%|████▏     | 42/100 [00:04<00:05, 9.87it/s]".
func (s progressState) text() string {
	var b strings.Builder
	if s.label != "" {
		b.WriteString(s.label + ": ")
	}
	if s.total <= 0 {
		b.WriteString(s.stats())
		return b.String()
	}
	fmt.Fprintf(&b, "%3d%%|", s.percent())
	eighths := int(s.fraction() * barWidth * 8)
	full, part := eighths/8, eighths%8
	b.WriteString(strings.Repeat("█", full))
	if full < barWidth {
		if part > 0 {
			b.WriteString(string([]rune(" ▏▎▍▌▋▊▉")[part]))
		} else {
			b.WriteByte(' ')
		}
		b.WriteString(strings.Repeat(" ", barWidth-full-1))
	}
	b.WriteString("| " + s.stats())
	return b.String()
}

// html renders a bar with inline styles only, so it needs no stylesheet
// and looks the same in JupyterLab, Notebook and VS Code.
func (s progressState) html() string {
	var b strings.Builder
	b.WriteString(`<div style="display:flex;align-items:center;gap:0.6em;font-family:monospace;font-size:0.9em;line-height:1.6">`)
	if s.label != "" {
		b.WriteString("<span>" + html.EscapeString(s.label) + "</span>")
	}
	if s.total > 0 {
		color := "#2f80ed" // running
		switch {
		case s.done && s.n >= s.total && !s.failed:
			color = "#27ae60" // complete
		case s.done:
			color = "#d9534f" // stopped early or by a failing cell
		}
		fmt.Fprintf(&b, `<span style="min-width:3em;text-align:right">%d%%</span>`, s.percent())
		fmt.Fprintf(&b, `<div style="flex:none;width:20em;height:1em;background:#e0e0e0;border-radius:3px;overflow:hidden">`+
			`<div style="width:%s%%;height:100%%;background:%s"></div></div>`,
			strconv.FormatFloat(s.fraction()*100, 'f', 1, 64), color)
	}
	b.WriteString("<span>" + html.EscapeString(s.stats()) + "</span></div>")
	return b.String()
}

// formatInterval prints a duration as tqdm does: mm:ss, or h:mm:ss.
func formatInterval(d time.Duration) string {
	t := int(d / time.Second)
	h, m, sec := t/3600, t/60%60, t%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, sec)
	}
	return fmt.Sprintf("%02d:%02d", m, sec)
}
