// Package symbols holds the yaegi symbol tables of every compiled package
// that notebook cells can import, builds them only when a session needs
// them, and indexes their documentation for completion and inspection.
//
// # Tables
//
// A table maps the exported names of one compiled package to their values
// (reflect.Value), under a key of yaegi's "import/path/name" form
// ("gonum.org/v1/gonum/mat/mat", "math/rand/v2/rand"); an interpreter gets
// tables through (*interp.Interpreter).Use. Package symbols has tables for
// the standard library (the same package list as yaegi's own stdlib
// package, without unsafe and syscall), gonum (mat, floats, stat,
// stat/distuv, optimize), gonum/plot (plot, plotter, plotutil, vg, vg/draw,
// vg/vgimg, vg/vgsvg) and gopherlab's display and tracking packages.
//
// Tables are built on first use and then cached. No code of this package
// runs at start (it has no init function, and the list of tables is data
// laid out by the linker), so the kernel process, which never interprets
// Go, does not pay for the tables, and a session pays only for what it
// imports. A session starts with
//
//	i.Use(symbols.Base())
//
// which holds fmt, log, os, flag and math/bits, the packages their API needs
// (io, io/fs, encoding), and the "." entry of yaegi's MapTypes. This first Use must
// hold "fmt/fmt": that is what makes yaegi redirect fmt, log and os to the
// interpreter's Stdout and Stderr (fixStdlib) and load its generic cmp,
// maps and slices sources. Then, before evaluating code that imports
// packages,
//
//	i.Use(symbols.Exports("gonum.org/v1/gonum/mat", "strings"))
//
// Exports returns the tables of the given import paths and of every package
// whose interfaces their API mentions (fmt's Fprintln takes an io.Writer):
// yaegi can hand an interpreted value to compiled code as an interface only
// when the interface's package is loaded, and crashes otherwise. It never
// returns Base's tables, so Using its result any number of times is safe:
// Using "fmt/fmt" again would redo fixStdlib and recompile the generic
// sources, and Using "os/os" or "log/log" again would undo the redirection.
// Unknown paths are left out; Has reports whether a path has a table. All
// returns every table at once, for tests and tools. The returned tables are
// shared: treat them as read-only.
//
// Base's MapTypes extend yaegi's so that display.Show, display.Render,
// display.RenderText and display.JSON see the methods (HTML, String, ...)
// of values of interpreted types.
//
// # Documentation
//
// The documentation index (docindex.gob.gz, gzip'd gob) is built from the
// packages' sources by internal/gendoc and holds only what the tables
// provide, so completion never offers an identifier a cell cannot use. It
// is embedded and decoded on first use (tens of milliseconds), not at start.
// Packages lists the packages that have tables, which builds none.
//
// # Regenerating
//
// The tables are the generated *.go files: stdlib-fmt.go, ... for the
// standard library, and files named after the import path for the others
// (gonum_org-v1-gonum-mat.go, ...). `yaegi extract` writes them with an init
// function that fills a map; internal/lazify then rewrites that init into a
// function returning the map (table_fmt, ...) and lists them all in
// tables.go. Regenerate the tables and the index
// after changing Go version, a dependency's version, display's or
// tracking's exported API, or the package lists in the go:generate lines
// below (a table that names a symbol a package no longer has stops this
// package from compiling):
//
//	go generate ./kernel/symbols
//
// It takes several minutes: yaegi extract type-checks every package from
// source, and gendoc links every table. It first removes the generated
// tables; yaegi extract reports a package it cannot load on stderr and
// carries on, so check the output and run go test ./kernel/symbols, whose
// tests list the expected tables and fail when the index does not match
// them. If docindex.gob.gz is missing, create it empty first: the package
// embeds it.
//
// # Go versions and generics
//
// The standard library tables are extracted from the Go toolchain that
// runs go generate (tables.go names its version), so they hold API newer
// than the Go 1.22 that yaegi v0.16.1 implements. Left out: packages
// yaegi's own list lacks (iter, unique, weak, os/exec, ...), and the
// functions that return iterators (strings.Lines, bytes.SplitSeq,
// go/ast.Preorder, ...): iterating needs range-over-func, which yaegi
// v0.16.1 cannot run (it panics the host); TestNoIterators catches new
// ones after regenerating, to add to the -exclude list below.
//
// yaegi extract silently skips generic functions and types, and using a
// skipped generic type can crash the host. None of the gonum, gonum/plot or
// display packages listed here declare generic API (gendoc reports any
// exported identifier of a non-standard package missing from its table, so
// one added by a future version shows when regenerating). In the standard
// library, yaegi compiles parts of cmp, maps and slices from source instead;
// slices.Contains, Index, IndexFunc, ContainsFunc, EqualFunc, CompareFunc and
// maps.DeleteFunc work, but most others fail to infer their type arguments,
// maps.Clone panics, and slices.Sort, Max, Min, BinarySearch,
// sync.OnceValue and atomic.Pointer are missing. Cells use the non-generic
// equivalents: sort.Float64s, sort.Ints, sort.Strings, sort.Slice,
// sort.SearchFloat64s, floats.Max, floats.Min, floats.Reverse (no min and
// max builtins either: math.Max, math.Min).
package symbols

import (
	"path"
	"reflect"
	"sort"
	"sync"

	"github.com/traefik/yaegi/interp"
)

//go:generate go run ./internal/lazify -clean
//go:generate go run github.com/traefik/yaegi/cmd/yaegi extract archive/tar archive/zip bufio cmp compress/bzip2 compress/flate compress/gzip compress/lzw compress/zlib container/heap container/list container/ring context crypto crypto/aes crypto/cipher crypto/des crypto/dsa crypto/ecdsa crypto/ecdh crypto/ed25519 crypto/elliptic crypto/hmac crypto/md5 crypto/rand crypto/rc4
//go:generate go run github.com/traefik/yaegi/cmd/yaegi extract crypto/rsa crypto/sha1 crypto/sha256 crypto/sha512 crypto/subtle crypto/tls crypto/x509 crypto/x509/pkix database/sql database/sql/driver debug/buildinfo debug/dwarf debug/elf debug/gosym debug/macho debug/pe debug/plan9obj encoding encoding/ascii85 encoding/asn1 encoding/base32 encoding/base64 encoding/binary encoding/csv encoding/gob encoding/hex
//go:generate go run github.com/traefik/yaegi/cmd/yaegi extract encoding/json encoding/pem encoding/xml errors expvar flag fmt go/build go/build/constraint go/constant go/doc go/doc/comment go/format go/importer go/parser go/printer go/scanner go/token go/types go/version hash hash/adler32 hash/crc32 hash/crc64 hash/fnv hash/maphash html
//go:generate go run github.com/traefik/yaegi/cmd/yaegi extract html/template image image/color image/color/palette image/draw image/gif image/jpeg image/png index/suffixarray io io/fs io/ioutil log log/syslog log/slog maps math math/big math/bits math/cmplx math/rand math/rand/v2 mime mime/multipart mime/quotedprintable net net/http
//go:generate go run github.com/traefik/yaegi/cmd/yaegi extract net/http/cgi net/http/cookiejar net/http/fcgi net/http/httptest net/http/httptrace net/http/httputil net/http/pprof net/mail net/netip net/rpc net/rpc/jsonrpc net/smtp net/textproto net/url os os/signal os/user path path/filepath reflect regexp regexp/syntax runtime runtime/debug runtime/metrics runtime/pprof
//go:generate go run github.com/traefik/yaegi/cmd/yaegi extract runtime/trace slices sort strconv sync sync/atomic testing testing/fstest testing/iotest testing/quick testing/slogtest text/scanner text/tabwriter text/template text/template/parse time unicode unicode/utf16 unicode/utf8
//go:generate go run github.com/traefik/yaegi/cmd/yaegi extract -exclude ^(Lines|SplitSeq|SplitAfterSeq|FieldsSeq|FieldsFuncSeq|Preorder)$ bytes strings go/ast
//go:generate go run github.com/traefik/yaegi/cmd/yaegi extract gonum.org/v1/gonum/mat gonum.org/v1/gonum/floats gonum.org/v1/gonum/stat gonum.org/v1/gonum/stat/distuv gonum.org/v1/gonum/optimize gonum.org/v1/gonum/stat/distmv gonum.org/v1/gonum/stat/combin gonum.org/v1/gonum/stat/sampleuv gonum.org/v1/gonum/interp gonum.org/v1/gonum/mathext gonum.org/v1/gonum/integrate gonum.org/v1/gonum/diff/fd gonum.org/v1/gonum/blas/blas64
//go:generate go run github.com/traefik/yaegi/cmd/yaegi extract gonum.org/v1/plot gonum.org/v1/plot/plotter gonum.org/v1/plot/plotutil gonum.org/v1/plot/vg gonum.org/v1/plot/vg/draw gonum.org/v1/plot/vg/vgimg gonum.org/v1/plot/vg/vgsvg
//go:generate go run github.com/traefik/yaegi/cmd/yaegi extract github.com/gopherlab/gopherlab/display github.com/gopherlab/gopherlab/tracking github.com/gopherlab/gopherlab/experiments
//go:generate go run ./internal/lazify
//go:generate go run ./internal/gendoc -o docindex.gob.gz

// basePaths are the packages whose tables yaegi's fixStdlib rewrites when
// a Use holds "fmt/fmt": they must be in the first Use, and only there.
var basePaths = []string{"fmt", "log", "os", "flag", "math/bits"}

// table is one package's symbols, by name.
type table = map[string]reflect.Value

// entry is a table not built yet. The generated ones are listed in
// tables.go, written by internal/lazify.
type entry struct {
	path  string // "math/rand/v2"
	key   string // "math/rand/v2/rand"
	build func() table
}

// reg holds the tables registered at run time and everything built on first
// use. Nothing in it is filled at start.
var reg struct {
	mu    sync.Mutex
	extra map[string]entry    // by import path: see Register
	built map[string]table    // by import path
	deps  map[string][]string // by import path: see depsLocked
	base  []string            // basePaths and their deps, sorted
}

// Register adds (or replaces) the table of a compiled package, under a key
// of yaegi's "import/path/name" form; build makes the table when a session
// first needs it and is called at most once. Call Register from an init
// function or before starting any session: a session started earlier may
// miss the table.
func Register(key string, build func() map[string]reflect.Value) {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	p := path.Dir(key)
	if reg.extra == nil {
		reg.extra = map[string]entry{}
	}
	reg.extra[p] = entry{path: p, key: key, build: build}
	delete(reg.built, p)
	delete(reg.deps, p)
	reg.base = nil
}

// lookupLocked finds the table of the package at p.
func lookupLocked(p string) (entry, bool) {
	if e, ok := reg.extra[p]; ok {
		return e, true
	}
	i := sort.Search(len(generated), func(i int) bool { return generated[i].path >= p })
	if i < len(generated) && generated[i].path == p {
		return generated[i], true
	}
	return entry{}, false
}

// Has reports whether cells can import the package at path (whether it has
// a table).
func Has(path string) bool {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	_, ok := lookupLocked(path)
	return ok
}

// Base returns what an interpreter needs first, in its first Use: the
// tables of fmt, log, os, flag and math/bits, of the packages their API
// needs, and the "." entry holding MapTypes.
func Base() interp.Exports {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	ex := interp.Exports{}
	for _, p := range baseLocked() {
		addLocked(ex, p)
	}
	ex["."] = table{"MapTypes": reflect.ValueOf(mapTypes())}
	return ex
}

// Exports returns the tables of the packages at paths, and those of the
// packages whose interfaces their API mentions, leaving out the tables
// Base returns and paths that have no table. Use it after Base.
func Exports(paths ...string) interp.Exports {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	skip := map[string]bool{}
	for _, p := range baseLocked() {
		skip[p] = true
	}
	ex := interp.Exports{}
	for _, p := range paths {
		if _, ok := lookupLocked(p); !ok || skip[p] {
			continue
		}
		addLocked(ex, p)
		for _, d := range depsLocked(p) {
			if !skip[d] {
				addLocked(ex, d)
			}
		}
	}
	return ex
}

// All returns every table and the "." entry, for tests and tools that want
// everything in one Use. It builds every table: a few tens of megabytes.
func All() interp.Exports {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	ex := interp.Exports{}
	for _, p := range registeredLocked() {
		addLocked(ex, p)
	}
	ex["."] = table{"MapTypes": reflect.ValueOf(mapTypes())}
	return ex
}

// registeredPaths returns the import path of every table, sorted, without
// building any.
func registeredPaths() []string {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	return registeredLocked()
}

func registeredLocked() []string {
	paths := make([]string, 0, len(generated)+len(reg.extra))
	for _, e := range generated {
		if _, ok := reg.extra[e.path]; !ok {
			paths = append(paths, e.path)
		}
	}
	for p := range reg.extra {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths
}

func addLocked(ex interp.Exports, p string) {
	if e, ok := lookupLocked(p); ok {
		ex[e.key] = tableLocked(p)
	}
}

// tableLocked returns the table of p, building it on first use; nil if p
// has none.
func tableLocked(p string) table {
	if t, ok := reg.built[p]; ok {
		return t
	}
	e, ok := lookupLocked(p)
	if !ok {
		return nil
	}
	t := e.build()
	if reg.built == nil {
		reg.built = map[string]table{}
	}
	reg.built[p] = t
	return t
}

// baseLocked returns basePaths and their dependencies.
func baseLocked() []string {
	if reg.base != nil {
		return reg.base
	}
	set := map[string]bool{}
	for _, p := range basePaths {
		if _, ok := lookupLocked(p); !ok {
			continue
		}
		set[p] = true
		for _, d := range depsLocked(p) {
			set[d] = true
		}
	}
	base := make([]string, 0, len(set))
	for p := range set {
		base = append(base, p)
	}
	sort.Strings(base)
	reg.base = base
	return base
}
