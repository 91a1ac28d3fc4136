package plotstyle

import (
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// legendGap is the space between the plot and the legend; margin is
// the blank border around both, so that no mark touches an edge of the
// picture, where a viewer would cut it.
const (
	legendGap = vg.Length(8)
	margin    = vg.Length(5)
)

// LegendWidth is the width Layout gives p's legend, the gap before it
// included: 0 when the legend has no entries.
func LegendWidth(p *plot.Plot) vg.Length {
	r := p.Legend.Rectangle(draw.Canvas{})
	if r.Size().Y <= 0 {
		return 0
	}
	return r.Size().X + legendGap
}

// Layout splits c, less a margin all around, between p and its legend:
// the legend, when it has entries, takes a column right of the plot as
// wide as its widest entry, from the top of the data area down;
// otherwise the plot has all of it and legend is empty.
func Layout(p *plot.Plot, c draw.Canvas) (plotArea, legend draw.Canvas) {
	c = draw.Crop(c, margin, -margin, margin, -margin)
	w := LegendWidth(p)
	if w == 0 {
		return c, draw.Canvas{Canvas: c.Canvas}
	}
	plotArea = draw.Crop(c, 0, -w, 0, 0)
	legend = draw.Crop(c, c.Size().X-w+legendGap, 0, 0, 0)
	legend.Max.Y = p.DataCanvas(plotArea).Max.Y
	return plotArea, legend
}

// Draw draws p on c as Layout places it: the legend right of the data,
// where it hides none of it, each entry's icon before its text. While p
// draws, its legend is set aside, so one plot must not be drawn by two
// goroutines at once.
func Draw(p *plot.Plot, c draw.Canvas) {
	if p.BackgroundColor != nil {
		c.SetColor(p.BackgroundColor)
		c.Fill(c.Rectangle.Path())
	}
	plotArea, legendArea := Layout(p, c)
	if legendArea.Size().X <= 0 {
		p.Draw(plotArea)
		return
	}
	leg := p.Legend
	p.Legend = plot.NewLegend()
	defer func() { p.Legend = leg }()
	p.Draw(plotArea)
	leg.Left, leg.Top = true, true
	leg.Draw(legendArea)
}
