package implycluster

import (
	"crypto/x509"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"software.sslmate.com/src/go-pkcs12"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// groupTLSSecretNames are the node-group certificate Secrets of a default test cluster c.
var groupTLSSecretNames = []string{"c-master-tls", "c-query-tls", "c-data-tls"}

// withMutualTLS turns on requireClientCertificate (and TLS, when the spec does not say).
func withMutualTLS() testobj.ClusterOption {
	return func(c *implyv1alpha1.ImplyCluster) {
		if c.Spec.Security == nil {
			c.Spec.Security = &implyv1alpha1.SecuritySpec{}
		}
		if c.Spec.Security.TLS == nil {
			c.Spec.Security.TLS = &implyv1alpha1.TLSSpec{Enabled: true}
		}
		c.Spec.Security.TLS.RequireClientCertificate = true
	}
}

// expectClientMaterial checks the client CA Secret of cluster c and the client certificate of
// every node group: signed by the client CA and by nothing the serving CA (servingCA) signs,
// clientAuth only, named <cluster>-<group>-client, in a keystore with the client CA as chain and
// a truststore holding the client CA alone, both opened by keystore-password. The manager's
// Secret has none. It returns the client CA's certificate.
func expectClientMaterial(c *implyv1alpha1.ImplyCluster, servingCA *x509.Certificate) *x509.Certificate {
	ns := c.Namespace
	clientCASecret := getSecret(ns, "c-client-ca")
	ExpectWithOffset(1, clientCASecret.OwnerReferences).To(BeEmpty(), "the client CA is retained like c-ca (retainOnDelete)")
	ExpectWithOffset(1, clientCASecret.Annotations).To(HaveKeyWithValue(implyv1alpha1.AnnotationRetainedFor, "ImplyCluster/"+ns+"/c"))
	ExpectWithOffset(1, clientCASecret.Labels).To(HaveKeyWithValue("app.kubernetes.io/managed-by", "imply-operator"))
	ExpectWithOffset(1, clientCASecret.Data).To(HaveKey("ca.key"))
	clientCA := parseCert(clientCASecret.Data["ca.crt"])
	ExpectWithOffset(1, clientCA.IsCA).To(BeTrue())
	ExpectWithOffset(1, clientCA.Equal(servingCA)).To(BeFalse())
	clientRoots, servingRoots := x509.NewCertPool(), x509.NewCertPool()
	clientRoots.AddCert(clientCA)
	servingRoots.AddCert(servingCA)
	for _, name := range groupTLSSecretNames {
		s := getSecret(ns, name)
		leaf := parseCert(s.Data["client.crt"])
		ExpectWithOffset(1, leaf.Subject.CommonName).To(Equal(name[:len(name)-len("-tls")]+"-client"), name)
		ExpectWithOffset(1, leaf.ExtKeyUsage).To(Equal([]x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}), name)
		_, err := leaf.Verify(x509.VerifyOptions{Roots: clientRoots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
		ExpectWithOffset(1, err).NotTo(HaveOccurred(), name)
		_, err = leaf.Verify(x509.VerifyOptions{Roots: servingRoots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		ExpectWithOffset(1, err).To(HaveOccurred(), "%s: the client certificate is not the serving CA's", name)
		_, err = parseCert(s.Data["tls.crt"]).Verify(x509.VerifyOptions{Roots: clientRoots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		ExpectWithOffset(1, err).To(HaveOccurred(), "%s: the serving certificate is not the client CA's", name)
		ExpectWithOffset(1, s.Data["client-ca.crt"]).To(Equal(clientCASecret.Data["ca.crt"]), name)
		_, err = pki.ParseKeyPair(s.Data["client.crt"], s.Data["client.key"])
		ExpectWithOffset(1, err).NotTo(HaveOccurred(), name)

		password := string(s.Data["keystore-password"])
		key, cert, chain, err := pkcs12.DecodeChain(s.Data["client-keystore.p12"], password)
		ExpectWithOffset(1, err).NotTo(HaveOccurred(), name)
		ExpectWithOffset(1, key).NotTo(BeNil())
		ExpectWithOffset(1, cert.Equal(leaf)).To(BeTrue(), name)
		ExpectWithOffset(1, chain).To(HaveLen(1))
		ExpectWithOffset(1, chain[0].Equal(clientCA)).To(BeTrue(), name)
		trusted, err := pkcs12.DecodeTrustStore(s.Data["client-truststore.p12"], password)
		ExpectWithOffset(1, err).NotTo(HaveOccurred(), name)
		ExpectWithOffset(1, trusted).To(HaveLen(1), "%s: the server truststore holds the client CA alone", name)
		ExpectWithOffset(1, trusted[0].Equal(clientCA)).To(BeTrue(), name)
	}
	manager := getSecret(ns, "c-manager-tls")
	for _, k := range specs.ClientMaterialKeys {
		ExpectWithOffset(1, manager.Data).NotTo(HaveKey(k), "the manager is no Druid process")
	}
	return clientCA
}

var _ = Describe("ImplyCluster client certificates (requireClientCertificate)", func() {
	It("generates a client CA once, signs a clientAuth-only certificate per node group with it, and keys it into the tls-revision", func() {
		ns := newNamespace("tls-mtls")
		createSecrets(ns)
		c := testobj.ImplyCluster("c", ns, withMutualTLS())
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		waitCertificatesReady(c)
		servingCA := parseCert(getSecret(ns, "c-ca").Data["ca.crt"])
		Eventually(func(g Gomega) {
			g.Expect(getSecret(ns, "c-data-tls").Data).To(HaveKey("client-keystore.p12"))
		}).WithTimeout(settle).Should(Succeed())
		clientCA := expectClientMaterial(c, servingCA)
		Eventually(func() []eventsv1.Event { return normalEvents(c, implyv1alpha1.EventCAGenerated) }).WithTimeout(settle).
			Should(ContainElement(HaveField("Note", ContainSubstring("client CA in Secret c-client-ca"))))

		By("keying the client certificate into the tls-revision")
		waitQuiet(ns)
		tls := getSecret(ns, "c-data-tls")
		key := getSecret(ns, specs.RevisionKeyName("c")).Data[specs.RevisionKeyKey]
		want, err := specs.SecretRevision(key, map[string][]byte{
			"bundle": []byte(caBundle(ns)), specs.TLSCertKey: tls.Data[specs.TLSCertKey], specs.TLSPrivateKeyKey: tls.Data[specs.TLSPrivateKeyKey],
			specs.TLSCAKey: tls.Data[specs.TLSCAKey], specs.KeystorePasswordKey: tls.Data[specs.KeystorePasswordKey],
			specs.ClientCertKey: tls.Data[specs.ClientCertKey], specs.ClientPrivateKeyKey: tls.Data[specs.ClientPrivateKeyKey],
			specs.ClientCAKey: tls.Data[specs.ClientCAKey]})
		Expect(err).NotTo(HaveOccurred())
		Expect(tlsRevision(ns, "data")).To(Equal(want))

		By("never regenerating the client CA when its Secret loses its labels")
		clientCASecret := getSecret(ns, "c-client-ca")
		clientCert := getSecret(ns, "c-data-tls").Data["client.crt"]
		unlabelled := clientCASecret.DeepCopy()
		unlabelled.Labels = nil
		Expect(k8sClient.Update(testCtx, unlabelled)).To(Succeed())
		Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(c), c)).To(Succeed())
		if c.Annotations == nil {
			c.Annotations = map[string]string{}
		}
		c.Annotations["test.imply.operator.dev/poke"] = "1"
		Expect(k8sClient.Update(testCtx, c)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(getSecret(ns, "c-client-ca").Labels).To(HaveKeyWithValue("app.kubernetes.io/managed-by", "imply-operator"))
		}).WithTimeout(settle).Should(Succeed())
		waitQuiet(ns)
		Expect(getSecret(ns, "c-client-ca").Data).To(Equal(clientCASecret.Data))
		Expect(getSecret(ns, "c-data-tls").Data["client.crt"]).To(Equal(clientCert))
		Expect(parseCert(getSecret(ns, "c-client-ca").Data["ca.crt"]).Equal(clientCA)).To(BeTrue())

		By("removing the client certificates, and keeping the client CA, when mutual TLS is turned off")
		before := tlsRevision(ns, "data")
		Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(c), c)).To(Succeed())
		c.Spec.Security.TLS.RequireClientCertificate = false
		Expect(k8sClient.Update(testCtx, c)).To(Succeed())
		Eventually(func(g Gomega) {
			for _, name := range groupTLSSecretNames {
				s := getSecret(ns, name)
				for _, k := range specs.ClientMaterialKeys {
					g.Expect(s.Data).NotTo(HaveKey(k), name)
				}
			}
		}).WithTimeout(settle).Should(Succeed())
		Eventually(func() string { return tlsRevision(ns, "data") }).WithTimeout(settle).ShouldNot(Equal(before))
		Expect(getSecret(ns, "c-client-ca").Data).To(Equal(clientCASecret.Data))
	})

	It("uses an operator-generated client CA whatever the serving CA: a user's CA, or a cert-manager issuer", func() {
		By("a user's CA")
		ns := newNamespace("tls-mtls-user")
		createSecrets(ns)
		userCA, err := pki.CreateRootCA(clocktesting.NewFakeClock(suiteClock.Now()), "user CA", implyv1alpha1.KeyAlgorithmECDSAP256, 24*time.Hour*365)
		Expect(err).NotTo(HaveOccurred())
		Expect(k8sClient.Create(testCtx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "corp-ca", Namespace: ns},
			Type:       corev1.SecretTypeTLS,
			Data:       map[string][]byte{"tls.crt": userCA.CertPEM, "tls.key": userCA.KeyPEM},
		})).To(Succeed())
		c := testobj.ImplyCluster("c", ns, func(c *implyv1alpha1.ImplyCluster) {
			c.Spec.Security = &implyv1alpha1.SecuritySpec{TLS: &implyv1alpha1.TLSSpec{
				Enabled: true, RequireClientCertificate: true,
				CA: &implyv1alpha1.CASpec{SecretRef: &implyv1alpha1.LocalObjectReference{Name: "corp-ca"}},
			}}
		})
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		waitCertificatesReady(c)
		Eventually(func(g Gomega) {
			g.Expect(getSecret(ns, "c-data-tls").Data).To(HaveKey("client-keystore.p12"))
		}).WithTimeout(settle).Should(Succeed())
		expectClientMaterial(c, userCA.Certificate)

		By("a cert-manager issuer")
		ns = newNamespace("tls-mtls-cm")
		createSecrets(ns)
		c = testobj.ImplyCluster("c", ns, withIssuer(), withMutualTLS())
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		waitForIssuer(c, leafSecretNames...)
		issuerCA := newTestIssuerCA()
		playIssuer(ns, issuerCA, leafSecretNames...)
		waitCertificatesReady(c)
		Eventually(func(g Gomega) {
			g.Expect(getSecret(ns, "c-data-tls").Data).To(HaveKey("client-keystore.p12"))
		}).WithTimeout(settle).Should(Succeed())
		expectClientMaterial(c, issuerCA.Certificate)

		By("keeping the client certificate when cert-manager renews the serving one")
		waitQuiet(ns)
		clientCert := getSecret(ns, "c-data-tls").Data["client.crt"]
		revision := tlsRevision(ns, "data")
		playIssuer(ns, issuerCA, "c-data-tls")
		Eventually(func() string { return tlsRevision(ns, "data") }).WithTimeout(settle).ShouldNot(Equal(revision))
		Expect(getSecret(ns, "c-data-tls").Data["client.crt"]).To(Equal(clientCert))
		expectClientMaterial(c, issuerCA.Certificate)
	})

	It("stops with CertificatesReady=False on an expired client CA, and never replaces it", func() {
		ns := newNamespace("tls-mtls-expired")
		createSecrets(ns)
		c := testobj.ImplyCluster("c", ns, withMutualTLS())
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		waitCertificatesReady(c)
		waitQuiet(ns)
		expired, err := pki.CreateRootCA(clocktesting.NewFakeClock(time.Now().Add(-48*time.Hour)), "old client CA", implyv1alpha1.KeyAlgorithmECDSAP256, 24*time.Hour)
		Expect(err).NotTo(HaveOccurred())
		secret := getSecret(ns, "c-client-ca")
		secret.Data = map[string][]byte{"ca.crt": expired.CertPEM, "ca.key": expired.KeyPEM}
		Expect(k8sClient.Update(testCtx, secret)).To(Succeed())
		Eventually(func(g Gomega) {
			cond := condition(g, c, implyv1alpha1.ConditionCertificatesReady)
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(cond.Reason).To(Equal(implyv1alpha1.ReasonInvalidCA))
			g.Expect(cond.Message).To(ContainSubstring(`the client CA in Secret "c-client-ca" expired`))
		}).WithTimeout(settle).Should(Succeed())
		Expect(getSecret(ns, "c-client-ca").Data).To(Equal(secret.Data), "never replaced")
	})
})
