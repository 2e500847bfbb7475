package implycluster

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// collectGarbage deletes what the garbage collector would once the owner of uid is gone
// (envtest runs no garbage collector): every object of ns with an owner reference to uid.
func collectGarbage(ns string, uid types.UID) {
	GinkgoHelper()
	for _, list := range []client.ObjectList{&corev1.SecretList{}, &corev1.ConfigMapList{}, &corev1.ServiceList{},
		&appsv1.StatefulSetList{}, &appsv1.DeploymentList{}, &policyv1.PodDisruptionBudgetList{}} {
		Expect(k8sClient.List(testCtx, list, client.InNamespace(ns))).To(Succeed())
		items, err := meta.ExtractList(list)
		Expect(err).NotTo(HaveOccurred())
		for _, item := range items {
			obj := item.(client.Object)
			for _, ref := range obj.GetOwnerReferences() {
				if ref.UID == uid {
					Expect(client.IgnoreNotFound(k8sClient.Delete(testCtx, obj))).To(Succeed())
				}
			}
		}
	}
}

// retainedNames are the Secrets retainOnDelete keeps for cluster c with mutual TLS and auth.
var retainedNames = []string{"c-ca", "c-client-ca", "c-druid-credentials"}

var _ = Describe("retainOnDelete", func() {
	It("keeps the CA, client CA and Druid credentials of a deleted cluster, and a cluster of the same name reuses them", func() {
		ns := newNamespace("retain")
		createSecrets(ns)
		createAuthInputs(ns, 12, "agent-token-0123456789")
		c := testobj.ImplyCluster("c", ns, testobj.WithAuth("agent", "strict"), withMutualTLS())
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		Eventually(func(g Gomega) {
			expectConditionTrue(g, c, implyv1alpha1.ConditionAuthReady)
			expectConditionTrue(g, c, implyv1alpha1.ConditionCertificatesReady)
		}).WithTimeout(settle).Should(Succeed())
		waitQuiet(ns)
		kept := map[string]map[string][]byte{}
		for _, n := range retainedNames {
			s := getSecret(ns, n)
			Expect(s.OwnerReferences).To(BeEmpty(), n)
			Expect(s.Annotations).To(HaveKeyWithValue(implyv1alpha1.AnnotationRetainedFor, "ImplyCluster/"+ns+"/c"), n)
			kept[n] = s.Data
		}
		for _, n := range []string{"c-revision-key", "c-data-tls"} {
			Expect(metav1.IsControlledBy(getSecret(ns, n), c)).To(BeTrue(), n)
		}

		By("deleting the cluster, then creating it again")
		Expect(k8sClient.Delete(testCtx, c)).To(Succeed())
		Eventually(func() error {
			return k8sClient.Get(testCtx, client.ObjectKeyFromObject(c), &implyv1alpha1.ImplyCluster{})
		}).WithTimeout(settle).Should(Satisfy(apierrors.IsNotFound))
		collectGarbage(ns, c.UID)
		for _, n := range retainedNames {
			Expect(getSecret(ns, n).Data).To(Equal(kept[n]), n)
		}
		again := testobj.ImplyCluster("c", ns, testobj.WithAuth("agent", "strict"), withMutualTLS())
		Expect(k8sClient.Create(testCtx, again)).To(Succeed())
		Eventually(func(g Gomega) {
			expectConditionTrue(g, again, implyv1alpha1.ConditionAuthReady)
			expectConditionTrue(g, again, implyv1alpha1.ConditionCertificatesReady)
		}).WithTimeout(settle).Should(Succeed())
		waitQuiet(ns)
		for _, n := range retainedNames {
			Expect(getSecret(ns, n).Data).To(Equal(kept[n]), "%s is not reused", n)
		}
		Expect(getSecret(ns, "c-data-tls").Data[specs.TLSCAKey]).To(Equal(kept["c-ca"][specs.CACertKey]), "leaves are signed by the kept CA")

		By("owning them (deleted with the cluster) with retainOnDelete: false")
		patch := client.MergeFrom(again.DeepCopy())
		again.Spec.Security.RetainOnDelete = ptr.To(false)
		Expect(k8sClient.Patch(testCtx, again, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			for _, n := range retainedNames {
				var s corev1.Secret
				g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: n}, &s)).To(Succeed())
				g.Expect(metav1.IsControlledBy(&s, again)).To(BeTrue(), n)
				g.Expect(s.Annotations).NotTo(HaveKey(implyv1alpha1.AnnotationRetainedFor), n)
			}
		}).WithTimeout(settle).Should(Succeed())

		By("releasing them again with retainOnDelete: true")
		patch = client.MergeFrom(again.DeepCopy())
		again.Spec.Security.RetainOnDelete = ptr.To(true)
		Expect(k8sClient.Patch(testCtx, again, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			for _, n := range retainedNames {
				var s corev1.Secret
				g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: n}, &s)).To(Succeed())
				g.Expect(s.OwnerReferences).To(BeEmpty(), n)
				g.Expect(s.Annotations).To(HaveKeyWithValue(implyv1alpha1.AnnotationRetainedFor, "ImplyCluster/"+ns+"/c"), n)
			}
		}).WithTimeout(settle).Should(Succeed())
		for _, n := range retainedNames {
			Expect(getSecret(ns, n).Data).To(Equal(kept[n]), n)
		}
	})
})
