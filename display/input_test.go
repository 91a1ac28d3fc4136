package display

import (
	"io"
	"os"
	"strings"
	"testing"
)

// Outside a notebook, Input writes its prompt to standard output and
// reads one line of standard input, leaving the rest for the program.
func TestInputFromStdin(t *testing.T) {
	for _, tc := range []struct {
		name, in, want, rest string
		password             bool
	}{
		{"a line", "ada\nrest\n", "ada", "rest\n", false},
		{"CRLF", "ada\r\nrest", "ada", "rest", false},
		{"last line without an ending", "ada", "ada", "", false},
		{"password from a pipe", "s3cret\nrest", "s3cret", "rest", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inR, inW, _ := os.Pipe()
			outR, outW, _ := os.Pipe()
			oldIn, oldOut := os.Stdin, os.Stdout
			os.Stdin, os.Stdout = inR, outW
			defer func() { os.Stdin, os.Stdout = oldIn, oldOut }()
			io.WriteString(inW, tc.in)
			inW.Close()
			ask := Input
			if tc.password {
				ask = Password
			}
			got, err := ask("name? ")
			outW.Close()
			prompt, _ := io.ReadAll(outR)
			rest, _ := io.ReadAll(inR)
			if err != nil || got != tc.want {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
			if string(prompt) != "name? " {
				t.Errorf("prompt written %q", prompt)
			}
			if string(rest) != tc.rest {
				t.Errorf("left on stdin %q, want %q", rest, tc.rest)
			}
		})
	}
	// No input at all is an error that says what was being read.
	inR, inW, _ := os.Pipe()
	inW.Close()
	oldIn := os.Stdin
	os.Stdin = inR
	defer func() { os.Stdin = oldIn }()
	if _, err := Password(""); err == nil || !strings.Contains(err.Error(), "display: read password: EOF") {
		t.Errorf("empty stdin: %v", err)
	}
}

type prompter struct {
	textPublisher
	asked []string
}

func (p *prompter) Prompt(prompt string, password bool) (string, error) {
	p.asked = append(p.asked, prompt)
	if password {
		return "hidden", nil
	}
	return "shown", nil
}

// In a notebook, the kernel's publisher asks.
func TestInputFromPrompter(t *testing.T) {
	p := &prompter{}
	old := SetPublisher(p)
	defer SetPublisher(old)
	a, _ := Input("q1")
	b, _ := Password("q2")
	if a != "shown" || b != "hidden" || strings.Join(p.asked, ",") != "q1,q2" {
		t.Errorf("got %q %q, asked %v", a, b, p.asked)
	}
}
