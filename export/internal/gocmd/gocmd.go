// Package gocmd owns the environment the go command runs in on an
// exported module, so export and its tests build modules the same way.
package gocmd

import (
	"os"
	"strings"
)

// Env is the environment for go commands run on an exported module: the
// module may fetch what its go.sum lacks from the module proxy (-mod=mod,
// unless GOFLAGS already sets -mod), and a go.work above it is ignored.
func Env() []string {
	env := append(os.Environ(), "GOWORK=off")
	flags := os.Getenv("GOFLAGS")
	if !strings.Contains(flags, "-mod=") {
		flags = strings.TrimSpace(flags + " -mod=mod")
	}
	return append(env, "GOFLAGS="+flags)
}
