package implycluster

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestSeriesPublisherReplacesOnlyItsClustersSeries(t *testing.T) {
	vec := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "test_series"}, []string{labelNamespace, labelCluster, "secret"})
	p := newSeriesPublisher(vec)
	p.publish("ns", "a", []series{{labels: []string{"a-data-tls"}, value: 1}, {labels: []string{"a-query-tls"}, value: 2}})
	p.publish("ns", "b", []series{{labels: []string{"b-data-tls"}, value: 3}})
	if n := testutil.CollectAndCount(vec); n != 3 {
		t.Fatalf("%d series, want 3", n)
	}
	p.publish("ns", "a", []series{{labels: []string{"a-data-tls"}, value: 5}})
	if n := testutil.CollectAndCount(vec); n != 2 {
		t.Errorf("%d series after a's query leaf went, want 2", n)
	}
	if v := testutil.ToFloat64(vec.WithLabelValues("ns", "a", "a-data-tls")); v != 5 {
		t.Errorf("a's data leaf = %v, want 5", v)
	}
	p.forget("ns", "a")
	if n := testutil.CollectAndCount(vec); n != 1 {
		t.Errorf("%d series after a was forgotten, want b's only", n)
	}
	if v := testutil.ToFloat64(vec.WithLabelValues("ns", "b", "b-data-tls")); v != 3 {
		t.Errorf("b's series changed: %v", v)
	}
	if len(p.published) != 1 {
		t.Errorf("remembers %d clusters, want 1", len(p.published))
	}
}
