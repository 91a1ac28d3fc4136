package display_test

import (
	"fmt"
	"image"
	"image/color"
	"sort"

	"github.com/gopherlab/gopherlab/display"
)

// Outside a kernel, displays print their text/plain form.
func ExampleHTML() {
	display.HTML("<b>hi</b>")
	// Output: hi
}

func ExampleShowTable() {
	display.ShowTable(
		[]string{"model", "accuracy", "fit time"},
		[][]any{{"knn", 0.966666667, "2ms"}, {"tree", 0.953333, "5ms"}},
	)
	// Output:
	//    model  accuracy  fit time
	// 0    knn  0.966667       2ms
	// 1   tree  0.953333       5ms
}

func ExampleTable() {
	rows := make([][]any, 1000)
	for i := range rows {
		rows[i] = []any{i, float64(i) / 7}
	}
	t := display.Table{Columns: []string{"i", "i/7"}, Rows: rows, MaxRows: 4, Caption: "Sevenths"}
	display.Show(t)
	// Output:
	// Sevenths
	//        i       i/7
	// 0      0       0.0
	// 1      1  0.142857
	// ..   ...       ...
	// 998  998   142.571
	// 999  999   142.714
	//
	// [1000 rows x 2 columns]
}

func ExampleNewProgress() {
	epochs := 20
	bar := display.NewProgress(epochs, "training")
	for range epochs {
		// ... one epoch of work ...
		bar.Add(1)
	}
	bar.Done()
}

func ExampleNew() {
	h := display.NewText("loss: 0.90")
	h.UpdateText("loss: 0.45") // replaces the output above in a notebook
	fmt.Println(h.ID() != "")
	// Output:
	// loss: 0.90
	// loss: 0.45
	// true
}

// A gradient is an image.Image; Render turns it into image/png.
type gradient struct{}

func (gradient) ColorModel() color.Model { return color.GrayModel }
func (gradient) Bounds() image.Rectangle { return image.Rect(0, 0, 256, 16) }
func (gradient) At(x, _ int) color.Color { return color.Gray{Y: uint8(x)} }

func ExampleImage() {
	if err := display.Image(gradient{}); err != nil {
		fmt.Println(err)
	}
	// Output: [image/png 256x16]
}

// Card chooses how it shows as a cell's result by implementing HTMLer.
type Card struct{ Title string }

func (c Card) HTML() string { return "<h3>" + c.Title + "</h3>" }

func ExampleRender() {
	b := display.Render(Card{Title: "Results"})
	fmt.Println(b.Data["text/html"])
	fmt.Println(b.Data["text/plain"])
	// Output:
	// <h3>Results</h3>
	// Results
}

func ExampleRenderText() {
	fmt.Println(display.RenderText("quoted"))
	fmt.Println(display.RenderText(map[string][]int{"b": {2}, "a": {1}}))
	big := make([]int, 5000)
	for i := range big {
		big[i] = i
	}
	fmt.Println(display.RenderText(big))
	// Output:
	// "quoted"
	// map["a":[1] "b":[2]]
	// [0 1 2 3 4 5 6 7 8 9 ... 4990 4991 4992 4993 4994 4995 4996 4997 4998 4999] (len 5000)
}

// mimeLogger is a Publisher that prints the MIME types it is given.
type mimeLogger struct{}

func (mimeLogger) Display(b display.Bundle, id string) { fmt.Println("display", mimes(b)) }
func (mimeLogger) Update(b display.Bundle, id string)  { fmt.Println("update", mimes(b)) }
func (mimeLogger) Clear(wait bool)                     { fmt.Println("clear", wait) }

func mimes(b display.Bundle) []string {
	var m []string
	for k := range b.Data {
		m = append(m, k)
	}
	sort.Strings(m)
	return m
}

func ExampleSetPublisher() {
	prev := display.SetPublisher(mimeLogger{})
	defer display.SetPublisher(prev)

	display.Markdown("# Title")
	_ = display.JSON(map[string]int{"n": 1})
	display.ClearWait()
	// Output:
	// display [text/markdown text/plain]
	// display [application/json text/plain]
	// clear true
}
