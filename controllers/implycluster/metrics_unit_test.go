package implycluster

import (
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
)

// TestClusterMetrics checks the series an alert or dashboard reads from a cluster's status:
// conditions, certificate expiry and renewal, CA expiry, rollout phase, halt and next window,
// and that they go with the cluster.
func TestClusterMetrics(t *testing.T) {
	g := NewWithT(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *metav1.Time { v := metav1.NewTime(now.Add(d)); return &v }
	ca, err := pki.CreateRootCA(clocktesting.NewFakePassiveClock(now), "metrics-ca", implyv1alpha1.KeyAlgorithmECDSAP256, 240*time.Hour)
	g.Expect(err).NotTo(HaveOccurred())

	c := &implyv1alpha1.ImplyCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "metrics-ns", Name: "m"}}
	c.Spec.Security = &implyv1alpha1.SecuritySpec{TLS: &implyv1alpha1.TLSSpec{Enabled: true}}
	c.Status.Conditions = []metav1.Condition{
		{Type: implyv1alpha1.ConditionReady, Status: metav1.ConditionFalse},
		{Type: implyv1alpha1.ConditionDegraded, Status: metav1.ConditionTrue, LastTransitionTime: *at(-time.Hour)},
	}
	c.Status.Certificates = []implyv1alpha1.CertificateStatus{{SecretName: "m-data-tls", NotAfter: at(48 * time.Hour), RenewalTime: at(-time.Hour)}}
	c.Status.Rollout = &implyv1alpha1.RolloutStatus{Phase: implyv1alpha1.RolloutPending, NextWindow: at(3 * time.Hour)}

	recordClusterMetrics(c, &tlsMaterial{BundlePEM: pki.BundlePEM(ca.Certificate)})
	expected := `
# HELP imply_operator_cluster_condition 1 when the ImplyCluster's condition type has this status (True, False or Unknown), else 0.
# TYPE imply_operator_cluster_condition gauge
imply_operator_cluster_condition{cluster="m",namespace="metrics-ns",status="False",type="Degraded"} 0
imply_operator_cluster_condition{cluster="m",namespace="metrics-ns",status="False",type="Ready"} 1
imply_operator_cluster_condition{cluster="m",namespace="metrics-ns",status="True",type="Degraded"} 1
imply_operator_cluster_condition{cluster="m",namespace="metrics-ns",status="True",type="Ready"} 0
imply_operator_cluster_condition{cluster="m",namespace="metrics-ns",status="Unknown",type="Degraded"} 0
imply_operator_cluster_condition{cluster="m",namespace="metrics-ns",status="Unknown",type="Ready"} 0
`
	g.Expect(testutil.CollectAndCompare(clusterCondition, strings.NewReader(expected))).To(Succeed())
	g.Expect(testutil.ToFloat64(conditionSince.WithLabelValues("metrics-ns", "m", "Degraded"))).To(Equal(float64(now.Add(-time.Hour).Unix())))
	g.Expect(testutil.ToFloat64(certificateExpiry.WithLabelValues("metrics-ns", "m", "m-data-tls"))).To(Equal(float64(now.Add(48 * time.Hour).Unix())))
	g.Expect(testutil.ToFloat64(certificateRenewal.WithLabelValues("metrics-ns", "m", "m-data-tls"))).To(Equal(float64(now.Add(-time.Hour).Unix())))
	g.Expect(testutil.ToFloat64(caExpiry.WithLabelValues("metrics-ns", "m", ca.Certificate.SerialNumber.Text(16)))).
		To(Equal(float64(ca.Certificate.NotAfter.Unix())))
	g.Expect(testutil.ToFloat64(rolloutPhase.WithLabelValues("metrics-ns", "m", "Pending"))).To(Equal(1.0))
	g.Expect(testutil.ToFloat64(rolloutPhase.WithLabelValues("metrics-ns", "m", "Idle"))).To(Equal(0.0))
	g.Expect(testutil.ToFloat64(rolloutNextWindow.WithLabelValues("metrics-ns", "m"))).To(Equal(float64(now.Add(3 * time.Hour).Unix())))
	g.Expect(testutil.ToFloat64(rolloutHalted.WithLabelValues("metrics-ns", "m"))).To(Equal(0.0))

	t.Run("a halted rollout and a condition that went away", func(t *testing.T) {
		g := NewWithT(t)
		c.Status.Conditions = c.Status.Conditions[:1]
		c.Status.Rollout = &implyv1alpha1.RolloutStatus{Phase: implyv1alpha1.RolloutRolling, Reason: implyv1alpha1.ReasonProgressDeadlineExceeded}
		recordClusterMetrics(c, nil)
		g.Expect(testutil.CollectAndCount(clusterCondition)).To(Equal(3), "only Ready's three statuses")
		g.Expect(testutil.CollectAndCount(conditionSince)).To(Equal(1))
		g.Expect(testutil.ToFloat64(rolloutHalted.WithLabelValues("metrics-ns", "m"))).To(Equal(1.0))
		g.Expect(testutil.CollectAndCount(rolloutNextWindow)).To(Equal(0), "no window once rolling")
		g.Expect(testutil.CollectAndCount(caExpiry)).To(Equal(1), "without TLS material the CAs published before stay")
	})

	t.Run("without TLS the CA series go; a deleted cluster has none left", func(t *testing.T) {
		g := NewWithT(t)
		c.Spec.Security.TLS.Enabled = false
		recordClusterMetrics(c, nil)
		g.Expect(testutil.CollectAndCount(caExpiry)).To(Equal(0))
		forgetClusterMetrics("metrics-ns", "m")
		g.Expect(testutil.CollectAndCount(clusterCondition)).To(Equal(0))
		g.Expect(testutil.CollectAndCount(conditionSince)).To(Equal(0))
		g.Expect(testutil.CollectAndCount(certificateExpiry)).To(Equal(0))
		g.Expect(testutil.CollectAndCount(certificateRenewal)).To(Equal(0))
		g.Expect(testutil.CollectAndCount(rolloutPhase)).To(Equal(0))
		g.Expect(testutil.CollectAndCount(rolloutHalted)).To(Equal(0))
	})
}
