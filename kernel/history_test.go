package kernel

import (
	"encoding/json"
	"path/filepath"
	"sort"
	"sync"
	"testing"
)

// Kernels started at the same moment on one history file each get a
// session of their own; a later one gets the next, and the sessions'
// cells come back apart, without the claims of the numbers.
func TestHistorySessions(t *testing.T) {
	file := filepath.Join(t.TempDir(), "history.jsonl")
	const n = 8
	hs := make([]*history, n)
	var wg sync.WaitGroup
	for i := range hs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hs[i] = newHistory(file)
		}()
	}
	wg.Wait()
	var sessions []int
	for i, h := range hs {
		sessions = append(sessions, h.session)
		h.add(1, "cell of kernel "+string(rune('a'+i)))
	}
	for _, h := range hs {
		h.close()
	}
	sort.Ints(sessions)
	for i, s := range sessions {
		if s != i+1 {
			t.Fatalf("sessions %v, want 1..%d each once", sessions, n)
		}
	}
	later := newHistory(file)
	defer later.close()
	if later.session != n+1 {
		t.Errorf("a later kernel's session %d, want %d", later.session, n+1)
	}
	raw, _ := json.Marshal(map[string]any{"hist_access_type": "range", "session": hs[3].session, "start": 0})
	got := later.request(raw)["history"]
	b, _ := json.Marshal(got)
	want, _ := json.Marshal([][]any{{hs[3].session, 1, "cell of kernel d"}})
	if string(b) != string(want) {
		t.Errorf("session %d's history %s, want %s", hs[3].session, b, want)
	}
	tail, _ := json.Marshal(map[string]any{"hist_access_type": "tail", "n": 100})
	if h, _ := later.request(tail)["history"].([]any); len(h) != n {
		t.Errorf("tail has %d entries, want the %d cells: %v", len(h), n, h)
	}
}
