package druidrole

import (
	"crypto/tls"
	"crypto/x509"
	"net/url"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/testsuite"
	"github.com/imply-operator/imply-operator/pkg/druid/fakecoordinator"
	"github.com/imply-operator/imply-operator/pkg/pki"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

var _ = Describe("A coordinator that requires client certificates", func() {
	It("is reached with a client certificate of the cluster's client CA", func() {
		ns := testsuite.NewNamespace("drole-mtls")
		testsuite.CreateSecrets(ns)
		const admin = "Fake-Admin-Password-0123456789"
		Expect(k8sClient.Create(testCtx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "druid-admin", Namespace: ns},
			StringData: map[string]string{"admin-password": admin}})).To(Succeed())
		c := testobj.ImplyCluster("c", ns, testobj.WithAuth("", ""))
		c.Spec.Security.TLS.RequireClientCertificate = true
		c.Spec.Security.Auth.Druid.AdminPasswordSecretRef = &implyv1alpha1.SecretKeySelector{Name: "druid-admin"}
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())

		By("serving with the cluster's serving CA and trusting only its client CA, as Druid would")
		var caSecret, clientCA corev1.Secret
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: specs.CASecretName("c")}, &caSecret)).To(Succeed())
			g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: specs.ClientCASecretName("c")}, &clientCA)).To(Succeed())
		}).WithTimeout(30 * time.Second).Should(Succeed())
		ca, err := pki.ParseKeyPair(caSecret.Data[specs.CACertKey], caSecret.Data[specs.CAPrivateKeyKey])
		Expect(err).NotTo(HaveOccurred())
		leaf, err := ca.SignLeaf(clock.RealClock{}, pki.LeafRequest{CommonName: "coordinator", DNSNames: []string{"localhost"}, Validity: time.Hour})
		Expect(err).NotTo(HaveOccurred())
		cert, err := tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM)
		Expect(err).NotTo(HaveOccurred())
		clients := x509.NewCertPool()
		Expect(clients.AppendCertsFromPEM(clientCA.Data[specs.CACertKey])).To(BeTrue())
		fake := fakecoordinator.New(fakecoordinator.Options{AdminPassword: admin, CredentialIterations: 100, TLS: true,
			Certificate: &cert, ClientCAs: clients})
		DeferCleanup(fake.Close)
		u, err := url.Parse(fake.URL)
		Expect(err).NotTo(HaveOccurred())
		u.Host = "localhost:" + u.Port()
		Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(c), c)).To(Succeed())
		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.Druid.APIURL = u.String()
		Expect(k8sClient.Patch(testCtx, c, patch)).To(Succeed())

		role := &implyv1alpha1.DruidRole{ObjectMeta: metav1.ObjectMeta{Name: "readers", Namespace: ns},
			Spec: implyv1alpha1.DruidRoleSpec{ClusterRef: implyv1alpha1.LocalObjectReference{Name: "c"},
				Permissions: []implyv1alpha1.DruidPermission{readWiki}}}
		Expect(k8sClient.Create(testCtx, role)).To(Succeed())
		Eventually(func(g Gomega) {
			cond := syncedOf(role)
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.Status).To(Equal(metav1.ConditionTrue), cond.Message)
		}).WithTimeout(30 * time.Second).Should(Succeed())
	})
})
