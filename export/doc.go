// Package export turns a notebook into programs that run without Jupyter:
// it owns `gopherlab run` (execute a notebook headless with injected
// parameters, like papermill) and `gopherlab export` (a training job and
// a serving bundle made from the notebook's chosen cells).
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
// notebook without tagged cells, an unknown tag, a parameters cell with
// anything but assignments, and a name an exported cell uses that no
// exported cell defines.
package export
