package experiments

import (
	"os"
	"testing"
)

// BenchmarkReadCSVDigits reads scikit-learn's gzipped digits CSV (264 KB,
// 117k small integers): the serial head of the exported digits job.
func BenchmarkReadCSVDigits(b *testing.B) {
	if _, err := os.Stat(digitsPath); err != nil {
		b.Skip("scikit-learn digits data not installed")
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadCSV(digitsPath, CSVOptions{NoHeader: true}); err != nil {
			b.Fatal(err)
		}
	}
}
