package display

import (
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeTime drives a Progress deterministically: a settable clock and
// trailing updates that run only when the test fires them.
type fakeTime struct {
	mu      sync.Mutex
	t       time.Time
	pending []func()
}

func (f *fakeTime) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeTime) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

func (f *fakeTime) after(_ time.Duration, fn func()) func() {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := len(f.pending)
	f.pending = append(f.pending, fn)
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.pending[i] = nil
	}
}

// fire runs the trailing updates scheduled so far and reports how many ran.
func (f *fakeTime) fire() int {
	f.mu.Lock()
	fns := f.pending
	f.pending = nil
	f.mu.Unlock()
	n := 0
	for _, fn := range fns {
		if fn != nil {
			fn()
			n++
		}
	}
	return n
}

// fakeProgress is NewProgress on a fake clock.
func fakeProgress(total int, label string) (*Progress, *fakeTime) {
	ft := &fakeTime{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := &Progress{total: total, label: label, now: ft.now, after: ft.after}
	p.mu.Lock()
	p.publish(p.clock())
	p.mu.Unlock()
	return p, ft
}

func texts(ev []event) []string {
	var s []string
	for _, e := range ev {
		s = append(s, e.b.Data[MIMEText].(string))
	}
	return s
}

func TestProgressRateLimit(t *testing.T) {
	r := record(t)
	p, ft := fakeProgress(1000, "work")

	for range 500 { // all within the same instant: nothing more is published
		p.Add(1)
	}
	if got := len(r.all()); got != 1 {
		t.Fatalf("%d events after a burst, want only the initial display", got)
	}
	ft.advance(50 * time.Millisecond)
	p.Add(1)
	if got := len(r.all()); got != 1 {
		t.Fatalf("%d events 50ms later, want 1", got)
	}
	// Too early: the trailing update waits out the interval.
	ft.fire()
	if got := len(r.all()); got != 1 {
		t.Fatalf("%d events after an early trailing update, want 1", got)
	}
	// The trailing update shows the burst without waiting for another Add.
	ft.advance(50 * time.Millisecond) // t=100ms
	if n := ft.fire(); n != 1 {
		t.Fatalf("%d trailing updates scheduled, want 1", n)
	}
	ev := r.all()
	if len(ev) != 2 || !strings.Contains(texts(ev)[1], "501/1000") {
		t.Fatalf("after the trailing update: %q", texts(ev))
	}
	// A trailing update finds nothing new when an Add after the interval
	// already published.
	ft.advance(10 * time.Millisecond) // t=110ms
	p.Add(1)
	ft.advance(100 * time.Millisecond) // t=210ms
	p.Add(9)
	ev = r.all()
	if len(ev) != 3 || !strings.Contains(texts(ev)[2], "511/1000") {
		t.Fatalf("an Add after the interval was not published at once: %q", texts(ev))
	}
	if n := ft.fire(); n != 1 || len(r.all()) != 3 {
		t.Fatalf("stale trailing update: ran %d, %d events", n, len(r.all()))
	}

	// A trailing update that comes too soon after the last publish waits
	// out the interval instead of publishing.
	ft.advance(10 * time.Millisecond) // t=220ms
	p.Add(1)
	ft.advance(20 * time.Millisecond) // t=240ms
	ft.fire()
	if got := len(r.all()); got != 3 {
		t.Fatalf("trailing update inside the interval published: %d events", got)
	}
	ft.advance(80 * time.Millisecond) // t=320ms
	if n := ft.fire(); n != 1 {
		t.Fatalf("trailing update not rescheduled: %d ran", n)
	}
	ev = r.all()
	if len(ev) != 4 || !strings.Contains(texts(ev)[3], "512/1000") {
		t.Fatalf("rescheduled trailing update: %q", texts(ev))
	}

	// Reaching the total publishes at once, even inside the interval;
	// Done publishes the final state at once too and cancels the
	// pending trailing update.
	p.Add(488)
	if ev = r.all(); len(ev) != 5 || !strings.Contains(texts(ev)[4], "work: 100%|██████████| 1000/1000") {
		t.Fatalf("reaching the total: %q", texts(ev))
	}
	p.SetLabel("finished")
	p.Done()
	if n := ft.fire(); n != 0 {
		t.Errorf("%d trailing updates ran after Done", n)
	}
	ev = r.all()
	last := ev[len(ev)-1]
	if len(ev) != 6 || last.kind != "update" || last.id != ev[0].id {
		t.Fatalf("final events: %+v", ev)
	}
	if want := "finished: 100%|██████████| 1000/1000 [00:00<00:00, 3125.00it/s]"; last.b.Data[MIMEText] != want {
		t.Errorf("final text = %q, want %q", last.b.Data[MIMEText], want)
	}
	if html := last.b.Data[MIMEHTML].(string); !strings.Contains(html, "width:100.0%") || !strings.Contains(html, "#27ae60") {
		t.Errorf("final HTML is not a full green bar: %s", html)
	}

	// After Done nothing changes or publishes.
	p.Add(5)
	p.Set(1)
	p.SetLabel("x")
	p.Done()
	ft.advance(time.Second)
	ft.fire()
	if got := len(r.all()); got != 6 {
		t.Errorf("%d events after Done, want 6", got)
	}
	if s := p.String(); !strings.Contains(s, "1000/1000") || !strings.HasPrefix(s, "finished:") {
		t.Errorf("String after Done = %q", s)
	}
}

func TestProgressTightLoop(t *testing.T) {
	r := record(t)
	const n = 300000
	start := time.Now()
	p := NewProgress(n, "loop")
	for range n {
		p.Add(1)
	}
	p.Done()
	elapsed := time.Since(start)
	ev := r.all()
	// One display, at most one update per interval (plus the first change
	// and the final state), never one per Add.
	if max := int(elapsed/progressInterval) + 3; len(ev) > max {
		t.Errorf("%d events in %v, want at most %d", len(ev), elapsed, max)
	}
	last := ev[len(ev)-1].b.Data[MIMEText].(string)
	if !strings.Contains(last, "300000/300000") || !strings.Contains(last, "100%") {
		t.Errorf("final state not published: %q", last)
	}
	for _, e := range ev {
		if e.id != ev[0].id {
			t.Fatal("progress events with different display ids")
		}
	}
}

func TestProgressTrailingUpdate(t *testing.T) {
	r := record(t)
	p := NewProgress(10, "")
	p.Add(1) // inside the first interval: deferred
	p.Add(2)
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if ev := r.all(); len(ev) == 2 {
			if got := ev[1].b.Data[MIMEText].(string); !strings.Contains(got, " 3/10 ") {
				t.Fatalf("trailing update shows %q, want 3/10", got)
			}
			p.Done()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no trailing update without Done; events: %q", texts(r.all()))
}

func TestProgressConcurrent(t *testing.T) {
	r := record(t)
	const workers, each = 8, 20000
	p := NewProgress(workers*each, "parallel")
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				p.Add(1)
			}
		}()
	}
	wg.Wait()
	p.Done()
	ev := r.all()
	last := ev[len(ev)-1].b.Data[MIMEText].(string)
	if !strings.Contains(last, "160000/160000") {
		t.Errorf("final state %q, want 160000/160000", last)
	}
	if len(ev) > 100 {
		t.Errorf("%d events for concurrent Adds", len(ev))
	}
}

func TestProgressZeroValue(t *testing.T) {
	r := record(t)
	var p Progress
	p.Add(3)
	p.Done()
	ev := r.all()
	if len(ev) != 2 || ev[0].kind != "display" || ev[1].kind != "update" {
		t.Fatalf("events: %+v", ev)
	}
	if got := ev[1].b.Data[MIMEText].(string); !strings.HasPrefix(got, "3it [00:00, ") {
		t.Errorf("text = %q", got)
	}
	var nilP *Progress
	nilP.Add(1) // must not panic
	nilP.Done()
}

func TestProgressRendering(t *testing.T) {
	tests := []struct {
		name string
		s    progressState
		text string
		html []string
	}{
		{
			name: "partial",
			s:    progressState{n: 42, total: 100, label: "train", elapsed: 4 * time.Second},
			text: "train:  42%|████▏     | 42/100 [00:04<00:05, 10.50it/s]",
			html: []string{"<span>train</span>", ">42%<", "width:42.0%", "#2f80ed", "42/100 [00:04&lt;00:05, 10.50it/s]"},
		},
		{
			name: "start",
			s:    progressState{n: 0, total: 5},
			text: "  0%|          | 0/5 [00:00<?, ?it/s]",
			html: []string{"width:0.0%", "0/5 [00:00&lt;?, ?it/s]"},
		},
		{
			name: "slow",
			s:    progressState{n: 2, total: 10, elapsed: 5 * time.Second},
			text: " 20%|██        | 2/10 [00:05<00:20, 2.50s/it]",
		},
		{
			name: "almost done is not 100%",
			s:    progressState{n: 999, total: 1000, elapsed: time.Second},
			text: " 99%|█████████▉| 999/1000 [00:01<00:00, 999.00it/s]",
		},
		{
			name: "overshoot",
			s:    progressState{n: 12, total: 10, elapsed: time.Second, done: true},
			text: "100%|██████████| 12/10 [00:01<00:00, 12.00it/s]",
			html: []string{"width:100.0%", "#27ae60"},
		},
		{
			name: "done early",
			s:    progressState{n: 5, total: 10, elapsed: time.Second, done: true},
			text: " 50%|█████     | 5/10 [00:01<00:01, 5.00it/s]",
			html: []string{"#d9534f"},
		},
		{
			name: "running",
			s:    progressState{n: 5, total: 10, elapsed: time.Second},
			text: " 50%|█████     | 5/10 [00:01<00:01, 5.00it/s]",
			html: []string{"#2f80ed"},
		},
		{
			name: "complete but stopped by a failing cell",
			s:    progressState{n: 10, total: 10, elapsed: time.Second, done: true, failed: true},
			text: "100%|██████████| 10/10 [00:01<00:00, 10.00it/s]",
			html: []string{"#d9534f"},
		},
		{
			name: "unknown total",
			s:    progressState{n: 7, label: "<scan>", elapsed: 2 * time.Second},
			text: "<scan>: 7it [00:02, 3.50it/s]",
			html: []string{"<span>&lt;scan&gt;</span>", "7it [00:02, 3.50it/s]"},
		},
		{
			name: "hours",
			s:    progressState{n: 1, total: 2, elapsed: 3725 * time.Second},
			text: " 50%|█████     | 1/2 [1:02:05<1:02:05, 3725.00s/it]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.text(); got != tt.text {
				t.Errorf("text = %q\n  want %q", got, tt.text)
			}
			h := tt.s.html()
			for _, w := range tt.html {
				if !strings.Contains(h, w) {
					t.Errorf("html lacks %q: %s", w, h)
				}
			}
			if tt.s.total <= 0 && strings.Contains(h, "width:") {
				t.Errorf("bar drawn without a total: %s", h)
			}
		})
	}
}

// EndCell publishes the change a bar still holds back, so a notebook
// saved right after the cell shows it; a failing cell stops its bars in
// red; finished bars and bars of earlier cells are left alone.
func TestProgressEndCell(t *testing.T) {
	r := record(t)
	live.take() // bars of other tests
	a, fa := fakeProgress(30, "a")
	fa.advance(200 * time.Millisecond)
	a.Add(1)
	fa.advance(10 * time.Millisecond)
	a.Add(28) // held back: inside the interval
	if got := texts(r.all()); len(got) != 2 || !strings.Contains(got[1], "1/30") {
		t.Fatalf("before EndCell: %q", got)
	}
	done, _ := fakeProgress(5, "done")
	done.Add(5)
	done.Done()
	n := len(r.all())
	EndCell(false)
	ev := r.all()
	if len(ev) != n+1 || !strings.Contains(texts(ev)[n], "a:  96%") || ev[n].kind != "update" {
		t.Fatalf("EndCell(false) published %q", texts(ev[n:]))
	}
	if fa.fire() != 0 || len(r.all()) != n+1 {
		t.Error("the trailing update still ran after EndCell published it")
	}
	// The bar goes on after a successful cell.
	fa.advance(time.Second)
	a.Add(1)
	if got := texts(r.all()); len(got) != n+2 || !strings.Contains(got[n+1], "30/30") {
		t.Fatalf("after EndCell(false) the bar stopped: %q", got)
	}
	a.Done()

	b, _ := fakeProgress(10, "b")
	b.Add(3)
	n = len(r.all())
	EndCell(true)
	ev = r.all()
	if len(ev) != n+1 || !strings.Contains(ev[n].b.Data[MIMEHTML].(string), "#d9534f") || !strings.Contains(texts(ev)[n], "3/10") {
		t.Fatalf("EndCell(true) published %q", texts(ev[n:]))
	}
	b.Add(1)
	if len(r.all()) != n+1 {
		t.Error("a bar stopped by a failing cell still changes")
	}
	EndCell(true) // nothing live: nothing published
	if len(r.all()) != n+1 {
		t.Error("EndCell published bars of an earlier cell")
	}
}

// Written as text, a bar redraws its line in place on a terminal and
// ends it when done; elsewhere each update is a line, every two seconds
// at most, and the final state is always written.
func TestProgressAsText(t *testing.T) {
	for _, term := range []bool{true, false} {
		var buf strings.Builder
		tp := &textPublisher{w: &buf, term: term}
		old := SetPublisher(tp)
		ft := &fakeTime{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		p := &Progress{total: 100, label: "fit", now: ft.now, after: ft.after}
		p.mu.Lock()
		p.publish(p.clock())
		p.mu.Unlock()
		for i := range 50 {
			ft.advance(150 * time.Millisecond)
			p.Add(1)
			if i%10 == 0 {
				ft.fire()
			}
		}
		p.Add(10)
		p.Done()
		Text("after")
		SetPublisher(old)
		out := buf.String()
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if term {
			// One line redrawn in place, ended by Done, then "after".
			if len(lines) != 2 || lines[1] != "after" || !strings.Contains(lines[0], "\r") || !strings.HasSuffix(lines[0], "60/100 [00:07<00:05, 8.00it/s]\x1b[K") {
				t.Errorf("terminal: %q", out)
			}
			continue
		}
		// 7.5 s of updates: the first, then one per 2 s, then Done's.
		if len(lines) < 5 || len(lines) > 7 || !strings.Contains(lines[len(lines)-2], "60/100") || lines[len(lines)-1] != "after" || strings.Contains(out, "\r") {
			t.Errorf("not a terminal: %d lines %q", len(lines), out)
		}
	}
}

// BenchmarkProgressAddText is a tight loop of Add with the default text
// publisher: pacing must not cost a system call per Add.
func BenchmarkProgressAddText(b *testing.B) {
	f, err := os.CreateTemp(b.TempDir(), "log")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	old := SetPublisher(NewTextPublisher(f)) // a file, as a job's log
	defer SetPublisher(old)
	p := NewProgress(b.N, "")
	for b.Loop() {
		p.Add(1)
	}
	p.Done()
}

// A bar settled as one cell ends belongs to that cell: a later cell that
// fails does not stop it.
func TestProgressEndCellSettledBarStaysOut(t *testing.T) {
	r := record(t)
	live.take()
	c, fc := fakeProgress(30, "c")
	fc.advance(200 * time.Millisecond)
	c.Add(1)
	fc.advance(10 * time.Millisecond)
	c.Add(5) // held back
	EndCell(false)
	n := len(r.all())
	if !strings.Contains(texts(r.all())[n-1], "6/30") {
		t.Fatalf("EndCell(false) did not publish the held change: %q", texts(r.all()))
	}
	EndCell(true)
	if got := r.all(); len(got) != n {
		t.Errorf("a failing later cell changed the settled bar: %q", texts(got[n:]))
	}
	c.Add(1) // still live: a goroutine may go on with it
	if fc.advance(time.Second); len(r.all()) == n {
		fc.fire()
	}
	if got := texts(r.all()); !strings.Contains(got[len(got)-1], "7/30") {
		t.Errorf("the bar stopped after EndCell(false): %q", got)
	}
}
