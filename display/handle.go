package display

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
)

// Handle is an output that can be replaced in place after it is shown
// (display_data with a display_id, then update_display_data). Updates go to
// every place the display appears, even from a later cell.
//
// The zero value is ready to use: its first Update displays the bundle with
// a fresh display_id. A Handle is safe for concurrent use; updates are
// published in the order they are made.
type Handle struct {
	mu sync.Mutex
	id string
}

// New displays b with a fresh display_id and returns its handle.
func New(b Bundle) *Handle {
	h := &Handle{}
	h.Update(b)
	return h
}

// NewHTML displays s as text/html and returns its handle.
func NewHTML(s string) *Handle { return New(htmlBundle(s)) }

// NewText displays s as text/plain and returns its handle.
func NewText(s string) *Handle { return New(textBundle(MIMEText, s, s)) }

// ID returns the display_id of h ("" before a zero Handle is first shown).
func (h *Handle) ID() string {
	if h == nil {
		return ""
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.id
}

// Update replaces the content of the display with b.
func (h *Handle) Update(b Bundle) {
	if h == nil {
		return
	}
	b = normalize(b)
	// Publishing under the lock keeps concurrent updates in order.
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.id == "" {
		h.id = newDisplayID()
		publisher().Display(b, h.id)
		return
	}
	publisher().Update(b, h.id)
}

// UpdateHTML replaces the content of the display with s as text/html.
func (h *Handle) UpdateHTML(s string) { h.Update(htmlBundle(s)) }

// UpdateText replaces the content of the display with s as text/plain.
func (h *Handle) UpdateText(s string) { h.Update(textBundle(MIMEText, s, s)) }

// newDisplayID returns 128 random bits in hex; display ids only need to be
// unique within a notebook, across kernel restarts too.
func newDisplayID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}
