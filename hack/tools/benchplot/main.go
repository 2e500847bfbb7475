// Command benchplot draws reconcile time against the number of clusters from the JSON results of
// test/bench: the operator, the bare client creating the same objects, and their ratio.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// results is the part of test/bench's JSON the plot reads.
type results struct {
	Date       string `json:"date"`
	LoadBefore string `json:"loadAverageBefore"`
	LoadAfter  string `json:"loadAverageAfter"`
	Machine    struct {
		CPUs int `json:"cpus"`
	} `json:"machine"`
	Scale []struct {
		Clusters int           `json:"clusters"`
		Operator time.Duration `json:"operatorNanoseconds"`
		Bare     time.Duration `json:"bareNanoseconds"`
	} `json:"scale"`
}

func main() {
	in := flag.String("in", "", "test/bench results (JSON).")
	out := flag.String("out", "performance.png", "The PNG to write.")
	flag.Parse()
	if err := render(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "benchplot:", err)
		os.Exit(1)
	}
}

func render(in, out string) error {
	data, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var r results
	if err := json.Unmarshal(data, &r); err != nil {
		return fmt.Errorf("while reading %s: %w", in, err)
	}
	if len(r.Scale) == 0 {
		return fmt.Errorf("%s has no scale results", in)
	}
	// Points beyond test/bench's -bare-max have no bare client (Bare 0).
	var operator, bare plotter.XYs
	for _, p := range r.Scale {
		operator = append(operator, plotter.XY{X: float64(p.Clusters), Y: p.Operator.Seconds()})
		if p.Bare > 0 {
			bare = append(bare, plotter.XY{X: float64(p.Clusters), Y: p.Bare.Seconds()})
		}
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Reconcile time against clusters (envtest, %d CPUs, load %s -> %s)", r.Machine.CPUs, r.LoadBefore, r.LoadAfter)
	p.X.Label.Text = "ImplyClusters (TLS + auth, 3 node groups)"
	p.Y.Label.Text = "seconds until the last is reconciled"
	p.Add(plotter.NewGrid())
	for _, s := range []struct {
		name  string
		xys   plotter.XYs
		shape int
	}{
		{"operator (apply -> every object + status)", operator, 0},
		{"bare client creating the same objects (own control plane)", bare, 1},
	} {
		if len(s.xys) == 0 {
			continue
		}
		line, points, err := plotter.NewLinePoints(s.xys)
		if err != nil {
			return err
		}
		line.Color, points.Color = plotutil.Color(s.shape), plotutil.Color(s.shape)
		points.Shape = plotutil.Shape(s.shape)
		p.Add(line, points)
		p.Legend.Add(s.name, line, points)
	}
	for _, b := range bare {
		var pt plotter.XY
		for _, o := range operator {
			if o.X == b.X {
				pt = o
			}
		}
		labels, err := plotter.NewLabels(plotter.XYLabels{
			XYs:    plotter.XYs{pt},
			Labels: []string{fmt.Sprintf(" x%.2f", pt.Y/b.Y)},
		})
		if err != nil {
			return err
		}
		p.Add(labels)
	}
	p.Legend.Top, p.Legend.Left = true, true
	p.X.Min, p.Y.Min = 0, 0
	return p.Save(9*vg.Inch, 5*vg.Inch, out)
}
