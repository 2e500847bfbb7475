package implycluster

import (
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// clusterDesc is the descriptor of a cluster metric with its label names: namespace, cluster and
// the metric's own.
type clusterDesc struct {
	*prometheus.Desc
	labels []string
	// sorted are the indexes of labels in the order of their names, the order a series' label
	// pairs must have.
	sorted []int
}

// newClusterDesc describes the cluster metric name with the labels namespace, cluster and extra.
func newClusterDesc(name, help string, extra ...string) clusterDesc {
	labels := append([]string{labelNamespace, labelCluster}, extra...)
	sorted := make([]int, len(labels))
	for i := range sorted {
		sorted[i] = i
	}
	slices.SortFunc(sorted, func(a, b int) int { return strings.Compare(labels[a], labels[b]) })
	return clusterDesc{Desc: prometheus.NewDesc(name, help, labels, nil), labels: labels, sorted: sorted}
}

// sharedLabels are the labels whose values few series have in common: a scrape makes one pair
// of each value (labelPairs.shared). The cluster's name has one pair a cluster; the others
// (Secret names, CA serials) one pair a series.
var sharedLabels = map[string]bool{labelNamespace: true, "type": true, "status": true, "phase": true}

// gaugeSample is one series of a cluster as the collector sends it at a scrape. Its label pairs
// are shared with the scrape's other series where they can be (labelPairs), so a scrape of
// 1,000 clusters allocates a slice of pointers a series, not a pair and two strings a label as
// prometheus.NewConstMetric does (BenchmarkClusterMetricsScrape).
type gaugeSample struct {
	desc   *prometheus.Desc
	value  float64
	labels []*dto.LabelPair // sorted by name, never changed once sent
}

var _ prometheus.Metric = &gaugeSample{}

// Desc is the series' descriptor.
func (s *gaugeSample) Desc() *prometheus.Desc { return s.desc }

// Write fills m with the series; m shares the label pairs, which the registry does not change.
func (s *gaugeSample) Write(m *dto.Metric) error {
	m.Label = s.labels
	m.Gauge = &dto.Gauge{Value: &s.value}
	return nil
}

// labelPairs hands out the label pairs of one scrape.
type labelPairs struct {
	// shared holds one pair per name and value of the sharedLabels.
	shared map[[2]string]*dto.LabelPair
	// cluster is the pair of the cluster being collected.
	cluster *dto.LabelPair
}

func newLabelPairs() *labelPairs {
	return &labelPairs{shared: map[[2]string]*dto.LabelPair{}}
}

// startCluster makes the pair every series of the cluster named name carries.
func (p *labelPairs) startCluster(name string) {
	p.cluster = &dto.LabelPair{Name: &clusterLabelName, Value: &name}
}

// clusterLabelName is the name of the cluster label, for its pairs to point to.
var clusterLabelName = labelCluster

// pair is the label pair of d's i-th label with value.
func (p *labelPairs) pair(d clusterDesc, i int, value string) *dto.LabelPair {
	name := &d.labels[i] // the descriptor's names are never changed
	switch {
	case *name == labelCluster && p.cluster != nil && p.cluster.GetValue() == value:
		return p.cluster
	case !sharedLabels[*name]:
		return &dto.LabelPair{Name: name, Value: &value}
	}
	key := [2]string{*name, value}
	if lp, ok := p.shared[key]; ok {
		return lp
	}
	lp := &dto.LabelPair{Name: name, Value: &value}
	p.shared[key] = lp
	return lp
}

// sample is the series of d holding value, with the label values in d's order.
func (p *labelPairs) sample(d clusterDesc, value float64, values []string) *gaugeSample {
	labels := make([]*dto.LabelPair, len(d.labels))
	for out, i := range d.sorted {
		labels[out] = p.pair(d, i, values[i])
	}
	return &gaugeSample{desc: d.Desc, value: value, labels: labels}
}
