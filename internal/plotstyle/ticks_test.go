package plotstyle

import (
	"math"
	"slices"
	"strconv"
	"testing"

	"gonum.org/v1/plot"
)

func majorLabels(ts []plot.Tick) []string {
	var out []string
	for _, t := range ts {
		if !t.IsMinor() {
			out = append(out, t.Label)
		}
	}
	return out
}

func TestTicks(t *testing.T) {
	tests := []struct {
		min, max float64
		want     []string
	}{
		{0.9, 1.045, []string{"0.92", "0.96", "1.00", "1.04"}}, // DefaultTicks: 0.92 0.96 1 1
		{0.958, 1.0128, []string{"0.96", "0.98", "1.00"}},
		{0, 1.02, []string{"0.0", "0.5", "1.0"}},
		{0.875, 0.99, []string{"0.875", "0.925", "0.975"}},
		{1, 30, []string{"4", "16", "28"}},
		{-1, 1, []string{"-1", "0", "1"}},
		{-0.3, 0.3, []string{"-0.25", "0.00", "0.25"}},
		{0.0001, 0.0006, []string{"0.0001", "0.0003", "0.0005"}},
		{2e6, 9e6, []string{"3e+06", "6e+06", "9e+06"}},
		{1e-9, 5e-9, []string{"1e-09", "3e-09", "5e-09"}},
	}
	for _, tt := range tests {
		got := majorLabels(Ticks{}.Ticks(tt.min, tt.max))
		if !slices.Equal(got, tt.want) {
			def := majorLabels(plot.DefaultTicks{}.Ticks(tt.min, tt.max))
			t.Errorf("Ticks(%v, %v) = %q, want %q (DefaultTicks: %q)", tt.min, tt.max, got, tt.want, def)
		}
	}
}

func TestLabels(t *testing.T) {
	tests := []struct {
		vals []float64
		want []string
	}{
		{nil, nil},
		{[]float64{0.98, 1}, []string{"0.98", "1.00"}},
		{[]float64{0.1 + 0.2, 0.6000000000000001}, []string{"0.3", "0.6"}},
		{[]float64{0, 0.25, 0.5}, []string{"0.00", "0.25", "0.50"}},
		{[]float64{-1e-17, 0.5}, []string{"0.0", "0.5"}},
		{[]float64{42}, []string{"42"}},
		{[]float64{1234567, 1234568}, []string{"1.234567e+06", "1.234568e+06"}},
	}
	for _, tt := range tests {
		if got := Labels(tt.vals); !slices.Equal(got, tt.want) {
			t.Errorf("Labels(%v) = %q, want %q", tt.vals, got, tt.want)
		}
	}
}

// Over many ranges the labels are distinct, read back as their values and
// share one precision.
func TestTicksDistinct(t *testing.T) {
	for _, scale := range []float64{1e-7, 1e-3, 0.1, 1, 7, 1000, 1e7} {
		for lo := 0.0; lo < 1; lo += 0.013 {
			for span := 0.004; span < 3; span *= 1.37 {
				min, max := lo*scale, (lo+span)*scale
				ts := Ticks{}.Ticks(min, max)
				labels := majorLabels(ts)
				seen := map[string]bool{}
				for i, l := range labels {
					if seen[l] {
						t.Fatalf("[%v, %v]: label %q twice in %q", min, max, l, labels)
					}
					seen[l] = true
					v, err := strconv.ParseFloat(l, 64)
					if err != nil || math.Abs(v-ts[i].Value) > (max-min)*1e-6 {
						t.Fatalf("[%v, %v]: label %q of %v", min, max, l, ts[i].Value)
					}
					if decimals(l) != decimals(labels[0]) {
						t.Fatalf("[%v, %v]: mixed precisions %q", min, max, labels)
					}
				}
			}
		}
	}
}

func decimals(s string) int {
	for i, r := range s {
		if r == '.' {
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			return j - i - 1
		}
	}
	return 0
}
