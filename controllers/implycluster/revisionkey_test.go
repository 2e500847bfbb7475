package implycluster

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

var _ = Describe("The revision key", func() {
	It("is generated once, keyed into the revisions, and never taken from a Secret the cluster does not own", func() {
		ns := newNamespace("ic-revkey")
		createSecrets(ns)
		c := testobj.ImplyCluster("c", ns)
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		var key corev1.Secret
		Eventually(func() error {
			return k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: specs.RevisionKeyName("c")}, &key)
		}).WithTimeout(settle).Should(Succeed())
		Expect(key.Data[specs.RevisionKeyKey]).To(HaveLen(specs.RevisionKeyBytes))
		Expect(metav1.IsControlledBy(&key, c)).To(BeTrue())
		waitQuiet(ns)
		tls := getSecret(ns, "c-data-tls")
		want, err := specs.SecretRevision(key.Data[specs.RevisionKeyKey], map[string][]byte{
			"bundle": []byte(caBundle(ns)), specs.TLSCertKey: tls.Data[specs.TLSCertKey], specs.TLSPrivateKeyKey: tls.Data[specs.TLSPrivateKeyKey],
			specs.TLSCAKey: tls.Data[specs.TLSCAKey], specs.KeystorePasswordKey: tls.Data[specs.KeystorePasswordKey]})
		Expect(err).NotTo(HaveOccurred())
		Expect(tlsRevision(ns, "data")).To(Equal(want), "the tls-revision is not the HMAC of what the pods mount")

		By("refusing a revision key Secret someone else created")
		other := newNamespace("ic-revkey-foreign")
		createSecrets(other)
		foreign := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: specs.RevisionKeyName("c"), Namespace: other},
			Data: map[string][]byte{specs.RevisionKeyKey: []byte("0123456789abcdef0123456789abcdef")}}
		Expect(k8sClient.Create(testCtx, foreign)).To(Succeed())
		c2 := testobj.ImplyCluster("c", other)
		Expect(k8sClient.Create(testCtx, c2)).To(Succeed())
		Eventually(func(g Gomega) {
			cond := condition(g, c2, implyv1alpha1.ConditionReady)
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.Reason).To(Equal(implyv1alpha1.ReasonNameConflict))
		}).WithTimeout(settle).Should(Succeed())
		Expect(apierrors.IsNotFound(k8sClient.Get(testCtx, client.ObjectKey{Namespace: other, Name: "c-data"}, &appsv1.StatefulSet{}))).To(BeTrue())
		var still corev1.Secret
		Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(foreign), &still)).To(Succeed())
		Expect(still.OwnerReferences).To(BeEmpty())
		Expect(still.Data).To(Equal(foreign.Data))
	})
})

// caBundle reads the CA bundle of cluster "c".
func caBundle(ns string) string {
	var cm corev1.ConfigMap
	ExpectWithOffset(1, k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: specs.CABundleName("c")}, &cm)).To(Succeed())
	return cm.Data[specs.TLSCAKey]
}
