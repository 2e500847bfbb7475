package implycluster

import (
	"crypto/x509"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

var _ = Describe("Metadata-store TLS", func() {
	It("issues the store's client certificate from the cluster CA for the database user, mounts it and rolls on its revision", func() {
		ns := newNamespace("ic-mdtls")
		createSecrets(ns)
		c := testobj.ImplyCluster("c", ns)
		c.Spec.Druid.MetadataStore.TLS = &implyv1alpha1.MetadataStoreTLSSpec{
			ClientCertificate: &implyv1alpha1.ClientCertificateSpec{Generate: true}}
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())

		name := specs.MetadataTLSSecretName("c", specs.MetadataStoreDruid, true)
		var secret corev1.Secret
		Eventually(func() error {
			return k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: name}, &secret)
		}).WithTimeout(settle).Should(Succeed())
		Expect(secret.Type).To(Equal(corev1.SecretTypeTLS))
		Expect(metav1.IsControlledBy(&secret, c)).To(BeTrue())
		cert := parseCert(secret.Data[specs.TLSCertKey])
		Expect(cert.Subject.CommonName).To(Equal("druid"), "CN is the database user of credentialsSecretRef")
		Expect(cert.ExtKeyUsage).To(Equal([]x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}))
		ca := parseCert(getSecret(ns, specs.CASecretName("c")).Data[specs.CACertKey])
		Expect(cert.CheckSignatureFrom(ca)).To(Succeed(), "the client certificate is not the cluster CA's")
		for _, k := range []string{"tls.pk8", "keystore.p12", "truststore.p12", "keystore-password"} {
			Expect(secret.Data).To(HaveKey(k))
		}

		By("mounting it and carrying its revision on every group")
		var sts appsv1.StatefulSet
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-data"}, &sts)).To(Succeed())
			g.Expect(sts.Spec.Template.Annotations).To(HaveKey(specs.AnnotationMetadataTLSRevision))
		}).WithTimeout(settle).Should(Succeed())
		mounted := false
		for _, v := range sts.Spec.Template.Spec.Volumes {
			mounted = mounted || (v.Secret != nil && v.Secret.SecretName == name)
		}
		Expect(mounted).To(BeTrue(), "no volume of the store's TLS Secret")
		Eventually(func(g Gomega) {
			cond := condition(g, c, implyv1alpha1.ConditionCertificatesReady)
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(c.Status.Certificates).To(ContainElement(HaveField("SecretName", name)))
		}).WithTimeout(settle).Should(Succeed())
		waitQuiet(ns) // settled: no client certificate issued again and again
		Expect(getSecret(ns, name).Data[specs.TLSCertKey]).To(Equal(secret.Data[specs.TLSCertKey]))
	})

	It("refuses an expired user client certificate, naming it, and changes nothing", func() {
		ns := newNamespace("ic-mdtls-bad")
		createSecrets(ns)
		ca, err := pki.CreateRootCA(clock.RealClock{}, "db CA", implyv1alpha1.KeyAlgorithmECDSAP256, 24*time.Hour)
		Expect(err).NotTo(HaveOccurred())
		twoDaysAgo := clocktesting.NewFakePassiveClock(time.Now().Add(-48 * time.Hour))
		expired, err := ca.SignLeaf(twoDaysAgo, pki.ClientLeafRequest("druid", implyv1alpha1.KeyAlgorithmECDSAP256, time.Hour))
		Expect(err).NotTo(HaveOccurred())
		Expect(k8sClient.Create(testCtx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db-client", Namespace: ns},
			Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": expired.CertPEM, "tls.key": expired.KeyPEM}})).To(Succeed())
		Expect(k8sClient.Create(testCtx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db-ca", Namespace: ns},
			Data: map[string][]byte{"ca.crt": ca.CertPEM}})).To(Succeed())
		c := testobj.ImplyCluster("c", ns)
		c.Spec.Druid.MetadataStore.TLS = &implyv1alpha1.MetadataStoreTLSSpec{
			CASecretRef:       &implyv1alpha1.SecretKeySelector{Name: "db-ca"},
			ClientCertificate: &implyv1alpha1.ClientCertificateSpec{SecretRef: &implyv1alpha1.LocalObjectReference{Name: "db-client"}}}
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		Eventually(func(g Gomega) {
			cond := condition(g, c, implyv1alpha1.ConditionReady)
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.Reason).To(Equal(implyv1alpha1.ReasonInvalidMetadataStoreTLS))
			g.Expect(cond.Message).To(ContainSubstring("db-client"))
		}).WithTimeout(settle).Should(Succeed())
		// The recorder sends events on its own goroutine: the status can be there first.
		Eventually(func() []eventsv1.Event { return warningEvents(c, implyv1alpha1.ReasonInvalidMetadataStoreTLS) }).
			WithTimeout(settle).ShouldNot(BeEmpty())
		Expect(apierrors.IsNotFound(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-data"}, &appsv1.StatefulSet{}))).To(BeTrue(),
			"workloads were created around an unusable client certificate")
	})
})
