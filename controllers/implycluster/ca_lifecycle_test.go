package implycluster

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// withTLS edits the cluster's spec.security.tls (created when absent).
func withTLS(edit func(*implyv1alpha1.TLSSpec)) testobj.ClusterOption {
	return func(c *implyv1alpha1.ImplyCluster) {
		if c.Spec.Security == nil {
			c.Spec.Security = &implyv1alpha1.SecuritySpec{}
		}
		if c.Spec.Security.TLS == nil {
			c.Spec.Security.TLS = &implyv1alpha1.TLSSpec{Enabled: true}
		}
		edit(c.Spec.Security.TLS)
	}
}

// userCAData is the data of a user CA Secret holding kp.
func userCAData(kp *pki.KeyPair) map[string][]byte {
	return map[string][]byte{"tls.crt": kp.CertPEM, "tls.key": kp.KeyPEM}
}

// newUserCA generates a valid user CA at the suite clock.
func newUserCA(name string) *pki.KeyPair {
	kp, err := pki.CreateRootCA(suiteClock, name, implyv1alpha1.KeyAlgorithmECDSAP256, 365*24*time.Hour)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return kp
}

// badUserCA self-signs a CA template (valid a year from the suite clock) edited by mod, with a
// key of curve, and returns it as user CA Secret data.
func badUserCA(curve elliptic.Curve, mod func(*x509.Certificate)) map[string][]byte {
	key, err := ecdsa.GenerateKey(curve, rand.Reader)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	now := suiteClock.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: "bad user CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
	}
	if mod != nil {
		mod(tmpl)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), crypto.Signer(key))
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return map[string][]byte{
		"tls.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"tls.key": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
}

// liveMaterial is what the pods run on: the data of every leaf Secret and of the bundle, and the
// resourceVersions of those and of the workloads.
type liveMaterial struct {
	Versions map[string]string
	Data     map[string]map[string][]byte
	Bundle   string
}

// readLiveMaterial reads the live material of cluster c in ns.
func readLiveMaterial(ns string) liveMaterial {
	m := liveMaterial{Versions: map[string]string{}, Data: map[string]map[string][]byte{}}
	for _, name := range leafSecretNames {
		s := getSecret(ns, name)
		m.Versions["secret/"+name], m.Data[name] = s.ResourceVersion, s.Data
	}
	cm := caBundleMap(ns)
	m.Versions["configmap/c-ca-bundle"], m.Bundle = cm.ResourceVersion, cm.Data["ca.crt"]
	for _, step := range rolloutOrder {
		m.Versions["workload/"+step] = workload(ns, step).GetResourceVersion()
	}
	return m
}

// expectSignedBy expects every leaf of cluster c in ns to verify with ca as the only root.
func expectSignedBy(g Gomega, ns string, ca *x509.Certificate) {
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	for _, name := range leafSecretNames {
		leaf := parseCert(getSecret(ns, name).Data["tls.crt"])
		_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: suiteClock.Now()})
		g.Expect(err).NotTo(HaveOccurred(), name)
		g.Expect(leaf.NotAfter.After(ca.NotAfter)).To(BeFalse(), "%s outlives its CA", name)
	}
}

// bundleSerials are the serial numbers of the CAs in the bundle ConfigMap.
func bundleSerials(ns string) []string {
	certs, err := pki.ParseBundle([]byte(caBundleMap(ns).Data["ca.crt"]))
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	var serials []string
	for _, c := range certs {
		serials = append(serials, c.SerialNumber.String())
	}
	return serials
}

var _ = Describe("CA lifecycle", func() {
	It("renews a generated CA inside its renewBefore by itself, through the three phases, and reports its expiry", func() {
		c := readyCluster("ca-renew", withTLS(func(t *implyv1alpha1.TLSSpec) {
			t.CA = &implyv1alpha1.CASpec{Generate: &implyv1alpha1.GeneratedCASpec{
				Validity: &metav1.Duration{Duration: 100 * time.Hour}, RenewBefore: &metav1.Duration{Duration: 40 * time.Hour}}}
			t.Certificate = implyv1alpha1.CertificateSpec{
				Validity: &metav1.Duration{Duration: 90 * time.Hour}, RenewBefore: &metav1.Duration{Duration: 20 * time.Hour}}
		}))
		ns := c.Namespace
		oldCA := parseCert(getSecret(ns, "c-ca").Data["ca.crt"])
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(c), c)).To(Succeed())
			g.Expect(c.Status.Certificates).To(ContainElement(SatisfyAll(
				HaveField("SecretName", "c-ca"),
				HaveField("NotAfter.Time", BeTemporally("~", oldCA.NotAfter, time.Second)),
				HaveField("RenewalTime.Time", BeTemporally("~", oldCA.NotAfter.Add(-40*time.Hour), time.Second)))))
		}).WithTimeout(settle).Should(Succeed())
		Expect(expiryMetric(ns, "c-ca")).To(Equal(float64(oldCA.NotAfter.Unix())))
		leafSerials := map[string]string{}
		for _, name := range leafSecretNames {
			leafSerials[name] = parseCert(getSecret(ns, name).Data["tls.crt"]).SerialNumber.String()
		}

		By("moving the clock just before the CA's renewBefore: nothing happens")
		back := suiteClock.Now()
		defer suiteClock.SetTime(back)
		suiteClock.SetTime(oldCA.NotAfter.Add(-40*time.Hour - time.Minute))
		poke(c)
		waitQuiet(ns)
		Expect(caPhase(ns)).To(BeEmpty())
		Expect(parseCert(getSecret(ns, "c-ca").Data["ca.crt"]).Equal(oldCA)).To(BeTrue())

		By("entering the CA's renewBefore: phase 1 trusts a new CA beside the old one, and signs nothing with it")
		suiteClock.SetTime(oldCA.NotAfter.Add(-40*time.Hour + time.Minute))
		poke(c)
		Eventually(caPhase).WithArguments(ns).WithTimeout(settle).Should(Equal("TrustBoth"))
		Expect(caBundleMap(ns).Annotations).To(HaveKeyWithValue(implyv1alpha1.AnnotationCARotationCause, "CARenewal"))
		newCA := parseCert(getSecret(ns, "c-ca").Data["ca.crt"])
		Expect(newCA.Equal(oldCA)).To(BeFalse())
		Expect(bundleSerials(ns)).To(ConsistOf(oldCA.SerialNumber.String(), newCA.SerialNumber.String()))
		for _, name := range leafSecretNames {
			Expect(parseCert(getSecret(ns, name).Data["tls.crt"]).SerialNumber.String()).To(Equal(leafSerials[name]), "%s kept in phase 1", name)
		}
		Eventually(func() []eventsv1.Event { return normalEvents(c, implyv1alpha1.EventCARotationStarted) }).WithTimeout(settle).ShouldNot(BeEmpty())

		By("rolling every phase unattended: the leaves end signed by the new CA, within its lifetime, and only it is trusted")
		driveRotation(c)
		Eventually(func(g Gomega) { expectSignedBy(g, ns, newCA) }).WithTimeout(settle).Should(Succeed())
		Expect(bundleSerials(ns)).To(ConsistOf(newCA.SerialNumber.String()))
		Expect(getSecret(ns, "c-ca").Data).NotTo(HaveKey("previous-ca.crt"))
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(c), c)).To(Succeed())
			g.Expect(c.Status.Certificates).To(ContainElement(SatisfyAll(
				HaveField("SecretName", "c-ca"), HaveField("NotAfter.Time", BeTemporally("~", newCA.NotAfter, time.Second)))))
			g.Expect(expiryMetric(ns, "c-ca")).To(Equal(float64(newCA.NotAfter.Unix())))
		}).WithTimeout(settle).Should(Succeed())
		for _, r := range []string{implyv1alpha1.EventCARotationPhase, implyv1alpha1.EventCARotationCompleted} {
			Eventually(func() []eventsv1.Event { return normalEvents(c, r) }).WithTimeout(settle).ShouldNot(BeEmpty(), r)
		}
		waitQuiet(ns)
		Expect(caPhase(ns)).To(BeEmpty(), "no second rotation")
	})

	It("moves from the generated CA to the user's CA, and to a new CA in the user's Secret, each through the three phases", func() {
		c := readyCluster("ca-switch")
		ns := c.Namespace
		generated := parseCert(getSecret(ns, "c-ca").Data["ca.crt"])
		userCA := newUserCA("corp CA 1")
		user := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "corp-ca", Namespace: ns}, Type: corev1.SecretTypeTLS, Data: userCAData(userCA)}
		Expect(k8sClient.Create(testCtx, user)).To(Succeed())
		before := readLiveMaterial(ns)
		revisions := templateAnnotations(ns, "imply.operator.dev/tls-revision")

		By("switching the CA source: phase 1 trusts the user's CA beside the generated one, leaves unchanged")
		var live implyv1alpha1.ImplyCluster
		Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(c), &live)).To(Succeed())
		patch := client.MergeFrom(live.DeepCopy())
		live.Spec.Security.TLS.CA = &implyv1alpha1.CASpec{SecretRef: &implyv1alpha1.LocalObjectReference{Name: "corp-ca"}}
		Expect(k8sClient.Patch(testCtx, &live, patch)).To(Succeed())
		Eventually(caPhase).WithArguments(ns).WithTimeout(settle).Should(Equal("TrustBoth"))
		Expect(bundleSerials(ns)).To(ConsistOf(generated.SerialNumber.String(), userCA.Certificate.SerialNumber.String()))
		for _, name := range leafSecretNames {
			Expect(getSecret(ns, name).Data["tls.crt"]).To(Equal(before.Data[name]["tls.crt"]), "%s kept in phase 1", name)
			Eventually(trustedSerials).WithArguments(ns, name).WithTimeout(settle).
				Should(ConsistOf(generated.SerialNumber.String(), userCA.Certificate.SerialNumber.String()))
		}

		By("rolling phase 1 group by group before any leaf is signed by the user's CA")
		expectRollInOrder(c, "imply.operator.dev/tls-revision", revisions, func(string) {
			Expect(caPhase(ns)).To(Equal("TrustBoth"))
			for _, name := range leafSecretNames {
				Expect(getSecret(ns, name).Data["tls.crt"]).To(Equal(before.Data[name]["tls.crt"]))
			}
		})
		Eventually(caPhase).WithArguments(ns).WithTimeout(settle).Should(Equal("SignWithNew"))
		Eventually(func(g Gomega) { expectSignedBy(g, ns, userCA.Certificate) }).WithTimeout(settle).Should(Succeed())
		Expect(bundleSerials(ns)).To(ConsistOf(generated.SerialNumber.String(), userCA.Certificate.SerialNumber.String()), "the old CA is still trusted in phase 2")

		By("finishing: only the user's CA is trusted, and its Secret was never written")
		driveRotation(c)
		Expect(bundleSerials(ns)).To(ConsistOf(userCA.Certificate.SerialNumber.String()))
		Expect(getSecret(ns, "corp-ca").ResourceVersion).To(Equal(user.ResourceVersion))

		By("putting a new CA in the user's Secret: the same three phases")
		leaves := readLiveMaterial(ns)
		userCA2 := newUserCA("corp CA 2")
		user = getSecret(ns, "corp-ca")
		user.Data = userCAData(userCA2)
		Expect(k8sClient.Update(testCtx, user)).To(Succeed())
		Eventually(caPhase).WithArguments(ns).WithTimeout(settle).Should(Equal("TrustBoth"))
		Expect(bundleSerials(ns)).To(ConsistOf(userCA.Certificate.SerialNumber.String(), userCA2.Certificate.SerialNumber.String()))
		for _, name := range leafSecretNames {
			Expect(getSecret(ns, name).Data["tls.crt"]).To(Equal(leaves.Data[name]["tls.crt"]), "%s kept in phase 1", name)
		}
		driveRotation(c)
		Eventually(func(g Gomega) { expectSignedBy(g, ns, userCA2.Certificate) }).WithTimeout(settle).Should(Succeed())
		Expect(bundleSerials(ns)).To(ConsistOf(userCA2.Certificate.SerialNumber.String()))
	})

	It("reports a lost generated CA as CAMissing and recovers through a rotation, never signing with a CA no pod trusts", func() {
		c := readyCluster("ca-missing")
		ns := c.Namespace
		oldCA := parseCert(getSecret(ns, "c-ca").Data["ca.crt"])
		before := readLiveMaterial(ns)

		By("deleting <c>-ca")
		Expect(k8sClient.Delete(testCtx, getSecret(ns, "c-ca"))).To(Succeed())
		Eventually(func(g Gomega) {
			cond := condition(g, c, implyv1alpha1.ConditionCertificatesReady)
			g.Expect(cond.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(cond.Reason).To(Equal(implyv1alpha1.ReasonCAMissing))
			g.Expect(cond.Message).To(ContainSubstring("c-ca"))
		}).WithTimeout(settle).Should(Succeed())
		Eventually(func() []eventsv1.Event { return warningEvents(c, implyv1alpha1.ReasonCAMissing) }).WithTimeout(settle).ShouldNot(BeEmpty())
		Expect(caPhase(ns)).To(Equal("TrustBoth"))
		newCA := parseCert(getSecret(ns, "c-ca").Data["ca.crt"])
		Expect(newCA.Equal(oldCA)).To(BeFalse())
		Expect(bundleSerials(ns)).To(ConsistOf(oldCA.SerialNumber.String(), newCA.SerialNumber.String()), "the old, still served CA stays trusted")
		for _, name := range leafSecretNames {
			Expect(getSecret(ns, name).Data["tls.crt"]).To(Equal(before.Data[name]["tls.crt"]), "%s is not signed by the new CA yet", name)
		}

		By("rolling the rotation: the leaves move to the new CA and the condition clears")
		driveRotation(c)
		Eventually(func(g Gomega) { expectSignedBy(g, ns, newCA) }).WithTimeout(settle).Should(Succeed())
		Expect(bundleSerials(ns)).To(ConsistOf(newCA.SerialNumber.String()))
		Eventually(func(g Gomega) {
			g.Expect(condition(g, c, implyv1alpha1.ConditionCertificatesReady).Status).To(Equal(metav1.ConditionTrue))
		}).WithTimeout(settle).Should(Succeed())
	})

	It("refuses a user CA Java cannot verify, whose constraints exclude the cluster's names, with an unknown critical extension, or expiring within renewBefore, changing nothing live", func() {
		ns := newNamespace("ca-refused")
		createSecrets(ns)
		userCA := newUserCA("corp CA")
		user := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "corp-ca", Namespace: ns}, Type: corev1.SecretTypeTLS, Data: userCAData(userCA)}
		Expect(k8sClient.Create(testCtx, user)).To(Succeed())
		c := testobj.ImplyCluster("c", ns, withTLS(func(t *implyv1alpha1.TLSSpec) {
			t.CA = &implyv1alpha1.CASpec{SecretRef: &implyv1alpha1.LocalObjectReference{Name: "corp-ca"}}
		}))
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		waitCertificatesReady(c)
		markWorkloadsReady(c)
		waitQuiet(ns)
		before := readLiveMaterial(ns)

		for _, tc := range []struct {
			name, reason, message string
			data                  map[string][]byte
		}{
			{"a P-224 key", implyv1alpha1.ReasonCAKeyUnsupported, "curve P-224", badUserCA(elliptic.P224(), nil)},
			{"name constraints excluding the cluster's names", implyv1alpha1.ReasonCACannotSignForCluster, "name constraints exclude",
				badUserCA(elliptic.P256(), func(t *x509.Certificate) {
					t.PermittedDNSDomainsCritical, t.PermittedDNSDomains = true, []string{"example.com"}
				})},
			{"an unknown critical extension", implyv1alpha1.ReasonCACannotSignForCluster, "critical extensions",
				badUserCA(elliptic.P256(), func(t *x509.Certificate) {
					t.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 7}, Critical: true, Value: []byte{5, 0}}}
				})},
			{"expiring within certificate.renewBefore", implyv1alpha1.ReasonCAExpiresTooSoon, "within certificate.renewBefore",
				badUserCA(elliptic.P256(), func(t *x509.Certificate) { t.NotAfter = suiteClock.Now().Add(time.Minute) })},
		} {
			By("putting a CA with " + tc.name + " in the user's Secret")
			user = getSecret(ns, "corp-ca")
			user.Data = tc.data
			Expect(k8sClient.Update(testCtx, user)).To(Succeed())
			Eventually(func(g Gomega) {
				cond := condition(g, c, implyv1alpha1.ConditionCertificatesReady)
				g.Expect(cond.Status).To(Equal(metav1.ConditionFalse))
				g.Expect(cond.Reason).To(Equal(tc.reason))
				g.Expect(cond.Message).To(ContainSubstring(tc.message))
				g.Expect(cond.Message).To(ContainSubstring(`"corp-ca"`))
			}).WithTimeout(settle).Should(Succeed())
			Eventually(func() []eventsv1.Event { return warningEvents(c, tc.reason) }).WithTimeout(settle).ShouldNot(BeEmpty())
			waitQuiet(ns)
			Expect(readLiveMaterial(ns)).To(Equal(before), "nothing live changed")
		}

		By("putting a usable CA back: the cluster recovers through the phases")
		user = getSecret(ns, "corp-ca")
		user.Data = userCAData(userCA)
		Expect(k8sClient.Update(testCtx, user)).To(Succeed())
		waitCertificatesReady(c)
		Expect(caPhase(ns)).To(BeEmpty())
		Expect(readLiveMaterial(ns)).To(Equal(before), "the same CA as before: nothing to change")
		var sts appsv1.StatefulSet
		Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-data"}, &sts)).To(Succeed())
	})
})
