package implycluster

import (
	"io"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// Labels every metric of a cluster carries.
const (
	labelNamespace = "namespace"
	labelCluster   = "cluster"
)

// Cluster metrics: what the status says, as series an alert or a dashboard can use. None of them
// carries a secret value: only names, condition types and statuses, timestamps and serials. The
// series are written at scrape time from a snapshot per cluster (clusterMetricsCollector).
var (
	// certificateExpiryDesc is the notAfter of every live certificate, per Secret, so an alert
	// can fire well before a certificate lapses.
	certificateExpiryDesc = newClusterDesc("imply_operator_certificate_expiry_timestamp_seconds",
		"Expiry (notAfter) of each certificate the operator keeps, as a Unix timestamp.",
		"secret")
	// certificateRenewalDesc is when the operator (or cert-manager) renews each certificate; a
	// time long past means the renewal is overdue.
	certificateRenewalDesc = newClusterDesc("imply_operator_certificate_renewal_timestamp_seconds",
		"When each certificate the operator keeps is due for renewal, as a Unix timestamp.",
		"secret")
	// caExpiryDesc is the notAfter of every CA the cluster trusts (<cluster>-ca-bundle).
	caExpiryDesc = newClusterDesc("imply_operator_ca_expiry_timestamp_seconds",
		"Expiry (notAfter) of each CA in the cluster's trust bundle (<cluster>-ca-bundle), by serial, as a Unix timestamp.",
		"serial")
	// clusterConditionDesc is 1 for the status each condition of a cluster has, 0 for the others.
	clusterConditionDesc = newClusterDesc("imply_operator_cluster_condition",
		"1 when the ImplyCluster's condition type has this status (True, False or Unknown), else 0.",
		"type", "status")
	// conditionSinceDesc is when each condition of a cluster last changed status, so an alert
	// can tell how long a restart has been pending.
	conditionSinceDesc = newClusterDesc("imply_operator_cluster_condition_last_transition_timestamp_seconds",
		"When the ImplyCluster's condition type last changed status, as a Unix timestamp.",
		"type")
	// rolloutPhaseDesc is 1 for the phase of a cluster's rollout, 0 for the others.
	rolloutPhaseDesc = newClusterDesc("imply_operator_rollout_phase",
		"1 when the cluster's rollout is in this phase (Idle, Pending or Rolling), else 0.",
		"phase")
	// rolloutHaltedDesc is 1 while a rollout is halted because a group missed its progress deadline.
	rolloutHaltedDesc = newClusterDesc("imply_operator_rollout_halted",
		"1 while the cluster's rollout is halted (a group missed its progress deadline), else 0.")
	// rolloutNextWindowDesc is the start of the maintenance window a pending rollout waits for.
	rolloutNextWindowDesc = newClusterDesc("imply_operator_rollout_next_window_timestamp_seconds",
		"Start of the maintenance window a pending rollout waits for, as a Unix timestamp; absent when none waits.")
)

// clusterDescs are the cluster metrics, in the order of their names.
var clusterDescs = []*clusterDesc{caExpiryDesc, certificateExpiryDesc, certificateRenewalDesc, clusterConditionDesc,
	conditionSinceDesc, rolloutHaltedDesc, rolloutNextWindowDesc, rolloutPhaseDesc}

// clusterMetrics holds the snapshot of every cluster the operator serves metrics for.
var clusterMetrics = newClusterMetricsCollector()

func init() {
	metrics.Registry.MustRegister(clusterMetrics)
}

// WriteClusterMetrics writes the series of every cluster in the Prometheus text format; the
// operator serves them at /metrics after the registry's (internal/exposition).
func WriteClusterMetrics(w io.Writer) error {
	return clusterMetrics.WriteText(w)
}

// recordClusterMetrics publishes c's status (conditions, certificates, rollout) and the CAs of
// the TLS material in effect, replacing what was published before for c. Without TLS material
// (an unusable CA) the CA series published before stay, as the status keeps its certificates.
func recordClusterMetrics(c *implyv1alpha1.ImplyCluster, tls *tlsMaterial) {
	clusterMetrics.recordCluster(c, tls)
}

// forgetClusterMetrics drops every series of a cluster that is gone.
func forgetClusterMetrics(namespace, cluster string) {
	clusterMetrics.forget(types.NamespacedName{Namespace: namespace, Name: cluster})
	forgetRolloutMetrics(namespace, cluster)
}

// recordCluster stores c's snapshot: the CAs of tls, none when TLS is disabled, and those stored
// before when TLS is enabled but there is no TLS material.
func (m *clusterMetricsCollector) recordCluster(c *implyv1alpha1.ImplyCluster, tls *tlsMaterial) {
	snap := snapshotClusterStatus(c)
	keepCAs := false
	switch {
	case !specs.TLSEnabled(c):
	case tls != nil:
		snap.caExpiry = caExpiries(tls.BundlePEM)
	default:
		keepCAs = true
	}
	m.record(types.NamespacedName{Namespace: c.Namespace, Name: c.Name}, snap, keepCAs)
}
