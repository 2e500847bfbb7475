package implycluster

import (
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"software.sslmate.com/src/go-pkcs12"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// leafSecretNames are the certificate Secrets of a default test cluster c.
var leafSecretNames = []string{"c-master-tls", "c-query-tls", "c-data-tls", "c-manager-tls"}

// parseCert parses the first PEM certificate of data.
func parseCert(data []byte) *x509.Certificate {
	block, _ := pem.Decode(data)
	ExpectWithOffset(1, block).NotTo(BeNil())
	cert, err := x509.ParseCertificate(block.Bytes)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return cert
}

// waitCertificatesReady waits until the cluster reports CertificatesReady=True.
func waitCertificatesReady(c *implyv1alpha1.ImplyCluster) {
	EventuallyWithOffset(1, func(g Gomega) {
		cond := condition(g, c, implyv1alpha1.ConditionCertificatesReady)
		g.Expect(cond).NotTo(BeNil())
		g.Expect(cond.Status).To(Equal(metav1.ConditionTrue), cond.Message)
		for _, name := range leafSecretNames {
			g.Expect(c.Status.Certificates).To(ContainElement(HaveField("SecretName", name)))
		}
	}).WithTimeout(settle).Should(Succeed())
}

// tlsRevision is the tls-revision annotation of a group's pod template.
func tlsRevision(ns, group string) string {
	var sts appsv1.StatefulSet
	ExpectWithOffset(1, k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-" + group}, &sts)).To(Succeed())
	return sts.Spec.Template.Annotations[specs.AnnotationTLSRevision]
}

// expiryMetric is the certificate-expiry gauge of a Secret, or 0 when absent.
func expiryMetric(ns, secret string) float64 {
	families, err := textGatherer(Default, clusterMetrics).Gather()
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	for _, f := range families {
		if f.GetName() != "imply_operator_certificate_expiry_timestamp_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["namespace"] == ns && labels["secret"] == secret {
				return m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

var _ = Describe("ImplyCluster certificates", func() {
	It("generates a CA and one CA-signed leaf per group and for the manager, with keystores the pods mount", func() {
		ns := newNamespace("tls")
		createSecrets(ns)
		c := testobj.ImplyCluster("c", ns)
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		waitCertificatesReady(c)

		ca := getSecret(ns, "c-ca")
		Expect(ca.Data).To(HaveKey("ca.crt"))
		Expect(ca.Data).To(HaveKey("ca.key"))
		caCert := parseCert(ca.Data["ca.crt"])
		Expect(caCert.IsCA).To(BeTrue())
		Expect(caCert.PublicKeyAlgorithm).To(Equal(x509.ECDSA))
		var bundle corev1.ConfigMap
		Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-ca-bundle"}, &bundle)).To(Succeed())
		Expect(bundle.Data["ca.crt"]).To(Equal(string(ca.Data["ca.crt"])))
		Expect(bundle.Data).NotTo(HaveKey("ca.key"))

		roots := x509.NewCertPool()
		roots.AddCert(caCert)
		for _, name := range leafSecretNames {
			s := getSecret(ns, name)
			Expect(s.Type).To(Equal(corev1.SecretTypeTLS))
			Expect(s.Data).To(HaveKey("tls.key"))
			Expect(s.Data["ca.crt"]).To(Equal(ca.Data["ca.crt"]))
			Expect(len(s.Data["keystore-password"])).To(BeNumerically(">=", 16))
			Expect(string(s.Data["keystore-password"])).NotTo(ContainSubstring(":"))
			leaf := parseCert(s.Data["tls.crt"])
			_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}})
			Expect(err).NotTo(HaveOccurred(), name)
			key, cert, chain, err := pkcs12.DecodeChain(s.Data["keystore.p12"], string(s.Data["keystore-password"]))
			Expect(err).NotTo(HaveOccurred(), name)
			Expect(key).NotTo(BeNil())
			Expect(cert.Equal(leaf)).To(BeTrue())
			Expect(chain).To(HaveLen(1))
			trusted, err := pkcs12.DecodeTrustStore(s.Data["truststore.p12"], string(s.Data["keystore-password"]))
			Expect(err).NotTo(HaveOccurred())
			Expect(trusted).To(HaveLen(1))
			Expect(trusted[0].Equal(caCert)).To(BeTrue())
		}
		data := parseCert(getSecret(ns, "c-data-tls").Data["tls.crt"])
		Expect(data.DNSNames).To(ConsistOf(
			"c-data", "c-data."+ns, "c-data."+ns+".svc", "c-data."+ns+".svc.cluster.local",
			"*.c-data-headless."+ns+".svc", "*.c-data-headless."+ns+".svc.cluster.local",
		))

		By("mounting the Secret and rolling on its revision")
		var sts appsv1.StatefulSet
		Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-data"}, &sts)).To(Succeed())
		Expect(sts.Spec.Template.Annotations).To(HaveKey(specs.AnnotationTLSRevision))
		Expect(sts.Spec.Template.Spec.Volumes).To(ContainElement(HaveField("Secret.SecretName", "c-data-tls")))

		By("publishing each certificate's expiry as a metric")
		Eventually(func() float64 { return expiryMetric(ns, "c-data-tls") }).WithTimeout(settle).
			Should(Equal(float64(data.NotAfter.Unix())))

		By("reporting each certificate and the next expiry")
		Expect(c.Status.NextCertificateExpiry).NotTo(BeNil())
		Expect(c.Status.Certificates).To(HaveLen(5), "four leaves and the CA")
		for _, cert := range c.Status.Certificates {
			Expect(cert.Serial).NotTo(BeEmpty())
			if cert.SecretName == "c-ca" {
				continue
			}
			Expect(cert.RenewalTime.Time).To(BeTemporally("~", cert.NotAfter.Add(-720*time.Hour), time.Second))
		}

		By("reporting the CA's expiry, and its renewal a third of its validity ahead, in the status and the metric")
		Expect(c.Status.Certificates).To(ContainElement(SatisfyAll(
			HaveField("SecretName", "c-ca"),
			HaveField("Serial", caCert.SerialNumber.Text(16)),
			HaveField("NotAfter.Time", BeTemporally("~", caCert.NotAfter, time.Second)),
			HaveField("RenewalTime.Time", BeTemporally("~", caCert.NotAfter.Add(-26280*time.Hour/3), 5*time.Minute)),
		)))
		Eventually(func() float64 { return expiryMetric(ns, "c-ca") }).WithTimeout(settle).Should(Equal(float64(caCert.NotAfter.Unix())))
		Eventually(func() []string {
			var list []string
			for _, r := range []string{implyv1alpha1.EventCAGenerated, implyv1alpha1.EventCertificateIssued} {
				if len(normalEvents(c, r)) > 0 {
					list = append(list, r)
				}
			}
			return list
		}).WithTimeout(settle).Should(ConsistOf(implyv1alpha1.EventCAGenerated, implyv1alpha1.EventCertificateIssued))

		By("naming every leaf issued in one CertificateIssued event, not one a Secret folded into a series")
		issued := normalEvents(c, implyv1alpha1.EventCertificateIssued)
		Expect(issued).To(HaveLen(1))
		Expect(issued[0].Series).To(BeNil())
		for _, name := range []string{"c-data-tls", "c-manager-tls", "c-master-tls", "c-query-tls"} {
			Expect(issued[0].Note).To(ContainSubstring(name))
		}
	})

	It("renews a leaf renewBefore ahead of expiry, keeping its password, and requeues for the renewal time", func() {
		ns := newNamespace("tls-renew")
		createSecrets(ns)
		c := testobj.ImplyCluster("c", ns)
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		waitCertificatesReady(c)
		waitQuiet(ns)
		before := getSecret(ns, "c-data-tls")
		leaf := parseCert(before.Data["tls.crt"])
		revision := tlsRevision(ns, "data")
		caBefore := getSecret(ns, "c-ca").Data

		direct, err := client.New(cfg, client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())
		fake := clocktesting.NewFakeClock(suiteClock.Now())
		r := &Reconciler{Client: direct, APIReader: direct, Scheme: scheme, Recorder: noEvents{}, Clock: fake}
		req := reconcile.Request{NamespacedName: client.ObjectKeyFromObject(c)}

		res, err := r.Reconcile(testCtx, req)
		Expect(err).NotTo(HaveOccurred())
		renewal := leaf.NotAfter.Add(-720 * time.Hour)
		Expect(res.RequeueAfter).To(BeNumerically("~", renewal.Sub(fake.Now()), 2*time.Minute))
		Expect(getSecret(ns, "c-data-tls").ResourceVersion).To(Equal(before.ResourceVersion), "nothing is due yet")

		By("moving the operator's clock past the renewal time")
		back := suiteClock.Now()
		suiteClock.SetTime(renewal.Add(time.Minute))
		defer suiteClock.SetTime(back)
		touch := client.MergeFrom(c.DeepCopy())
		c.Annotations = map[string]string{"test/renew": "now"}
		Expect(k8sClient.Patch(testCtx, c, touch)).To(Succeed())
		Eventually(func() *big.Int {
			return parseCert(getSecret(ns, "c-data-tls").Data["tls.crt"]).SerialNumber
		}).WithTimeout(settle).ShouldNot(Equal(leaf.SerialNumber))
		waitQuiet(ns)
		after := getSecret(ns, "c-data-tls")
		renewed := parseCert(after.Data["tls.crt"])
		Expect(renewed.SerialNumber).NotTo(Equal(leaf.SerialNumber))
		Expect(renewed.NotAfter).To(BeTemporally(">", leaf.NotAfter))
		Expect(after.Data["keystore-password"]).To(Equal(before.Data["keystore-password"]))
		Expect(tlsRevision(ns, "data")).NotTo(Equal(revision))
		Expect(getSecret(ns, "c-ca").Data).To(Equal(caBefore), "renewing a leaf leaves the CA alone")
	})

	It("re-issues at once when the subject names or the key algorithm change", func() {
		ns := newNamespace("tls-reissue")
		createSecrets(ns)
		c := testobj.ImplyCluster("c", ns)
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		waitCertificatesReady(c)
		serial := parseCert(getSecret(ns, "c-query-tls").Data["tls.crt"]).SerialNumber

		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.Security.TLS.ClusterDomain = "example.internal"
		c.Spec.Security.TLS.Certificate.KeyAlgorithm = implyv1alpha1.KeyAlgorithmRSA2048
		Expect(k8sClient.Patch(testCtx, c, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			var s corev1.Secret
			g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-query-tls"}, &s)).To(Succeed())
			leaf := parseCert(s.Data["tls.crt"])
			g.Expect(leaf.SerialNumber).NotTo(Equal(serial))
			g.Expect(leaf.DNSNames).To(ContainElement("c-query." + ns + ".svc.example.internal"))
			g.Expect(leaf.PublicKeyAlgorithm).To(Equal(x509.RSA))
		}).WithTimeout(settle).Should(Succeed())
	})

	It("signs with a user's CA without touching it, and stops with a condition when it becomes unusable", func() {
		ns := newNamespace("tls-user")
		createSecrets(ns)
		userCA, err := pki.CreateRootCA(clocktesting.NewFakeClock(suiteClock.Now()), "user CA", implyv1alpha1.KeyAlgorithmRSA2048, 24*time.Hour*365)
		Expect(err).NotTo(HaveOccurred())
		user := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "corp-ca", Namespace: ns},
			Type:       corev1.SecretTypeTLS,
			Data:       map[string][]byte{"tls.crt": userCA.CertPEM, "tls.key": userCA.KeyPEM},
		}
		Expect(k8sClient.Create(testCtx, user)).To(Succeed())
		c := testobj.ImplyCluster("c", ns, func(c *implyv1alpha1.ImplyCluster) {
			c.Spec.Security = &implyv1alpha1.SecuritySpec{TLS: &implyv1alpha1.TLSSpec{
				Enabled: true, CA: &implyv1alpha1.CASpec{SecretRef: &implyv1alpha1.LocalObjectReference{Name: "corp-ca"}},
			}}
		})
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		waitCertificatesReady(c)

		roots := x509.NewCertPool()
		roots.AddCert(userCA.Certificate)
		for _, name := range leafSecretNames {
			_, err := parseCert(getSecret(ns, name).Data["tls.crt"]).Verify(x509.VerifyOptions{Roots: roots})
			Expect(err).NotTo(HaveOccurred(), name)
		}
		Expect(apierrors.IsNotFound(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-ca"}, &corev1.Secret{}))).To(BeTrue())
		Expect(getSecret(ns, "corp-ca").ResourceVersion).To(Equal(user.ResourceVersion))
		waitQuiet(ns)

		By("replacing the CA with a certificate that is not a CA")
		liveVersions := map[string]string{}
		for _, name := range leafSecretNames {
			liveVersions[name] = getSecret(ns, name).ResourceVersion
		}
		var sts appsv1.StatefulSet
		Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-data"}, &sts)).To(Succeed())
		notCA := getSecret(ns, "c-data-tls")
		user.Data = map[string][]byte{"tls.crt": notCA.Data["tls.crt"], "tls.key": notCA.Data["tls.key"]}
		Expect(k8sClient.Update(testCtx, user)).To(Succeed())
		Eventually(func(g Gomega) {
			cond := condition(g, c, implyv1alpha1.ConditionCertificatesReady)
			g.Expect(cond.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(cond.Reason).To(Equal("InvalidCA"))
			g.Expect(cond.Message).To(ContainSubstring(`"corp-ca"`))
			g.Expect(cond.Message).To(ContainSubstring("not a CA"))
			g.Expect(meta.IsStatusConditionFalse(c.Status.Conditions, implyv1alpha1.ConditionReady)).To(BeTrue())
			g.Expect(meta.IsStatusConditionTrue(c.Status.Conditions, implyv1alpha1.ConditionDegraded)).To(BeTrue())
		}).WithTimeout(settle).Should(Succeed())
		Eventually(func() []eventsv1.Event { return warningEvents(c, "InvalidCA") }).WithTimeout(settle).ShouldNot(BeEmpty())
		for _, name := range leafSecretNames {
			Expect(getSecret(ns, name).ResourceVersion).To(Equal(liveVersions[name]), "%s changed", name)
		}
		var stsAfter appsv1.StatefulSet
		Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(&sts), &stsAfter)).To(Succeed())
		Expect(stsAfter.ResourceVersion).To(Equal(sts.ResourceVersion))
	})

	It("makes no certificates when TLS is off and serves plaintext ports", func() {
		ns := newNamespace("plain")
		createSecrets(ns)
		c := testobj.ImplyCluster("c", ns, testobj.WithoutTLS())
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(condition(g, c, implyv1alpha1.ConditionReady)).NotTo(BeNil())
			g.Expect(c.Status.Endpoints.Coordinator).To(Equal("http://c-master." + ns + ".svc:8081"))
		}).WithTimeout(settle).Should(Succeed())
		Expect(meta.FindStatusCondition(c.Status.Conditions, implyv1alpha1.ConditionCertificatesReady)).To(BeNil())
		var secrets corev1.SecretList
		Expect(k8sClient.List(testCtx, &secrets, client.InNamespace(ns), client.MatchingLabels{specs.LabelCluster: "c"})).To(Succeed())
		// Only the revision key, which keys the secrets-revision of the license and credentials.
		Expect(secrets.Items).To(HaveLen(1))
		Expect(secrets.Items[0].Name).To(Equal(specs.RevisionKeyName("c")))
		Expect(tlsRevision(ns, "data")).To(BeEmpty())
	})
})
