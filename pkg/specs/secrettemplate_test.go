package specs

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// replicate is a template as a replication tool needs it, trying to override an operator label.
func replicate() *implyv1alpha1.SecretTemplate {
	return &implyv1alpha1.SecretTemplate{
		Labels:      map[string]string{"replicate": "yes", LabelManagedBy: "someone-else"},
		Annotations: map[string]string{"reflector.v1.k8s.emberstack.com/reflection-allowed": "true"},
	}
}

// expectTemplated checks meta carries the template and kept the operator's own labels.
func expectTemplated(g *WithT, meta metav1.ObjectMeta, what string) {
	g.Expect(meta.Labels).To(HaveKeyWithValue("replicate", "yes"), what)
	g.Expect(meta.Labels).To(HaveKeyWithValue(LabelManagedBy, ManagedBy), "%s: the operator's label wins", what)
	g.Expect(meta.Annotations).To(HaveKeyWithValue("reflector.v1.k8s.emberstack.com/reflection-allowed", "true"), what)
}

func TestSecretTemplateOnClusterObjects(t *testing.T) {
	g := NewWithT(t)
	c := newCluster(withTLS(true))
	c.Spec.Security.TLS.Certificate = implyv1alpha1.CertificateSpec{Validity: &metav1.Duration{Duration: time.Hour}, RenewBefore: &metav1.Duration{Duration: time.Minute}}
	c.Spec.Security.TLS.CA = &implyv1alpha1.CASpec{IssuerRef: &implyv1alpha1.IssuerReference{Name: "corp"}}
	c.Spec.Security.SecretTemplate = replicate()

	expectTemplated(g, BuildClusterSecret(c, CASecretName(c.Name), "Opaque", nil).ObjectMeta, "CA Secret")
	expectTemplated(g, BuildCABundleConfigMap(c, []byte("pem")).ObjectMeta, "CA bundle")
	expectTemplated(g, BuildDruidCredentialsSecret(c, "a", "b").ObjectMeta, "Druid credentials")
	for _, target := range LeafTargets(c) {
		g.Expect(target.Labels).To(HaveKeyWithValue("replicate", "yes"), target.SecretName)
		g.Expect(target.Labels).To(HaveKeyWithValue(LabelManagedBy, ManagedBy), target.SecretName)
		st := BuildCertificate(c, target).Spec.SecretTemplate
		g.Expect(st.Labels).To(HaveKeyWithValue("replicate", "yes"), "cert-manager writes the labels")
		g.Expect(st.Annotations).To(HaveKeyWithValue("reflector.v1.k8s.emberstack.com/reflection-allowed", "true"))
	}

	t.Run("without a template nothing is added", func(t *testing.T) {
		g := NewWithT(t)
		plain := newCluster(withTLS(true))
		plain.Spec.Security.TLS.Certificate = c.Spec.Security.TLS.Certificate
		plain.Spec.Security.TLS.CA = c.Spec.Security.TLS.CA
		secret := BuildClusterSecret(plain, CASecretName(plain.Name), "Opaque", nil)
		g.Expect(secret.Labels).To(Equal(ClusterLabels(plain)))
		g.Expect(secret.Annotations).To(BeEmpty())
		g.Expect(BuildCertificate(plain, LeafTargets(plain)[0]).Spec.SecretTemplate.Annotations).To(BeEmpty())
	})
}

func TestSecretTemplateOnAuthTokenSecrets(t *testing.T) {
	g := NewWithT(t)
	token := &implyv1alpha1.AuthToken{ObjectMeta: metav1.ObjectMeta{Name: "t", Namespace: "ns"},
		Spec: implyv1alpha1.AuthTokenSpec{Type: implyv1alpha1.AuthTokenDruid, Username: "u", SecretTemplate: replicate()}}
	expectTemplated(g, BuildAgentTokenSecret(token, "value", time.Now()).ObjectMeta, "agent token")
	creds, err := BuildDruidUserCredentialsSecret(token, "pw", time.Now(), nil)
	g.Expect(err).NotTo(HaveOccurred())
	expectTemplated(g, creds.ObjectMeta, "Druid user credentials")
	g.Expect(creds.Annotations).To(HaveKey(AnnotationPasswordHistory), "the operator's annotations stay")
}
