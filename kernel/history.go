package kernel

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"path"
	"path/filepath"
	"sync"
	"syscall"
)

// history keeps the inputs of executed cells for history_request, across
// sessions when it has a file (one JSON object a line, appended).
type history struct {
	mu      sync.Mutex
	file    *os.File
	session int
	entries []histEntry
}

type histEntry struct {
	Session int    `json:"session"`
	Line    int    `json:"line"`
	Input   string `json:"input"`
	Output  string `json:"output,omitempty"`
}

const historyKeep = 10000

// newHistory loads the history in file and takes the next session
// number: under an exclusive lock of the file, it appends a claim of the
// number (an entry of line 0, which no cell has), so that kernels started
// at the same moment get numbers of their own, as ipykernel's SQLite
// history gives them.
func newHistory(file string) *history {
	h := &history{session: 1}
	if file == "" {
		return h
	}
	os.MkdirAll(filepath.Dir(file), 0o755)
	f, err := os.OpenFile(file, os.O_CREATE|os.O_APPEND|os.O_RDWR, 0o600)
	if err != nil {
		return h
	}
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX) == nil {
		defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	}
	sc := bufio.NewScanner(io.NewSectionReader(f, 0, 1<<62))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e histEntry
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue
		}
		if e.Session >= h.session {
			h.session = e.Session + 1
		}
		if e.Line > 0 {
			h.entries = append(h.entries, e)
		}
	}
	if len(h.entries) > historyKeep {
		h.entries = h.entries[len(h.entries)-historyKeep:]
	}
	b, _ := json.Marshal(histEntry{Session: h.session})
	f.Write(append(b, '\n'))
	h.file = f
	return h
}

func (h *history) add(line int, input string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e := histEntry{Session: h.session, Line: line, Input: input}
	h.entries = append(h.entries, e)
	if h.file != nil {
		b, _ := json.Marshal(e)
		h.file.Write(append(b, '\n'))
	}
}

func (h *history) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.file != nil {
		h.file.Close()
		h.file = nil
	}
}

// request answers a history_request: tail, range or search.
func (h *history) request(raw json.RawMessage) map[string]any {
	var c struct {
		Output  bool   `json:"output"`
		Raw     bool   `json:"raw"`
		Access  string `json:"hist_access_type"`
		Session int    `json:"session"`
		Start   int    `json:"start"`
		Stop    *int   `json:"stop"`
		N       *int   `json:"n"`
		Pattern string `json:"pattern"`
		Unique  bool   `json:"unique"`
	}
	json.Unmarshal(raw, &c)
	h.mu.Lock()
	defer h.mu.Unlock()
	var sel []histEntry
	switch c.Access {
	case "range":
		session := c.Session
		if session <= 0 {
			session = h.session + session // 0 is this session, -1 the one before
		}
		for _, e := range h.entries {
			if e.Session != session || e.Line < c.Start || (c.Stop != nil && e.Line >= *c.Stop) {
				continue
			}
			sel = append(sel, e)
		}
	case "search":
		pattern := c.Pattern
		if pattern == "" {
			pattern = "*"
		}
		seen := map[string]bool{}
		for i := len(h.entries) - 1; i >= 0; i-- {
			e := h.entries[i]
			if ok, _ := path.Match(pattern, e.Input); !ok {
				continue
			}
			if c.Unique && seen[e.Input] {
				continue
			}
			seen[e.Input] = true
			sel = append(sel, e)
			if c.N != nil && *c.N > 0 && len(sel) >= *c.N {
				break
			}
		}
		for i, j := 0, len(sel)-1; i < j; i, j = i+1, j-1 {
			sel[i], sel[j] = sel[j], sel[i]
		}
	case "tail":
		n := 10
		if c.N != nil {
			n = *c.N
		}
		start := max(len(h.entries)-n, 0)
		sel = h.entries[start:]
	default:
		// An access type this kernel does not know gets nothing, as in
		// ipykernel.
	}
	// IPython numbers the current session 0 in a range of it.
	current := c.Access == "range" && c.Session == 0
	items := make([]any, 0, len(sel))
	for _, e := range sel {
		if current {
			e.Session = 0
		}
		if c.Output {
			var out any
			if e.Output != "" {
				out = e.Output
			}
			items = append(items, []any{e.Session, e.Line, []any{e.Input, out}})
		} else {
			items = append(items, []any{e.Session, e.Line, e.Input})
		}
	}
	return map[string]any{"status": "ok", "history": items}
}
