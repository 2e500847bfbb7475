package druidconn

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Requests counts the operator's requests to Druid's basic-security API by cluster, method
// and answer ("error" when none came), so failing or chatty syncs show.
var Requests = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "imply_operator_druid_api_requests_total",
	Help: "Requests the operator sent to Druid's basic-security API, by cluster, method and status code.",
}, []string{"namespace", "cluster", "method", "code"})

func init() {
	metrics.Registry.MustRegister(Requests)
}

// countDruidRequests is a druid.Config OnRequest hook counting requests for one cluster.
func countDruidRequests(namespace, cluster string) func(method, code string) {
	return func(method, code string) {
		Requests.WithLabelValues(namespace, cluster, method, code).Inc()
	}
}
