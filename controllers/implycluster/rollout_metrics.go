package implycluster

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Rollout metrics: how often clusters roll, which groups, and which wait for a window.
var (
	rolloutsStarted = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "imply_operator_rollouts_started_total",
		Help: "Rolling restarts started, by why they roll (SpecChanged, RestartRequested, MaintenanceWindowOpen, ...).",
	}, []string{labelNamespace, labelCluster, "reason"})
	rolloutGroupStarts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "imply_operator_rollout_group_restarts_total",
		Help: "Pod-template changes the operator made to one node group (or the manager) during rollouts.",
	}, []string{labelNamespace, labelCluster, "group", "reason"})
	rolloutPending = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "imply_operator_rollout_pending",
		Help: "1 while a cluster's restart waits (maintenance window or paused), else 0.",
	}, []string{labelNamespace, labelCluster})
)

func init() {
	metrics.Registry.MustRegister(rolloutsStarted, rolloutGroupStarts, rolloutPending)
}

// forgetRolloutMetrics drops the series of a cluster that is gone.
func forgetRolloutMetrics(namespace, cluster string) {
	labels := prometheus.Labels{labelNamespace: namespace, labelCluster: cluster}
	rolloutsStarted.DeletePartialMatch(labels)
	rolloutGroupStarts.DeletePartialMatch(labels)
	rolloutPending.DeletePartialMatch(labels)
}
