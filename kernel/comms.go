package kernel

import (
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/gopherlab/gopherlab/kernel/wire"
)

// CommTarget handles the comms a frontend opens with its target name.
type CommTarget interface {
	// Open is called for comm_open; returning an error closes the comm.
	Open(c *Comm, data map[string]any) error
	Message(c *Comm, data map[string]any)
	Close(c *Comm, data map[string]any)
}

// Comm is one open comm between the kernel and a frontend.
type Comm struct {
	ID     string // comm_id, chosen by the frontend
	Target string // the target_name it was opened with
	s      *Server
	// parent is the frontend message the comm last heard from, which
	// the kernel's messages on it answer; set as a comm_msg arrives,
	// read by Send and Close from any goroutine.
	parent atomic.Pointer[wire.Message]
}

// Send publishes a comm_msg to the frontend.
func (c *Comm) Send(data map[string]any) {
	c.s.publish(c.parent.Load(), "comm_msg", map[string]any{"comm_id": c.ID, "data": nonNil(data)})
}

// Close closes the comm from the kernel side.
func (c *Comm) Close(data map[string]any) {
	c.s.comms.remove(c.ID)
	c.s.publish(c.parent.Load(), "comm_close", map[string]any{"comm_id": c.ID, "data": nonNil(data)})
}

// Comms is the kernel's registry of comm targets and open comms.
type Comms struct {
	s       *Server
	mu      sync.Mutex
	targets map[string]CommTarget
	opened  map[string]*Comm
}

func newComms(s *Server) *Comms {
	return &Comms{s: s, targets: map[string]CommTarget{}, opened: map[string]*Comm{}}
}

// Comms returns the server's comm registry.
func (s *Server) Comms() *Comms { return s.comms }

// Register installs the handler for comms opened with target name.
func (r *Comms) Register(target string, t CommTarget) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.targets[target] = t
}

func (r *Comms) remove(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.opened, id)
}

type commContent struct {
	CommID     string         `json:"comm_id"`
	TargetName string         `json:"target_name"`
	Data       map[string]any `json:"data"`
}

func (r *Comms) open(m *wire.Message) {
	var c commContent
	if err := json.Unmarshal(m.Content, &c); err != nil || c.CommID == "" {
		r.s.log.Warn("bad comm_open", "err", err)
		return
	}
	r.mu.Lock()
	t := r.targets[c.TargetName]
	r.mu.Unlock()
	comm := &Comm{ID: c.CommID, Target: c.TargetName, s: r.s}
	comm.parent.Store(m)
	if t == nil {
		// Like ipykernel: an unknown target closes the comm at once.
		r.s.log.Info("comm_open for unknown target", "target", c.TargetName)
		r.s.publish(m, "comm_close", map[string]any{"comm_id": c.CommID, "data": map[string]any{}})
		return
	}
	r.mu.Lock()
	r.opened[c.CommID] = comm
	r.mu.Unlock()
	if err := t.Open(comm, c.Data); err != nil {
		comm.Close(map[string]any{"error": err.Error()})
	}
}

func (r *Comms) lookup(m *wire.Message) (*Comm, CommTarget, commContent, error) {
	var c commContent
	if err := json.Unmarshal(m.Content, &c); err != nil {
		return nil, nil, c, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	comm := r.opened[c.CommID]
	if comm == nil {
		return nil, nil, c, fmt.Errorf("no open comm %q", c.CommID)
	}
	comm.parent.Store(m)
	return comm, r.targets[comm.Target], c, nil
}

func (r *Comms) msg(m *wire.Message) {
	comm, t, c, err := r.lookup(m)
	if err != nil {
		r.s.log.Warn("comm_msg", "err", err)
		return
	}
	if t != nil {
		t.Message(comm, c.Data)
	}
}

func (r *Comms) close(m *wire.Message) {
	comm, t, c, err := r.lookup(m)
	if err != nil {
		r.s.log.Warn("comm_close", "err", err)
		return
	}
	r.remove(comm.ID)
	if t != nil {
		t.Close(comm, c.Data)
	}
}

func (r *Comms) info(raw json.RawMessage) map[string]any {
	var c struct {
		TargetName string `json:"target_name"`
	}
	json.Unmarshal(raw, &c)
	r.mu.Lock()
	defer r.mu.Unlock()
	comms := map[string]any{}
	for id, comm := range r.opened {
		if c.TargetName == "" || c.TargetName == comm.Target {
			comms[id] = map[string]string{"target_name": comm.Target}
		}
	}
	return map[string]any{"status": "ok", "comms": comms}
}
