package implycluster

import (
	"crypto/x509"
	"time"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	applycorev1 "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"software.sslmate.com/src/go-pkcs12"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// certManagerFieldManager is the field manager cert-manager's issuing controller applies leaf
// Secrets with.
const certManagerFieldManager = "cert-manager-certificates-issuing"

// withIssuer makes a test cluster's CA the cert-manager Issuer "corp-issuer".
func withIssuer() testobj.ClusterOption {
	return func(c *implyv1alpha1.ImplyCluster) {
		c.Spec.Security = &implyv1alpha1.SecuritySpec{TLS: &implyv1alpha1.TLSSpec{
			Enabled: true, CA: &implyv1alpha1.CASpec{IssuerRef: &implyv1alpha1.IssuerReference{Name: "corp-issuer"}},
		}}
	}
}

// getCertificate reads a cert-manager Certificate from the apiserver.
func getCertificate(ns, name string) *cmv1.Certificate {
	var crt cmv1.Certificate
	ExpectWithOffset(1, k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: name}, &crt)).To(Succeed())
	return &crt
}

// issuedLeaf is what the test issuer wrote for one Certificate.
type issuedLeaf struct {
	leaf     *pki.KeyPair
	password string
	renewal  time.Time
}

// playIssuer does what cert-manager's issuing controller does for each named Certificate once
// its issuer signed it: it signs a leaf for the Certificate's spec with ca, server-side applies
// the Secret (forced, as cert-manager's field manager, only the keys cert-manager writes:
// tls.crt, tls.key, ca.crt and the PKCS#12 keystore and truststore encrypted with the password
// the Certificate points at) and marks the Certificate Ready for its generation.
func playIssuer(ns string, ca *pki.KeyPair, names ...string) map[string]issuedLeaf {
	out := map[string]issuedLeaf{}
	for _, name := range names {
		crt := getCertificate(ns, name)
		alg := implyv1alpha1.KeyAlgorithmECDSAP256
		if crt.Spec.PrivateKey != nil && crt.Spec.PrivateKey.Algorithm == cmv1.RSAKeyAlgorithm {
			alg = implyv1alpha1.KeyAlgorithmRSA2048
		}
		leaf, err := ca.SignLeaf(clocktesting.NewFakeClock(time.Now()), pki.LeafRequest{
			CommonName: crt.Spec.CommonName, DNSNames: crt.Spec.DNSNames, Algorithm: alg, Validity: crt.Spec.Duration.Duration,
		})
		ExpectWithOffset(1, err).NotTo(HaveOccurred())
		ref := crt.Spec.Keystores.PKCS12.PasswordSecretRef
		password := string(getSecret(ns, ref.Name).Data[ref.Key])
		ExpectWithOffset(1, password).NotTo(BeEmpty(), "the password must be there before cert-manager encodes the keystore")
		chain := []*x509.Certificate{ca.Certificate}
		keystore, err := pki.Keystore(leaf, chain, password)
		ExpectWithOffset(1, err).NotTo(HaveOccurred())
		truststore, err := pki.Truststore(chain, password)
		ExpectWithOffset(1, err).NotTo(HaveOccurred())

		secret := applycorev1.Secret(crt.Spec.SecretName, ns).
			WithLabels(crt.Spec.SecretTemplate.Labels).
			WithLabels(map[string]string{cmv1.PartOfCertManagerControllerLabelKey: "true"}).
			WithAnnotations(map[string]string{
				cmv1.CertificateNameKey: crt.Name, cmv1.IssuerNameAnnotationKey: crt.Spec.IssuerRef.Name,
				cmv1.IssuerKindAnnotationKey: crt.Spec.IssuerRef.Kind, cmv1.IssuerGroupAnnotationKey: crt.Spec.IssuerRef.Group,
			}).
			WithType(corev1.SecretTypeTLS).
			WithData(map[string][]byte{
				corev1.TLSCertKey: leaf.CertPEM, corev1.TLSPrivateKeyKey: leaf.KeyPEM, cmmeta.TLSCAKey: ca.CertPEM,
				cmv1.PKCS12SecretKey: keystore, cmv1.PKCS12TruststoreKey: truststore,
			})
		ExpectWithOffset(1, k8sClient.Apply(testCtx, secret, client.FieldOwner(certManagerFieldManager), client.ForceOwnership)).To(Succeed())

		renewal := leaf.Certificate.NotAfter.Add(-crt.Spec.RenewBefore.Duration).UTC().Truncate(time.Second)
		now := metav1.Now()
		crt.Status = cmv1.CertificateStatus{
			Conditions: []cmv1.CertificateCondition{{
				Type: cmv1.CertificateConditionReady, Status: cmmeta.ConditionTrue, Reason: "Ready",
				Message: "Certificate is up to date and has not expired", ObservedGeneration: crt.Generation, LastTransitionTime: &now,
			}},
			NotBefore:   &metav1.Time{Time: leaf.Certificate.NotBefore},
			NotAfter:    &metav1.Time{Time: leaf.Certificate.NotAfter},
			RenewalTime: &metav1.Time{Time: renewal},
			Revision:    ptr.To(1),
		}
		ExpectWithOffset(1, k8sClient.Status().Update(testCtx, crt)).To(Succeed())
		out[name] = issuedLeaf{leaf: leaf, password: password, renewal: renewal}
	}
	return out
}

// waitForIssuer waits until the cluster reports it is waiting for the issuer, with every named
// Certificate, and no other, still pending.
func waitForIssuer(c *implyv1alpha1.ImplyCluster, pending ...string) {
	EventuallyWithOffset(1, func(g Gomega) {
		cond := condition(g, c, implyv1alpha1.ConditionCertificatesReady)
		g.Expect(cond).NotTo(BeNil())
		g.Expect(cond.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(cond.Reason).To(Equal("WaitingForIssuer"))
		g.Expect(cond.Message).To(ContainSubstring(`Issuer "corp-issuer"`))
		for _, name := range leafSecretNames {
			if contains(pending, name) {
				g.Expect(cond.Message).To(ContainSubstring("Certificate "+name+":"), "pending")
			} else {
				g.Expect(cond.Message).NotTo(ContainSubstring("Certificate "+name+":"), "issued")
			}
		}
		ready := meta.FindStatusCondition(c.Status.Conditions, implyv1alpha1.ConditionReady)
		g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(ready.Reason).To(Equal("WaitingForIssuer"))
		g.Expect(meta.IsStatusConditionFalse(c.Status.Conditions, implyv1alpha1.ConditionDegraded)).To(BeTrue(), "waiting is not a fault")
		g.Expect(meta.IsStatusConditionTrue(c.Status.Conditions, implyv1alpha1.ConditionProgressing)).To(BeTrue())
	}).WithTimeout(settle).Should(Succeed())
}

// contains says whether list holds s.
func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

// expectNothingLive checks that no workload of namespace ns exists.
func expectNothingLive(ns string) {
	var sets appsv1.StatefulSetList
	ExpectWithOffset(1, k8sClient.List(testCtx, &sets, client.InNamespace(ns))).To(Succeed())
	ExpectWithOffset(1, sets.Items).To(BeEmpty(), "no StatefulSet before every certificate is issued")
	var deployments appsv1.DeploymentList
	ExpectWithOffset(1, k8sClient.List(testCtx, &deployments, client.InNamespace(ns))).To(Succeed())
	ExpectWithOffset(1, deployments.Items).To(BeEmpty(), "no manager Deployment before every certificate is issued")
}

// newTestIssuerCA is the CA the test issuer signs with.
func newTestIssuerCA() *pki.KeyPair {
	ca, err := pki.CreateRootCA(clocktesting.NewFakeClock(time.Now()), "corp issuer CA", implyv1alpha1.KeyAlgorithmECDSAP256, 24*time.Hour*365)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return ca
}

var _ = Describe("ImplyCluster certificates from a cert-manager issuer", func() {
	It("applies one Certificate per leaf, waits for the issuer with nothing live, then rolls out on what it issued", func() {
		ns := newNamespace("tls-cm")
		createSecrets(ns)
		c := testobj.ImplyCluster("c", ns, withIssuer())
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())

		By("applying a Certificate for each node group and the manager")
		Eventually(func(g Gomega) {
			for _, name := range leafSecretNames {
				g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: name}, &cmv1.Certificate{})).To(Succeed(), name)
			}
		}).WithTimeout(settle).Should(Succeed())
		wantDNS := map[string][]string{
			"c-master-tls":  pki.GroupDNSNames("c", "master", ns, "cluster.local"),
			"c-query-tls":   pki.GroupDNSNames("c", "query", ns, "cluster.local"),
			"c-data-tls":    pki.GroupDNSNames("c", "data", ns, "cluster.local"),
			"c-manager-tls": pki.ManagerDNSNames("c", ns, "cluster.local"),
		}
		Expect(wantDNS["c-data-tls"]).To(ContainElement("*.c-data-headless." + ns + ".svc.cluster.local"))
		passwords := map[string][]byte{}
		for _, name := range leafSecretNames {
			crt := getCertificate(ns, name)
			Expect(metav1.IsControlledBy(crt, c)).To(BeTrue(), "%s is controlled by the cluster", name)
			Expect(crt.Labels).To(HaveKeyWithValue("imply.operator.dev/cluster", "c"))
			s := crt.Spec
			Expect(s.SecretName).To(Equal(name))
			Expect(s.CommonName).To(Equal(name[:len(name)-len("-tls")]))
			Expect(s.DNSNames).To(Equal(wantDNS[name]), name)
			Expect(s.IPAddresses).To(BeEmpty())
			Expect(s.Usages).To(ConsistOf(cmv1.UsageServerAuth, cmv1.UsageClientAuth, cmv1.UsageDigitalSignature, cmv1.UsageKeyEncipherment))
			Expect(s.IssuerRef).To(Equal(cmmeta.IssuerReference{Name: "corp-issuer", Kind: "Issuer", Group: "cert-manager.io"}))
			Expect(s.PrivateKey).To(Equal(&cmv1.CertificatePrivateKey{
				RotationPolicy: cmv1.RotationPolicyAlways, Encoding: cmv1.PKCS8, Algorithm: cmv1.ECDSAKeyAlgorithm, Size: 256,
			}))
			Expect(s.Duration.Duration).To(Equal(2160 * time.Hour))
			Expect(s.RenewBefore.Duration).To(Equal(720 * time.Hour))
			Expect(s.IsCA).To(BeFalse())
			Expect(s.Keystores).To(Equal(&cmv1.CertificateKeystores{PKCS12: &cmv1.PKCS12Keystore{
				Create: true, Profile: cmv1.Modern2023PKCS12Profile,
				PasswordSecretRef: cmmeta.SecretKeySelector{LocalObjectReference: cmmeta.LocalObjectReference{Name: name}, Key: "keystore-password"},
			}}))
			Expect(s.SecretTemplate.Labels).To(HaveKeyWithValue("app.kubernetes.io/managed-by", "imply-operator"))
			Expect(s.SecretTemplate.Labels).To(HaveKeyWithValue("imply.operator.dev/node-group", name[len("c-"):len(name)-len("-tls")]))

			By("preparing " + name + " with a keystore password for cert-manager to encrypt with")
			secret := getSecret(ns, name)
			Expect(secret.Type).To(Equal(corev1.SecretTypeTLS))
			Expect(secret.Data["tls.crt"]).To(BeEmpty())
			Expect(len(secret.Data["keystore-password"])).To(BeNumerically(">=", 16))
			Expect(string(secret.Data["keystore-password"])).NotTo(ContainSubstring(":"))
			Expect(metav1.GetControllerOf(secret)).To(BeNil(), "cert-manager may set the controller reference")
			Expect(secret.OwnerReferences).To(ConsistOf(HaveField("UID", c.UID)))
			passwords[name] = secret.Data["keystore-password"]
		}

		By("waiting for the issuer without rolling anything out")
		waitForIssuer(c, leafSecretNames...)
		expectNothingLive(ns)
		Expect(apierrors.IsNotFound(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-ca"}, &corev1.Secret{}))).To(BeTrue())
		Expect(apierrors.IsNotFound(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-ca-bundle"}, &corev1.ConfigMap{}))).To(BeTrue())
		Expect(warningEvents(c, "WaitingForIssuer")).To(BeEmpty())

		By("still waiting while one Certificate is not issued")
		ca := newTestIssuerCA()
		issued := playIssuer(ns, ca, "c-master-tls", "c-query-tls", "c-data-tls")
		waitForIssuer(c, "c-manager-tls")
		expectNothingLive(ns)

		By("rolling out once cert-manager has issued every Certificate")
		for k, v := range playIssuer(ns, ca, "c-manager-tls") {
			issued[k] = v
		}
		waitCertificatesReady(c)
		Expect(c.Status.Certificates).To(HaveLen(4))
		for _, st := range c.Status.Certificates {
			leaf := issued[st.SecretName].leaf.Certificate
			Expect(st.Serial).To(Equal(leaf.SerialNumber.Text(16)), st.SecretName)
			Expect(st.NotAfter.Time).To(BeTemporally("~", leaf.NotAfter, time.Second))
			Expect(st.RenewalTime.Time).To(BeTemporally("~", issued[st.SecretName].renewal, time.Second), "cert-manager's renewalTime")
		}
		Expect(c.Status.NextCertificateExpiry).NotTo(BeNil())
		var bundle corev1.ConfigMap
		Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-ca-bundle"}, &bundle)).To(Succeed())
		Expect(bundle.Data).To(Equal(map[string]string{"ca.crt": string(ca.CertPEM)}))
		Expect(metav1.IsControlledBy(&bundle, c)).To(BeTrue())
		Expect(apierrors.IsNotFound(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-ca"}, &corev1.Secret{}))).To(BeTrue(), "no c-ca Secret with an issuer")

		for _, name := range leafSecretNames {
			secret := getSecret(ns, name)
			Expect(secret.Data["keystore-password"]).To(Equal(passwords[name]), "cert-manager's apply keeps the operator's key")
			key, cert, chain, err := pkcs12.DecodeChain(secret.Data["keystore.p12"], string(secret.Data["keystore-password"]))
			Expect(err).NotTo(HaveOccurred(), name)
			Expect(key).NotTo(BeNil())
			Expect(cert.Equal(issued[name].leaf.Certificate)).To(BeTrue())
			Expect(chain).To(HaveLen(1))
		}
		revisions := map[string]string{}
		for _, group := range []string{"master", "query", "data"} {
			rev := tlsRevision(ns, group)
			Expect(rev).NotTo(BeEmpty(), group)
			revisions[group] = rev
			var sts appsv1.StatefulSet
			Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-" + group}, &sts)).To(Succeed())
			Expect(sts.Spec.Template.Spec.Volumes).To(ContainElement(HaveField("Secret.SecretName", "c-"+group+"-tls")))
		}
		Expect(revisions["master"]).NotTo(Equal(revisions["data"]))
		var manager appsv1.Deployment
		Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-manager"}, &manager)).To(Succeed())
		Expect(manager.Spec.Template.Annotations).To(HaveKey(specs.AnnotationTLSRevision))

		By("making no write when re-reconciling")
		markWorkloadsReady(c)
		Eventually(func(g Gomega) {
			g.Expect(condition(g, c, implyv1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
		}).WithTimeout(settle).Should(Succeed())
		waitQuiet(ns)
		counter := &writeCounter{}
		direct, err := client.New(counter.Wrap(cfg), client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())
		r := &Reconciler{Client: direct, APIReader: direct, Scheme: scheme, Recorder: noEvents{}, Clock: clock.RealClock{}, certManagerInstalled: true}
		for range 3 {
			res, err := r.Reconcile(testCtx, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(c)})
			Expect(err).NotTo(HaveOccurred())
			Expect(res.RequeueAfter).To(BeNumerically(">", time.Hour), "until cert-manager's renewal time")
		}
		Expect(counter.Since(0)).To(BeEmpty())

		By("rolling a group when cert-manager renews its certificate")
		playIssuer(ns, ca, "c-data-tls")
		Eventually(func() string { return tlsRevision(ns, "data") }).WithTimeout(settle).ShouldNot(Equal(revisions["data"]))
		Expect(tlsRevision(ns, "master")).To(Equal(revisions["master"]))
	})

	It("waits for a new group's Certificate, prunes a removed group's, and hands the Secrets back when the CA is generated again", func() {
		ns := newNamespace("tls-cm-groups")
		createSecrets(ns)
		c := testobj.ImplyCluster("c", ns, withIssuer())
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		Eventually(func(g Gomega) {
			for _, name := range leafSecretNames {
				var crt cmv1.Certificate
				g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: name}, &crt)).To(Succeed(), name)
				var s corev1.Secret
				g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: name}, &s)).To(Succeed(), name)
			}
		}).WithTimeout(settle).Should(Succeed())
		ca := newTestIssuerCA()
		playIssuer(ns, ca, leafSecretNames...)
		waitCertificatesReady(c)

		By("adding a group: its Certificate is applied and the cluster waits for it")
		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.NodeGroups = append(c.Spec.NodeGroups, implyv1alpha1.NodeGroupSpec{Name: "hot", Type: implyv1alpha1.NodeGroupData, Replicas: ptr.To[int32](1)})
		Expect(k8sClient.Patch(testCtx, c, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			cond := condition(g, c, implyv1alpha1.ConditionCertificatesReady)
			g.Expect(cond.Reason).To(Equal("WaitingForIssuer"))
			g.Expect(cond.Message).To(ContainSubstring("1 of 5"))
			g.Expect(cond.Message).To(ContainSubstring("Certificate c-hot-tls:"))
		}).WithTimeout(settle).Should(Succeed())
		Expect(apierrors.IsNotFound(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-hot"}, &appsv1.StatefulSet{}))).To(BeTrue())

		By("removing it again: its Certificate and Secret are deleted")
		patch = client.MergeFrom(c.DeepCopy())
		c.Spec.NodeGroups = c.Spec.NodeGroups[:3]
		Expect(k8sClient.Patch(testCtx, c, patch)).To(Succeed())
		waitCertificatesReady(c)
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-hot-tls"}, &cmv1.Certificate{})) &&
				apierrors.IsNotFound(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-hot-tls"}, &corev1.Secret{}))
		}).WithTimeout(settle).Should(BeTrue())
		Expect(getCertificate(ns, "c-data-tls").DeletionTimestamp).To(BeNil())
		password := getSecret(ns, "c-data-tls").Data["keystore-password"]

		By("generating the CA again: the Certificates go, the Secrets stay, trusting the generated CA beside the issuer's first")
		patch = client.MergeFrom(c.DeepCopy())
		c.Spec.Security.TLS.CA = &implyv1alpha1.CASpec{Generate: &implyv1alpha1.GeneratedCASpec{}}
		Expect(k8sClient.Patch(testCtx, c, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			var list cmv1.CertificateList
			g.Expect(k8sClient.List(testCtx, &list, client.InNamespace(ns))).To(Succeed())
			g.Expect(list.Items).To(BeEmpty())
			g.Expect(caPhase(ns)).To(Equal("TrustBoth"))
			g.Expect(trustedSerials(ns, "c-data-tls")).To(ConsistOf(ca.Certificate.SerialNumber.String(),
				parseCert(getSecret(ns, "c-ca").Data["ca.crt"]).SerialNumber.String()))
		}).WithTimeout(settle).Should(Succeed())
		Expect(parseCert(getSecret(ns, "c-data-tls").Data["tls.crt"]).CheckSignatureFrom(ca.Certificate)).To(Succeed(), "the issuer's leaf is kept in phase 1")

		By("rolling the three phases: the Secrets are signed by the operator")
		driveRotation(c)
		Eventually(func(g Gomega) {
			var list cmv1.CertificateList
			g.Expect(k8sClient.List(testCtx, &list, client.InNamespace(ns))).To(Succeed())
			g.Expect(list.Items).To(BeEmpty())
			var caSecret corev1.Secret
			g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-ca"}, &caSecret)).To(Succeed())
			roots := x509.NewCertPool()
			roots.AddCert(parseCert(caSecret.Data["ca.crt"]))
			s := &corev1.Secret{}
			g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-data-tls"}, s)).To(Succeed())
			_, err := parseCert(s.Data["tls.crt"]).Verify(x509.VerifyOptions{Roots: roots})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(s.Data["keystore-password"]).To(Equal(password))
			g.Expect(s.OwnerReferences).To(HaveLen(1), "one reference to the cluster, now its controller")
			g.Expect(metav1.IsControlledBy(s, c)).To(BeTrue())
		}).WithTimeout(settle).Should(Succeed())
	})
})

var _ = Describe("Switching a running cluster to a cert-manager issuer", func() {
	It("keeps the keystore passwords, hands the Secrets to cert-manager and changes nothing live until it has issued", func() {
		ns := newNamespace("tls-cm-switch")
		createSecrets(ns)
		c := testobj.ImplyCluster("c", ns)
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		waitCertificatesReady(c)
		waitQuiet(ns)
		passwords := map[string][]byte{}
		for _, name := range leafSecretNames {
			Expect(metav1.IsControlledBy(getSecret(ns, name), c)).To(BeTrue())
			passwords[name] = getSecret(ns, name).Data["keystore-password"]
		}
		var before appsv1.StatefulSet
		Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-data"}, &before)).To(Succeed())

		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.Security.TLS.CA = &implyv1alpha1.CASpec{IssuerRef: &implyv1alpha1.IssuerReference{Name: "corp-issuer"}}
		Expect(k8sClient.Patch(testCtx, c, patch)).To(Succeed())
		waitForIssuer(c, leafSecretNames...)
		for _, name := range leafSecretNames {
			s := getSecret(ns, name)
			Expect(s.Data["keystore-password"]).To(Equal(passwords[name]), name)
			Expect(metav1.GetControllerOf(s)).To(BeNil(), "%s: the controller reference became a plain one", name)
			Expect(s.OwnerReferences).To(ConsistOf(HaveField("UID", c.UID)))
		}
		var during appsv1.StatefulSet
		Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(&before), &during)).To(Succeed())
		Expect(during.ResourceVersion).To(Equal(before.ResourceVersion), "nothing live changes while waiting")

		ca := newTestIssuerCA()
		playIssuer(ns, ca, leafSecretNames...)
		Eventually(func(g Gomega) {
			cond := condition(g, c, implyv1alpha1.ConditionCertificatesReady)
			g.Expect(cond.Status).To(Equal(metav1.ConditionTrue), cond.Message)
			var bundle corev1.ConfigMap
			g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-ca-bundle"}, &bundle)).To(Succeed())
			g.Expect(bundle.Data["ca.crt"]).To(Equal(string(ca.CertPEM)))
			g.Expect(tlsRevision(ns, "data")).NotTo(Equal(before.Spec.Template.Annotations[specs.AnnotationTLSRevision]))
		}).WithTimeout(settle).Should(Succeed())
	})
})
