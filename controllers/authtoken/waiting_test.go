package authtoken

import (
	"crypto/tls"
	"net/url"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/druid/fakecoordinator"
	"github.com/imply-operator/imply-operator/pkg/pki"
	"github.com/imply-operator/imply-operator/test/testobj"
)

var _ = Describe("AuthTokens and DruidRoles waiting for their cluster", func() {
	It("say they wait, report a weak password at once, and converge when the CA bundle appears, without waiting for the resync", func() {
		ns := newNamespace("iat-wait")
		createSecrets(ns)
		const admin = "Fake-Admin-Password-0123456789"
		Expect(k8sClient.Create(testCtx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "druid-admin", Namespace: ns},
			StringData: map[string]string{"admin-password": admin}})).To(Succeed())
		Expect(k8sClient.Create(testCtx, &implyv1alpha1.SecurityPolicy{ObjectMeta: metav1.ObjectMeta{Name: "strict", Namespace: ns},
			Spec: implyv1alpha1.SecurityPolicySpec{Password: implyv1alpha1.PasswordPolicy{MinLength: 20}}})).To(Succeed())
		setUserPassword(ns, "weak", "short-password")
		setUserPassword(ns, "strong", "a-password-long-enough-for-strict")

		By("serving the coordinator over TLS with a leaf of the user's CA, which the cluster does not have yet")
		ca, err := pki.CreateRootCA(clock.RealClock{}, "user CA", implyv1alpha1.KeyAlgorithmECDSAP256, 365*24*time.Hour) // a user CA must outlive certificate.renewBefore
		Expect(err).NotTo(HaveOccurred())
		leaf, err := ca.SignLeaf(clock.RealClock{}, pki.LeafRequest{CommonName: "coordinator", DNSNames: []string{"localhost"}, Validity: time.Hour})
		Expect(err).NotTo(HaveOccurred())
		cert, err := tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM)
		Expect(err).NotTo(HaveOccurred())
		fake := fakecoordinator.New(fakecoordinator.Options{AdminPassword: admin, CredentialIterations: 100, TLS: true, Certificate: &cert})
		DeferCleanup(fake.Close)
		u, err := url.Parse(fake.URL)
		Expect(err).NotTo(HaveOccurred())
		u.Host = "localhost:" + u.Port()

		c := testobj.ImplyCluster("c", ns, testobj.WithAuth("", "strict"))
		c.Spec.Security.TLS.CA = &implyv1alpha1.CASpec{SecretRef: &implyv1alpha1.LocalObjectReference{Name: "user-ca"}}
		c.Spec.Security.Auth.Druid.AdminPasswordSecretRef = &implyv1alpha1.SecretKeySelector{Name: "druid-admin"}
		c.Spec.Druid.APIURL = u.String()
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		weak := druidToken("weak", ns, "weak-user", func(t *implyv1alpha1.AuthToken) {
			t.Spec.PasswordSecretRef = &implyv1alpha1.SecretKeySelector{Name: "weak"}
		})
		strong := druidToken("strong", ns, "strong-user", func(t *implyv1alpha1.AuthToken) {
			t.Spec.PasswordSecretRef = &implyv1alpha1.SecretKeySelector{Name: "strong"}
		})
		Expect(k8sClient.Create(testCtx, weak)).To(Succeed())
		Expect(k8sClient.Create(testCtx, strong)).To(Succeed())
		role := &implyv1alpha1.DruidRole{ObjectMeta: metav1.ObjectMeta{Name: "readers", Namespace: ns},
			Spec: implyv1alpha1.DruidRoleSpec{ClusterRef: implyv1alpha1.LocalObjectReference{Name: "c"},
				Permissions: []implyv1alpha1.DruidPermission{readWiki}}}
		Expect(k8sClient.Create(testCtx, role)).To(Succeed())

		By("reporting the wait as a wait, and the weak password at once")
		Eventually(func(g Gomega) {
			for _, t := range []*implyv1alpha1.AuthToken{weak, strong} {
				ready := tokenCond(t, implyv1alpha1.ConditionReady)
				g.Expect(ready).NotTo(BeNil())
				g.Expect(ready.Reason).To(Equal(implyv1alpha1.ReasonWaitingForCluster), ready.Message)
				g.Expect(meta.IsStatusConditionTrue(t.Status.Conditions, implyv1alpha1.ConditionProgressing)).To(BeTrue())
				g.Expect(meta.IsStatusConditionFalse(t.Status.Conditions, implyv1alpha1.ConditionDegraded)).To(BeTrue())
			}
			compliant := tokenCond(weak, implyv1alpha1.ConditionPolicyCompliant)
			g.Expect(compliant).NotTo(BeNil())
			g.Expect(compliant.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(compliant.Message).To(ContainSubstring("minLength"))
			synced := syncedOf(role)
			g.Expect(synced).NotTo(BeNil())
			g.Expect(synced.Reason).To(Equal(implyv1alpha1.ReasonWaitingForCluster))
			g.Expect(meta.IsStatusConditionFalse(role.Status.Conditions, implyv1alpha1.ConditionDegraded)).To(BeTrue())
		}).WithTimeout(settle).Should(Succeed())

		By("giving the cluster its CA: the bundle appears and both kinds converge well before the 5-minute resync")
		Expect(k8sClient.Create(testCtx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "user-ca", Namespace: ns},
			Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": ca.CertPEM, "tls.key": ca.KeyPEM}})).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(syncedOf(role)).To(HaveField("Status", metav1.ConditionTrue))
			ready := tokenCond(strong, implyv1alpha1.ConditionReady)
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.Status).To(Equal(metav1.ConditionTrue), ready.Message)
		}).WithTimeout(settle).Should(Succeed())
		compliant := tokenCond(weak, implyv1alpha1.ConditionPolicyCompliant)
		Expect(compliant.Status).To(Equal(metav1.ConditionFalse), "the weak password is still not applied")
	})
})
