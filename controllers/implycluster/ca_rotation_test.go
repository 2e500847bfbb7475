package implycluster

import (
	"crypto/x509"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"software.sslmate.com/src/go-pkcs12"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// caBundleMap is the CA bundle ConfigMap of cluster c.
func caBundleMap(ns string) *corev1.ConfigMap {
	var bundle corev1.ConfigMap
	ExpectWithOffset(1, k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-ca-bundle"}, &bundle)).To(Succeed())
	return &bundle
}

// caPhase is the rotation phase recorded on the CA bundle ConfigMap.
func caPhase(ns string) string {
	return caBundleMap(ns).Annotations["imply.operator.dev/ca-rotation-phase"]
}

// trustedSubjects are the serial numbers of the CAs a leaf Secret's truststore holds.
func trustedSerials(ns, secret string) []string {
	s := getSecret(ns, secret)
	certs, err := pkcs12.DecodeTrustStore(s.Data["truststore.p12"], string(s.Data["keystore-password"]))
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	var serials []string
	for _, c := range certs {
		serials = append(serials, c.SerialNumber.String())
	}
	return serials
}

// driveRotation plays the StatefulSet and Deployment controllers until the CA rotation under
// way has rolled through all its phases.
func driveRotation(c *implyv1alpha1.ImplyCluster) {
	EventuallyWithOffset(1, func(g Gomega) {
		markWorkloadsReady(c)
		g.Expect(caPhase(c.Namespace)).To(BeEmpty())
	}).WithTimeout(3 * settle).WithPolling(300 * time.Millisecond).Should(Succeed())
}

var _ = Describe("CA rotation", func() {
	It("moves through trust-both, sign-with-new and drop-old, each rolled group by group before the next starts", func() {
		c := readyCluster("rotate")
		ns := c.Namespace
		oldCA := parseCert(getSecret(ns, "c-ca").Data["ca.crt"])
		oldLeafSerial := parseCert(getSecret(ns, "c-data-tls").Data["tls.crt"]).SerialNumber
		oldKeystore := getSecret(ns, "c-data-tls").Data["keystore.p12"]
		Expect(oldKeystore).NotTo(BeEmpty())
		revisions := templateAnnotations(ns, specs.AnnotationTLSRevision)
		// rollPhase expects the phase to roll data, query, master, then the manager, the phase
		// staying put until the last of them is ready.
		rollPhase := func(phase string) {
			revisions = expectRollInOrder(c, specs.AnnotationTLSRevision, revisions, func(string) {
				Expect(caPhase(ns)).To(Equal(phase), "nothing moves before the roll")
			})
		}

		By("asking for a rotation")
		annotate(c, implyv1alpha1.AnnotationRotateCA, "2026-11")
		Eventually(func() string { return caPhase(ns) }).WithTimeout(settle).Should(Equal("TrustBoth"))
		newCA := parseCert(getSecret(ns, "c-ca").Data["ca.crt"])
		Expect(newCA.Equal(oldCA)).To(BeFalse())
		Expect(parseCert(getSecret(ns, "c-ca").Data["previous-ca.crt"]).Equal(oldCA)).To(BeTrue(), "the replaced CA is kept until the rotation completes")
		Eventually(trustedSerials).WithArguments(ns, "c-data-tls").WithTimeout(settle).
			Should(ConsistOf(oldCA.SerialNumber.String(), newCA.SerialNumber.String()))
		Expect(parseCert(getSecret(ns, "c-data-tls").Data["tls.crt"]).SerialNumber).To(Equal(oldLeafSerial), "phase 1 only adds trust")
		Expect(getSecret(ns, "c-data-tls").Data["keystore.p12"]).To(Equal(oldKeystore),
			"re-trusting writes the truststore and leaves the keystore, whose bytes the cache does not hold, as it was")

		By("rolling phase 1 out, which starts phase 2: leaves signed by the new CA")
		rollPhase("TrustBoth")
		Eventually(func() string { return caPhase(ns) }).WithTimeout(settle).Should(Equal("SignWithNew"))
		waitQuiet(ns)
		roots := x509.NewCertPool()
		roots.AddCert(newCA)
		for _, name := range leafSecretNames {
			_, err := parseCert(getSecret(ns, name).Data["tls.crt"]).Verify(x509.VerifyOptions{Roots: roots})
			Expect(err).NotTo(HaveOccurred(), name)
		}
		Expect(trustedSerials(ns, "c-data-tls")).To(ConsistOf(oldCA.SerialNumber.String(), newCA.SerialNumber.String()))

		By("rolling phase 2 out, which starts phase 3: the old CA is dropped")
		rollPhase("SignWithNew")
		Eventually(func() string { return caPhase(ns) }).WithTimeout(settle).Should(Equal("DropOld"))
		waitQuiet(ns)
		Expect(trustedSerials(ns, "c-data-tls")).To(ConsistOf(newCA.SerialNumber.String()))
		var bundle corev1.ConfigMap
		Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-ca-bundle"}, &bundle)).To(Succeed())
		certs, err := pki.ParseBundle([]byte(bundle.Data["ca.crt"]))
		Expect(err).NotTo(HaveOccurred())
		Expect(certs).To(HaveLen(1))
		Expect(certs[0].Equal(newCA)).To(BeTrue())

		By("rolling phase 3 out, which completes the rotation")
		rollPhase("DropOld")
		Eventually(func() string { return caPhase(ns) }).WithTimeout(settle).Should(BeEmpty())
		Expect(getSecret(ns, "c-ca").Data).NotTo(HaveKey("previous-ca.crt"))
		Expect(getSecret(ns, "c-ca").Data).NotTo(HaveKey("next-ca.crt"))
		Eventually(func() []string {
			var reasons []string
			for _, r := range []string{implyv1alpha1.EventCARotationStarted, implyv1alpha1.EventCARotationPhase, implyv1alpha1.EventCARotationCompleted} {
				if len(normalEvents(c, r)) > 0 {
					reasons = append(reasons, r)
				}
			}
			return reasons
		}).WithTimeout(settle).Should(ConsistOf(implyv1alpha1.EventCARotationStarted, implyv1alpha1.EventCARotationPhase, implyv1alpha1.EventCARotationCompleted))

		By("not rotating again for the same annotation value")
		waitQuiet(ns)
		Expect(caPhase(ns)).To(BeEmpty())
	})
})
