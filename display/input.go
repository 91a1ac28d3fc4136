package display

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Prompter is a Publisher that can ask the user for a line of text. The
// kernel's publisher does, with Jupyter's input_request, whose password
// flag makes the frontend hide what is typed.
type Prompter interface {
	Prompt(prompt string, password bool) (string, error)
}

// Input asks the user for a line of text after showing prompt, as
// Python's input(prompt) does: in a notebook, in the frontend's input
// box; elsewhere, on standard input, with prompt written to standard
// output. The line comes without its line ending.
func Input(prompt string) (string, error) { return ask(prompt, false) }

// Password asks for a secret as Input does without showing it, as
// Python's getpass: in a notebook the frontend hides what is typed (and
// it is not saved in the notebook); on a terminal, echo is off while it
// is typed. Keep the secret out of a cell's result and output.
func Password(prompt string) (string, error) { return ask(prompt, true) }

func ask(prompt string, password bool) (string, error) {
	if p, ok := publisher().(Prompter); ok {
		return p.Prompt(prompt, password)
	}
	flushText()
	if prompt != "" {
		io.WriteString(os.Stdout, prompt)
	}
	if password {
		if restore, err := echoOff(os.Stdin); err == nil {
			defer func() {
				restore()
				io.WriteString(os.Stdout, "\n") // the newline typed was not echoed
			}()
		}
	}
	line, err := readLine(os.Stdin)
	if err != nil {
		what := "input"
		if password {
			what = "password"
		}
		return line, fmt.Errorf("display: read %s: %w", what, err)
	}
	return line, nil
}

// flushText ends a progress line the default publisher is drawing, so
// that the prompt starts a line of its own.
func flushText() {
	if t, ok := publisher().(*textPublisher); ok {
		t.Flush()
	}
}

// readLine reads up to a line ending, a byte at a time: standard input is
// shared with the rest of the program, which must find the next line
// where this one ended.
func readLine(r io.Reader) (string, error) {
	var b strings.Builder
	var c [1]byte
	for {
		n, err := r.Read(c[:])
		if n == 1 {
			if c[0] == '\n' {
				return strings.TrimSuffix(b.String(), "\r"), nil
			}
			b.WriteByte(c[0])
		}
		if err != nil {
			if errors.Is(err, io.EOF) && b.Len() > 0 {
				return b.String(), nil
			}
			return b.String(), err
		}
	}
}
