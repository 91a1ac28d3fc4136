package plotcheck

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Text is a string drawn, with the box its glyphs may take.
type Text struct {
	S   string
	Box vg.Rectangle
}

// Recording is what a drawing put on a canvas: its texts, the boxes of
// its strokes' pieces (a segment's ends, a circle's bounds) and the box
// that holds every mark (strokes widened by half their width).
type Recording struct {
	Size    vg.Point
	Texts   []Text
	Strokes []vg.Rectangle
	Ink     vg.Rectangle
	inked   bool
}

// Record runs drawFn on a w×h canvas that records the extent of what is
// drawn instead of drawing it.
func Record(w, h vg.Length, drawFn func(draw.Canvas)) *Recording {
	r := &recorder{rec: &Recording{Size: vg.Point{X: w, Y: h}}, lineWidth: 1}
	r.m = identity
	drawFn(draw.NewCanvas(r, w, h))
	return r.rec
}

// Text returns the first text drawn that is s.
func (r *Recording) Text(s string) (Text, bool) {
	for _, t := range r.Texts {
		if t.S == s {
			return t, true
		}
	}
	return Text{}, false
}

// affine is x' = a*x + c*y + e, y' = b*x + d*y + f.
type affine struct{ a, b, c, d, e, f float64 }

var identity = affine{a: 1, d: 1}

func (m affine) apply(p vg.Point) vg.Point {
	x, y := float64(p.X), float64(p.Y)
	return vg.Point{X: vg.Length(m.a*x + m.c*y + m.e), Y: vg.Length(m.b*x + m.d*y + m.f)}
}

// then returns m applied after n (n first).
func (m affine) then(n affine) affine {
	return affine{
		a: m.a*n.a + m.c*n.b, b: m.b*n.a + m.d*n.b,
		c: m.a*n.c + m.c*n.d, d: m.b*n.c + m.d*n.d,
		e: m.a*n.e + m.c*n.f + m.e, f: m.b*n.e + m.d*n.f + m.f,
	}
}

type state struct {
	m         affine
	lineWidth vg.Length
}

type recorder struct {
	rec       *Recording
	m         affine
	lineWidth vg.Length
	stack     []state
}

func (r *recorder) SetLineWidth(w vg.Length)           { r.lineWidth = w }
func (r *recorder) SetLineDash([]vg.Length, vg.Length) {}
func (r *recorder) SetColor(color.Color)               {}
func (r *recorder) Rotate(rad float64) {
	s, c := math.Sincos(rad)
	r.m = r.m.then(affine{a: c, b: s, c: -s, d: c})
}
func (r *recorder) Translate(p vg.Point) {
	r.m = r.m.then(affine{a: 1, d: 1, e: float64(p.X), f: float64(p.Y)})
}
func (r *recorder) Scale(x, y float64) { r.m = r.m.then(affine{a: x, d: y}) }
func (r *recorder) Push()              { r.stack = append(r.stack, state{r.m, r.lineWidth}) }
func (r *recorder) Pop() {
	s := r.stack[len(r.stack)-1]
	r.stack = r.stack[:len(r.stack)-1]
	r.m, r.lineWidth = s.m, s.lineWidth
}

// box returns the transformed bounds of the points, widened by pad.
func (r *recorder) box(pts []vg.Point, pad vg.Length) vg.Rectangle {
	var b vg.Rectangle
	for i, p := range pts {
		q := r.m.apply(p)
		if i == 0 {
			b = vg.Rectangle{Min: q, Max: q}
			continue
		}
		b.Min.X, b.Min.Y = min(b.Min.X, q.X), min(b.Min.Y, q.Y)
		b.Max.X, b.Max.Y = max(b.Max.X, q.X), max(b.Max.Y, q.Y)
	}
	b.Min.X, b.Min.Y = b.Min.X-pad, b.Min.Y-pad
	b.Max.X, b.Max.Y = b.Max.X+pad, b.Max.Y+pad
	return b
}

func (r *recorder) ink(b vg.Rectangle) {
	if !r.rec.inked {
		r.rec.Ink, r.rec.inked = b, true
		return
	}
	i := &r.rec.Ink
	i.Min.X, i.Min.Y = min(i.Min.X, b.Min.X), min(i.Min.Y, b.Min.Y)
	i.Max.X, i.Max.Y = max(i.Max.X, b.Max.X), max(i.Max.Y, b.Max.Y)
}

func pathPoints(p vg.Path) []vg.Point {
	var pts []vg.Point
	for _, c := range p {
		switch c.Type {
		case vg.MoveComp, vg.LineComp:
			pts = append(pts, c.Pos)
		case vg.CurveComp:
			pts = append(pts, c.Control...)
			pts = append(pts, c.Pos)
		case vg.ArcComp: // the whole circle: glyphs are full circles
			pts = append(pts,
				vg.Point{X: c.Pos.X - c.Radius, Y: c.Pos.Y - c.Radius},
				vg.Point{X: c.Pos.X + c.Radius, Y: c.Pos.Y + c.Radius})
		}
	}
	return pts
}

func (r *recorder) Stroke(p vg.Path) {
	if r.lineWidth <= 0 {
		return
	}
	if pts := pathPoints(p); len(pts) > 0 {
		r.ink(r.box(pts, r.lineWidth/2))
	}
	var last vg.Point
	for _, c := range p {
		switch c.Type {
		case vg.MoveComp:
			last = c.Pos
		case vg.LineComp:
			a, b := r.m.apply(last), r.m.apply(c.Pos)
			r.rec.Strokes = append(r.rec.Strokes, vg.Rectangle{Min: a, Max: b})
			last = c.Pos
		case vg.ArcComp, vg.CurveComp:
			r.rec.Strokes = append(r.rec.Strokes, r.box(pathPoints(vg.Path{c}), 0))
			last = c.Pos
		}
	}
}

// Crosses reports whether a stroke drawn passes through the inside of b.
func (r *Recording) Crosses(b vg.Rectangle) bool {
	for _, s := range r.Strokes {
		if segmentCrosses(s.Min, s.Max, b) {
			return true
		}
	}
	return false
}

// segmentCrosses reports whether the segment from p to q enters the
// inside of b (Liang-Barsky clipping).
func segmentCrosses(p, q vg.Point, b vg.Rectangle) bool {
	t0, t1 := 0.0, 1.0
	dx, dy := float64(q.X-p.X), float64(q.Y-p.Y)
	for _, e := range [4][2]float64{
		{-dx, float64(p.X - b.Min.X)}, {dx, float64(b.Max.X - p.X)},
		{-dy, float64(p.Y - b.Min.Y)}, {dy, float64(b.Max.Y - p.Y)},
	} {
		den, num := e[0], e[1]
		if den == 0 {
			if num <= 0 {
				return false
			}
			continue
		}
		t := num / den
		if den < 0 {
			t0 = math.Max(t0, t)
		} else {
			t1 = math.Min(t1, t)
		}
		if t0 >= t1 {
			return false
		}
	}
	return true
}

func (r *recorder) Fill(p vg.Path) {
	pts := pathPoints(p)
	if len(pts) == 0 {
		return
	}
	b := r.box(pts, 0)
	if b.Min.X <= 0 && b.Min.Y <= 0 && b.Max.X >= r.rec.Size.X && b.Max.Y >= r.rec.Size.Y {
		return // the background
	}
	r.ink(b)
}

func (r *recorder) FillString(f font.Face, pt vg.Point, s string) {
	if f.Font.Size == 0 || s == "" {
		return
	}
	e := f.Extents()
	w := f.Width(s)
	b := r.box([]vg.Point{
		{X: pt.X, Y: pt.Y - e.Descent}, {X: pt.X + w, Y: pt.Y - e.Descent},
		{X: pt.X, Y: pt.Y + e.Ascent}, {X: pt.X + w, Y: pt.Y + e.Ascent},
	}, 0)
	r.rec.Texts = append(r.rec.Texts, Text{S: s, Box: b})
	r.ink(b)
}

func (r *recorder) DrawImage(rect vg.Rectangle, _ image.Image) {
	r.ink(r.box([]vg.Point{rect.Min, rect.Max}, 0))
}

func (r *recorder) Size() (vg.Length, vg.Length) { return r.rec.Size.X, r.rec.Size.Y }

// Fits returns an error unless every mark is at least margin inside each
// edge of the canvas.
func (r *Recording) Fits(margin vg.Length) error {
	if !r.inked {
		return nil
	}
	var out []string
	for _, e := range []struct {
		edge string
		in   vg.Length
	}{
		{"left", r.Ink.Min.X}, {"bottom", r.Ink.Min.Y},
		{"right", r.Size.X - r.Ink.Max.X}, {"top", r.Size.Y - r.Ink.Max.Y},
	} {
		if e.in < margin {
			out = append(out, fmt.Sprintf("%s edge by %.1fpt", e.edge, (margin-e.in).Points()))
		}
	}
	if len(out) > 0 {
		return fmt.Errorf("marks within %.1fpt of the canvas's edges, past them or cut: %s", margin.Points(), strings.Join(out, ", "))
	}
	return nil
}
