package display

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
)

func TestHandle(t *testing.T) {
	r := record(t)
	h := NewHTML("<b>v1</b>")
	h.UpdateHTML("<b>v2</b>")
	h.UpdateText("v3")
	h.Update(Bundle{Data: map[string]any{MIMEMarkdown: "*v4*"}})
	h2 := NewText("other")

	if h.ID() == "" || h.ID() == h2.ID() {
		t.Fatalf("ids %q and %q, want distinct non-empty", h.ID(), h2.ID())
	}
	ev := r.all()
	want := []struct{ kind, id, text string }{
		{"display", h.ID(), "v1"},
		{"update", h.ID(), "v2"},
		{"update", h.ID(), "v3"},
		{"update", h.ID(), "*v4*"},
		{"display", h2.ID(), "other"},
	}
	if len(ev) != len(want) {
		t.Fatalf("got %d events, want %d: %+v", len(ev), len(want), ev)
	}
	for i, w := range want {
		if ev[i].kind != w.kind || ev[i].id != w.id || ev[i].b.Data[MIMEText] != w.text {
			t.Errorf("event %d = %s %q %q, want %s %q %q", i, ev[i].kind, ev[i].id, ev[i].b.Data[MIMEText], w.kind, w.id, w.text)
		}
	}
	if _, ok := ev[0].b.Data[MIMEHTML]; !ok {
		t.Error("NewHTML did not publish text/html")
	}
	if _, ok := ev[2].b.Data[MIMEHTML]; ok {
		t.Error("UpdateText published text/html")
	}
}

func TestHandleZeroValue(t *testing.T) {
	r := record(t)
	var h Handle
	if h.ID() != "" {
		t.Errorf("zero Handle has id %q", h.ID())
	}
	h.UpdateText("a")
	h.UpdateText("b")
	ev := r.all()
	if len(ev) != 2 || ev[0].kind != "display" || ev[1].kind != "update" || ev[0].id == "" || ev[0].id != ev[1].id {
		t.Errorf("zero Handle events: %+v", ev)
	}

	var nilHandle *Handle
	nilHandle.UpdateText("ignored") // must not panic
	if nilHandle.ID() != "" || len(r.all()) != 2 {
		t.Error("nil Handle published or has an id")
	}
}

func TestHandleIDsUnique(t *testing.T) {
	record(t)
	seen := map[string]bool{}
	for range 1000 {
		id := New(Bundle{}).ID()
		if len(id) != 32 || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
}

func TestHandleConcurrent(t *testing.T) {
	r := record(t)
	var h Handle
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				h.UpdateText(fmt.Sprint(g*1000 + i))
			}
		}()
	}
	wg.Wait()
	ev := r.all()
	if len(ev) != 800 {
		t.Fatalf("got %d events, want 800", len(ev))
	}
	last := map[int]int{} // per goroutine, updates must stay in order
	for i, e := range ev {
		if want := "update"; i == 0 {
			if e.kind != "display" {
				t.Fatalf("first event is %s, want display", e.kind)
			}
		} else if e.kind != want {
			t.Fatalf("event %d is %s, want %s", i, e.kind, want)
		}
		if e.id != ev[0].id {
			t.Fatalf("event %d has id %q, want %q", i, e.id, ev[0].id)
		}
		n, _ := strconv.Atoi(e.b.Data[MIMEText].(string))
		if prev, ok := last[n/1000]; ok && n <= prev {
			t.Fatalf("updates of goroutine %d out of order", n/1000)
		}
		last[n/1000] = n
	}
}
