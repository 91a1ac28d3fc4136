// Package display owns rich output for gopherlab notebooks: it turns Go
// values into Jupyter MIME bundles (HTML, Markdown, LaTeX, JSON, PNG, JPEG,
// SVG, tables) and publishes them, displays outputs that update in place
// (Handle, Progress), renders a cell's result (Render, RenderText), and
// asks the user for a line of text the way the frontend shows it (Input,
// and Password, hidden as it is typed).
//
// In a notebook cell:
//
//	import "github.com/gopherlab/gopherlab/display"
//
//	display.HTML("<b>hi</b>")
//	display.Markdown("# Results\nAccuracy: **0.97**")
//	display.ShowTable([]string{"model", "accuracy"}, [][]any{{"knn", 0.9667}, {"tree", 0.9533}})
//
//	bar := display.NewProgress(len(batches), "training")
//	for _, batch := range batches {
//		train(batch)
//		bar.Add(1)
//	}
//	bar.Done()
//
// Everything shown goes to the current Publisher. The kernel installs one
// per session with SetPublisher, which sends display_data,
// update_display_data and clear_output messages. Outside a kernel, in a
// plain Go program or a test, the default publisher prints each bundle's
// text/plain form to os.Stdout, so the same code runs anywhere. Every
// bundle carries text/plain (a short note such as "[image/png 640x480]"
// for images).
//
// A value controls how it shows as a cell's result by implementing
// Renderer, or any of HTMLer, Markdowner, Latexer, SVGer, PNGer, JPEGer and
// JSONer. All functions and methods are safe for concurrent use.
package display
