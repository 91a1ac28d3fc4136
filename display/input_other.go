//go:build !linux

package display

import (
	"errors"
	"os"
)

// echoOff is not done on this system: the secret is read as typed.
func echoOff(*os.File) (func(), error) { return nil, errors.New("echo control is for Linux terminals") }
