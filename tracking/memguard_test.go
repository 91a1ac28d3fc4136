package tracking

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"unsafe"

	"github.com/gopherlab/gopherlab/experiments"
	"gonum.org/v1/gonum/mat"
)

// pagesWatchable reports whether this kernel and process can watch pages
// for writes (userfaultfd's asynchronous write protection, Linux 6.7).
func pagesWatchable() bool {
	buf := make([]float64, 64<<10)
	a := uintptr(unsafe.Pointer(&buf[0]))
	w := watchPages((a+guardPage-1)&^(guardPage-1), (a+uintptr(8*len(buf)))&^(guardPage-1))
	if w == nil {
		return false
	}
	w.release()
	return true
}

// guardData is a matrix and labels large enough for the writer to guard
// (a matrix over minWatched, labels compared).
func guardData() (*mat.Dense, []float64) {
	X := mat.NewDense(2000, 8, nil)
	y := make([]float64, 2000)
	for i := range 2000 {
		y[i] = float64(i % 2)
		for j := range 8 {
			X.Set(i, j, y[i]*3+math.Sin(float64(i*8+j)))
		}
	}
	return X, y
}

// The writer guards the memory of the data it logged; a fit on the same
// memory, unwritten, shares the logged table without reading the data;
// any write (to the matrix or the labels, from the program, another
// goroutine or the kernel) makes the next fit read and log the data as
// it is then; and what each run stored is exactly the data it was fitted
// on.
func TestAutologGuard(t *testing.T) {
	if !guardsData {
		t.Skip("under the race detector the data is compared every time")
	}
	if !pagesWatchable() {
		t.Skip("this kernel or process cannot watch pages for writes: the data is compared every time")
	}
	path, al, warn := autologTo(t)
	X, y := guardData()
	guarded := func() int {
		al.mu.Lock()
		defer al.mu.Unlock()
		return al.guarded
	}
	s := reopen(t, path)
	n := 0
	// fit fits, checks that the run stored the data as it was, and
	// reports whether a guard vouched for it.
	fit := func(what string) bool {
		t.Helper()
		want := make([][]float64, 2000)
		for i := range want {
			want[i] = append(slices.Clone(X.RawRowView(i)), y[i])
		}
		before := guarded()
		if err := (&experiments.GaussianNB{}).Fit(X, y); err != nil {
			t.Fatal(err)
		}
		al.Flush()
		n++
		runs := topRuns(t, s)
		if len(runs) != n {
			t.Fatalf("%s: %d runs, want %d", what, len(runs), n)
		}
		in, err := s.Inputs(runs[n-1].ID)
		if err != nil || len(in) != 1 {
			t.Fatalf("%s: inputs %v, %v", what, in, err)
		}
		d, err := s.Dataset(in[0].SHA256)
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.Float64s()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("%s: the run stored other data than it was fitted on", what)
		}
		return guarded() > before
	}
	if fit("first fit") {
		t.Fatal("a guard vouched for data never logged")
	}
	if !fit("second fit") {
		t.Fatal("a fit on unwritten memory read the data again")
	}
	raw := X.RawMatrix().Data
	for _, tc := range []struct {
		name  string
		write func()
		same  bool // the data ends as it was
	}{
		{"a value in the middle", func() { X.Set(1000, 3, 42) }, false},
		{"the first value", func() { X.Set(0, 0, -1) }, false},
		{"the last value", func() { X.Set(1999, 7, 7) }, false},
		{"a label", func() { y[1234] = 1 - y[1234] }, false},
		{"another goroutine", func() {
			var wg sync.WaitGroup
			wg.Go(func() { X.Set(500, 1, 5) })
			wg.Wait()
		}, false},
		{"the kernel (a read from a file)", func() {
			f := filepath.Join(t.TempDir(), "eight")
			if err := os.WriteFile(f, []byte{1, 2, 3, 4, 5, 6, 7, 8}, 0o644); err != nil {
				t.Fatal(err)
			}
			fd, err := syscall.Open(f, syscall.O_RDONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer syscall.Close(fd)
			b := unsafe.Slice((*byte)(unsafe.Pointer(&raw[9000])), 8)
			if k, err := syscall.Read(fd, b); k != 8 || err != nil {
				t.Fatalf("read %d, %v", k, err)
			}
		}, false},
		{"a value written back", func() {
			v := X.At(1500, 2)
			X.Set(1500, 2, v+1)
			X.Set(1500, 2, v)
		}, true},
	} {
		tc.write()
		if fit(tc.name) {
			t.Errorf("%s: a guard vouched for written memory", tc.name)
		}
		if !fit(tc.name + ", then unwritten") {
			t.Errorf("%s: the next fit on unwritten memory read the data again", tc.name)
		}
	}

	// A write after the fit, before the writer guards the data (the cell
	// goes on): the writer finds the memory no longer holds the run's
	// data and does not guard it.
	SetCellRunning(true)
	if err := (&experiments.GaussianNB{}).Fit(X, y); err != nil {
		t.Fatal(err)
	}
	n++
	X.Set(10, 0, 99)
	SetCellRunning(false)
	al.Flush()
	if fit("written after a fit, before the writer ran") {
		t.Error("the writer guarded memory that no longer held the run's data")
	}

	// Data in another matrix: its memory is another object.
	X2 := mat.DenseCopyOf(X)
	X = X2
	if fit("a copy of the matrix") {
		t.Error("a guard vouched for another matrix")
	}
	if err := al.Err(); err != nil || warn.Len() > 0 {
		t.Errorf("errors: %v %s", err, warn)
	}
}

// A guard follows its memory's object: once the matrix is collected,
// memory at the same address is another matrix.
func TestAutologGuardCollected(t *testing.T) {
	if !guardsData || !pagesWatchable() {
		t.Skip("no guards here")
	}
	_, al, _ := autologTo(t)
	for i := range 6 {
		X, y := guardData()
		X.Set(0, 0, float64(i))
		if err := (&experiments.GaussianNB{}).Fit(X, y); err != nil {
			t.Fatal(err)
		}
		al.Flush()
		al.mu.Lock()
		g := al.seen[0].guard
		al.mu.Unlock()
		if g == nil {
			t.Fatal("the writer guarded no data")
		}
		X, y = nil, nil
		runtime.GC()
		runtime.GC()
		if g.regions[0].alive.Value() != nil {
			t.Errorf("fit %d: the guard still follows a collected matrix", i)
		}
	}
}

// Memory that Go did not allocate has no object a weak pointer can
// follow: it is not guarded (weak.Make would abort the process).
func TestGoMemory(t *testing.T) {
	m, err := syscall.Mmap(-1, 0, 1<<16, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skip(err)
	}
	defer syscall.Munmap(m)
	heap := make([]byte, 1<<16)
	if goMemory(&m[0]) || !goMemory(&heap[0]) || !goMemory(&heap[100]) || !goMemory(&globalBytes[3]) {
		t.Errorf("goMemory: mapped %v, heap %v, interior %v, package variable %v", goMemory(&m[0]), goMemory(&heap[0]), goMemory(&heap[100]), goMemory(&globalBytes[3]))
	}
	if g := guardMemory(&experiments.TrackEvent{}, [][]byte{m}, nil); g != nil {
		g.release()
		t.Error("mapped memory was guarded")
	}
}

var globalBytes [64]byte

// A dataset's columns, one allocation (ReadCSV, Copy), are guarded in
// one range: a pipeline fitted on it again shares the logged table, and
// a write to any column (through Floats, or Impute) is seen.
func TestAutologGuardDataset(t *testing.T) {
	if !guardsData || !pagesWatchable() {
		t.Skip("no guards here")
	}
	path, al, warn := autologTo(t)
	var csv strings.Builder
	csv.WriteString("a,b,c,d,e,f,g,h,y\n")
	for i := range 3000 {
		for j := range 8 {
			fmt.Fprintf(&csv, "%g,", math.Sin(float64(i*8+j)))
		}
		fmt.Fprintf(&csv, "%d\n", i%2)
	}
	f := filepath.Join(t.TempDir(), "d.csv")
	if err := os.WriteFile(f, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ds, err := experiments.ReadCSV(f)
	if err != nil {
		t.Fatal(err)
	}
	s := reopen(t, path)
	guarded := func() int {
		al.mu.Lock()
		defer al.mu.Unlock()
		return al.guarded
	}
	// fit reports the SHA-256 of the data the run logged and whether a
	// guard vouched for it.
	fit := func(d *experiments.Dataset) (string, bool) {
		t.Helper()
		before := guarded()
		if err := experiments.NewPipeline(&experiments.StandardScaler{}, &experiments.GaussianNB{}).FitDataset(d, "y"); err != nil {
			t.Fatal(err)
		}
		al.Flush()
		runs := topRuns(t, s)
		in, err := s.Inputs(runs[len(runs)-1].ID)
		if err != nil || len(in) != 1 {
			t.Fatalf("inputs %v, %v", in, err)
		}
		return in[0].SHA256, guarded() > before
	}
	first, _ := fit(ds)
	if again, g := fit(ds); again != first || !g {
		t.Fatalf("a fit on the same unwritten dataset: same data %v, guarded %v", again == first, g)
	}
	b, err := ds.Floats("c")
	if err != nil {
		t.Fatal(err)
	}
	b[2999] = 1e6
	written, g := fit(ds)
	if truth, _ := fit(ds.Copy()); written != truth || written == first || g {
		t.Errorf("after a write through Floats: logged the data as written %v, guarded %v", written == truth, g)
	}
	b[10] = math.NaN()
	if err := ds.Impute("median"); err != nil {
		t.Fatal(err)
	}
	imputed, g := fit(ds)
	if truth, _ := fit(ds.Copy()); imputed != truth || imputed == written || g {
		t.Errorf("after Impute: logged the data as imputed %v, guarded %v", imputed == truth, g)
	}
	if err := al.Err(); err != nil || warn.Len() > 0 {
		t.Errorf("errors: %v %s", err, warn)
	}
}

// A write beside a small region, on one of its pages, makes the region
// compared with the bytes it must hold instead of read again in full:
// the fit still shares the logged table.
func TestAutologGuardNeighbour(t *testing.T) {
	if !guardsData || !pagesWatchable() {
		t.Skip("no guards here")
	}
	_, al, _ := autologTo(t)
	X, _ := guardData()
	buf := make([]float64, 4000)
	y := buf[1000:3000] // its first page holds buf[512:1024] too
	for i := range y {
		y[i] = float64(i % 2)
	}
	guarded := func() int {
		al.mu.Lock()
		defer al.mu.Unlock()
		return al.guarded
	}
	fit := func() {
		t.Helper()
		if err := (&experiments.GaussianNB{}).Fit(X, y); err != nil {
			t.Fatal(err)
		}
		al.Flush()
	}
	fit()
	fit()
	before := guarded()
	buf[999] = 5
	fit()
	if guarded() != before+1 {
		t.Error("a write beside the labels, on their page, made the fit read the data again")
	}
	y[0] = 1
	fit()
	if guarded() != before+1 {
		t.Error("a guard vouched for written labels")
	}
}

// The cell reuses its matrix for other data (Reset, ReuseAs) after a fit,
// before the writer runs: the writer reads the memory the fit read,
// through headers of its own, and the run is written whole.
func TestAutologGuardMatrixReused(t *testing.T) {
	path, al, warn := autologTo(t)
	X, y := guardData()
	want := mat.DenseCopyOf(X)
	SetCellRunning(true)
	if err := (&experiments.GaussianNB{}).Fit(X, y); err != nil {
		t.Fatal(err)
	}
	X.Reset()
	X.ReuseAs(20000, 2)
	SetCellRunning(false)
	al.Flush()
	s := reopen(t, path)
	runs := topRuns(t, s)
	if len(runs) != 1 || runs[0].Status != StatusFinished || warn.Len() > 0 {
		t.Fatalf("runs %+v, warnings %q", runs, warn)
	}
	in, err := s.Inputs(runs[0].ID)
	if err != nil || len(in) != 1 {
		t.Fatalf("inputs %v, %v", in, err)
	}
	d, err := s.Dataset(in[0].SHA256)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := d.Float64s()
	if len(got) != 2000 || got[1999][7] != want.At(1999, 7) {
		t.Errorf("stored data: %d rows", len(got))
	}
}

// Data over MaxDatasetCells is not stored, even when a guard vouches that
// it is data stored before.
func TestAutologGuardLimit(t *testing.T) {
	path, al, _ := autologTo(t)
	X, y := guardData()
	for range 2 {
		if err := (&experiments.GaussianNB{}).Fit(X, y); err != nil {
			t.Fatal(err)
		}
		al.Flush()
	}
	al.mu.Lock()
	al.MaxDatasetCells = 100
	al.mu.Unlock()
	if err := (&experiments.GaussianNB{}).Fit(X, y); err != nil {
		t.Fatal(err)
	}
	al.Flush()
	s := reopen(t, path)
	runs := topRuns(t, s)
	last := runs[len(runs)-1]
	if in, _ := s.Inputs(last.ID); len(in) != 0 || last.Tags["autolog.dataset"] == "" {
		t.Errorf("over the limit: %d inputs, tag %q", len(in), last.Tags["autolog.dataset"])
	}
}

// A scan the kernel refuses reports the watch written, and does not
// panic.
func TestCleanWatchesError(t *testing.T) {
	if !pagesWatchable() {
		t.Skip("no watches here")
	}
	w := &pageWatch{start: 1, end: 4097, armed: true} // unaligned: EINVAL
	clean := []bool{true}
	cleanWatches([]*pageWatch{w}, clean)
	if clean[0] {
		t.Error("a failed scan reported the watch clean")
	}
}
