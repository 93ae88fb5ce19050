package console

import (
	"fmt"
	"strings"
	"time"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/shim"
)

// Size of the overview's charts, in SVG user units.
const (
	chartW = 300
	chartH = 60
)

// chart is one workflow's executions per bucket on each backend, as SVG
// polylines.
type chart struct {
	Hatchet, Celery string // polyline points
	Max             int
	Label           string // the chart in words, for screen readers
}

// newChart draws workflow's points in n buckets of step from since.
func newChart(workflow string, points []shim.Point, since time.Time, step time.Duration, n int) chart {
	series := map[featureflag.Backend][]int{featureflag.BackendHatchet: make([]int, n), featureflag.BackendCelery: make([]int, n)}
	total := map[featureflag.Backend]int{}
	maxV := 1
	for _, p := range points {
		i := int(p.At.Sub(since) / step)
		if p.Workflow != workflow || i < 0 || i >= n || series[p.Backend] == nil {
			continue
		}
		series[p.Backend][i] += p.Total
		total[p.Backend] += p.Total
		maxV = max(maxV, series[p.Backend][i])
	}
	return chart{
		Hatchet: polyline(series[featureflag.BackendHatchet], maxV),
		Celery:  polyline(series[featureflag.BackendCelery], maxV),
		Max:     maxV,
		Label: fmt.Sprintf("Executions of %s per %s since %s: Hatchet %d, Celery %d", workflow, step,
			since.UTC().Format("2006-01-02 15:04 MST"), total[featureflag.BackendHatchet], total[featureflag.BackendCelery]),
	}
}

// polyline scales vs to the chart: x across the width, y up to maxV.
func polyline(vs []int, maxV int) string {
	pts := make([]string, len(vs))
	for i, v := range vs {
		x := float64(chartW) * float64(i) / float64(max(1, len(vs)-1))
		y := float64(chartH) - float64(chartH-4)*float64(v)/float64(maxV) - 2
		pts[i] = fmt.Sprintf("%.1f,%.1f", x, y)
	}
	return strings.Join(pts, " ")
}
