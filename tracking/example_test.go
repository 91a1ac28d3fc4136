package tracking_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gopherlab/gopherlab/tracking"
)

func Example() {
	dir, _ := os.MkdirTemp("", "tracking-example")
	defer os.RemoveAll(dir)
	store, err := tracking.Open(filepath.Join(dir, "gopherlab.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()

	for _, depth := range []int{2, 4, 8} {
		run, err := store.StartRun("iris", &tracking.RunOptions{Name: fmt.Sprintf("tree-%d", depth)})
		if err != nil {
			fmt.Println(err)
			return
		}
		run.LogParams(map[string]interface{}{"model": "tree", "depth": depth})
		run.LogDataset(tracking.RoleTrain, "iris", []string{"petal_length", "class"}, [][]float64{{1.4, 0}, {4.7, 1}})
		for epoch := 0; epoch < 5; epoch++ {
			run.LogMetric("accuracy", 0.80+float64(depth*epoch)/200, epoch)
		}
		run.Finish()
	}

	runs, err := store.SearchRuns(tracking.SearchQuery{
		Experiment: "iris",
		Filter:     `metrics.accuracy > 0.85 and (params.depth = 4 or params.depth = 8)`,
		OrderBy:    "metrics.accuracy DESC",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range runs {
		fmt.Println(r.Name, r.Status, tracking.FormatMetric(r.Metrics["accuracy"]))
	}
	// Output:
	// tree-8 FINISHED 0.96
	// tree-4 FINISHED 0.88
}
