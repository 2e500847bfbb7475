package implycluster

import (
	"crypto/x509"
	"sync/atomic"
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

// issuances counts the leaves the test issuer signed.
var issuances atomic.Int64

// testIssued is what the test issuer wrote for one Certificate.
type testIssued struct {
	leaf    *pki.KeyPair
	renewal time.Time
}

// playIssuer does what cert-manager's issuing controller does for each named Certificate once
// its issuer signed it: it signs a leaf for the Certificate's spec with ca, server-side applies
// it to the Certificate's secretName (forced, as cert-manager's field manager: tls.crt, tls.key
// and ca.crt, with the secretTemplate's labels) and marks the Certificate Ready for its
// generation, dropping an Issuing condition.
func playIssuer(ns string, ca *pki.KeyPair, names ...string) map[string]testIssued {
	out := map[string]testIssued{}
	for _, name := range names {
		crt := getCertificate(ns, name)
		alg := implyv1alpha1.KeyAlgorithmECDSAP256
		if crt.Spec.PrivateKey != nil && crt.Spec.PrivateKey.Algorithm == cmv1.RSAKeyAlgorithm {
			alg = implyv1alpha1.KeyAlgorithmRSA2048
		}
		// Each issuance a second after the last, as time passes for cert-manager (the suite's
		// clock stands still).
		issuedAt := suiteClock.Now().Add(time.Duration(issuances.Add(1)) * time.Second)
		leaf, err := ca.SignLeaf(clocktesting.NewFakeClock(issuedAt), pki.LeafRequest{
			CommonName: crt.Spec.CommonName, DNSNames: crt.Spec.DNSNames, Algorithm: alg, Validity: crt.Spec.Duration.Duration,
		})
		ExpectWithOffset(1, err).NotTo(HaveOccurred())
		secret := applycorev1.Secret(crt.Spec.SecretName, ns).
			WithLabels(crt.Spec.SecretTemplate.Labels).
			WithLabels(map[string]string{cmv1.PartOfCertManagerControllerLabelKey: "true"}).
			WithAnnotations(map[string]string{
				cmv1.CertificateNameKey: crt.Name, cmv1.IssuerNameAnnotationKey: crt.Spec.IssuerRef.Name,
				cmv1.IssuerKindAnnotationKey: crt.Spec.IssuerRef.Kind, cmv1.IssuerGroupAnnotationKey: crt.Spec.IssuerRef.Group,
			}).
			WithType(corev1.SecretTypeTLS).
			WithData(map[string][]byte{corev1.TLSCertKey: leaf.CertPEM, corev1.TLSPrivateKeyKey: leaf.KeyPEM, cmmeta.TLSCAKey: ca.CertPEM})
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
		out[name] = testIssued{leaf: leaf, renewal: renewal}
	}
	return out
}

// reissueRequested lists the Certificates of ns whose Issuing condition is True: the operator
// asked cert-manager to issue them again.
func reissueRequested(ns string) []string {
	var list cmv1.CertificateList
	ExpectWithOffset(1, k8sClient.List(testCtx, &list, client.InNamespace(ns))).To(Succeed())
	var out []string
	for _, crt := range list.Items {
		for _, cond := range crt.Status.Conditions {
			if cond.Type == cmv1.CertificateConditionIssuing && cond.Status == cmmeta.ConditionTrue {
				out = append(out, crt.Name)
			}
		}
	}
	return out
}

// expectMutualTrust checks that every leaf Secret's certificate verifies against every leaf
// Secret's trust (ca.crt and the truststore): no two pods, whichever material they started
// with, fail to talk.
func expectMutualTrust(g Gomega, ns string) {
	for _, server := range leafSecretNames {
		leaf := parseCert(getSecret(ns, server).Data["tls.crt"])
		for _, client := range leafSecretNames {
			s := getSecret(ns, client)
			roots := x509.NewCertPool()
			cas, err := pkcs12.DecodeTrustStore(s.Data["truststore.p12"], string(s.Data["keystore-password"]))
			g.Expect(err).NotTo(HaveOccurred())
			bundle, err := pki.ParseBundle(s.Data["ca.crt"])
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(cas).To(HaveLen(len(bundle)), "%s: the truststore holds ca.crt", client)
			for _, ca := range bundle {
				g.Expect(containsCert(cas, ca)).To(BeTrue(), "%s: the truststore holds ca.crt", client)
			}
			for _, ca := range cas {
				roots.AddCert(ca)
			}
			_, err = leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
			g.Expect(err).NotTo(HaveOccurred(), "%s's leaf against %s's truststore", server, client)
		}
	}
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

// createIssuerCluster creates cluster "c" with the Issuer "corp-issuer" as its CA in a new
// namespace (prefix) and waits until it has a Certificate for every leaf.
func createIssuerCluster(prefix string) (ns string, c *implyv1alpha1.ImplyCluster) {
	ns = newNamespace(prefix)
	createSecrets(ns)
	c = testobj.ImplyCluster("c", ns, withIssuer())
	ExpectWithOffset(1, k8sClient.Create(testCtx, c)).To(Succeed())
	EventuallyWithOffset(1, func(g Gomega) {
		for _, name := range leafSecretNames {
			g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: name}, &cmv1.Certificate{})).To(Succeed(), name)
		}
	}).WithTimeout(settle).Should(Succeed())
	return ns, c
}

// newTestIssuerCA is the CA the test issuer signs with.
func newTestIssuerCA() *pki.KeyPair {
	ca, err := pki.CreateRootCA(clocktesting.NewFakeClock(suiteClock.Now()), "corp issuer CA", implyv1alpha1.KeyAlgorithmECDSAP256, 24*time.Hour*365)
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
		for _, name := range leafSecretNames {
			crt := getCertificate(ns, name)
			Expect(metav1.IsControlledBy(crt, c)).To(BeTrue(), "%s is controlled by the cluster", name)
			Expect(crt.Labels).To(HaveKeyWithValue("imply.operator.dev/cluster", "c"))
			s := crt.Spec
			Expect(s.SecretName).To(Equal(name+"-issued"), "cert-manager issues beside the Secret pods mount")
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
			Expect(s.Keystores).To(BeNil(), "the operator builds the keystores of what it serves")
			Expect(s.SecretTemplate.Labels).To(HaveKeyWithValue("app.kubernetes.io/managed-by", "imply-operator"))
			Expect(s.SecretTemplate.Labels).To(HaveKeyWithValue("imply.operator.dev/node-group", name[len("c-"):len(name)-len("-tls")]))
			Expect(apierrors.IsNotFound(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: name}, &corev1.Secret{}))).To(BeTrue(),
				"no leaf Secret before cert-manager issued: %s", name)
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
			Expect(metav1.IsControlledBy(secret, c)).To(BeTrue(), "%s is the operator's", name)
			Expect(secret.Data["tls.crt"]).To(Equal(issued[name].leaf.CertPEM), "the issued leaf is served")
			Expect(len(secret.Data["keystore-password"])).To(BeNumerically(">=", 16))
			key, cert, chain, err := pkcs12.DecodeChain(secret.Data["keystore.p12"], string(secret.Data["keystore-password"]))
			Expect(err).NotTo(HaveOccurred(), name)
			Expect(key).NotTo(BeNil())
			Expect(cert.Equal(issued[name].leaf.Certificate)).To(BeTrue())
			Expect(chain).To(HaveLen(1))
			Expect(chain[0].Equal(ca.Certificate)).To(BeTrue())
			Expect(secret.Data["ca.crt"]).To(Equal(ca.CertPEM))
			issuedSecret := getSecret(ns, name+"-issued")
			Expect(metav1.GetControllerOf(issuedSecret)).To(BeNil(), "cert-manager may set its Certificate as controller")
			Expect(issuedSecret.OwnerReferences).To(ConsistOf(HaveField("UID", c.UID)), "the issued key goes with the cluster")
		}
		expectMutualTrust(Default, ns)
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
		Expect(counter.Since(0)).To(BeEmpty(), "status writes: %v", counter.StatusBodies())

		By("rolling a group when cert-manager renews its certificate")
		playIssuer(ns, ca, "c-data-tls")
		Eventually(func() string { return tlsRevision(ns, "data") }).WithTimeout(settle).ShouldNot(Equal(revisions["data"]))
		Expect(tlsRevision(ns, "master")).To(Equal(revisions["master"]))

		By("packing the keystores a leaf Secret lost again, around the certificate it serves")
		query := getSecret(ns, "c-query-tls")
		patch := client.MergeFrom(query.DeepCopy())
		delete(query.Data, "keystore.p12")
		delete(query.Data, "truststore.p12")
		Expect(k8sClient.Patch(testCtx, query, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			now := getSecret(ns, "c-query-tls")
			g.Expect(now.Data["tls.crt"]).To(Equal(issued["c-query-tls"].leaf.CertPEM), "no other certificate is served")
			g.Expect(now.Data["keystore-password"]).To(Equal(query.Data["keystore-password"]))
			_, cert, chain, err := pkcs12.DecodeChain(now.Data["keystore.p12"], string(now.Data["keystore-password"]))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(cert.Equal(issued["c-query-tls"].leaf.Certificate)).To(BeTrue())
			g.Expect(chain).To(HaveLen(1))
			g.Expect(chain[0].Equal(ca.Certificate)).To(BeTrue())
			trusted, err := pkcs12.DecodeTrustStore(now.Data["truststore.p12"], string(now.Data["keystore-password"]))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(trusted).To(HaveLen(1))
		}).WithTimeout(settle).Should(Succeed())
		Expect(tlsRevision(ns, "query")).To(Equal(revisions["query"]), "the same certificate rolls nothing")
		Eventually(func(g Gomega) {
			repacked := normalEvents(c, implyv1alpha1.EventKeystoresRepacked)
			g.Expect(repacked).To(HaveLen(1))
			g.Expect(repacked[0].Note).To(ContainSubstring("c-query-tls (keystore.p12 was missing)"))
		}).WithTimeout(settle).Should(Succeed())
	})

	It("waits for a new group's Certificate, prunes a removed group's, and hands the Secrets back when the CA is generated again", func() {
		ns, c := createIssuerCluster("tls-cm-groups")
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

		By("removing it again after cert-manager issued it: its Certificate and both Secrets are deleted")
		playIssuer(ns, ca, "c-hot-tls")
		Eventually(func(g Gomega) {
			var s corev1.Secret
			g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-hot-tls"}, &s)).To(Succeed())
			g.Expect(s.Data["tls.crt"]).NotTo(BeEmpty())
		}).WithTimeout(settle).Should(Succeed())
		patch = client.MergeFrom(c.DeepCopy())
		c.Spec.NodeGroups = c.Spec.NodeGroups[:3]
		Expect(k8sClient.Patch(testCtx, c, patch)).To(Succeed())
		waitCertificatesReady(c)
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-hot-tls"}, &cmv1.Certificate{})) &&
				apierrors.IsNotFound(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-hot-tls-issued"}, &corev1.Secret{})) &&
				apierrors.IsNotFound(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-hot-tls"}, &corev1.Secret{}))
		}).WithTimeout(settle).Should(BeTrue())
		Expect(getCertificate(ns, "c-data-tls").DeletionTimestamp).To(BeNil())
		password := getSecret(ns, "c-data-tls").Data["keystore-password"]

		By("generating the CA again: the Certificates and issued Secrets go, the leaf Secrets stay, trusting the generated CA beside the issuer's first")
		patch = client.MergeFrom(c.DeepCopy())
		c.Spec.Security.TLS.CA = &implyv1alpha1.CASpec{Generate: &implyv1alpha1.GeneratedCASpec{}}
		Expect(k8sClient.Patch(testCtx, c, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			var list cmv1.CertificateList
			g.Expect(k8sClient.List(testCtx, &list, client.InNamespace(ns))).To(Succeed())
			g.Expect(list.Items).To(BeEmpty())
			for _, name := range leafSecretNames {
				g.Expect(apierrors.IsNotFound(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: name + "-issued"}, &corev1.Secret{}))).To(BeTrue(), name)
			}
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
	It("changes nothing live until it has issued, then phases the issuer's CA in as any change of the signing CA", func() {
		ns := newNamespace("tls-cm-switch")
		createSecrets(ns)
		c := testobj.ImplyCluster("c", ns)
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		waitCertificatesReady(c)
		markWorkloadsReady(c)
		waitQuiet(ns)
		generated := parseCert(getSecret(ns, "c-ca").Data["ca.crt"])
		passwords, leaves := map[string][]byte{}, map[string][]byte{}
		for _, name := range leafSecretNames {
			Expect(metav1.IsControlledBy(getSecret(ns, name), c)).To(BeTrue())
			passwords[name] = getSecret(ns, name).Data["keystore-password"]
			leaves[name] = getSecret(ns, name).Data["tls.crt"]
		}
		var before appsv1.StatefulSet
		Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-data"}, &before)).To(Succeed())

		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.Security.TLS.CA = &implyv1alpha1.CASpec{IssuerRef: &implyv1alpha1.IssuerReference{Name: "corp-issuer"}}
		Expect(k8sClient.Patch(testCtx, c, patch)).To(Succeed())
		waitForIssuer(c, leafSecretNames...)
		for _, name := range leafSecretNames {
			s := getSecret(ns, name)
			Expect(s.Data["tls.crt"]).To(Equal(leaves[name]), name)
			Expect(metav1.IsControlledBy(s, c)).To(BeTrue(), "%s stays the operator's", name)
		}
		var during appsv1.StatefulSet
		Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(&before), &during)).To(Succeed())
		Expect(during.ResourceVersion).To(Equal(before.ResourceVersion), "nothing live changes while waiting")

		By("trusting the issuer's CA beside the generated one first, every pod keeping its leaf")
		ca := newTestIssuerCA()
		issued := playIssuer(ns, ca, leafSecretNames...)
		Eventually(func(g Gomega) {
			g.Expect(caPhase(ns)).To(Equal("TrustBoth"))
			g.Expect(trustedSerials(ns, "c-data-tls")).To(ConsistOf(ca.Certificate.SerialNumber.String(), generated.SerialNumber.String()))
		}).WithTimeout(settle).Should(Succeed())
		for _, name := range leafSecretNames {
			Expect(getSecret(ns, name).Data["tls.crt"]).To(Equal(leaves[name]), "%s: no leaf of the new CA before every pod trusts it", name)
		}
		expectMutualTrust(Default, ns)

		By("serving the issued leaves once that rolled out, then trusting the issuer's CA alone; every pair trusting each other at every step")
		Eventually(func(g Gomega) {
			markWorkloadsReady(c)
			expectMutualTrust(g, ns)
			g.Expect(caPhase(ns)).To(BeEmpty())
			g.Expect(caBundleMap(ns).Data["ca.crt"]).To(Equal(string(ca.CertPEM)))
		}).WithTimeout(3 * settle).WithPolling(300 * time.Millisecond).Should(Succeed())
		for _, name := range leafSecretNames {
			s := getSecret(ns, name)
			Expect(s.Data["tls.crt"]).To(Equal(issued[name].leaf.CertPEM), name)
			Expect(s.Data["keystore-password"]).To(Equal(passwords[name]), "%s keeps its keystore password", name)
			Expect(metav1.IsControlledBy(s, c)).To(BeTrue())
		}
		waitCertificatesReady(c)
	})
})

var _ = Describe("A new CA behind the cert-manager issuer", func() {
	It("is trusted everywhere before any pod serves a leaf of it, then every leaf is re-issued by it, then the old CA is dropped", func() {
		ns, c := createIssuerCluster("tls-cm-newca")
		oldCA := newTestIssuerCA()
		first := playIssuer(ns, oldCA, leafSecretNames...)
		waitCertificatesReady(c)
		markWorkloadsReady(c)
		waitQuiet(ns)
		Expect(caPhase(ns)).To(BeEmpty())

		By("cert-manager renewing one leaf from the issuer's new CA: held back, the new CA trusted beside the old")
		newCA := newTestIssuerCA()
		renewed := playIssuer(ns, newCA, "c-data-tls")
		Eventually(func(g Gomega) {
			g.Expect(caPhase(ns)).To(Equal("TrustBoth"))
			g.Expect(trustedSerials(ns, "c-master-tls")).To(ConsistOf(oldCA.Certificate.SerialNumber.String(), newCA.Certificate.SerialNumber.String()))
		}).WithTimeout(settle).Should(Succeed())
		Expect(caBundleMap(ns).Annotations).To(HaveKeyWithValue("imply.operator.dev/ca-rotation-cause", "CAChanged"))
		for _, name := range leafSecretNames {
			Expect(getSecret(ns, name).Data["tls.crt"]).To(Equal(first[name].leaf.CertPEM), "%s: the old CA's leaf is served in TrustBoth", name)
		}
		expectMutualTrust(Default, ns)

		By("rolling through the phases: the operator asks cert-manager to re-issue every leaf still of the old CA")
		requested := map[string]bool{}
		Eventually(func(g Gomega) {
			markWorkloadsReady(c)
			expectMutualTrust(g, ns)
			for _, name := range reissueRequested(ns) {
				requested[name] = true
				playIssuer(ns, newCA, name) // cert-manager answers the request
			}
			g.Expect(caPhase(ns)).To(BeEmpty())
		}).WithTimeout(3 * settle).WithPolling(300 * time.Millisecond).Should(Succeed())
		Expect(requested).To(Equal(map[string]bool{"c-master-tls": true, "c-query-tls": true, "c-manager-tls": true}),
			"every leaf but the renewed one was re-issued on request")
		Expect(getSecret(ns, "c-data-tls").Data["tls.crt"]).To(Equal(renewed["c-data-tls"].leaf.CertPEM))
		for _, name := range leafSecretNames {
			leaf := parseCert(getSecret(ns, name).Data["tls.crt"])
			Expect(leaf.CheckSignatureFrom(newCA.Certificate)).To(Succeed(), name)
		}
		Expect(caBundleMap(ns).Data["ca.crt"]).To(Equal(string(newCA.CertPEM)))
		Eventually(func() int { return len(normalEvents(c, "CertificateReissueRequested")) }).WithTimeout(settle).ShouldNot(BeZero())
		waitCertificatesReady(c)
	})
})

var _ = Describe("A leaf Secret cert-manager wrote itself in earlier builds", func() {
	It("is taken over as the operator's, values kept, from the cluster's Certificate as its controller", func() {
		ns, c := createIssuerCluster("tls-cm-takeover")
		playIssuer(ns, newTestIssuerCA(), leafSecretNames...)
		waitCertificatesReady(c)
		waitQuiet(ns)

		By("making c-data-tls what cert-manager --enable-certificate-owner-ref left: controlled by the Certificate, the cluster a plain owner")
		crt := getCertificate(ns, "c-data-tls")
		secret := getSecret(ns, "c-data-tls")
		leaf := secret.Data["tls.crt"]
		patch := client.MergeFrom(secret.DeepCopy())
		secret.OwnerReferences = []metav1.OwnerReference{
			{APIVersion: "cert-manager.io/v1", Kind: "Certificate", Name: crt.Name, UID: crt.UID, Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)},
			{APIVersion: "imply.operator.dev/v1alpha1", Kind: "ImplyCluster", Name: c.Name, UID: c.UID},
		}
		Expect(k8sClient.Patch(testCtx, secret, patch)).To(Succeed())

		Eventually(func(g Gomega) {
			s := &corev1.Secret{}
			g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-data-tls"}, s)).To(Succeed())
			g.Expect(metav1.IsControlledBy(s, c)).To(BeTrue())
			g.Expect(s.OwnerReferences).To(HaveLen(1))
			g.Expect(s.Data["tls.crt"]).To(Equal(leaf))
		}).WithTimeout(settle).Should(Succeed())
		waitCertificatesReady(c)
		Expect(warningEvents(c, "NameConflict")).To(BeEmpty())
	})
})
