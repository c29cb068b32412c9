package compare

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// ChartOptions shape the PNG chart.
type ChartOptions struct {
	Title         string // prefix of both panels' titles, e.g. "depth 12, d=128"
	Width, Height int    // pixels; default 1200 x 450
}

// WriteChart draws the report as a PNG of two panels: validation loss
// against cumulative training FLOPs and against wall time, one line per run
// (the baseline thicker, runs on another schedule dashed, fixed-depth runs
// cut to a progressive run's compute dotted), each expansion
// marked by a triangle on its run's line. In a report of several seeds a
// variant keeps one colour and one legend entry over its seeds, and every
// seed's baseline is thick, so that the spread between seeds shows.
func (r *Report) WriteChart(w io.Writer, opt ChartOptions) (err error) {
	// gonum's plot panics on data it cannot lay out; a chart is never worth
	// a crash that loses the tables written beside it.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("compare: chart: cannot draw these values: %v", p)
		}
	}()
	if opt.Width <= 0 {
		opt.Width = 1200
	}
	if opt.Height <= 0 {
		opt.Height = 450
	}
	drawable := false
	for _, run := range r.Runs {
		drawable = drawable || len(run.Evals) > 0
	}
	if !drawable {
		return errors.New("compare: chart: no run has evaluation points to draw")
	}

	maxFLOPs, maxWall := 0.0, 0.0
	for _, run := range r.Runs {
		for _, p := range run.Evals {
			maxFLOPs, maxWall = max(maxFLOPs, p.FLOPs), max(maxWall, p.WallS)
		}
	}
	fscale, funit := flopsUnit(maxFLOPs)
	wscale, wunit := 1.0, "s"
	if maxWall > 600 {
		wscale, wunit = 60, "min"
	}

	byFLOPs := func(p Point) float64 { return p.FLOPs / fscale }
	byWall := func(p Point) float64 { return p.WallS / wscale }
	growFLOPs := func(g GrowPoint) float64 { return g.FLOPs / fscale }
	growWall := func(g GrowPoint) float64 { return g.WallS / wscale }

	left, err := r.panel(byFLOPs, growFLOPs, fmt.Sprintf("training FLOPs (%s)", funit))
	if err != nil {
		return err
	}
	right, err := r.panel(byWall, growWall, fmt.Sprintf("wall time (%s)", wunit))
	if err != nil {
		return err
	}
	left.Title.Text = joinTitle(opt.Title, "validation loss vs FLOPs")
	right.Title.Text = joinTitle(opt.Title, "validation loss vs wall time")
	right.Legend = plot.Legend{} // one legend is enough
	right.Legend.TextStyle = left.Legend.TextStyle

	const dpi = 96
	px := func(n int) vg.Length { return vg.Length(n) * vg.Inch / dpi }
	img := vgimg.NewWith(vgimg.UseWH(px(opt.Width), px(opt.Height)), vgimg.UseDPI(dpi))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Points(12), PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8)}
	plots := [][]*plot.Plot{{left, right}}
	canvases := plot.Align(plots, tiles, dc)
	left.Draw(canvases[0][0])
	right.Draw(canvases[0][1])
	_, err = vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}

func joinTitle(a, b string) string {
	if a == "" {
		return b
	}
	return a + ": " + b
}

// flopsUnit picks a readable unit for an axis of FLOPs up to m.
func flopsUnit(m float64) (float64, string) {
	switch {
	case m >= 1e15:
		return 1e15, "PFLOP"
	case m >= 1e12:
		return 1e12, "TFLOP"
	case m >= 1e9:
		return 1e9, "GFLOP"
	}
	return 1, "FLOP"
}

// panel draws every run's loss curve against x.
func (r *Report) panel(x func(Point) float64, gx func(GrowPoint) float64, xlabel string) (*plot.Plot, error) {
	p := plot.New()
	p.X.Label.Text = xlabel
	p.Y.Label.Text = "validation loss (nats/byte)"
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	p.Add(plotter.NewGrid())

	lo, hi, maxFinal := math.Inf(1), math.Inf(-1), math.Inf(-1)
	baseSched := ""
	if r.Baseline >= 0 && r.Baseline < len(r.Runs) {
		baseSched = r.Runs[r.Baseline].Config.Schedule
	}
	var marks plotter.XYs
	var markColors []color.Color
	multi := len(r.Seeds()) > 1
	var names []string // a colour per variant, over seeds
	for i, run := range r.Runs {
		if len(run.Evals) == 0 {
			continue
		}
		xys := make(plotter.XYs, len(run.Evals))
		for j, pt := range run.Evals {
			xys[j] = plotter.XY{X: x(pt), Y: pt.ValLoss}
			if pt.Step*5 >= int64(run.Config.Steps) { // the range skips the first fifth's steep fall
				hi = max(hi, pt.ValLoss)
			}
			lo = min(lo, pt.ValLoss)
		}
		maxFinal = max(maxFinal, run.Evals[len(run.Evals)-1].ValLoss)
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("compare: chart: run %q: %w", run.Name, err)
		}
		l.Color = chartColor(i)
		l.Width = vg.Points(1.5)
		if i == r.Baseline || (multi && r.baselineOf(i) == i) {
			l.Width = vg.Points(2.5)
		}
		if baseSched != "" && run.Config.Schedule != baseSched {
			l.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
		}
		if run.Spec.Match != nil {
			l.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
		}
		p.Add(l)
		if !multi {
			p.Legend.Add(run.Name, l)
		} else if k := slices.Index(names, run.Name); k >= 0 {
			l.Color = chartColor(k)
		} else {
			l.Color = chartColor(len(names))
			names = append(names, run.Name)
			p.Legend.Add(run.Name, l)
		}
		for _, g := range run.Grows {
			gxv := gx(g)
			marks = append(marks, plotter.XY{X: gxv, Y: interpolate(xys, gxv)})
			markColors = append(markColors, l.Color)
		}
	}
	if len(marks) > 0 {
		s, err := plotter.NewScatter(marks)
		if err != nil {
			return nil, fmt.Errorf("compare: chart: expansion marks: %w", err)
		}
		s.GlyphStyleFunc = func(i int) draw.GlyphStyle {
			return draw.GlyphStyle{Color: markColors[i], Radius: vg.Points(5), Shape: draw.PyramidGlyph{}}
		}
		p.Add(s)
		legendMark, _ := plotter.NewScatter(plotter.XYs{{}})
		legendMark.GlyphStyle = draw.GlyphStyle{Color: color.Gray{Y: 60}, Radius: vg.Points(5), Shape: draw.PyramidGlyph{}}
		p.Legend.Add("expansion", legendMark)
	}
	// Show the end of the runs, where they differ: up to twice the spread
	// of the final losses above the worst of them, and at least half the
	// curves' range above the best, so that runs ending together (mixed)
	// still show how they got there.
	if top := maxFinal + max(2*(maxFinal-lo), (hi-lo)/2); top > lo {
		hi = min(hi, top)
	}
	if !math.IsInf(lo, 0) && !math.IsInf(hi, 0) && hi > lo {
		pad := 0.04 * (hi - lo)
		p.Y.Min, p.Y.Max = lo-pad, hi+pad
	}
	p.Y.Min, p.Y.Max = openRange(p.Y.Min, p.Y.Max)
	p.X.Min = 0
	p.X.Max = max(p.X.Max, 0)
	p.X.Min, p.X.Max = openRange(p.X.Min, p.X.Max)
	return p, nil
}

// openRange widens an axis range that is empty, or too narrow for float64 to
// tell its ends apart at their magnitude (a flat curve, a hand-edited
// report): gonum's axes panic on such a range.
func openRange(lo, hi float64) (float64, float64) {
	if math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return lo, hi // gonum's autoscale decides; not reached with finite data
	}
	mag := max(math.Abs(lo), math.Abs(hi))
	if hi-lo > 1e-9*mag && hi-lo > 1e-300 {
		return lo, hi
	}
	w := max(0.05*mag, 0.05)
	mid := lo/2 + hi/2
	return mid - w, mid + w
}

// interpolate is the curve's y at x (clamped to its ends), so an expansion
// mark sits on its line.
func interpolate(xys plotter.XYs, x float64) float64 {
	if len(xys) == 0 {
		return math.NaN()
	}
	if x <= xys[0].X {
		return xys[0].Y
	}
	for j := 1; j < len(xys); j++ {
		a, b := xys[j-1], xys[j]
		if x <= b.X {
			if b.X == a.X {
				return b.Y
			}
			return a.Y + (b.Y-a.Y)*(x-a.X)/(b.X-a.X)
		}
	}
	return xys[len(xys)-1].Y
}

// chartPalette is Tableau's ten colours, distinct enough for ten runs.
var chartPalette = []color.RGBA{
	{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255}, {148, 103, 189, 255},
	{140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255}, {188, 189, 34, 255}, {23, 190, 207, 255},
}

func chartColor(i int) color.Color { return chartPalette[i%len(chartPalette)] }
