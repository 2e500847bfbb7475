package main

import (
	"time"
)

// flatFactor is how much more a cluster may cost at the largest scale point than at the smallest
// point of at least flatFrom clusters, for the per-cluster time to count as flat.
const (
	flatFactor = 1.5
	flatFrom   = 250
)

// curve is how the operator's cost grows with the number of clusters, over the scale points.
type curve struct {
	// TimeSlope is the least-squares slope of the reconcile time against clusters (time a cluster).
	TimeSlope time.Duration `json:"timeSlopeNanosecondsPerCluster"`
	// RSSSlope is the least-squares slope of the peak RSS against clusters (bytes a cluster).
	RSSSlope float64 `json:"rssSlopeBytesPerCluster"`
	// FlatBase and FlatTop are the per-cluster times at the smallest point of at least flatFrom
	// clusters and at the largest point; Flat says whether FlatTop <= flatFactor x FlatBase.
	FlatBase       time.Duration `json:"flatBasePerClusterNanoseconds"`
	FlatBaseAt     int           `json:"flatBaseClusters"`
	FlatTop        time.Duration `json:"flatTopPerClusterNanoseconds"`
	FlatTopAt      int           `json:"flatTopClusters"`
	Flat           bool          `json:"flat"`
	FlatComparable bool          `json:"flatComparable"`
	// BareGrowth is how many times the bare client's time a cluster (the control plane's own
	// cost of the same objects) grew from the FlatBase point to the FlatTop point, and
	// RelativeGrowth the operator's growth over it: 1 when the operator's time a cluster grows
	// exactly as the control plane's does. Zero when the bare client did not run at both points.
	BareGrowth     float64 `json:"bareGrowth,omitempty"`
	RelativeGrowth float64 `json:"relativeGrowth,omitempty"`
	// CPUGrowth is how many times the operator's own CPU a cluster (while reconciling) grew
	// from the FlatBase point to the FlatTop point.
	CPUGrowth float64 `json:"cpuGrowth,omitempty"`
}

// fitCurve fits the scale points (at least two distinct numbers of clusters; else zero).
func fitCurve(points []scalePoint) curve {
	var c curve
	xs, ts, rs := make([]float64, len(points)), make([]float64, len(points)), make([]float64, len(points))
	for i, p := range points {
		xs[i], ts[i], rs[i] = float64(p.Clusters), float64(p.Operator), float64(p.Usage.PeakRSS)
	}
	if slope, ok := leastSquaresSlope(xs, ts); ok {
		c.TimeSlope = time.Duration(slope)
	}
	if slope, ok := leastSquaresSlope(xs, rs); ok {
		c.RSSSlope = slope
	}
	var base, top *scalePoint
	for i := range points {
		p := &points[i]
		if p.Clusters >= flatFrom && (base == nil || p.Clusters < base.Clusters) {
			base = p
		}
		if top == nil || p.Clusters > top.Clusters {
			top = p
		}
	}
	if base != nil && top != nil && top.Clusters > base.Clusters {
		c.FlatComparable = true
		c.FlatBase, c.FlatBaseAt = base.Operator/time.Duration(base.Clusters), base.Clusters
		c.FlatTop, c.FlatTopAt = top.Operator/time.Duration(top.Clusters), top.Clusters
		c.Flat = float64(c.FlatTop) <= flatFactor*float64(c.FlatBase)
		growth := float64(c.FlatTop) / float64(c.FlatBase)
		if base.Bare > 0 && top.Bare > 0 {
			c.BareGrowth = perCluster(top.Bare, top.Clusters) / perCluster(base.Bare, base.Clusters)
			c.RelativeGrowth = growth / c.BareGrowth
		}
		if base.CPU > 0 && top.CPU > 0 {
			c.CPUGrowth = perCluster(top.CPU, top.Clusters) / perCluster(base.CPU, base.Clusters)
		}
	}
	return c
}

// perCluster is d divided by n clusters, in nanoseconds.
func perCluster(d time.Duration, n int) float64 { return float64(d) / float64(n) }

// leastSquaresSlope is the slope of the least-squares line through (xs[i], ys[i]); false when
// fewer than two distinct xs make it undefined.
func leastSquaresSlope(xs, ys []float64) (float64, bool) {
	n := float64(len(xs))
	if len(xs) < 2 || len(xs) != len(ys) {
		return 0, false
	}
	var sx, sy float64
	for i := range xs {
		sx, sy = sx+xs[i], sy+ys[i]
	}
	mx, my := sx/n, sy/n
	var sxx, sxy float64
	for i := range xs {
		dx := xs[i] - mx
		sxx += dx * dx
		sxy += dx * (ys[i] - my)
	}
	if sxx == 0 {
		return 0, false
	}
	return sxy / sxx, true
}
