package implycluster

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/imply-operator/imply-operator/test/testobj"
)

// clusterSeries returns the series of metric for namespace ns the operator serves, as label maps
// with their values.
func clusterSeries(g Gomega, metric, ns string) []map[string]any {
	families, err := textGatherer(g, clusterMetrics).Gather()
	g.Expect(err).NotTo(HaveOccurred())
	var out []map[string]any
	for _, f := range families {
		if f.GetName() != metric {
			continue
		}
		for _, m := range f.GetMetric() {
			series := map[string]any{"value": m.GetGauge().GetValue()}
			for _, l := range m.GetLabel() {
				series[l.GetName()] = l.GetValue()
			}
			if series["namespace"] == ns {
				out = append(out, series)
			}
		}
	}
	return out
}

var _ = Describe("ImplyCluster metrics", func() {
	It("publishes the cluster's conditions, CA and renewal times and rollout phase, and drops them with the cluster", func() {
		ns := newNamespace("metrics")
		createSecrets(ns)
		c := testobj.ImplyCluster("c", ns)
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		waitCertificatesReady(c)

		Eventually(func(g Gomega) {
			g.Expect(clusterSeries(g, "imply_operator_cluster_condition", ns)).To(ContainElement(And(
				HaveKeyWithValue("cluster", "c"), HaveKeyWithValue("type", "CertificatesReady"),
				HaveKeyWithValue("status", "True"), HaveKeyWithValue("value", 1.0))))
			g.Expect(clusterSeries(g, "imply_operator_cluster_condition_last_transition_timestamp_seconds", ns)).To(ContainElement(
				HaveKeyWithValue("type", "CertificatesReady")))
			g.Expect(clusterSeries(g, "imply_operator_ca_expiry_timestamp_seconds", ns)).To(ConsistOf(
				And(HaveKeyWithValue("cluster", "c"), HaveKey("serial"), HaveKeyWithValue("value", BeNumerically(">", 0)))))
			g.Expect(clusterSeries(g, "imply_operator_certificate_renewal_timestamp_seconds", ns)).To(ContainElement(
				HaveKeyWithValue("secret", "c-data-tls")))
			g.Expect(clusterSeries(g, "imply_operator_rollout_phase", ns)).To(HaveLen(3), "Idle, Pending and Rolling")
			g.Expect(clusterSeries(g, "imply_operator_rollout_halted", ns)).To(ConsistOf(HaveKeyWithValue("value", 0.0)))
		}).WithTimeout(settle).Should(Succeed())

		By("deleting the cluster: its series go")
		Expect(k8sClient.Delete(testCtx, c)).To(Succeed())
		Eventually(func(g Gomega) {
			for _, metric := range []string{"imply_operator_cluster_condition", "imply_operator_ca_expiry_timestamp_seconds",
				"imply_operator_certificate_renewal_timestamp_seconds", "imply_operator_rollout_phase", "imply_operator_rollout_halted"} {
				g.Expect(clusterSeries(g, metric, ns)).To(BeEmpty(), metric)
			}
		}).WithTimeout(settle).Should(Succeed())
	})
})
