package specs

import (
	"testing"
	"time"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
)

func TestLeafTargetsOnePerGroupAndTheManager(t *testing.T) {
	g := NewWithT(t)
	c := newCluster(withTLS(true))
	c.Spec.Security.TLS.Certificate = implyv1alpha1.CertificateSpec{Validity: &metav1.Duration{Duration: time.Hour}}
	targets := LeafTargets(c)
	g.Expect(targets).To(HaveLen(len(c.Spec.NodeGroups) + 1))
	for i, grp := range c.Spec.NodeGroups {
		g.Expect(targets[i].Key).To(Equal(grp.Name))
		g.Expect(targets[i].SecretName).To(Equal(GroupTLSSecretName(c.Name, grp.Name)))
		g.Expect(targets[i].Request.CommonName).To(Equal(GroupName(c.Name, grp.Name)))
		g.Expect(targets[i].Request.DNSNames).To(ContainElement("*." + HeadlessServiceName(c.Name, grp.Name) + "." + c.Namespace + ".svc"))
	}
	manager := targets[len(targets)-1]
	g.Expect(manager.Key).To(Equal(ComponentManager))
	g.Expect(manager.SecretName).To(Equal(ManagerTLSSecretName(c.Name)))
	g.Expect(manager.Labels).To(Equal(Labels(c.Name, ComponentManager, ComponentManager)))
	for _, t := range targets {
		g.Expect(t.Client).To(BeNil(), "no client certificate without requireClientCertificate")
	}
}

// TestLeafTargetsClientCertificates: with requireClientCertificate every node group, and not
// the manager, gets a client-only certificate named <cluster>-<group>-client.
func TestLeafTargetsClientCertificates(t *testing.T) {
	g := NewWithT(t)
	c := newCluster(withTLS(true))
	c.Spec.Security.TLS.RequireClientCertificate = true
	c.Spec.Security.TLS.Certificate = implyv1alpha1.CertificateSpec{Validity: &metav1.Duration{Duration: time.Hour}, KeyAlgorithm: implyv1alpha1.KeyAlgorithmRSA2048}
	targets := LeafTargets(c)
	for i, grp := range c.Spec.NodeGroups {
		g.Expect(targets[i].Client).NotTo(BeNil())
		g.Expect(*targets[i].Client).To(Equal(pki.LeafRequest{
			CommonName: GroupName(c.Name, grp.Name) + "-client", ClientOnly: true,
			Algorithm: implyv1alpha1.KeyAlgorithmRSA2048, Validity: time.Hour,
		}))
	}
	g.Expect(targets[len(targets)-1].Client).To(BeNil())
}

// TestMutualTLSProperties: with requireClientCertificate the servers trust the client-CA-only
// truststore and the clients present the client keystore; the serving keystore and the
// truststore clients verify servers with are unchanged. Without it none of that is set.
func TestMutualTLSProperties(t *testing.T) {
	g := NewWithT(t)
	c := newCluster(withTLS(true))
	plain := tlsRuntimeProperties(c)
	for _, k := range []string{"druid.server.https.trustStorePath", "druid.client.https.keyStorePath", "druid.server.https.validateHostnames"} {
		g.Expect(plain).NotTo(HaveKey(k))
	}
	g.Expect(plain).To(HaveKeyWithValue("druid.server.https.requireClientCertificate", "false"))

	c.Spec.Security.TLS.RequireClientCertificate = true
	p := tlsRuntimeProperties(c)
	password := environmentPassword(EnvKeystorePassword)
	g.Expect(p).To(HaveKeyWithValue("druid.server.https.requireClientCertificate", "true"))
	g.Expect(p).To(HaveKeyWithValue("druid.server.https.trustStorePath", "/etc/imply/tls/client-truststore.p12"))
	g.Expect(p).To(HaveKeyWithValue("druid.server.https.trustStoreType", "pkcs12"))
	g.Expect(p).To(HaveKeyWithValue("druid.server.https.trustStorePassword", password))
	g.Expect(p).To(HaveKeyWithValue("druid.server.https.validateHostnames", "false"))
	g.Expect(p).To(HaveKeyWithValue("druid.server.https.keyStorePath", "/etc/imply/tls/keystore.p12"))
	g.Expect(p).To(HaveKeyWithValue("druid.client.https.keyStorePath", "/etc/imply/tls/client-keystore.p12"))
	g.Expect(p).To(HaveKeyWithValue("druid.client.https.keyStoreType", "pkcs12"))
	g.Expect(p).To(HaveKeyWithValue("druid.client.https.keyStorePassword", password))
	g.Expect(p).To(HaveKeyWithValue("druid.client.https.trustStorePath", "/etc/imply/tls/truststore.p12"))
	g.Expect(p).To(HaveKeyWithValue("druid.client.https.validateHostnames", "true"))
}

func TestBuildCertificate(t *testing.T) {
	g := NewWithT(t)
	c := newCluster(withTLS(true))
	c.Spec.Security.TLS.CA = &implyv1alpha1.CASpec{IssuerRef: &implyv1alpha1.IssuerReference{Name: "corp"}}
	c.Spec.Security.TLS.Certificate = implyv1alpha1.CertificateSpec{KeyAlgorithm: implyv1alpha1.KeyAlgorithmRSA4096,
		Validity: &metav1.Duration{Duration: 2160 * time.Hour}, RenewBefore: &metav1.Duration{Duration: 720 * time.Hour}}
	target := LeafTargets(c)[0]
	crt := BuildCertificate(c, target)
	g.Expect(crt.Name).To(Equal(target.SecretName))
	g.Expect(crt.Spec.SecretName).To(Equal(target.SecretName+"-issued"), "cert-manager issues beside the Secret pods mount")
	g.Expect(crt.Spec.SecretName).To(Equal(target.IssuedSecretName))
	g.Expect(crt.Spec.DNSNames).To(Equal(target.Request.DNSNames))
	g.Expect(crt.Spec.Duration.Duration).To(Equal(2160 * time.Hour))
	g.Expect(crt.Spec.IssuerRef).To(Equal(cmmeta.IssuerReference{Name: "corp", Kind: "Issuer", Group: "cert-manager.io"}))
	g.Expect(crt.Spec.PrivateKey.Algorithm).To(Equal(cmv1.RSAKeyAlgorithm))
	g.Expect(crt.Spec.PrivateKey.Size).To(Equal(4096))
	g.Expect(crt.Spec.Usages).To(ContainElements(cmv1.UsageServerAuth, cmv1.UsageClientAuth))
	g.Expect(crt.Spec.Keystores).To(BeNil(), "the operator builds the keystores it serves")
}

func TestReferencedSecrets(t *testing.T) {
	g := NewWithT(t)
	c := newCluster()
	c.Spec.License = &implyv1alpha1.LicenseSpec{SecretRef: implyv1alpha1.SecretKeySelector{Name: "lic"}}
	refs := ReferencedSecrets(c)
	g.Expect(refs[0]).To(Equal(SecretReference{Field: "spec.license.secretRef", Name: "lic", Keys: []string{DefaultLicenseKey}}))
	var fields []string
	for _, r := range refs {
		fields = append(fields, r.Field)
	}
	g.Expect(fields).To(ContainElement("spec.druid.metadataStore.credentialsSecretRef"))
}

func TestDruidRoleName(t *testing.T) {
	role := &implyv1alpha1.DruidRole{ObjectMeta: metav1.ObjectMeta{Name: "readers"}}
	if got := DruidRoleName(role); got != "readers" {
		t.Errorf("DruidRoleName = %q", got)
	}
	role.Spec.RoleName = "wiki-readers"
	if got := DruidRoleName(role); got != "wiki-readers" {
		t.Errorf("DruidRoleName = %q", got)
	}
}
