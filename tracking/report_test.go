package tracking

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// reportFixture is an experiment with histories, params, a dataset, code
// and a failed run.
func reportFixture(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "report.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for i, spec := range []struct {
		name, model string
		depth       int
		final       float64
		fail        bool
	}{
		{"forest-a", "forest", 3, 0.91, false},
		{"forest-b", "forest", 6, 0.96, false},
		{"knn", "knn", 1, 0.88, false},
		{"broken <script>", "knn", 2, 0.5, true},
	} {
		r, err := s.StartRun("iris", &RunOptions{Name: spec.name, Source: "acc := fit(\"" + spec.model + "\") // <b>not bold</b>", Notebook: "iris.ipynb", ExecutionCount: i + 1})
		if err != nil {
			t.Fatal(err)
		}
		r.LogParams(map[string]interface{}{"model": spec.model, "depth": spec.depth})
		for step := 0; step <= 10; step++ {
			acc := spec.final * float64(step+5) / 15
			r.LogMetrics(map[string]float64{"accuracy": acc, "loss": 1 - acc}, step)
		}
		r.LogDataset(RoleTrain, "iris", []string{"x", "y"}, [][]float64{{1, 2}, {3, 4}})
		if spec.fail {
			r.Fail(errFixture)
		} else {
			r.Finish()
		}
	}
	return s
}

var errFixture = &os.PathError{Op: "open", Path: "weights.bin", Err: os.ErrNotExist}

func TestWriteReport(t *testing.T) {
	s := reportFixture(t)
	tests := []struct {
		name    string
		opts    ReportOptions
		want    []string
		notWant []string
		svgs    int
		wantErr string
	}{
		{name: "default", opts: ReportOptions{Experiment: "iris"},
			want: []string{"Experiment report: iris", "This experiment has 4 runs", "3 finished, 1 failed",
				"ranked by their final accuracy (higher is better)", "The best run is <strong>forest-b</strong>",
				"0.96", "Final accuracy of the 4 best runs", "accuracy during training", "loss during training",
				"accuracy against depth", "Average accuracy for each model",
				"Runs that did not finish", "broken &lt;script&gt;", "weights.bin",
				"used exactly the same train data", "iris.ipynb, cell [2]", "// &lt;b&gt;not bold&lt;/b&gt;", "Go version"},
			notWant: []string{"<script", "<b>not"}, svgs: 5},
		{name: "minimize", opts: ReportOptions{Experiment: "iris", Metric: "loss"},
			want: []string{"ranked by their final loss (lower is better)", "The best run is <strong>forest-b</strong>"}},
		{name: "goal override", opts: ReportOptions{Experiment: "iris", Metric: "accuracy", Goal: "min"},
			want: []string{"(lower is better)", "The best run is <strong>broken &lt;script&gt;</strong>"}},
		{name: "filter and top", opts: ReportOptions{Experiment: "iris", Filter: `params.model = "forest"`, Top: 1, Title: "Forests"},
			want:    []string{"<h1>Forests</h1>", "This experiment has 2 runs", "Only runs matching the filter", "Final accuracy of the best run"},
			notWant: []string{">knn<"}},
		{name: "unknown experiment", opts: ReportOptions{Experiment: "nope"}, wantErr: `experiment "nope" has no runs (experiments: iris)`},
		{name: "bad goal", opts: ReportOptions{Experiment: "iris", Goal: "up"}, wantErr: "want max or min"},
		{name: "bad filter", opts: ReportOptions{Experiment: "iris", Filter: "metrics.x >"}, wantErr: "expected a value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			err := s.WriteReport(&b, tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			out := b.String()
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("report lacks %q", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("report has %q", w)
				}
			}
			checkSelfContained(t, out)
			if tt.svgs > 0 {
				if n := strings.Count(out, "<svg"); n != tt.svgs {
					t.Errorf("%d charts, want %d", n, tt.svgs)
				}
			}
		})
	}
}

// checkSelfContained fails if the page would load anything: no scripts,
// links, external images, CSS imports or URLs besides XML namespaces; and
// every inline SVG is well-formed XML.
func checkSelfContained(t *testing.T, page string) {
	t.Helper()
	for _, bad := range []string{"<script", "<link", "<img", "<iframe", "@import", "url(", "src=", "href="} {
		if strings.Contains(page, bad) {
			t.Errorf("report contains %q", bad)
		}
	}
	urls := regexp.MustCompile(`https?://[^"'\s<>]+`).FindAllString(page, -1)
	for _, u := range urls {
		if u != "http://www.w3.org/2000/svg" && u != "http://www.w3.org/1999/xlink" {
			t.Errorf("report refers to %s", u)
		}
	}
	for _, svg := range regexp.MustCompile(`(?s)<svg.*?</svg>`).FindAllString(page, -1) {
		d := xml.NewDecoder(strings.NewReader(svg))
		for {
			_, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("SVG is not well-formed: %v", err)
			}
		}
	}
}

func TestReportCommand(t *testing.T) {
	s := reportFixture(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "r.html")
	var stdout bytes.Buffer
	if err := ReportCommand([]string{"iris", "-db", s.Path(), "-o", out}, &stdout); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stdout.String(), "wrote "+out) {
		t.Errorf("stdout %q", stdout.String())
	}
	page, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(page), "forest-b") {
		t.Fatalf("report file: %v", err)
	}
	stdout.Reset()
	if err := ReportCommand([]string{"-db", s.Path(), "-o", "-", "-metric", "loss", "iris"}, &stdout); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stdout.String(), "<!DOCTYPE html>") {
		t.Errorf("-o - wrote %.40q", stdout.String())
	}
	for _, tt := range []struct {
		args    []string
		wantErr string
	}{
		{nil, "want one experiment name"},
		{[]string{"a", "b", "-db", s.Path()}, "want one experiment name"},
		{[]string{"iris", "-db", filepath.Join(dir, "missing.db")}, "no tracking database"},
		{[]string{"iris", "-db", s.Path(), "-filter", "metrics.a >"}, "^"},
		{[]string{"iris", "-bogus"}, "flag provided but not defined"},
	} {
		if err := ReportCommand(tt.args, io.Discard); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%v: error %v, want %q", tt.args, err, tt.wantErr)
		}
	}
}
