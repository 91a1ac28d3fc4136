package tracking

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The report is checked in a real browser: headless Chromium driven over
// the DevTools protocol on a pipe (--remote-debugging-pipe: JSON messages
// ended by NUL bytes, commands on fd 3, replies and events on fd 4), so
// the test needs no node, no port and no network.

// cdpMsg is a DevTools protocol message: a reply (ID set) or an event.
type cdpMsg struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// browser is one headless Chromium with one page attached.
type browser struct {
	t       *testing.T
	cmd     *exec.Cmd
	out     *os.File // our end of Chromium's fd 3
	session string
	stderr  bytes.Buffer

	mu      sync.Mutex
	nextID  int
	waiting map[int]chan cdpMsg
	events  []cdpMsg
	eventCh chan struct{} // ticks when an event arrives
	done    chan struct{} // closed when Chromium's output ends
}

// startBrowser starts Chromium, or skips the test when it is not
// installed.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (Debian package chromium; `make deps` installs it): the report is not checked in a browser")
	}
	cmdR, cmdW, err := os.Pipe() // commands: we write, Chromium reads fd 3
	if err != nil {
		t.Fatal(err)
	}
	resR, resW, err := os.Pipe() // replies: Chromium writes fd 4
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, out: cmdW, waiting: map[int]chan cdpMsg{}, eventCh: make(chan struct{}, 1), done: make(chan struct{})}
	b.cmd = exec.Command(path,
		"--headless", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
		"--user-data-dir="+filepath.Join(t.TempDir(), "profile"),
		"--no-first-run", "--no-default-browser-check", "--disable-extensions",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--hide-scrollbars", "--mute-audio", "--force-color-profile=srgb", "about:blank")
	b.cmd.ExtraFiles = []*os.File{cmdR, resW}
	b.cmd.Stderr = &lockedWriter{w: &b.stderr, mu: &b.mu}
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	cmdR.Close()
	resW.Close()
	go b.read(resR)
	t.Cleanup(b.close)

	var target struct {
		TargetID string `json:"targetId"`
	}
	b.call("", "Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var att struct {
		SessionID string `json:"sessionId"`
	}
	b.call("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att)
	b.session = att.SessionID
	for _, m := range []string{"Runtime.enable", "Log.enable", "Page.enable", "Network.enable"} {
		b.call(b.session, m, nil, nil)
	}
	return b
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (b *browser) read(r io.ReadCloser) {
	defer close(b.done)
	defer r.Close()
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		raw, err := br.ReadBytes(0)
		if err != nil {
			return
		}
		var m cdpMsg
		if err := json.Unmarshal(raw[:len(raw)-1], &m); err != nil {
			continue
		}
		b.mu.Lock()
		if m.ID != 0 {
			if ch := b.waiting[m.ID]; ch != nil {
				ch <- m
				delete(b.waiting, m.ID)
			}
		} else {
			b.events = append(b.events, m)
			select {
			case b.eventCh <- struct{}{}:
			default:
			}
		}
		b.mu.Unlock()
	}
}

// call sends a command and decodes its result into out (if not nil).
func (b *browser) call(session, method string, params any, out any) {
	b.t.Helper()
	if params == nil {
		params = map[string]any{}
	}
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan cdpMsg, 1)
	b.waiting[id] = ch
	b.mu.Unlock()
	msg, err := json.Marshal(map[string]any{"id": id, "method": method, "params": params, "sessionId": session})
	if err != nil {
		b.t.Fatal(err)
	}
	if session == "" {
		msg = bytes.Replace(msg, []byte(`,"sessionId":""`), nil, 1)
	}
	if _, err := b.out.Write(append(msg, 0)); err != nil {
		b.t.Fatalf("chromium %s: %v\n%s", method, err, b.stderrText())
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			b.t.Fatalf("chromium %s: %s", method, m.Error.Message)
		}
		if out != nil {
			if err := json.Unmarshal(m.Result, out); err != nil {
				b.t.Fatalf("chromium %s: %v", method, err)
			}
		}
	case <-b.done:
		b.t.Fatalf("chromium exited during %s:\n%s", method, b.stderrText())
	case <-time.After(60 * time.Second):
		b.t.Fatalf("chromium %s: no reply in 60 s\n%s", method, b.stderrText())
	}
}

func (b *browser) stderrText() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stderr.String()
}

// waitEvent waits for an event of the page's session, the from'th event
// or a later one (a second load must not see the first's events).
func (b *browser) waitEvent(method string, from int, timeout time.Duration) {
	b.t.Helper()
	deadline := time.After(timeout)
	for {
		b.mu.Lock()
		for _, e := range b.events[from:] {
			if e.Method == method && e.SessionID == b.session {
				b.mu.Unlock()
				return
			}
		}
		b.mu.Unlock()
		select {
		case <-b.eventCh:
		case <-b.done:
			b.t.Fatalf("chromium exited waiting for %s:\n%s", method, b.stderrText())
		case <-deadline:
			b.t.Fatalf("no %s in %v", method, timeout)
		}
	}
}

func (b *browser) close() {
	if b.cmd.Process == nil {
		return
	}
	b.out.Close() // Chromium exits when its command pipe closes
	select {
	case <-b.done:
	case <-time.After(10 * time.Second):
		b.cmd.Process.Kill()
	}
	b.cmd.Wait()
}

// pageProblems returns the console errors, uncaught exceptions, failed
// loads and network requests (other than the page itself and data: URLs)
// seen so far.
func (b *browser) pageProblems(page string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, e := range b.events {
		switch e.Method {
		case "Runtime.consoleAPICalled":
			var p struct {
				Type string `json:"type"`
				Args []struct {
					Value       any    `json:"value"`
					Description string `json:"description"`
				} `json:"args"`
			}
			json.Unmarshal(e.Params, &p)
			if p.Type == "error" || p.Type == "assert" || p.Type == "warning" {
				var parts []string
				for _, a := range p.Args {
					parts = append(parts, fmt.Sprint(a.Value, a.Description))
				}
				out = append(out, "console."+p.Type+": "+strings.Join(parts, " "))
			}
		case "Runtime.exceptionThrown":
			var p struct {
				Details struct {
					Text      string `json:"text"`
					Exception struct {
						Description string `json:"description"`
					} `json:"exception"`
				} `json:"exceptionDetails"`
			}
			json.Unmarshal(e.Params, &p)
			out = append(out, "exception: "+p.Details.Text+" "+p.Details.Exception.Description)
		case "Log.entryAdded":
			var p struct {
				Entry struct {
					Level  string `json:"level"`
					Source string `json:"source"`
					Text   string `json:"text"`
					URL    string `json:"url"`
				} `json:"entry"`
			}
			json.Unmarshal(e.Params, &p)
			if p.Entry.Level == "error" || p.Entry.Level == "warning" {
				out = append(out, fmt.Sprintf("log %s (%s): %s %s", p.Entry.Level, p.Entry.Source, p.Entry.Text, p.Entry.URL))
			}
		case "Network.requestWillBeSent":
			var p struct {
				Request struct {
					URL string `json:"url"`
				} `json:"request"`
			}
			json.Unmarshal(e.Params, &p)
			if u := p.Request.URL; u != page && !strings.HasPrefix(u, "data:") {
				out = append(out, "request: "+u)
			}
		case "Network.loadingFailed":
			var p struct {
				ErrorText string `json:"errorText"`
			}
			json.Unmarshal(e.Params, &p)
			out = append(out, "loading failed: "+p.ErrorText)
		}
	}
	return out
}

// pageState is what the page shows, measured in the browser.
type pageState struct {
	Title string `json:"title"`
	H1    string `json:"h1"`
	Width int    `json:"width"`
	// WindowWidth is the window's: a page wider than it scrolls sideways.
	WindowWidth int `json:"windowWidth"`
	Height      int `json:"height"`
	SVGs        []struct {
		Width  float64 `json:"width"`
		Height float64 `json:"height"`
		Marks  int     `json:"marks"` // drawn paths and texts with a size
		Texts  string  `json:"texts"`
	} `json:"svgs"`
	// LabelOverlap is how far (px) the ranking chart's run names reach
	// into its bars: text drawn wider than the layout measured it.
	LabelOverlap float64 `json:"labelOverlap"`
	Figures      int     `json:"figures"`
	Tables       int     `json:"tables"`
	// TableOverflow is how far (px) the widest table reaches past its
	// box: what a reader would scroll sideways to see.
	TableOverflow int `json:"tableOverflow"`
}

const measureJS = `JSON.stringify({
  title: document.title,
  h1: (document.querySelector("h1") || {}).textContent || "",
  width: document.documentElement.scrollWidth,
  windowWidth: window.innerWidth,
  height: document.documentElement.scrollHeight,
  figures: document.querySelectorAll("figure").length,
  labelOverlap: (() => {
    const s = document.querySelector("svg");
    if (!s) return -1e9;
    const bars = Array.from(s.querySelectorAll("path")).filter(p =>
      /rgb\(70,\s*130,\s*180\)|#4682b4/i.test((p.getAttribute("style") || "") + (p.getAttribute("fill") || "")));
    if (!bars.length) return -1e9;
    const left = Math.min(...bars.map(b => b.getBoundingClientRect().left));
    const names = Array.from(s.querySelectorAll("text")).filter(t => /^(forest|knn|broken)/.test(t.textContent));
    return Math.max(...names.map(t => t.getBoundingClientRect().right - left));
  })(),
  tables: document.querySelectorAll("table").length,
  tableOverflow: Math.max(0, ...Array.from(document.querySelectorAll(".scroll")).map(d => d.scrollWidth - d.clientWidth)),
  svgs: Array.from(document.querySelectorAll("svg")).map(s => {
    const r = s.getBoundingClientRect();
    const marks = Array.from(s.querySelectorAll("path, text")).filter(e => {
      const b = e.getBBox(); return b.width > 0 || b.height > 0;
    }).length;
    return {width: r.width, height: r.height, marks: marks,
      texts: Array.from(s.querySelectorAll("text")).map(t => t.textContent).join("|")};
  }),
})`

// load opens a file in the page, 1100 px wide, waits for it to load and
// measures it.
func (b *browser) load(path string) (string, pageState) {
	b.t.Helper()
	return b.loadWidth(path, 1100)
}

// loadWidth is load in a window width px wide.
func (b *browser) loadWidth(path string, width int) (string, pageState) {
	b.t.Helper()
	page := (&url.URL{Scheme: "file", Path: path}).String()
	b.call(b.session, "Emulation.setDeviceMetricsOverride", map[string]any{
		"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": false}, nil)
	b.mu.Lock()
	from := len(b.events)
	b.mu.Unlock()
	b.call(b.session, "Page.navigate", map[string]any{"url": page}, nil)
	b.waitEvent("Page.loadEventFired", from, 60*time.Second)
	var ev struct {
		Result struct {
			Value string `json:"value"`
		} `json:"result"`
	}
	b.call(b.session, "Runtime.evaluate", map[string]any{"expression": measureJS, "returnByValue": true}, &ev)
	var st pageState
	if err := json.Unmarshal([]byte(ev.Result.Value), &st); err != nil {
		b.t.Fatalf("measure page: %v (%q)", err, ev.Result.Value)
	}
	return page, st
}

// screenshot captures the whole page as PNG.
func (b *browser) screenshot(st pageState) []byte {
	b.t.Helper()
	var shot struct {
		Data string `json:"data"`
	}
	b.call(b.session, "Page.captureScreenshot", map[string]any{
		"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": st.Width, "height": st.Height, "scale": 1}}, &shot)
	img, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		b.t.Fatal(err)
	}
	return img
}

// TestReportInBrowser opens `gopherlab report` output in headless
// Chromium: it must load without console errors or requests, show every
// chart as a drawn SVG, and look like something in a screenshot (kept as
// build/report-screenshot.png when GOPHERLAB_KEEP_SCREENSHOTS is set).
func TestReportInBrowser(t *testing.T) {
	b := startBrowser(t)
	s := reportFixture(t)
	// A run with many long setting and metric names, as autologged
	// pipelines have: the table of runs must still fit the page.
	wide, err := s.StartRun("iris", &RunOptions{Name: "wide"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		wide.LogParam(fmt.Sprintf("logisticregression.LongSettingName%d", i), i)
		wide.LogMetric(fmt.Sprintf("test_long_metric_name_%d", i), 0.123456789, 0)
	}
	// The best run, with a long value that cannot wrap among its settings,
	// as a tiny tolerance written out is.
	wide.LogParam("logisticregression.ToleranceOfTheSolver", "0.000000000000000000000000000000123456789012345")
	wide.LogMetric("accuracy", 0.99, 0)
	wide.Finish()
	dir := t.TempDir()
	file := filepath.Join(dir, "report.html")
	if err := ReportCommand([]string{"iris", "-db", s.Path(), "-o", file}, io.Discard); err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	checkSelfContained(t, string(html))

	page, st := b.load(file)
	t.Logf("page %dx%d, %d SVGs, %d tables", st.Width, st.Height, len(st.SVGs), st.Tables)
	if probs := b.pageProblems(page); len(probs) > 0 {
		t.Errorf("the report page has problems:\n%s", strings.Join(probs, "\n"))
	}
	if st.Title != "Experiment report: iris" || st.H1 != st.Title {
		t.Errorf("title %q, h1 %q", st.Title, st.H1)
	}
	wantSVGs := strings.Count(string(html), "<svg")
	if wantSVGs < 5 || len(st.SVGs) != wantSVGs || st.Figures != wantSVGs {
		t.Errorf("%d SVGs in the DOM, %d figures; the file has %d", len(st.SVGs), st.Figures, wantSVGs)
	}
	for i, svg := range st.SVGs {
		// Charts are 7 inches wide; the page is 1100 px wide.
		if svg.Width < 400 || svg.Height < 100 || svg.Marks < 20 {
			t.Errorf("chart %d is drawn %.0fx%.0f with %d marks", i, svg.Width, svg.Height, svg.Marks)
		}
	}
	if st.LabelOverlap > 0.5 || st.LabelOverlap <= -1e9 {
		t.Errorf("run names of the ranking chart reach %.1f px into its bars (-1e9: no bars found)", st.LabelOverlap)
	}
	if len(st.SVGs) > 0 && !strings.Contains(st.SVGs[0].Texts, "wide") {
		t.Errorf("first chart texts %q lack the best run", st.SVGs[0].Texts)
	}
	if st.TableOverflow > 0 {
		t.Errorf("a table reaches %d px past its box: the reader must scroll sideways", st.TableOverflow)
	}
	if st.Tables < 2 || st.Width > 1100 {
		t.Errorf("%d tables, page %dx%d (wider than the window?)", st.Tables, st.Width, st.Height)
	}

	shot := b.screenshot(st)
	path := filepath.Join(dir, "report.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if r := img.Bounds(); r.Dx() != st.Width || r.Dy() != st.Height {
		t.Errorf("screenshot %v, page %dx%d", r, st.Width, st.Height)
	}
	_, ink := inked(t, shot)
	// The bars of the ranking chart, in the report's bar colours.
	bars := 0
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			c := [3]uint32{cr >> 8, cg >> 8, cb >> 8}
			if near(c, [3]uint32{70, 130, 180}) || near(c, [3]uint32{60, 150, 60}) {
				bars++
			}
		}
	}
	if ink < 0.02 || bars < 2000 {
		t.Errorf("screenshot looks blank: %.1f%% inked pixels, %d bar pixels", ink*100, bars)
	}
	// On a phone, 400 px wide: the page itself must not scroll sideways
	// (wide tables and charts scroll in their own boxes), and charts keep
	// a size at which their text is readable.
	page, narrow := b.loadWidth(file, 400)
	if probs := b.pageProblems(page); len(probs) > 0 {
		t.Errorf("the report page at 400 px has problems:\n%s", strings.Join(probs, "\n"))
	}
	if narrow.WindowWidth != 400 || narrow.Width > narrow.WindowWidth {
		t.Errorf("at 400 px the page is %d px wide in a %d px window: it scrolls sideways", narrow.Width, narrow.WindowWidth)
	}
	for i, svg := range narrow.SVGs {
		if svg.Width < 400 {
			t.Errorf("at 400 px chart %d shrinks to %.0f px wide", i, svg.Width)
		}
	}
	if dir := os.Getenv("GOPHERLAB_REPORT_SHOTS"); dir != "" {
		// Screenshots of the test report at both widths, to look at.
		for _, w := range []struct {
			name string
			st   pageState
		}{{"report-1100.png", st}, {"report-400.png", narrow}} {
			if w.name == "report-1100.png" {
				b.loadWidth(file, 1100)
			}
			if err := os.WriteFile(filepath.Join(dir, w.name), b.screenshot(w.st), 0o644); err != nil {
				t.Error(err)
			}
			if w.name == "report-1100.png" {
				b.loadWidth(file, 400)
			}
		}
	}
	if os.Getenv("GOPHERLAB_KEEP_SCREENSHOTS") != "" {
		keep := filepath.Join("..", "build", "report-screenshot.png")
		if err := os.MkdirAll(filepath.Dir(keep), 0o755); err == nil {
			if err := os.WriteFile(keep, shot, 0o644); err != nil {
				t.Error(err)
			}
			t.Logf("screenshot kept in build/report-screenshot.png")
		}
	}
}

func near(a, b [3]uint32) bool {
	for i := range a {
		if d := int(a[i]) - int(b[i]); d < -12 || d > 12 {
			return false
		}
	}
	return true
}

// TestBrowserSeesProblems checks the harness itself: a page with a
// console error, an uncaught exception and a missing image must be
// reported.
func TestBrowserSeesProblems(t *testing.T) {
	b := startBrowser(t)
	file := filepath.Join(t.TempDir(), "bad.html")
	bad := `<!DOCTYPE html><html><head><title>bad</title></head><body><h1>bad</h1>
<img src="missing.png"><script>console.error("boom"); undefinedFunction();</script></body></html>`
	if err := os.WriteFile(file, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	page, st := b.load(file)
	if st.Title != "bad" {
		t.Errorf("title %q", st.Title)
	}
	probs := strings.Join(b.pageProblems(page), "\n")
	for _, want := range []string{"console.error: boom", "undefinedFunction", "missing.png"} {
		if !strings.Contains(probs, want) {
			t.Errorf("problems lack %q:\n%s", want, probs)
		}
	}
}
