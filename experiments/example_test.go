package experiments_test

import (
	"fmt"

	"github.com/gopherlab/gopherlab/experiments"
)

// The tour of the package doc: load, split, pipeline, fit, evaluate.
func Example() {
	ds, err := experiments.ReadCSV("testdata/iris.csv")
	if err != nil {
		fmt.Println(err)
		return
	}
	rows, cols := ds.Shape()
	fmt.Println(rows, "rows,", cols, "columns:", ds.Columns())

	train, test, err := experiments.TrainTestSplit(ds, 0.3, 42, "species")
	if err != nil {
		fmt.Println(err)
		return
	}
	pipe := experiments.NewPipeline(&experiments.StandardScaler{}, &experiments.LogisticRegression{C: 10})
	if err := pipe.FitDataset(train, "species"); err != nil {
		fmt.Println(err)
		return
	}
	pred, err := pipe.PredictDataset(test)
	if err != nil {
		fmt.Println(err)
		return
	}
	yTest, _ := test.Codes("species", pipe.TargetLevels())
	acc, _ := experiments.Accuracy(yTest, pred)
	fmt.Printf("test accuracy %.2f\n", acc)

	X, y, _ := ds.XY("species")
	res, err := experiments.CrossValidate(pipe, X, y, experiments.CVOptions{K: 5})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("5-fold accuracy %.2f ± %.2f\n", res.Mean("accuracy"), res.Std("accuracy"))
	// Output:
	// 150 rows, 5 columns: [sepal_length sepal_width petal_length petal_width species]
	// test accuracy 0.98
	// 5-fold accuracy 0.97 ± 0.03
}
