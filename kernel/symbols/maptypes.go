package symbols

// The MapTypes and the composed wrappers below follow yaegi's stdlib
// package (maptypes.go and wrapper-composed.go, Copyright 2019 Containous
// SAS, 2020 Traefik Labs SAS, Apache License 2.0), which this package
// replaces so that its tables are not built at start.

import (
	"bufio"
	"encoding"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"reflect"
	"sync"

	"github.com/gopherlab/gopherlab/display"
)

// mapTypes returns yaegi's table of compiled functions that take an `any`
// and look for interfaces in it. A compiled function cannot see the methods
// of an interpreted type; for the functions listed here, yaegi passes such a
// value wrapped in the first interface of the list that it implements, so
// that fmt.Println(v) finds v's String method and display.Show(v) its HTML
// method. Keys that are wrapper types (*_io_Reader) list richer wrappers to
// try first, so that io.Copy still finds an interpreted reader's WriteTo.
//
// It is built on first use, like the tables: a package-level value would
// be built at start.
func mapTypes() map[reflect.Value][]reflect.Type {
	mapTypesOnce.Do(buildMapTypes)
	return mapTypesTable
}

var (
	mapTypesOnce  sync.Once
	mapTypesTable map[reflect.Value][]reflect.Type
)

func buildMapTypes() {
	mt := map[reflect.Value][]reflect.Type{}

	printing := []reflect.Type{reflect.TypeFor[fmt.Formatter](), reflect.TypeFor[fmt.Stringer]()}
	for _, f := range []any{
		fmt.Errorf, fmt.Fprint, fmt.Fprintf, fmt.Fprintln, fmt.Print, fmt.Printf, fmt.Println,
		fmt.Sprint, fmt.Sprintf, fmt.Sprintln,
		log.Fatal, log.Fatalf, log.Fatalln, log.Panic, log.Panicf, log.Panicln,
	} {
		mt[reflect.ValueOf(f)] = printing
	}
	scanning := []reflect.Type{reflect.TypeFor[fmt.Scanner]()}
	for _, f := range []any{fmt.Scan, fmt.Scanf, fmt.Scanln} {
		mt[reflect.ValueOf(f)] = scanning
	}
	mt[reflect.ValueOf(json.Marshal)] = []reflect.Type{reflect.TypeFor[json.Marshaler](), reflect.TypeFor[encoding.TextMarshaler]()}
	mt[reflect.ValueOf(json.Unmarshal)] = []reflect.Type{reflect.TypeFor[json.Unmarshaler](), reflect.TypeFor[encoding.TextUnmarshaler]()}
	mt[reflect.ValueOf(xml.Marshal)] = []reflect.Type{reflect.TypeFor[xml.Marshaler](), reflect.TypeFor[encoding.TextMarshaler]()}
	mt[reflect.ValueOf(xml.Unmarshal)] = []reflect.Type{reflect.TypeFor[xml.Unmarshaler](), reflect.TypeFor[encoding.TextUnmarshaler]()}

	// Composed interfaces: each list is sorted by number of methods, most
	// first.
	mt[reflect.ValueOf((*_net_http_ResponseWriter)(nil))] = []reflect.Type{reflect.TypeFor[_netHTTPResponseWriterHijacker]()}
	mt[reflect.ValueOf((*_io_Reader)(nil))] = []reflect.Type{reflect.TypeFor[_ioReaderWriteTo]()}
	mt[reflect.ValueOf((*_io_Writer)(nil))] = []reflect.Type{reflect.TypeFor[_ioWriterReadFrom]()}

	// display: one wrapper only, so a richer form first, Renderer (every
	// form) first of all.
	rich := []reflect.Type{
		reflect.TypeFor[display.Renderer](),
		reflect.TypeFor[display.HTMLer](),
		reflect.TypeFor[display.SVGer](),
		reflect.TypeFor[display.PNGer](),
		reflect.TypeFor[display.JPEGer](),
		reflect.TypeFor[display.Markdowner](),
		reflect.TypeFor[display.Latexer](),
		reflect.TypeFor[display.JSONer](),
		reflect.TypeFor[fmt.Stringer](),
	}
	mt[reflect.ValueOf(display.Show)] = rich
	mt[reflect.ValueOf(display.Render)] = rich
	// Text and JSON forms look for what fmt and encoding/json look for.
	mt[reflect.ValueOf(display.RenderText)] = mt[reflect.ValueOf(fmt.Sprint)]
	mt[reflect.ValueOf(display.JSON)] = mt[reflect.ValueOf(json.Marshal)]
	mapTypesTable = mt
}

// In net/http, a ResponseWriter may also implement a Hijacker.
type _netHTTPResponseWriterHijacker struct {
	IValue       any
	WHeader      func() http.Header
	WWrite       func(a0 []byte) (int, error)
	WWriteHeader func(statusCode int)

	WHijack func() (net.Conn, *bufio.ReadWriter, error)
}

func (w _netHTTPResponseWriterHijacker) Header() http.Header          { return w.WHeader() }
func (w _netHTTPResponseWriterHijacker) Write(a0 []byte) (int, error) { return w.WWrite(a0) }
func (w _netHTTPResponseWriterHijacker) WriteHeader(statusCode int)   { w.WWriteHeader(statusCode) }
func (w _netHTTPResponseWriterHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return w.WHijack()
}

// In io, a Reader may implement WriteTo, used by io.Copy.
type _ioReaderWriteTo struct {
	IValue   any
	WRead    func(p []byte) (n int, err error)
	WWriteTo func(w io.Writer) (n int64, err error)
}

func (w _ioReaderWriteTo) Read(p []byte) (n int, err error)          { return w.WRead(p) }
func (w _ioReaderWriteTo) WriteTo(wr io.Writer) (n int64, err error) { return w.WWriteTo(wr) }

// In io, a Writer may implement ReadFrom, used by io.Copy.
type _ioWriterReadFrom struct {
	IValue    any
	WWrite    func(p []byte) (n int, err error)
	WReadFrom func(r io.Reader) (n int64, err error)
}

func (w _ioWriterReadFrom) Write(p []byte) (n int, err error)         { return w.WWrite(p) }
func (w _ioWriterReadFrom) ReadFrom(r io.Reader) (n int64, err error) { return w.WReadFrom(r) }
