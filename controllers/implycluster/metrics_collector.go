package implycluster

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
)

// clusterMetricsCollector serves the cluster metrics: it keeps one snapshot per cluster and
// builds the series from them at each scrape, so no series outlives a scrape.
type clusterMetricsCollector struct {
	mu       sync.RWMutex
	clusters map[types.NamespacedName]clusterSnapshot
}

var _ prometheus.Collector = &clusterMetricsCollector{}

func newClusterMetricsCollector() *clusterMetricsCollector {
	return &clusterMetricsCollector{clusters: map[types.NamespacedName]clusterSnapshot{}}
}

// record replaces the snapshot of a cluster; with keepCAs the CAs stored before stay.
func (m *clusterMetricsCollector) record(key types.NamespacedName, snap clusterSnapshot, keepCAs bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if keepCAs {
		snap.caExpiry = m.clusters[key].caExpiry
	}
	m.clusters[key] = snap
}

// forget drops the snapshot of a cluster that is gone.
func (m *clusterMetricsCollector) forget(key types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.clusters, key)
}

// Describe sends the descriptors of the eight cluster metrics.
func (m *clusterMetricsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []clusterDesc{certificateExpiryDesc, certificateRenewalDesc, caExpiryDesc, clusterConditionDesc,
		conditionSinceDesc, rolloutPhaseDesc, rolloutHaltedDesc, rolloutNextWindowDesc} {
		ch <- d.Desc
	}
}

// Collect sends the series of every cluster, from a copy of the snapshots taken under the lock
// (snapshots are replaced, never changed, so the copy shares their slices).
func (m *clusterMetricsCollector) Collect(ch chan<- prometheus.Metric) {
	type entry struct {
		key  types.NamespacedName
		snap clusterSnapshot
	}
	m.mu.RLock()
	all := make([]entry, 0, len(m.clusters))
	for key, snap := range m.clusters {
		all = append(all, entry{key, snap})
	}
	m.mu.RUnlock()
	pairs := newLabelPairs()
	for _, e := range all {
		collectCluster(ch, pairs, e.key.Namespace, e.key.Name, &e.snap)
	}
}

// collectCluster sends the series of one cluster, their label pairs taken from pairs.
func collectCluster(ch chan<- prometheus.Metric, pairs *labelPairs, namespace, cluster string, s *clusterSnapshot) {
	pairs.startCluster(cluster)
	values := [4]string{namespace, cluster} // sample reads them: one buffer serves every series
	gauge := func(d clusterDesc, value float64, labels ...string) {
		n := 2 + copy(values[2:], labels)
		ch <- pairs.sample(d, value, values[:n])
	}
	for _, c := range s.conditions {
		gauge(conditionSinceDesc, float64(c.since), c.conditionType)
		for _, status := range conditionStatuses {
			gauge(clusterConditionDesc, oneIf(c.status == status), c.conditionType, string(status))
		}
	}
	for _, t := range s.certExpiry {
		gauge(certificateExpiryDesc, float64(t.unix), t.name)
	}
	for _, t := range s.certRenewal {
		gauge(certificateRenewalDesc, float64(t.unix), t.name)
	}
	for _, t := range s.caExpiry {
		gauge(caExpiryDesc, float64(t.unix), t.name)
	}
	for _, p := range rolloutPhases {
		gauge(rolloutPhaseDesc, oneIf(s.phase == p), string(p))
	}
	gauge(rolloutHaltedDesc, oneIf(s.halted))
	if s.hasNextWindow {
		gauge(rolloutNextWindowDesc, float64(s.nextWindow))
	}
}

// oneIf is 1 when b holds, else 0.
func oneIf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
