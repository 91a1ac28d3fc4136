package symbols

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/gob"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// docIndexData is written by internal/gendoc (go generate). An empty file is
// a valid, empty index, which is how a fresh index is bootstrapped.
//
//go:embed docindex.gob.gz
var docIndexData []byte

// index and pkgIndex are mirrored in internal/gendoc; gob matches fields by
// name.
type index struct {
	Packages []pkgIndex
}

type pkgIndex struct {
	Path     string
	Synopsis string
	Doc      string
	Members  []Member // sorted by Name
}

var docs struct {
	once sync.Once
	pkgs map[string]*pkgIndex
	err  error
}

// loadDocs decodes the embedded index on first use, so that an interpreter
// that never completes or inspects does not pay for it.
func loadDocs() map[string]*pkgIndex {
	docs.once.Do(func() {
		docs.pkgs, docs.err = decodeIndex(docIndexData)
	})
	return docs.pkgs
}

func decodeIndex(data []byte) (map[string]*pkgIndex, error) {
	pkgs := map[string]*pkgIndex{}
	if len(data) == 0 {
		return pkgs, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return pkgs, fmt.Errorf("symbols: read doc index: %w", err)
	}
	var idx index
	if err := gob.NewDecoder(zr).Decode(&idx); err != nil {
		return pkgs, fmt.Errorf("symbols: decode doc index: %w", err)
	}
	for i := range idx.Packages {
		p := &idx.Packages[i]
		pkgs[p.Path] = p
	}
	return pkgs, nil
}

// docPackages lists the registered tables rather than the index, so that a
// table added without regenerating the index is still offered. It builds
// no table.
func docPackages() []string {
	var paths []string
	for _, p := range registeredPaths() {
		if !hiddenPath(p) {
			paths = append(paths, p)
		}
	}
	return paths
}

// hiddenPath reports packages completion should not offer: internal and
// vendored ones, which cells cannot import by Go's rules, and yaegi's own
// plumbing, should a table of it be registered.
func hiddenPath(p string) bool {
	if strings.HasPrefix(p, "github.com/traefik/yaegi/") {
		return true
	}
	for _, elem := range strings.Split(p, "/") {
		if elem == "internal" || elem == "vendor" {
			return true
		}
	}
	return false
}

func docPackage(p string) string {
	if pi := loadDocs()[p]; pi != nil {
		return pi.Doc
	}
	return ""
}

// PackageSynopsis returns the first sentence of the package's doc comment,
// for short descriptions such as import path completion.
func PackageSynopsis(path string) string {
	if pi := loadDocs()[path]; pi != nil {
		return pi.Synopsis
	}
	return ""
}

func docMembers(p string) []Member {
	if pi := loadDocs()[p]; pi != nil {
		return append([]Member(nil), pi.Members...)
	}
	return nil
}

func docLookup(p, name string) (Member, bool) {
	pi := loadDocs()[p]
	if pi == nil {
		return Member{}, false
	}
	ms := pi.Members
	i := sort.Search(len(ms), func(i int) bool { return ms[i].Name >= name })
	if i < len(ms) && ms[i].Name == name {
		return ms[i], true
	}
	return Member{}, false
}
