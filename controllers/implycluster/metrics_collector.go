package implycluster

import (
	"cmp"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
)

// clusterMetricsCollector serves the cluster metrics: it keeps one snapshot per cluster and
// writes the series from them at each scrape (WriteText), so no series outlives a scrape.
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

// Describe sends the descriptors of the eight cluster metrics: registered, the collector
// reserves their names in the operator's registry, so no other metric can take one.
func (m *clusterMetricsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range clusterDescs {
		ch <- d.Desc
	}
}

// Collect sends nothing: the registry would build every series as a dto.Metric and hold them
// all until the scrape is served. WriteText writes them at /metrics (see internal/exposition).
func (m *clusterMetricsCollector) Collect(chan<- prometheus.Metric) {}

// clusterEntry is the snapshot of one cluster, as a scrape reads it.
type clusterEntry struct {
	key  types.NamespacedName
	snap clusterSnapshot
}

// WriteText writes the series of every cluster in the Prometheus text format, from a copy of
// the snapshots taken under the lock (snapshots are replaced, never changed, so the copy shares
// their slices), clusters in the order of namespace and name.
func (m *clusterMetricsCollector) WriteText(w io.Writer) error {
	m.mu.RLock()
	all := make([]clusterEntry, 0, len(m.clusters))
	for key, snap := range m.clusters {
		all = append(all, clusterEntry{key, snap})
	}
	m.mu.RUnlock()
	slices.SortFunc(all, func(a, b clusterEntry) int {
		return cmp.Or(strings.Compare(a.key.Namespace, b.key.Namespace), strings.Compare(a.key.Name, b.key.Name))
	})
	return writeClusterFamilies(w, clusterDescs, all)
}
