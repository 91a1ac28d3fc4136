package display

import (
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
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
// every displayed or updated bundle to w, one per line, and ignores clears.
// It is what plain Go programs get by default (with w = os.Stdout), and is
// useful to log a notebook's displays to a file. A nil w means os.Stdout as
// it is at each call.
func NewTextPublisher(w io.Writer) Publisher {
	return &textPublisher{w: w}
}

type textPublisher struct {
	mu sync.Mutex
	w  io.Writer // nil: os.Stdout, looked up at each write so redirection works
}

func (t *textPublisher) Display(b Bundle, _ string) { t.write(b) }
func (t *textPublisher) Update(b Bundle, _ string)  { t.write(b) }
func (t *textPublisher) Clear(bool)                 {}

func (t *textPublisher) write(b Bundle) {
	s := plainText(b)
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	w := t.w
	if w == nil {
		w = os.Stdout
	}
	// A failed write to stdout has nowhere better to be reported.
	_, _ = io.WriteString(w, s)
}

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
