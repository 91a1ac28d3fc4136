// Package kernel is gopherlab's Jupyter kernel server: it binds the five
// channels of a connection file over ZeroMQ, verifies and dispatches every
// message of the Jupyter messaging protocol (5.4), and publishes output on
// iopub. It knows nothing of Go: cells are run by an Engine (package
// kernel/worker runs them in a supervised interpreter process).
package kernel

import (
	"context"
	"encoding/json"
)

// Engine runs code for the kernel. The server calls Execute, Complete,
// Inspect and IsComplete one at a time (shell requests are serial), and
// Interrupt from another goroutine while Execute runs.
type Engine interface {
	Info() Info
	Execute(ctx context.Context, req ExecuteRequest, out Output) ExecuteReply
	Complete(ctx context.Context, code string, cursor int) (CompleteReply, error)
	Inspect(ctx context.Context, code string, cursor, detail int) (InspectReply, error)
	IsComplete(ctx context.Context, code string) (IsCompleteReply, error)
	// Interrupt stops the code that Execute is running, if any.
	Interrupt()
	// Close stops the engine and frees its resources.
	Close() error
}

// Info describes the language for kernel_info_reply.
type Info struct {
	Implementation        string       // implementation name ("gopherlab")
	ImplementationVersion string       // implementation version
	Language              LanguageInfo // language_info
	Banner                string       // text a console shows at start
	HelpLinks             []HelpLink   // help menu entries; nil for none
}

// LanguageInfo is kernel_info_reply's language_info.
type LanguageInfo struct {
	Name           string `json:"name"`                         // language name: "go"
	Version        string `json:"version"`                      // language version: the Go version without "go"
	MIMEType       string `json:"mimetype"`                     // MIME type of the code: "text/x-go"
	FileExtension  string `json:"file_extension"`               // with the dot: ".go"
	PygmentsLexer  string `json:"pygments_lexer"`               // Pygments lexer, for highlighting in exports
	CodemirrorMode string `json:"codemirror_mode"`              // CodeMirror mode, for highlighting in the editor
	NBConvert      string `json:"nbconvert_exporter,omitempty"` // nbconvert's default exporter ("script")
}

// HelpLink is one entry of kernel_info_reply's help_links.
type HelpLink struct {
	Text string `json:"text"` // menu entry
	URL  string `json:"url"`  // page it opens
}

// ExecuteRequest is what execute_request asks.
type ExecuteRequest struct {
	Code            string            // the code to run
	Silent          bool              // no execute_input or result is published, history is not kept
	StoreHistory    bool              // the code goes into history and advances the count; false when Silent
	AllowStdin      bool              // whether Output.Input may ask the frontend (true if the request does not say)
	ExecutionCount  int               // the count this execution will be shown with
	UserExpressions map[string]string // expressions to evaluate after the code, by name
}

// MIMEBundle is data keyed by MIME type with per-type metadata.
type MIMEBundle struct {
	Data     map[string]any `json:"data"`     // content by MIME type (text/plain, image/png, ...)
	Metadata map[string]any `json:"metadata"` // metadata by MIME type
}

// ExecuteReply is the outcome of an execution.
type ExecuteReply struct {
	Status          string           // "ok", "error" or "aborted"; "" means "ok"
	Result          *MIMEBundle      // the value to show as execute_result; nil for none
	Ename, Evalue   string           // error name and message, for "error"
	Traceback       []string         // lines of the error's traceback, for "error"
	Payload         []map[string]any // Jupyter payloads (pager, ask_exit), for "ok"
	UserExpressions map[string]any   // results of ExecuteRequest.UserExpressions by name, for "ok"
}

// Output is where an executing cell sends what it shows. The server binds
// it to the request being executed.
type Output interface {
	Stream(name, text string)
	Display(b MIMEBundle, displayID string, update bool)
	Clear(wait bool)
	// Input asks the frontend for a line of input; it fails when the
	// request did not allow stdin or the execution was interrupted.
	Input(prompt string, password bool) (string, error)
}

// CompleteReply is complete_reply's content.
type CompleteReply struct {
	Matches     []string       `json:"matches"`      // the completions
	CursorStart int            `json:"cursor_start"` // start of the text they replace (code points)
	CursorEnd   int            `json:"cursor_end"`   // end of the text they replace (code points)
	Metadata    map[string]any `json:"metadata"`     // extra data, such as _jupyter_types_experimental
}

// InspectReply is inspect_reply's content.
type InspectReply struct {
	Found    bool           `json:"found"`    // whether there is anything to show
	Data     map[string]any `json:"data"`     // the documentation by MIME type
	Metadata map[string]any `json:"metadata"` // metadata by MIME type
}

// IsCompleteReply is is_complete_reply's content.
type IsCompleteReply struct {
	Status string `json:"status"`           // "complete", "incomplete", "invalid" or "unknown"
	Indent string `json:"indent,omitempty"` // for the next line, when "incomplete"
}

// MarshalJSON writes indent with every "incomplete" reply, even an empty
// one (inside a raw string, after an operator), as the protocol pairs
// them, and with no other.
func (r IsCompleteReply) MarshalJSON() ([]byte, error) {
	if r.Status == "incomplete" {
		return json.Marshal(struct {
			Status string `json:"status"`
			Indent string `json:"indent"`
		}{r.Status, r.Indent})
	}
	return json.Marshal(struct {
		Status string `json:"status"`
	}{r.Status})
}
