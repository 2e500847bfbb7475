package specs

import (
	"cmp"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
)

// LeafTarget is one leaf certificate to keep: its Secret (and its labels), the subject names to
// sign, and Key, the node group (or "manager") whose tls-revision it feeds.
type LeafTarget struct {
	Key        string
	SecretName string
	// IssuedSecretName is the Secret cert-manager issues the leaf into (issuerRef only).
	IssuedSecretName string
	Labels           map[string]string
	Request          pki.LeafRequest
	// Client is the Druid client certificate to keep in the same Secret, signed by the client
	// CA; nil unless requireClientCertificate (and for the manager, which is no Druid process).
	Client *pki.LeafRequest
}

// LeafTargets lists the leaves of c: one per node group and one for the manager. With
// requireClientCertificate each node group also gets a client certificate
// ("<cluster>-<group>-client", clientAuth only).
func LeafTargets(c *implyv1alpha1.ImplyCluster) []LeafTarget {
	tls := c.Spec.Security.TLS
	cert := tls.Certificate
	validity := cert.Validity.Duration
	var targets []LeafTarget
	for _, g := range c.Spec.NodeGroups {
		var client *pki.LeafRequest
		if MutualTLS(c) {
			client = &pki.LeafRequest{
				CommonName: GroupName(c.Name, g.Name) + "-client",
				Algorithm:  cert.KeyAlgorithm,
				Validity:   validity,
				ClientOnly: true,
			}
		}
		targets = append(targets, LeafTarget{
			Client:           client,
			Key:              g.Name,
			SecretName:       GroupTLSSecretName(c.Name, g.Name),
			IssuedSecretName: GroupIssuedTLSSecretName(c.Name, g.Name),
			Labels:           withTemplateLabels(Labels(c.Name, string(g.Type), g.Name), clusterSecretTemplate(c)),
			Request: pki.LeafRequest{
				CommonName: GroupName(c.Name, g.Name),
				DNSNames:   pki.GroupDNSNames(c.Name, g.Name, c.Namespace, tls.ClusterDomain),
				Algorithm:  cert.KeyAlgorithm,
				Validity:   validity,
			},
		})
	}
	return append(targets, LeafTarget{
		Key:              ComponentManager,
		SecretName:       ManagerTLSSecretName(c.Name),
		IssuedSecretName: ManagerIssuedTLSSecretName(c.Name),
		Labels:           withTemplateLabels(Labels(c.Name, ComponentManager, ComponentManager), clusterSecretTemplate(c)),
		Request: pki.LeafRequest{
			CommonName: ManagerName(c.Name),
			DNSNames:   pki.ManagerDNSNames(c.Name, c.Namespace, tls.ClusterDomain),
			Algorithm:  cert.KeyAlgorithm,
			Validity:   validity,
		},
	})
}

// IssuerRef is the cert-manager reference of the spec's issuer, with the defaults filled in.
func IssuerRef(c *implyv1alpha1.ImplyCluster) cmmeta.IssuerReference {
	ref := c.Spec.Security.TLS.CA.IssuerRef
	return cmmeta.IssuerReference{
		Name:  ref.Name,
		Kind:  cmp.Or(ref.Kind, cmv1.IssuerKind),
		Group: cmp.Or(ref.Group, cmv1.SchemeGroupVersion.Group),
	}
}

// certManagerPrivateKey is cert-manager's form of a key algorithm of the API.
func certManagerPrivateKey(alg implyv1alpha1.KeyAlgorithm) *cmv1.CertificatePrivateKey {
	key := &cmv1.CertificatePrivateKey{
		RotationPolicy: cmv1.RotationPolicyAlways,
		Encoding:       cmv1.PKCS8, // as the operator's own leaves
		Algorithm:      cmv1.ECDSAKeyAlgorithm,
		Size:           256,
	}
	switch alg {
	case implyv1alpha1.KeyAlgorithmRSA2048:
		key.Algorithm, key.Size = cmv1.RSAKeyAlgorithm, 2048
	case implyv1alpha1.KeyAlgorithmRSA3072:
		key.Algorithm, key.Size = cmv1.RSAKeyAlgorithm, 3072
	case implyv1alpha1.KeyAlgorithmRSA4096:
		key.Algorithm, key.Size = cmv1.RSAKeyAlgorithm, 4096
	}
	return key
}

// BuildCertificate is the cert-manager Certificate of one leaf: named like the leaf's Secret,
// with exactly the subject names the operator would sign itself, serverAuth+clientAuth and a new
// key on every issuance. cert-manager writes it into the leaf's issued Secret
// (t.IssuedSecretName), which pods never mount: the operator copies the leaf into the leaf's own
// Secret, with keystores it builds, when the CA rotation phase allows (see the implycluster
// controller), so a leaf of a new issuer CA never reaches a pod before every pod trusts that CA.
func BuildCertificate(c *implyv1alpha1.ImplyCluster, t LeafTarget) *cmv1.Certificate {
	cert := c.Spec.Security.TLS.Certificate
	return &cmv1.Certificate{
		ObjectMeta: metav1.ObjectMeta{Name: t.SecretName, Namespace: c.Namespace, Labels: t.Labels},
		Spec: cmv1.CertificateSpec{
			CommonName:     t.Request.CommonName,
			DNSNames:       append([]string(nil), t.Request.DNSNames...),
			Duration:       cert.Validity.DeepCopy(),
			RenewBefore:    cert.RenewBefore.DeepCopy(),
			SecretName:     t.IssuedSecretName,
			SecretTemplate: certificateSecretTemplate(c, t),
			IssuerRef:      IssuerRef(c),
			Usages: []cmv1.KeyUsage{
				cmv1.UsageDigitalSignature, cmv1.UsageKeyEncipherment, cmv1.UsageServerAuth, cmv1.UsageClientAuth,
			},
			PrivateKey: certManagerPrivateKey(t.Request.Algorithm),
		},
	}
}

// BuildCABundleConfigMap is <cluster>-ca-bundle: every CA currently trusted, PEM, under ca.crt,
// with the cluster's secretTemplate (so replication tools find it as they find the Secrets).
func BuildCABundleConfigMap(c *implyv1alpha1.ImplyCluster, bundle []byte) *corev1.ConfigMap {
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: CABundleName(c.Name), Namespace: c.Namespace, Labels: ClusterLabels(c)},
		Data:       map[string]string{TLSCAKey: string(bundle)},
	}
	applySecretTemplate(&cm.ObjectMeta, clusterSecretTemplate(c))
	return cm
}

// certificateSecretTemplate is what cert-manager puts on the Secret of leaf t: its labels (the
// operator's and the template's) and the template's annotations.
func certificateSecretTemplate(c *implyv1alpha1.ImplyCluster, t LeafTarget) *cmv1.CertificateSecretTemplate {
	st := &cmv1.CertificateSecretTemplate{Labels: t.Labels}
	if tmpl := clusterSecretTemplate(c); tmpl != nil && len(tmpl.Annotations) > 0 {
		st.Annotations = mergeKeepingOwn(nil, tmpl.Annotations)
	}
	return st
}
