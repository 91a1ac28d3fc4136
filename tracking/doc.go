// Package tracking records machine-learning experiments in a SQLite file:
// runs with their parameters, metric histories, tags, artifacts and the
// exact datasets they used, and finds them again with a filter language.
//
// It follows the model of MLflow Tracking (experiments, runs, params,
// metrics, tags, artifacts) and fixes what MLflow users most often hit:
//
//   - many processes may write to one database at once without
//     "database is locked" errors (WAL, BEGIN IMMEDIATE, busy retries);
//   - metric points are buffered and written in batches, so logging a
//     point costs well under a microsecond;
//   - filters combine AND, OR, NOT and parentheses;
//   - runs left RUNNING by a crashed process are marked KILLED the next
//     time the database is opened;
//   - datasets are stored once by SHA-256 so a run's exact training data
//     can be restored later.
//
// A typical use:
//
//	store, err := tracking.Open("") // $GOPHERLAB_DB or ./gopherlab.db
//	run, err := store.StartRun("iris", &tracking.RunOptions{Name: "forest"})
//	run.LogParam("trees", 100)
//	for epoch := 0; epoch < 10; epoch++ {
//		run.LogMetric("loss", loss, epoch)
//	}
//	run.Finish()
//
// The exported API uses no generics, so it can be exposed to interpreted
// notebook cells through yaegi symbol tables. Every type is safe for
// concurrent use. The database layout is described in SCHEMA.md.
package tracking
