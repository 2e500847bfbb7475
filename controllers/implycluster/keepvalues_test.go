package implycluster

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// dropManagedByLabel removes app.kubernetes.io/managed-by from a Secret, as a hand edit or a
// tool that rewrites labels would.
func dropManagedByLabel(ns, name string) {
	GinkgoHelper()
	s := getSecret(ns, name)
	patch := client.MergeFrom(s.DeepCopy())
	delete(s.Labels, specs.LabelManagedBy)
	Expect(k8sClient.Patch(testCtx, s, patch)).To(Succeed())
}

// expectConditionTrue asserts c's condition condType is present and True.
func expectConditionTrue(g Gomega, c *implyv1alpha1.ImplyCluster, condType string) {
	cond := condition(g, c, condType)
	g.Expect(cond).NotTo(BeNil(), condType)
	g.Expect(cond.Status).To(Equal(metav1.ConditionTrue), cond.Message)
}

// expectConditionReason asserts c's condition condType is present with reason.
func expectConditionReason(g Gomega, c *implyv1alpha1.ImplyCluster, condType, reason string) {
	cond := condition(g, c, condType)
	g.Expect(cond).NotTo(BeNil(), condType)
	g.Expect(cond.Reason).To(Equal(reason), cond.Message)
}

var _ = Describe("Generated secret material", func() {
	It("is never generated again over what the apiserver has: a Secret that lost its label gets it back with the same bytes", func() {
		ns := newNamespace("keep-values")
		createSecrets(ns)
		createAuthInputs(ns, 12, "unused-user-token-0123")
		Expect(k8sClient.Create(testCtx, &implyv1alpha1.AuthToken{
			ObjectMeta: metav1.ObjectMeta{Name: "generated", Namespace: ns},
			Spec:       implyv1alpha1.AuthTokenSpec{Type: implyv1alpha1.AuthTokenAgent},
		})).To(Succeed())
		c := testobj.ImplyCluster("c", ns, testobj.WithAuth("generated", "strict"))
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		names := []string{"c-druid-credentials", "c-data-tls", "c-manager-tls", "generated-token"}
		Eventually(func(g Gomega) {
			expectConditionTrue(g, c, implyv1alpha1.ConditionAuthReady)
			expectConditionTrue(g, c, implyv1alpha1.ConditionCertificatesReady)
			for _, n := range names {
				g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: n}, &corev1.Secret{})).To(Succeed(), n)
			}
		}).WithTimeout(settle).Should(Succeed())
		waitQuiet(ns)
		before := map[string]map[string][]byte{}
		for _, n := range names {
			before[n] = getSecret(ns, n).Data
		}
		Expect(before["c-data-tls"]).To(HaveKey(specs.KeystoreKey))

		for _, n := range names {
			dropManagedByLabel(ns, n)
		}
		// Wake the cluster as any later edit would; the AuthToken's own Secret wakes it already.
		patch := client.MergeFrom(c.DeepCopy())
		c.Annotations = map[string]string{"test/nudge": "1"}
		Expect(k8sClient.Patch(testCtx, c, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			for _, n := range names {
				var s corev1.Secret
				g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: n}, &s)).To(Succeed())
				g.Expect(s.Labels).To(HaveKeyWithValue(specs.LabelManagedBy, specs.ManagedBy), n)
			}
		}).WithTimeout(settle).Should(Succeed())
		waitQuiet(ns)
		for _, n := range names {
			Expect(getSecret(ns, n).Data).To(Equal(before[n]), "%s changed its values", n)
		}

		By("generating only a key that was deleted")
		s := getSecret(ns, "c-druid-credentials")
		patch = client.MergeFrom(s.DeepCopy())
		delete(s.Data, specs.DruidInternalClientPasswordKey)
		Expect(k8sClient.Patch(testCtx, s, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			var now corev1.Secret
			g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(s), &now)).To(Succeed())
			g.Expect(now.Data[specs.DruidInternalClientPasswordKey]).NotTo(BeEmpty())
		}).WithTimeout(settle).Should(Succeed())
		waitQuiet(ns)
		after := getSecret(ns, "c-druid-credentials").Data
		Expect(after[specs.DruidAdminPasswordKey]).To(Equal(before["c-druid-credentials"][specs.DruidAdminPasswordKey]))
		Expect(after[specs.DruidInternalClientPasswordKey]).NotTo(Equal(before["c-druid-credentials"][specs.DruidInternalClientPasswordKey]))
		Consistently(func() map[string][]byte { return getSecret(ns, "c-druid-credentials").Data }).
			WithTimeout(2 * time.Second).Should(Equal(after))
	})
})
