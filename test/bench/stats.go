package main

import (
	"math"
	"sort"
	"time"
)

// summary describes a set of latency samples.
type summary struct {
	Samples []time.Duration `json:"samplesNanoseconds"`
	P50     time.Duration   `json:"p50Nanoseconds"`
	P95     time.Duration   `json:"p95Nanoseconds"`
	P99     time.Duration   `json:"p99Nanoseconds"`
	Min     time.Duration   `json:"minNanoseconds"`
	Max     time.Duration   `json:"maxNanoseconds"`
}

// summarize computes the nearest-rank percentiles of samples.
func summarize(samples []time.Duration) summary {
	s := summary{Samples: append([]time.Duration(nil), samples...)}
	if len(samples) == 0 {
		return s
	}
	sorted := append([]time.Duration(nil), samples...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	s.P50, s.P95, s.P99 = percentile(sorted, 50), percentile(sorted, 95), percentile(sorted, 99)
	s.Min, s.Max = sorted[0], sorted[len(sorted)-1]
	return s
}

// percentile is the nearest-rank p-th percentile of sorted (ascending, not empty): the smallest
// sample that at least p percent of the samples do not exceed.
func percentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}
