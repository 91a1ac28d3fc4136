package jobrt

import (
	"encoding/json"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStartChecksData(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data.csv")
	other := filepath.Join(dir, "other.csv")
	os.WriteFile(data, []byte("a,b\n1,2\n"), 0o644)
	os.WriteFile(other, []byte("a,b\n3,4\n"), 0o644)
	sum, size, err := FileSHA256(data)
	if err != nil || size != 8 || len(sum) != 64 {
		t.Fatalf("FileSHA256: %v %d %q", err, size, sum)
	}
	m := Manifest{Format: Format, Name: "t", WorkDir: dir,
		Params: []ManifestParam{{Name: "path", Type: "string", Default: `"data.csv"`}},
		Data:   []DataFile{{Path: "data.csv", Param: "path", SHA256: sum, Size: size}}}
	b, _ := json.Marshal(m)
	var last *Job
	start := func(args ...string) error {
		t.Helper()
		j, err := New(b)
		if err != nil {
			t.Fatal(err)
		}
		j.out = io.Discard
		fs := flag.NewFlagSet("job", flag.ContinueOnError)
		j.Flags(fs)
		path := "data.csv"
		fs.StringVar(&path, "path", path, "")
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		j.Quiet = true
		last = j
		return j.Start(fs)
	}
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	if err := start(); err != nil || last.Differences() != nil {
		t.Fatalf("unchanged data: %v, differences %v", err, last.Differences())
	}
	// The same file named again is no other input.
	if err := start("-path", "data.csv"); err != nil || last.Differences() != nil {
		t.Errorf("-path data.csv: %v, differences %v", err, last.Differences())
	}
	if err := start("-workers", "0"); err == nil || !strings.Contains(err.Error(), "-workers 0: want at least 1") {
		t.Errorf("-workers 0: %v", err)
	}
	os.WriteFile(data, []byte("a,b\n1,3\n"), 0o644)
	if err := start(); err == nil || !strings.Contains(err.Error(), "data changed since the export") || !strings.Contains(err.Error(), "data.csv: sha256 ") {
		t.Errorf("changed data: %v", err)
	}
	if err := start("-allow-changed-data"); err != nil || len(last.Differences()) != 1 || !strings.Contains(last.Differences()[0], "data data.csv (changed since the export)") {
		t.Errorf("-allow-changed-data: %v, differences %v", err, last.Differences())
	}
	// Another file given by the parameter's flag is the user's choice,
	// and another input.
	if err := start("-path", other); err != nil || len(last.Differences()) != 2 {
		t.Errorf("-path other: %v, differences %v", err, last.Differences())
	}
	os.Remove(data)
	if err := start(); err == nil || !strings.Contains(err.Error(), "data file") {
		t.Errorf("missing data: %v", err)
	}
	if err := start("-dir", filepath.Join(dir, "nowhere")); err == nil || !strings.Contains(err.Error(), "-dir") {
		t.Errorf("bad -dir: %v", err)
	}
	if _, err := New([]byte(`{"format": "other"}`)); err == nil {
		t.Error("a manifest of another format is accepted")
	}
}

// A tracked run's metrics go through the manifest's JSON whole: NaN and
// infinities (an undefined AUC) as strings, numbers to the bit.
func TestMetricsJSON(t *testing.T) {
	in := Metrics{"acc": 0.1 + 0.2, "auc": math.NaN(), "up": math.Inf(1), "down": math.Inf(-1), "zero": 0}
	b, err := json.Marshal(TrackedRun{ID: "r", Experiment: "e", Metrics: in})
	if err != nil {
		t.Fatal(err)
	}
	var out TrackedRun
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	for k, v := range in {
		if got, ok := out.Metrics[k]; !ok || math.Float64bits(got) != math.Float64bits(v) && !(math.IsNaN(got) && math.IsNaN(v)) {
			t.Errorf("%s: %v after a round trip, want %v (%s)", k, got, v, b)
		}
	}
	for _, bad := range []string{`{"metrics":{"a":"fast"}}`, `{"metrics":{"a":"1.5"}}`, `{"metrics":{"a":true}}`} {
		if err := json.Unmarshal([]byte(bad), &out); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
