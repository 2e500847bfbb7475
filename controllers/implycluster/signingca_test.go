package implycluster

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// managerCAVolume is the manager pod template's CA volume.
func managerCAVolume(g Gomega, ns string) corev1.Volume {
	for _, v := range podTemplate(workload(ns, "manager")).Spec.Volumes {
		if v.Name == specs.CAVolumeName {
			return v
		}
	}
	g.Expect(false).To(BeTrue(), "the manager mounts no CA")
	return corev1.Volume{}
}

func signingCAExists(ns string) bool {
	err := k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: specs.ManagerSigningCAName("c")}, &corev1.Secret{})
	if err != nil && !apierrors.IsNotFound(err) {
		Fail(err.Error())
	}
	return err == nil
}

var _ = Describe("The manager's signing CA", func() {
	It("is the generated CA, certificate and key, mounted at /etc/imply/ca", func() {
		c := readyCluster("signing-generated")
		ns := c.Namespace
		ca := getSecret(ns, specs.CASecretName("c"))
		signing := getSecret(ns, specs.ManagerSigningCAName("c"))
		Expect(signing.Data).To(Equal(map[string][]byte{"ca.crt": ca.Data["ca.crt"], "ca.key": ca.Data["ca.key"]}))
		Expect(metav1.IsControlledBy(signing, c)).To(BeTrue())
		Eventually(func(g Gomega) {
			g.Expect(managerCAVolume(g, ns)).To(HaveField("Secret", HaveField("SecretName", specs.ManagerSigningCAName("c"))))
		}).WithTimeout(settle).Should(Succeed())
		Expect(podTemplate(workload(ns, "data")).Spec.Volumes).To(ContainElement(HaveField("ConfigMap.Name", specs.CABundleName("c"))),
			"agents get the CA certificate only")
	})

	It("is a user's CA only with shareKeyWithManager, and goes when that is turned off", func() {
		ns := newNamespace("signing-user")
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
				Enabled: true, CA: &implyv1alpha1.CASpec{SecretRef: &implyv1alpha1.LocalObjectReference{Name: "corp-ca"}},
			}}
		})
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		waitCertificatesReady(c)
		Eventually(func(g Gomega) {
			g.Expect(managerCAVolume(g, ns)).To(HaveField("ConfigMap", HaveField("Name", specs.CABundleName("c"))))
		}).WithTimeout(settle).Should(Succeed())
		markWorkloadsReady(c)
		waitQuiet(ns)
		Expect(signingCAExists(ns)).To(BeFalse(), "the key of a user's CA stays with the operator")

		By("opting in")
		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.Security.TLS.CA.ShareKeyWithManager = true
		Expect(k8sClient.Patch(testCtx, c, patch)).To(Succeed())
		Eventually(func() bool { return signingCAExists(ns) }).WithTimeout(settle).Should(BeTrue())
		Expect(getSecret(ns, specs.ManagerSigningCAName("c")).Data).To(Equal(map[string][]byte{"ca.crt": userCA.CertPEM, "ca.key": userCA.KeyPEM}))
		Eventually(func(g Gomega) {
			g.Expect(managerCAVolume(g, ns)).To(HaveField("Secret", HaveField("SecretName", specs.ManagerSigningCAName("c"))))
		}).WithTimeout(settle).Should(Succeed())
		markWorkloadsReady(c)

		By("opting out again")
		patch = client.MergeFrom(c.DeepCopy())
		c.Spec.Security.TLS.CA.ShareKeyWithManager = false
		Expect(k8sClient.Patch(testCtx, c, patch)).To(Succeed())
		Eventually(func() bool { return signingCAExists(ns) }).WithTimeout(settle).Should(BeFalse())
	})
})
