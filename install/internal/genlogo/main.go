// Command genlogo draws gopherlab's kernel logo: a round gopher-blue head
// with ears, big eyes, a nose and two teeth. It writes the PNG sizes Jupyter
// frontends look for (logo-32x32.png, logo-64x64.png) and an SVG of the same
// shapes into the directory given by -out.
//
// The install package embeds the files it writes; run it through
// `go generate ./install` after changing the drawing. The output is
// deterministic so that regenerating an unchanged drawing changes no file.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log"
	"os"
	"path/filepath"
)

func main() {
	out := flag.String("out", ".", "directory to write the logo files into")
	flag.Parse()
	files, err := Render()
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range files {
		path := filepath.Join(*out, f.Name)
		if err := os.WriteFile(path, f.Data, 0o644); err != nil {
			log.Fatalf("genlogo: %v", err)
		}
	}
}

// File is one generated logo file.
type File struct {
	Name string
	Data []byte
}

// Render returns every logo file, PNGs first, then the SVG.
func Render() ([]File, error) {
	var files []File
	for _, size := range []int{32, 64} {
		var buf bytes.Buffer
		if err := png.Encode(&buf, Raster(size)); err != nil {
			return nil, fmt.Errorf("genlogo: encode %dx%d png: %w", size, size, err)
		}
		files = append(files, File{Name: fmt.Sprintf("logo-%dx%d.png", size, size), Data: buf.Bytes()})
	}
	files = append(files, File{Name: "logo-svg.svg", Data: SVG()})
	return files, nil
}

// Colours. Gopher blue is the Go brand's #00ADD8.
var (
	gopherBlue = color.NRGBA{0x00, 0xAD, 0xD8, 0xFF}
	darkBlue   = color.NRGBA{0x00, 0x7D, 0x9C, 0xFF}
	white      = color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF}
	ink        = color.NRGBA{0x20, 0x2B, 0x33, 0xFF}
	muzzle     = color.NRGBA{0xF6, 0xD2, 0xA2, 0xFF}
	toothGap   = color.NRGBA{0xC8, 0xC8, 0xC8, 0xFF}
)

// shape is a filled primitive in unit coordinates: (0,0) is the top-left
// corner of the logo, (1,1) the bottom-right.
type shape interface {
	contains(x, y float64) bool
	svg() string
	fill() color.NRGBA
}

// ellipse with centre (cx, cy) and radii (rx, ry).
type ellipse struct {
	cx, cy, rx, ry float64
	c              color.NRGBA
}

func (e ellipse) contains(x, y float64) bool {
	dx, dy := (x-e.cx)/e.rx, (y-e.cy)/e.ry
	return dx*dx+dy*dy <= 1
}

func (e ellipse) svg() string {
	return fmt.Sprintf(`<ellipse cx="%g" cy="%g" rx="%g" ry="%g" fill="%s"/>`,
		100*e.cx, 100*e.cy, 100*e.rx, 100*e.ry, hex(e.c))
}

func (e ellipse) fill() color.NRGBA { return e.c }

// rect is an axis-aligned rectangle with rounded corners of radius r.
type rect struct {
	x0, y0, x1, y1, r float64
	c                 color.NRGBA
}

func (q rect) contains(x, y float64) bool {
	if x < q.x0 || x > q.x1 || y < q.y0 || y > q.y1 {
		return false
	}
	// Distance to the nearest inner corner circle centre.
	cx := min(max(x, q.x0+q.r), q.x1-q.r)
	cy := min(max(y, q.y0+q.r), q.y1-q.r)
	dx, dy := x-cx, y-cy
	return dx*dx+dy*dy <= q.r*q.r
}

func (q rect) svg() string {
	return fmt.Sprintf(`<rect x="%g" y="%g" width="%g" height="%g" rx="%g" fill="%s"/>`,
		100*q.x0, 100*q.y0, 100*(q.x1-q.x0), 100*(q.y1-q.y0), 100*q.r, hex(q.c))
}

func (q rect) fill() color.NRGBA { return q.c }

func hex(c color.NRGBA) string { return fmt.Sprintf("#%02X%02X%02X", c.R, c.G, c.B) }

// drawing lists the shapes back to front. Features are kept large so that
// the 32-pixel version still reads as a face.
var drawing = []shape{
	// Ears, behind the head.
	ellipse{0.20, 0.22, 0.13, 0.13, darkBlue},
	ellipse{0.80, 0.22, 0.13, 0.13, darkBlue},
	// Head.
	ellipse{0.50, 0.55, 0.44, 0.42, gopherBlue},
	// Eyes and pupils (looking slightly inwards and up, as the Go gopher does).
	ellipse{0.33, 0.43, 0.15, 0.15, white},
	ellipse{0.67, 0.43, 0.15, 0.15, white},
	ellipse{0.37, 0.41, 0.065, 0.065, ink},
	ellipse{0.63, 0.41, 0.065, 0.065, ink},
	// Muzzle, teeth, nose.
	ellipse{0.50, 0.68, 0.15, 0.10, muzzle},
	rect{0.445, 0.71, 0.555, 0.83, 0.015, white},
	rect{0.494, 0.71, 0.506, 0.83, 0, toothGap},
	ellipse{0.50, 0.63, 0.07, 0.045, ink},
}

// supersample is the number of samples per pixel along each axis.
const supersample = 8

// Raster draws the logo at size×size pixels on a transparent background,
// antialiased by supersampling each pixel.
func Raster(size int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	n := float64(size * supersample)
	for py := 0; py < size; py++ {
		for px := 0; px < size; px++ {
			// Average premultiplied colour over the samples.
			var r, g, b, a float64
			for sy := 0; sy < supersample; sy++ {
				for sx := 0; sx < supersample; sx++ {
					x := (float64(px*supersample+sx) + 0.5) / n
					y := (float64(py*supersample+sy) + 0.5) / n
					if c, ok := sample(x, y); ok {
						r += float64(c.R)
						g += float64(c.G)
						b += float64(c.B)
						a += 255
					}
				}
			}
			const total = supersample * supersample
			if a == 0 {
				continue
			}
			// Un-premultiply: every covered sample is opaque.
			covered := a / 255
			img.SetNRGBA(px, py, color.NRGBA{
				R: uint8(r/covered + 0.5),
				G: uint8(g/covered + 0.5),
				B: uint8(b/covered + 0.5),
				A: uint8(a/total + 0.5),
			})
		}
	}
	return img
}

// sample returns the colour of the front-most shape at (x, y).
func sample(x, y float64) (color.NRGBA, bool) {
	for i := len(drawing) - 1; i >= 0; i-- {
		if drawing[i].contains(x, y) {
			return drawing[i].fill(), true
		}
	}
	return color.NRGBA{}, false
}

// SVG returns the drawing as a standalone SVG document, 100 user units square.
func SVG() []byte {
	var buf bytes.Buffer
	buf.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100" width="64" height="64">` + "\n")
	for _, s := range drawing {
		buf.WriteString("  " + s.svg() + "\n")
	}
	buf.WriteString("</svg>\n")
	return buf.Bytes()
}
