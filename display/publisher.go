package display

import (
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Bundle is a MIME bundle: Data maps MIME types to content (strings for
// text and base64 for binary image types, any JSON value for
// application/json); Metadata is per-MIME metadata (e.g.
// {"image/png": {"width": 640}}).
type Bundle struct {
	Data     map[string]any `json:"data"`
	Metadata map[string]any `json:"metadata"`
}

// Publisher receives what cells display. The kernel installs one per
// session. Implementations must be safe for concurrent use: goroutines in
// cells display too.
type Publisher interface {
	Display(b Bundle, displayID string) // display_data; displayID "" means none (transient.display_id otherwise)
	Update(b Bundle, displayID string)  // update_display_data
	Clear(wait bool)                    // clear_output
}

// publisherBox lets atomic.Value hold Publishers of different dynamic types.
type publisherBox struct{ p Publisher }

var (
	current        atomic.Value // publisherBox
	defaultPublish = &textPublisher{}
)

// SetPublisher installs p as the destination of everything displayed and
// returns the previous publisher. A nil p restores the default, which writes
// each bundle's text/plain form to os.Stdout.
func SetPublisher(p Publisher) Publisher {
	if p == nil {
		p = defaultPublish
	}
	old := current.Swap(publisherBox{p})
	if old == nil {
		return defaultPublish
	}
	return old.(publisherBox).p
}

// publisher returns the publisher in force now.
func publisher() Publisher {
	if b, ok := current.Load().(publisherBox); ok {
		return b.p
	}
	return defaultPublish
}

// NewTextPublisher returns a Publisher that writes the text/plain form of
// every display and update to w, and ignores clears. It is what plain Go
// programs (and exported jobs) get by default, with w = os.Stdout, and is
// useful to log a notebook's displays to a file. A nil w means os.Stdout
// as it is at each call.
//
// When w is a terminal, the updates of a one-line display (a progress
// bar) redraw its line in place, like tqdm's. Elsewhere (a log file, a
// pipe) each update is a line, and progress bars update every
// textProgressInterval instead of ten times a second.
func NewTextPublisher(w io.Writer) Publisher {
	return &textPublisher{w: w}
}

// textProgressInterval is the least time between two updates of a
// progress bar written as lines.
const textProgressInterval = 2 * time.Second

type textPublisher struct {
	mu   sync.Mutex
	w    io.Writer // nil: os.Stdout, looked up at each write so redirection works
	open string    // display whose line a terminal shows unfinished ("": none)
	term bool      // test hook: w is a terminal
	// statted and isTerm cache whether the last file written to is a
	// terminal: progress bars ask at every change, which must not cost a
	// system call in a loop calling Add.
	statted *os.File
	isTerm  bool
}

func (t *textPublisher) Display(b Bundle, id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	w, term := t.out()
	t.endLineLocked(w)
	s := strings.TrimSuffix(plainText(b), "\n")
	if id != "" && term && !strings.Contains(s, "\n") {
		io.WriteString(w, s) // left open for its updates
		t.open = id
		return
	}
	io.WriteString(w, s+"\n")
}

func (t *textPublisher) Update(b Bundle, id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	w, term := t.out()
	s := strings.TrimSuffix(plainText(b), "\n")
	if term && !strings.Contains(s, "\n") {
		if t.open == id {
			io.WriteString(w, "\r"+s+"\x1b[K")
			return
		}
		t.endLineLocked(w)
		io.WriteString(w, s)
		t.open = id
		return
	}
	t.endLineLocked(w)
	io.WriteString(w, s+"\n")
}

func (t *textPublisher) Clear(bool) {}

// Finish ends the line of display id if a terminal shows it unfinished.
// Progress.Done calls it.
func (t *textPublisher) Finish(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.open == id {
		w, _ := t.out()
		t.endLineLocked(w)
	}
}

// Flush ends a line a terminal shows unfinished. EndCell calls it.
func (t *textPublisher) Flush() {
	t.mu.Lock()
	defer t.mu.Unlock()
	w, _ := t.out()
	t.endLineLocked(w)
}

// progressInterval is how often progress bars should update.
func (t *textPublisher) progressInterval() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, term := t.out(); term {
		return progressInterval
	}
	return textProgressInterval
}

func (t *textPublisher) endLineLocked(w io.Writer) {
	if t.open != "" {
		io.WriteString(w, "\n")
		t.open = ""
	}
}

// out returns the writer and whether it is a terminal (a character
// device; /dev/null is one too, and takes anything). Failed writes to it
// have nowhere better to be reported.
func (t *textPublisher) out() (io.Writer, bool) {
	w := t.w
	if w == nil {
		w = os.Stdout
	}
	f, ok := w.(*os.File)
	if !ok {
		return w, t.term
	}
	if f != t.statted {
		st, err := f.Stat()
		t.statted, t.isTerm = f, err == nil && st.Mode()&os.ModeCharDevice != 0
	}
	return w, t.isTerm
}

// finisher, flusher and paced are what Progress.Done, EndCell and
// Progress's pacing ask of a publisher that writes text.
type (
	finisher interface{ Finish(displayID string) }
	flusher  interface{ Flush() }
	paced    interface{ progressInterval() time.Duration }
)

// Publish displays b as display_data with the current publisher. A missing
// text/plain form is derived from the other MIME types, so every published
// bundle carries one.
func Publish(b Bundle) {
	publisher().Display(normalize(b), "")
}

// Clear clears the output of the current cell (clear_output).
func Clear() { publisher().Clear(false) }

// ClearWait clears the output of the current cell when the next output
// arrives (clear_output with wait=true), which avoids flicker in animations.
func ClearWait() { publisher().Clear(true) }
