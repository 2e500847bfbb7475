package main

import (
	"context"
	"fmt"
	"io"
	"time"
)

// plan is what the scenarios of issue #23 run besides the scale points.
type plan struct {
	// bareMax is the largest scale point at which the bare client runs (both orders).
	bareMax int
	// bothOrders also runs the bare client first, then the operator again.
	bothOrders bool
	// rounds is how many times both orders run at a point with the bare client (see
	// runScalePoint); the ratio is judged over all of them.
	rounds int
	// noise, when set, runs the noise scenario at noiseClusters clusters.
	noise         *noiseSpec
	noiseClusters int
	// reactionAt is the scale point whose converged control plane (g) reuses; 0 skips (g).
	reactionAt      int
	reactionChanges int
	// bareObjectsOnly has the bare client create the objects but not write the clusters' status
	// or the Events about them.
	bareObjectsOnly bool
}

// runScalePoints runs (c) and (d) at every point, and (g) on the control plane of p.reactionAt.
func runScalePoints(ctx context.Context, e env, points []int, p plan) ([]scalePoint, *reactionResult, error) {
	var out []scalePoint
	var reaction *reactionResult
	for _, n := range points {
		e.log("(c, d) %d clusters", n)
		var then func(*scaleState) error
		if n == p.reactionAt {
			then = func(s *scaleState) error {
				e.log("(g) reactions over %d converged clusters", n)
				r, err := runReaction(ctx, e, s, p.reactionChanges)
				if err != nil {
					return fmt.Errorf("reaction: %w", err)
				}
				reaction = &r
				return nil
			}
		}
		sp, err := runScalePoint(ctx, e, n, e.bare && n <= p.bareMax, p.bothOrders, p.rounds, then)
		if err != nil {
			return out, reaction, fmt.Errorf("scale %d: %w", n, err)
		}
		out = append(out, sp)
	}
	return out, reaction, nil
}

// reportScale prints (c), (d), the curve, the noise scenario and (g) with their targets.
func reportScale(w io.Writer, r results, verdict func(bool) string) {
	ms := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	for _, p := range r.Scale {
		if len(p.Orders) == 0 {
			fmt.Fprintf(w, "(c) %4d clusters: operator %s (no bare client at this point)\n", p.Clusters, ms(p.Operator))
		}
		for _, o := range p.Orders {
			round := ""
			if len(p.Orders) > 2 {
				round = fmt.Sprintf("round %d, ", o.Round)
			}
			fmt.Fprintf(w, "(c) %4d clusters, %s%s first: operator %s, bare client %s (%d objects, %d in flight, own control plane), ratio %.2f; target <= %.1f: %s\n",
				p.Clusters, round, o.First, ms(o.Operator), ms(o.Bare), p.BareObjects, r.Workers, o.Ratio, targetRatio, verdict(o.Ratio <= targetRatio))
		}
		if len(p.Orders) > 1 {
			fmt.Fprintf(w, "(c) %4d clusters, over the %d runs of each: ratio of the summed times %.2f; target <= %.1f: %s\n",
				p.Clusters, len(p.Orders), p.PooledRatio, targetRatio, verdict(p.PooledRatio <= targetRatio))
		}
		target := "no target at this point"
		if p.Clusters == targetPeakRSSClusters {
			target = fmt.Sprintf("target <= %d MiB: %s", targetPeakRSS>>20, verdict(p.Usage.PeakRSS <= targetPeakRSS))
		}
		fmt.Fprintf(w, "(d) %4d clusters: peak RSS %d MiB, RSS %d MiB, heap goal %d MiB, CPU %s while reconciling (%s total), %d GCs, %d writes, %d reconciles (%d failed); %s\n",
			p.Clusters, p.Usage.PeakRSS>>20, p.Usage.RSS>>20, p.HeapGoal>>20, ms(p.CPU), ms(p.Usage.CPU), p.GCCycles, p.Writes, p.Reconciles, p.ReconcileErrors, target)
		fmt.Fprintf(w, "    per cluster: %.1f ms, %d KiB peak RSS\n", float64(p.PerCluster)/1e6, p.RSSPerCluster>>10)
	}
	if c := r.Curve; len(r.Scale) > 1 {
		fmt.Fprintf(w, "Curve over %d points: %.1f ms/cluster, %.0f KiB/cluster of peak RSS (least-squares slopes)\n",
			len(r.Scale), float64(c.TimeSlope)/1e6, c.RSSSlope/1024)
		if c.FlatComparable {
			fmt.Fprintf(w, "    per-cluster time %.1f ms at %d against %.1f ms at %d (x%.2f); target flat (<= x%.1f): %s\n",
				float64(c.FlatTop)/1e6, c.FlatTopAt, float64(c.FlatBase)/1e6, c.FlatBaseAt, float64(c.FlatTop)/float64(c.FlatBase), flatFactor, verdict(c.Flat))
			if c.BareGrowth > 0 {
				fmt.Fprintf(w, "    the bare client's time a cluster (the control plane's) grew x%.2f over the same points: the operator's grew x%.2f that (no target)\n",
					c.BareGrowth, c.RelativeGrowth)
			}
			if c.CPUGrowth > 0 {
				fmt.Fprintf(w, "    the operator's own CPU a cluster grew x%.2f (no target)\n", c.CPUGrowth)
			}
		}
	}
	if nz := r.Noise; nz != nil {
		rss := int64(nz.With.Usage.PeakRSS) - int64(nz.Without.Usage.PeakRSS)
		growth := nz.With.Startup - nz.Without.Startup
		fmt.Fprintf(w, "Noise at %d clusters (%d Secrets of which %d of 1 MB, %d ConfigMaps, %d Services, %d StatefulSets): peak RSS %d MiB with, %d MiB without: %+d MiB; target <= %d MiB: %s\n",
			nz.Clusters, nz.Noise.Secrets, nz.Noise.BigSecrets, nz.Noise.ConfigMaps, nz.Noise.Services, nz.Noise.StatefulSets,
			nz.With.Usage.PeakRSS>>20, nz.Without.Usage.PeakRSS>>20, rss>>20, targetNoiseRSS>>20, verdict(rss <= targetNoiseRSS))
		fmt.Fprintf(w, "    start-up to the first reconciled cluster %s with, %s without: %+s; target <= %s: %s (all reconciled %s with, %s without)\n",
			ms(nz.With.Startup), ms(nz.Without.Startup), ms(growth), targetNoiseStartup, verdict(growth <= targetNoiseStartup),
			ms(nz.With.All), ms(nz.Without.All))
	}
	if g := r.Reaction; g != nil {
		s := g.SecretToPatch
		fmt.Fprintf(w, "(g) %d Ready clusters: token Secret -> first StatefulSet patch over %d runs: p50 %s p99 %s (max %s); target p99 <= %s: %s\n",
			g.Clusters, len(s.Samples), ms(s.P50), ms(s.P99), ms(s.Max), targetReactionP99, verdict(s.P99 <= targetReactionP99))
		fmt.Fprintf(w, "(g) restart over %d unchanged clusters: %d writes (%s), %.0f ImplyCluster reconciles, %s; target 0: %s\n",
			g.Clusters, total(g.ResyncWrites), describeCounts(g.ResyncWrites), g.ResyncReconciles, ms(g.ResyncDuration), verdict(total(g.ResyncWrites) == 0))
		fmt.Fprintf(w, "(g) %d Druid requests for a resync of %d clusters (%d DruidRoles): %s\n",
			total(g.DruidRequests), g.Clusters, g.DruidRoles, describeCounts(g.DruidRequests))
	}
}
