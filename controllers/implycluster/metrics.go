package implycluster

import (
	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// Labels every metric of a cluster carries.
const (
	labelNamespace = "namespace"
	labelCluster   = "cluster"
)

// Cluster metrics: what the status says, as series an alert or a dashboard can use. None of them
// carries a secret value: only names, condition types and statuses, timestamps and serials.
var (
	// certificateExpiry is the notAfter of every live certificate, per Secret, so an alert can
	// fire well before a certificate lapses.
	certificateExpiry = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "imply_operator_certificate_expiry_timestamp_seconds",
		Help: "Expiry (notAfter) of each certificate the operator keeps, as a Unix timestamp.",
	}, []string{labelNamespace, labelCluster, "secret"})
	// certificateRenewal is when the operator (or cert-manager) renews each certificate; a time
	// long past means the renewal is overdue.
	certificateRenewal = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "imply_operator_certificate_renewal_timestamp_seconds",
		Help: "When each certificate the operator keeps is due for renewal, as a Unix timestamp.",
	}, []string{labelNamespace, labelCluster, "secret"})
	// caExpiry is the notAfter of every CA the cluster trusts (<cluster>-ca-bundle).
	caExpiry = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "imply_operator_ca_expiry_timestamp_seconds",
		Help: "Expiry (notAfter) of each CA in the cluster's trust bundle (<cluster>-ca-bundle), by serial, as a Unix timestamp.",
	}, []string{labelNamespace, labelCluster, "serial"})
	// clusterCondition is 1 for the status each condition of a cluster has, 0 for the others.
	clusterCondition = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "imply_operator_cluster_condition",
		Help: "1 when the ImplyCluster's condition type has this status (True, False or Unknown), else 0.",
	}, []string{labelNamespace, labelCluster, "type", "status"})
	// conditionSince is when each condition of a cluster last changed status, so an alert can
	// tell how long a restart has been pending.
	conditionSince = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "imply_operator_cluster_condition_last_transition_timestamp_seconds",
		Help: "When the ImplyCluster's condition type last changed status, as a Unix timestamp.",
	}, []string{labelNamespace, labelCluster, "type"})
	// rolloutPhase is 1 for the phase of a cluster's rollout, 0 for the others.
	rolloutPhase = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "imply_operator_rollout_phase",
		Help: "1 when the cluster's rollout is in this phase (Idle, Pending or Rolling), else 0.",
	}, []string{labelNamespace, labelCluster, "phase"})
	// rolloutHalted is 1 while a rollout is halted because a group missed its progress deadline.
	rolloutHalted = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "imply_operator_rollout_halted",
		Help: "1 while the cluster's rollout is halted (a group missed its progress deadline), else 0.",
	}, []string{labelNamespace, labelCluster})
	// rolloutNextWindow is the start of the maintenance window a pending rollout waits for.
	rolloutNextWindow = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "imply_operator_rollout_next_window_timestamp_seconds",
		Help: "Start of the maintenance window a pending rollout waits for, as a Unix timestamp; absent when none waits.",
	}, []string{labelNamespace, labelCluster})
)

// conditionStatuses are the statuses clusterCondition has a series for, per condition type.
var conditionStatuses = []metav1.ConditionStatus{metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionUnknown}

// rolloutPhases are the phases rolloutPhase has a series for.
var rolloutPhases = []implyv1alpha1.RolloutPhase{implyv1alpha1.RolloutIdle, implyv1alpha1.RolloutPending, implyv1alpha1.RolloutRolling}

func init() {
	metrics.Registry.MustRegister(certificateExpiry, certificateRenewal, caExpiry, clusterCondition,
		conditionSince, rolloutPhase, rolloutHalted, rolloutNextWindow)
}

// Publishers of the cluster series: each replaces what it published for a cluster before.
var (
	certificateExpirySeries  = newSeriesPublisher(certificateExpiry)
	certificateRenewalSeries = newSeriesPublisher(certificateRenewal)
	caExpirySeries           = newSeriesPublisher(caExpiry)
	clusterConditionSeries   = newSeriesPublisher(clusterCondition)
	conditionSinceSeries     = newSeriesPublisher(conditionSince)
	rolloutPhaseSeries       = newSeriesPublisher(rolloutPhase)
	rolloutHaltedSeries      = newSeriesPublisher(rolloutHalted)
	rolloutNextWindowSeries  = newSeriesPublisher(rolloutNextWindow)
)

// recordClusterMetrics publishes c's status (conditions, certificates, rollout) and the CAs of
// the TLS material in effect, replacing what was published before for c. Without TLS material
// (an unusable CA) the CA series published before stay, as the status keeps its certificates.
func recordClusterMetrics(c *implyv1alpha1.ImplyCluster, tls *tlsMaterial) {
	recordCertificateExpiry(c, c.Status.Certificates)
	recordConditions(c)
	recordRolloutStatus(c)
	switch {
	case !specs.TLSEnabled(c):
		caExpirySeries.publish(c.Namespace, c.Name, nil)
	case tls != nil:
		recordCAExpiry(c, tls.BundlePEM)
	}
}

// forgetClusterMetrics drops every series of a cluster that is gone.
func forgetClusterMetrics(namespace, cluster string) {
	for _, s := range []*seriesPublisher{certificateExpirySeries, certificateRenewalSeries, caExpirySeries, clusterConditionSeries,
		conditionSinceSeries, rolloutPhaseSeries, rolloutHaltedSeries, rolloutNextWindowSeries} {
		s.forget(namespace, cluster)
	}
	forgetRolloutMetrics(namespace, cluster)
}

func clusterLabels(namespace, cluster string) prometheus.Labels {
	return prometheus.Labels{labelNamespace: namespace, labelCluster: cluster}
}

// recordCertificateExpiry publishes the expiry and renewal time of c's certificates, replacing
// what was published before for c.
func recordCertificateExpiry(c *implyv1alpha1.ImplyCluster, certs []implyv1alpha1.CertificateStatus) {
	var expiry, renewal []series
	for _, cert := range certs {
		if cert.NotAfter != nil {
			expiry = append(expiry, series{labels: []string{cert.SecretName}, value: float64(cert.NotAfter.Unix())})
		}
		if cert.RenewalTime != nil {
			renewal = append(renewal, series{labels: []string{cert.SecretName}, value: float64(cert.RenewalTime.Unix())})
		}
	}
	certificateExpirySeries.publish(c.Namespace, c.Name, expiry)
	certificateRenewalSeries.publish(c.Namespace, c.Name, renewal)
}

// recordCAExpiry publishes the expiry of every CA in the trust bundle; a bundle that does not
// parse publishes none.
func recordCAExpiry(c *implyv1alpha1.ImplyCluster, bundlePEM []byte) {
	cas, err := pki.ParseBundle(bundlePEM)
	var all []series
	if err == nil {
		for _, ca := range cas {
			all = append(all, series{labels: []string{ca.SerialNumber.Text(16)}, value: float64(ca.NotAfter.Unix())})
		}
	}
	caExpirySeries.publish(c.Namespace, c.Name, all)
}

// recordConditions publishes one series per condition type and status: 1 for the status the
// condition has, 0 for the others, and when each condition last changed. Types the cluster no longer has are dropped.
func recordConditions(c *implyv1alpha1.ImplyCluster) {
	var byStatus, since []series
	for _, cond := range c.Status.Conditions {
		since = append(since, series{labels: []string{cond.Type}, value: float64(cond.LastTransitionTime.Unix())})
		for _, status := range conditionStatuses {
			value := 0.0
			if cond.Status == status {
				value = 1
			}
			byStatus = append(byStatus, series{labels: []string{cond.Type, string(status)}, value: value})
		}
	}
	clusterConditionSeries.publish(c.Namespace, c.Name, byStatus)
	conditionSinceSeries.publish(c.Namespace, c.Name, since)
}

// recordRolloutStatus publishes the rollout's phase, whether it is halted, and the window a
// pending rollout waits for.
func recordRolloutStatus(c *implyv1alpha1.ImplyCluster) {
	phase, halted := implyv1alpha1.RolloutIdle, 0.0
	var window []series
	if r := c.Status.Rollout; r != nil {
		phase = r.Phase
		if r.Reason == implyv1alpha1.ReasonProgressDeadlineExceeded {
			halted = 1
		}
		if r.Phase == implyv1alpha1.RolloutPending && r.NextWindow != nil {
			window = []series{{value: float64(r.NextWindow.Unix())}}
		}
	}
	rolloutNextWindowSeries.publish(c.Namespace, c.Name, window)
	phases := make([]series, 0, len(rolloutPhases))
	for _, p := range rolloutPhases {
		value := 0.0
		if p == phase {
			value = 1
		}
		phases = append(phases, series{labels: []string{string(p)}, value: value})
	}
	rolloutPhaseSeries.publish(c.Namespace, c.Name, phases)
	rolloutHaltedSeries.publish(c.Namespace, c.Name, []series{{value: halted}})
}
