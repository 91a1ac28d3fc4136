// Package export turns a notebook into programs that run without Jupyter:
// it owns `gopherlab run` (execute a notebook headless with injected
// parameters, like papermill) and `gopherlab export` (a training job and a
// serving bundle made from the notebook's chosen cells).
//
// # Choosing the cells
//
// Cells are chosen by Jupyter cell tags (metadata.tags):
//
//	parameters   assignments and var declarations of literal values only
//	             (int, int64, float64, string, bool); they become the job's
//	             flags and their defaults, and `gopherlab run -p` overrides them
//	load, prepare, train, evaluate
//	             the pipeline's cells, run in notebook order
//	skip         exploration, never exported
//
// Untagged code cells are left out unless --all is given. Select reports,
// naming the cell (its index in the notebook, from 0) and the line: a
// notebook without tagged cells, an unknown tag (with the closest known
// one), a parameters cell with anything but assignments, and a name an
// exported cell uses that no exported cell defines (saying which skipped
// or untagged cell defines it). Any other tag (nbconvert's remove_cell,
// Jupyter Book's hide-input, thebe-init, skip-execution, ...) is accepted
// and ignored unless it looks like a misspelt pipeline tag ("Train",
// "trian", "evaluation"), which is refused with the tag it resembles.
//
// # gopherlab run
//
//	gopherlab run NOTEBOOK.ipynb [-p name=value ...] [-o OUT.ipynb] [-cwd DIR] [-timeout D] [-allow-errors]
//
// checks each value against its parameter's Go type, inserts a cell tagged
// injected-parameters after the parameters cell (replacing one an earlier
// run left), executes every code cell in order through the kernel's engine
// (package kernel/worker: an interpreter in a supervised child process,
// started as `<this executable> worker`), and writes the notebook with
// outputs (stream, display_data, execute_result, error with traceback) and
// execution counts, by default to NOTEBOOK.out.ipynb. It stops at the first
// failing cell, leaving the later ones unexecuted, and exits non-zero.
//
// # gopherlab export
//
//	gopherlab export NOTEBOOK.ipynb -o DIR [--all] [--run RUN_ID [--db FILE]] [--name NAME] [--model VAR] [--beam] [--force]
//
// writes DIR/job and DIR/serve, two Go modules whose go.mod requires
// exactly gopherlab's module versions (go.sum copied), with the gopherlab
// packages they use copied under internal/gopherlab, so they build from
// the module proxy alone, without a gopherlab checkout.
//
// DIR/job/main.go is the chosen cells as one compiled program. The cells'
// top-level variables (x := ..., var x = ...) become package-level
// variables whose types the exporter learns by type-checking the cells
// (a redeclaration with another type gets a new name), their statements
// run in cell order, functions, types and constants stay declarations, a
// cell's final expression is printed as the notebook shows it, and display
// calls print their text form. A final call follows the kernel's rule: a
// non-nil error it returns (alone, or as its last result) fails the job
// with the cell's number, else its value or values are shown (byte counts
// of printing and writing are not). Line directives name the notebook cell and
// line of every piece. The parameters become flags (a float64 one refuses
// NaN and infinities); -workers N (default:
// every core) is set in every estimator and cross-validation of the cells
// that has a Workers field the cells leave unset. manifest.json (embedded)
// records the parameters, the seed, the Go and module versions, and the
// SHA-256 of every data file the cells read (string constants or string
// parameters passed to experiments.ReadCSV, experiments.LoadFile, os.Open,
// os.ReadFile, os.OpenFile); the job refuses changed data unless
// -allow-changed-data. A read of a file named by another expression
// (filepath.Join(dir, name)) is listed as unpinned, with a warning; the
// job then compares the datasets its run used with the tracked run's. It saves the fitted *experiments.Pipeline (the only
// one, the last one a train cell defines, or --model; a
// *experiments.GridSearch over a pipeline stands for its refitted best
// pipeline) to -model-dir
// (default ../serve/model) with model.json holding its SHA-256. With --run,
// the tracked run's parameters become the defaults and, when the cells log
// to tracking, the job compares the metrics of the run it logs with the
// tracked run's, bit for bit, and fails when they differ; metrics only the
// tracked run has (logged by skip cells) are listed as not compared. The
// check runs before the model is saved: a job that fails it leaves
// -model-dir as it was. The job's run gets the tags job.tracked_run and
// job.reproduced (true, false or not compared) and is marked FAILED when
// the job fails the check. A reproduction the job could not check (the
// tracking store cannot be opened, the job logged no run, no metric to
// compare) fails the job as well, its summary saying "reproduction not
// checked" and why, unless -allow-unchecked (exit 0). A job that fails in
// a cell marks the runs it logged FAILED with the cell and the error,
// tagged job and job.failed_cell. Inputs the job's flags chose (a parameter, a
// data file named by a parameter, -allow-changed-data) are no
// reproduction and not compared; data that differs from the tracked run's
// with no flag asking for it (changed since the run) fails the job unless
// -allow-changed-data.
//
// With --beam the job also runs on Apache Beam (Go SDK
// github.com/apache/beam/sdks/v2, version pinned in export/beamjob/beam.mod;
// only such jobs require it): -runner prism or direct runs in-process,
// -runner flink, spark or universal submits to the job service at
// -endpoint, -runner dataflow uses Beam's -project, -region and
// -staging_location flags. Every cross-validation, grid search, validation
// or learning curve of the cells then becomes one Beam pipeline: one
// element per (candidate, fold) fit, processed by a registered DoFn, whose
// scores the job reads back and combines as the local run does, so the
// best parameters, the refit model, the printed output and the tracked
// metrics are identical to the last bit. The DoFn rebuilds what it needs
// from the pipeline's input file (the candidates, the data, the folds and
// the metrics: experiments.FitJob.Encode), written under -beam_temp (a
// temporary directory for the in-process runners; a directory or URL the
// job and every worker reach otherwise), so workers may be other processes
// running the same binary. Without -runner the job runs as without --beam.
//
// DIR/serve is a server for that model (package export/serving): KServe
// Open Inference Protocol v2 (/v2/health/live, /v2/health/ready,
// /v2/models/NAME, /v2/models/NAME/ready, /v2/models/NAME/infer) and
// /predict with named features, Prometheus /metrics, a bounded cache of
// recent results, a body size limit, graceful shutdown; a model file whose
// hash differs from model.json is refused. NAME is the notebook's name
// (or --name) in lower case, characters other than letters, digits, '-'
// and '_' made '-'. With it: a multi-stage Dockerfile (static binary on
// distroless, non-root, base images by their full names), Kubernetes
// manifests generated from the k8s.io/api types (Deployment with probes,
// the memory limit passed to the server for the Go runtime's soft limit,
// image pulled Always; Service; HorizontalPodAutoscaler), named NAME-serve
// made a DNS-1035 label (a letter first, at most 63 characters, cut with
// a hash suffix), and a README.
//
// Exporting again into DIR replaces what the earlier export wrote (its
// marker file, .gopherlab-export, lists each file with its SHA-256) and
// what its job and server made there (the binaries, the model). A file it
// did not write, or wrote and the user changed since, makes the export
// fail, naming the files and changing nothing, unless --force.
//
// The exporter needs the Go toolchain (it type-checks the cells against
// the copied packages with go list -export) and gopherlab's sources: set
// Sources to the files SourcePatterns names (the gopherlab command embeds
// them), or export finds a checkout ($GOPHERLAB_SRC, or above the
// executable or the working directory).
package export
