package tracking

import (
	"math"
	"strings"
	"testing"
)

func TestCompare(t *testing.T) {
	s := fixture(t)
	ids, err := s.SearchRunIDs(SearchQuery{Experiment: "iris", OrderBy: "name"})
	if err != nil {
		t.Fatal(err)
	}
	// forest-1, forest-2, knn-1, svm-1; by prefix.
	prefixes := []string{ids[0][:8], ids[1][:10], ids[2]}
	c, err := s.Compare(prefixes)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Params, ","); got != "depth,k,lr,model" {
		t.Errorf("params %s", got)
	}
	if got := strings.Join(c.Metrics, ","); got != "accuracy,loss" {
		t.Errorf("metrics %s", got)
	}
	tests := []struct {
		param   string
		differs bool
	}{
		{"model", true}, {"depth", true}, {"k", true}, {"lr", true},
	}
	for _, tt := range tests {
		if c.Differs(tt.param) != tt.differs {
			t.Errorf("Differs(%s) = %v", tt.param, !tt.differs)
		}
	}
	same, _ := s.Compare(prefixes[:1])
	if same.Differs("model") {
		t.Error("one run cannot differ from itself")
	}

	text := c.String()
	for _, want := range []string{
		"forest-1  forest-2  knn-1", // header
		"* params.model", "metrics.accuracy", "0.95", "0.88", "0.92",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("String() lacks %q:\n%s", want, text)
		}
	}
	// The row of metrics.loss has a dash for runs without it.
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, "metrics.loss") && strings.Count(line, "-") != 2 {
			t.Errorf("loss row %q", line)
		}
	}
	h := c.HTML()
	if !strings.HasPrefix(h, "<table") || strings.Count(h, "<tr") != 1+len(c.Rows())-1 || !strings.Contains(h, "background:#fff3c4") {
		t.Errorf("HTML():\n%s", h)
	}

	// Text is escaped in HTML.
	r, _ := s.StartRun("iris", &RunOptions{Name: "<b>bold</b>"})
	r.Finish()
	c2, _ := s.Compare([]string{r.ID()})
	if strings.Contains(c2.HTML(), "<b>") {
		t.Error("HTML not escaped")
	}
	if _, err := s.Compare(nil); err == nil {
		t.Error("empty compare accepted")
	}
	if _, err := s.Compare([]string{"zzzz"}); err == nil {
		t.Error("unknown run accepted")
	}
}

func TestFormatMetric(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{0.95, "0.95"}, {1.0 / 3, "0.333333"}, {123456789, "1.23457e+08"}, {math.NaN(), "NaN"}, {math.Inf(-1), "-Inf"},
	}
	for _, tt := range tests {
		if got := FormatMetric(tt.v); got != tt.want {
			t.Errorf("FormatMetric(%v) = %s, want %s", tt.v, got, tt.want)
		}
	}
}
