// Command glx is a stand-in for the gopherlab command in the export
// package's integration tests: it has the run, export and (hidden) worker
// commands, so the tests work whether or not main.go wires them.
//
// The tests may add yaegi symbol tables of packages the kernel does not
// ship yet (a file built in with go build -overlay that fills Symbols).
package main

import (
	"fmt"
	"os"
	"path"
	"reflect"

	"github.com/gopherlab/gopherlab/export"
	"github.com/gopherlab/gopherlab/kernel/symbols"
	"github.com/gopherlab/gopherlab/kernel/worker"
)

// Symbols receives extra yaegi tables (yaegi extract -name main).
var Symbols = map[string]map[string]reflect.Value{}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: glx run|export|worker ...")
		os.Exit(2)
	}
	for k, v := range Symbols {
		if !symbols.Has(path.Dir(k)) {
			v := v
			symbols.Register(k, func() map[string]reflect.Value { return v })
		}
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = export.RunCommand(os.Args[2:], os.Stdout)
	case "export":
		err = export.ExportCommand(os.Args[2:], os.Stdout)
	case "worker":
		err = worker.Main()
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "glx: %v\n", err)
		os.Exit(1)
	}
}
