// Package kernel is gopherlab's Jupyter kernel server: it binds the five
// channels of a connection file over ZeroMQ, verifies and dispatches every
// message of the Jupyter messaging protocol (5.4), and publishes output on
// iopub. It knows nothing of Go: cells are run by an Engine (package
// kernel/worker runs them in a supervised interpreter process).
package kernel

import "context"

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
	Implementation        string
	ImplementationVersion string
	Language              LanguageInfo
	Banner                string
	HelpLinks             []HelpLink
}

// LanguageInfo is kernel_info_reply's language_info.
type LanguageInfo struct {
	Name           string `json:"name"`
	Version        string `json:"version"`
	MIMEType       string `json:"mimetype"`
	FileExtension  string `json:"file_extension"`
	PygmentsLexer  string `json:"pygments_lexer"`
	CodemirrorMode string `json:"codemirror_mode"`
	NBConvert      string `json:"nbconvert_exporter,omitempty"`
}

// HelpLink is one entry of kernel_info_reply's help_links.
type HelpLink struct {
	Text string `json:"text"`
	URL  string `json:"url"`
}

// ExecuteRequest is what execute_request asks.
type ExecuteRequest struct {
	Code            string
	Silent          bool
	StoreHistory    bool
	AllowStdin      bool
	ExecutionCount  int // the count this execution will be shown with
	UserExpressions map[string]string
}

// MIMEBundle is data keyed by MIME type with per-type metadata.
type MIMEBundle struct {
	Data     map[string]any `json:"data"`
	Metadata map[string]any `json:"metadata"`
}

// ExecuteReply is the outcome of an execution.
type ExecuteReply struct {
	Status          string // "ok", "error" or "aborted"
	Result          *MIMEBundle
	Ename, Evalue   string
	Traceback       []string
	Payload         []map[string]any
	UserExpressions map[string]any
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
	Matches     []string       `json:"matches"`
	CursorStart int            `json:"cursor_start"`
	CursorEnd   int            `json:"cursor_end"`
	Metadata    map[string]any `json:"metadata"`
}

// InspectReply is inspect_reply's content.
type InspectReply struct {
	Found    bool           `json:"found"`
	Data     map[string]any `json:"data"`
	Metadata map[string]any `json:"metadata"`
}

// IsCompleteReply is is_complete_reply's content.
type IsCompleteReply struct {
	Status string `json:"status"`
	Indent string `json:"indent,omitempty"`
}
