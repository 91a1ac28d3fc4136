// Package experiments is gopherlab's machine-learning toolkit for notebook
// cells and plain Go programs, modelled on scikit-learn and built on gonum:
// datasets, transforms, models, metrics, model selection and plots.
//
// It follows scikit-learn's estimator contract. Every model has
// Fit(X *mat.Dense, y []float64) error and Predict(X) ([]float64, error);
// classifiers add PredictProba and Classes; transforms have Fit, Transform
// and FitTransform. Parameters are plain exported fields whose zero value
// means scikit-learn's default (C 0 means 1.0, NTrees 0 means 100);
// fitted state is kept apart and read through methods (Coef,
// FeatureImportances, Centers). Randomness comes from a Seed field, so
// results are reproducible. Errors say what and where
// ("experiments: fit logistic regression: column "c3" has NaN at row 17");
// nothing panics across the package border, parallel workers included.
//
// The API has no generics and takes whole slices and matrices, because
// notebook cells run in an interpreter that calls into this compiled
// package: one call per matrix is native speed, one call per element is
// not.
//
// # A short tour
//
// Load a CSV (types inferred; "", NA, NaN, null are missing), look at it,
// split it:
//
//	ds, err := experiments.ReadCSV("penguins.csv")
//	ds.Describe()                      // a table per column: type, missing, mean, std, min, max, levels
//	ds.Head(5)                         // shows as an HTML table in a notebook
//	ds.DropMissing("species")          // in place; returns rows removed
//	train, test, err := experiments.TrainTestSplit(ds, 0.25, 42, "species")
//
// Files without a header, or with another layout, take CSVOptions:
//
//	iris, err := experiments.ReadCSV(path, experiments.CSVOptions{
//		SkipRows: 1, NoHeader: true, Names: []string{"sl", "sw", "pl", "pw", "species"}})
//
// Build a pipeline, fit it on the training dataset, evaluate it on the test
// dataset:
//
//	pipe := experiments.NewPipeline(
//		&experiments.OneHotEncoder{},  // categorical columns → 0/1 columns
//		&experiments.SimpleImputer{Strategy: "median"},
//		&experiments.StandardScaler{},
//		&experiments.LogisticRegression{C: 10})
//	err = pipe.FitDataset(train, "species")
//	pred, err := pipe.PredictDataset(test)
//	yTest, _ := test.Codes("species", pipe.TargetLevels()) // labels numbered as pred
//	acc, _ := experiments.Accuracy(yTest, pred)
//	rep, _ := experiments.Report(yTest, pred)   // precision, recall, F1 per class
//	cm, _ := experiments.ConfusionMatrix(yTest, pred)
//	plot, _ := cm.Plot()                        // heat map, shows inline
//
// Or work with matrices directly (XY needs numeric features: encode or
// drop categorical ones first):
//
//	X, y, err := train.XY("species")           // categorical target → level index
//	rf := &experiments.RandomForestClassifier{NTrees: 200, Seed: 1}
//	err = rf.Fit(X, y)
//
// Cross-validate and search parameters (fits run in parallel on every
// core; ShowProgress draws a live bar in the notebook):
//
//	res, err := experiments.CrossValidate(pipe, X, y, experiments.CVOptions{
//		K: 5, Metrics: []string{"accuracy", "f1_macro"}, ShowProgress: true})
//	res                                          // per-fold table with mean and std
//	gs := &experiments.GridSearch{Model: pipe,
//		Grid: map[string][]any{"logisticregression.C": {0.01, 0.1, 1, 10}}}
//	err = gs.Fit(X, y)
//	gs.BestParams(); gs.BestScore(); gs.PlotParam("logisticregression.C")
//
// CrossValidate and GridSearch fit unfitted copies of the model (Clone):
// this package's estimators, pipelines of them, or any pointer to a
// struct whose exported fields are its parameters. A model Clone cannot
// copy (one whose type a notebook cell declared, given as AsModel(m)) is
// fitted in turn on each fold by CrossValidate; GridSearch needs copies.
//
// Save the fitted pipeline with its input schema, and load it elsewhere:
//
//	err = pipe.SaveFile("model.gob")
//	p2, err := experiments.LoadFile("model.gob")  // same predictions, bit for bit
//
// Predicting on a dataset that lacks a column the pipeline was fitted on,
// or has it with another type, is an error naming the column.
//
// # What is here
//
// Data: Dataset (ReadCSV, ReadCSVFrom, FromColumns, FromMatrix, Shape,
// Head, Tail, Describe, Columns, Select, Drop, Rows, XY, Matrix, Sample,
// SampleFrac, StratifiedSample, DropMissing, Impute, Dedup, DropConstant),
// TrainTestSplit, SplitXY, KFold, StratifiedKFold.
//
// Transforms: SimpleImputer, StandardScaler, MinMaxScaler, OneHotEncoder,
// Pipeline (Save, Load).
//
// Models: LinearRegression, Ridge, LogisticRegression, KNeighborsClassifier,
// KNeighborsRegressor, DecisionTreeClassifier, DecisionTreeRegressor,
// RandomForestClassifier, RandomForestRegressor, GaussianNB, KMeans.
//
// Metrics: Accuracy, Precision, Recall, F1, Report, ConfusionMatrix, ROC,
// AUC, LogLoss, MSE, RMSE, MAE, R2, Score.
//
// Model selection: CrossValidate, CrossValidateDataset, GridSearch,
// ValidationCurve, LearningCurve, IterationCurve, Clone, SetParam.
//
// Estimators declared in notebook cells: AsModel, AsClassifier,
// AsTransformer (the interpreter shows compiled code their methods through
// these).
//
// Plots (type Plot, with PNG, SVG, Render and Save): Curve.Plot (metric vs
// parameter, learning curve, scores over iterations), GridSearch.PlotParam,
// PlotHistory, Confusion.Plot, PlotROC. Importing the package also makes
// display show gonum's *plot.Plot as a picture and its matrices in
// gonum's layout (display.RegisterType).
//
// Tracking hook: SetTracker installs a Tracker that gets a TrackEvent
// after each model or Pipeline Fit, CrossValidate and GridSearch
// (tracking.Autologger records them; the kernel installs one); a tracker
// that is a Preparer also sees the data before the work starts.
// EstimatorParams lists an estimator's parameters.
package experiments
