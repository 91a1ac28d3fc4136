// Package atomicfile writes files whole or not at all: what a program
// saves (a model, a dataset, a report) replaces the file before it only
// once it is completely written, so a failure half-way (a full disk, an
// error while encoding) leaves the earlier file as it was.
package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Write writes path with what write produces, through a temporary file in
// the same directory that is renamed over path once complete, with
// permissions perm. An error from write, or from writing the file,
// removes the temporary file and leaves path untouched.
func Write(path string, perm os.FileMode, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if err = write(f); err == nil {
		err = f.Chmod(perm) // CreateTemp makes the file private
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", tmp, cerr)
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
