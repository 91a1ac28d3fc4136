// Package worker runs Go cells in a child process that the kernel
// supervises, so that nothing a cell does (a panic in a goroutine, a stack
// overflow, compiled code that ignores an interrupt) can take the Jupyter
// connection down with it. Engine, the supervisor, implements kernel.Engine;
// Main is the child's entry point (the hidden `gopherlab worker` command).
//
// The two processes speak JSON lines over two pipes (fd 3: requests to the
// child, fd 4: events from it). The child's stdout and stderr are pipes of
// their own that the supervisor streams to the cell, so output from
// compiled code and the runtime's last words after a crash are kept.
package worker

import "encoding/json"

// request is one message from the supervisor to the child.
type request struct {
	ID     int64  `json:"id"`
	Op     string `json:"op"` // execute, complete, inspect, is_complete, input_reply
	Code   string `json:"code,omitempty"`
	Cursor int    `json:"cursor,omitempty"`
	Detail int    `json:"detail,omitempty"`
	Silent bool   `json:"silent,omitempty"`
	Count  int    `json:"count,omitempty"` // execution count shown for the cell
	// Notebook is the notebook the kernel runs for, when the supervisor
	// found out (Config.Notebook): runs the cell logs are filed under it.
	Notebook string `json:"notebook,omitempty"`
	// Exprs are execute_request's user_expressions, evaluated after a
	// cell that succeeded.
	Exprs map[string]string `json:"exprs,omitempty"`
	// input_reply
	Value string `json:"value,omitempty"`
	Err   string `json:"err,omitempty"`
	// Interrupted says the wait for input was interrupted: the cell
	// stops at the read (as Python's input() raises KeyboardInterrupt).
	Interrupted bool `json:"interrupted,omitempty"`
}

// event is one message from the child to the supervisor.
type event struct {
	ID int64  `json:"id,omitempty"`
	Ev string `json:"ev"` // ready, reply, stream, display, update, clear, input

	// stream: text a cell wrote to os.Stdout ("stdout") or os.Stderr
	Name string `json:"name,omitempty"`
	Text string `json:"text,omitempty"`

	// display, update
	Data      map[string]any `json:"data,omitempty"`
	Metadata  map[string]any `json:"metadata,omitempty"`
	DisplayID string         `json:"display_id,omitempty"`
	// clear
	Wait bool `json:"wait,omitempty"`
	// input
	Prompt   string `json:"prompt,omitempty"`
	Password bool   `json:"password,omitempty"`
	// reply
	Reply json.RawMessage `json:"reply,omitempty"`
}

// executeReply is the reply to an execute request.
type executeReply struct {
	Status    string           `json:"status"` // ok, error
	Result    *bundle          `json:"result,omitempty"`
	Ename     string           `json:"ename,omitempty"`
	Evalue    string           `json:"evalue,omitempty"`
	Traceback []string         `json:"traceback,omitempty"`
	Payload   []map[string]any `json:"payload,omitempty"`
	// Exprs holds each user expression's outcome, shaped as
	// execute_reply's user_expressions entries.
	Exprs map[string]any `json:"exprs,omitempty"`
	// Stuck means the cell's code did not stop when interrupted: the
	// supervisor must kill the process.
	Stuck bool `json:"stuck,omitempty"`
}

type bundle struct {
	Data     map[string]any `json:"data"`
	Metadata map[string]any `json:"metadata"`
}

type completeReply struct {
	Matches     []string       `json:"matches"`
	CursorStart int            `json:"cursor_start"`
	CursorEnd   int            `json:"cursor_end"`
	Metadata    map[string]any `json:"metadata"`
}

type inspectReply struct {
	Found bool           `json:"found"`
	Data  map[string]any `json:"data"`
}

type isCompleteReply struct {
	Status string `json:"status"`
	Indent string `json:"indent"`
}
