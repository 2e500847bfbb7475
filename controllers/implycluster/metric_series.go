package implycluster

import (
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
)

// series is one series of a cluster: its label values after namespace and cluster, and its value.
type series struct {
	labels []string
	value  float64
}

// seriesPublisher publishes the series of one GaugeVec per cluster and deletes, by their exact
// labels, those it published for the cluster before and not again. Replacing a cluster's series
// with DeletePartialMatch would walk every series of every cluster on each reconcile: n² over a
// resync of n clusters, and garbage for each series re-created.
type seriesPublisher struct {
	vec       *prometheus.GaugeVec
	mu        sync.Mutex
	published map[types.NamespacedName]map[string][]string
}

func newSeriesPublisher(vec *prometheus.GaugeVec) *seriesPublisher {
	return &seriesPublisher{vec: vec, published: map[types.NamespacedName]map[string][]string{}}
}

// publish makes all the cluster's series of the vector exactly these.
func (s *seriesPublisher) publish(namespace, cluster string, all []series) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := types.NamespacedName{Namespace: namespace, Name: cluster}
	before := s.published[key]
	now := make(map[string][]string, len(all))
	for _, one := range all {
		values := append([]string{namespace, cluster}, one.labels...)
		s.vec.WithLabelValues(values...).Set(one.value)
		now[strings.Join(one.labels, "\xff")] = values
	}
	for id, values := range before {
		if _, kept := now[id]; !kept {
			s.vec.DeleteLabelValues(values...)
		}
	}
	if len(now) == 0 {
		delete(s.published, key)
		return
	}
	s.published[key] = now
}

// forget deletes every series of a cluster that is gone.
func (s *seriesPublisher) forget(namespace, cluster string) {
	s.publish(namespace, cluster, nil)
	s.vec.DeletePartialMatch(clusterLabels(namespace, cluster))
}
