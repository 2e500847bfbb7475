package specs

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
)

// MetadataTLSMaterial is what goes into a store connection's TLS Secret, gathered by the
// controller.
type MetadataTLSMaterial struct {
	// Trusted are the CAs the server is verified against (see MetadataTrustedCAs); empty for
	// the system roots.
	Trusted []*x509.Certificate
	// Client is the client certificate and key: signed from the cluster CA with
	// pki.ClientLeafRequest, or the user's parsed with pki.ParseClientCertificate. nil without
	// a client certificate.
	Client *pki.KeyPair
	// ClientChain are the certificates between Client and its root (the issuing CA for a
	// generated one), written after it in tls.crt and keystore.p12. May be empty.
	ClientChain []*x509.Certificate
	// Password protects keystore.p12 and truststore.p12. Keep the live one (so only what
	// changed changes); generate one (pki.GeneratePassword) when there is none.
	Password string
}

// MetadataTLSData renders the data of a store connection's TLS Secret (see the key table in
// metadatatls.go): the trust keys when there are trusted CAs, the client keys with a client
// certificate, and keystore-password whenever there is a PKCS#12 file.
func MetadataTLSData(m MetadataTLSMaterial) (map[string][]byte, error) {
	if len(m.Trusted) == 0 && m.Client == nil {
		return nil, errors.New("no trusted CA and no client certificate: nothing to write")
	}
	if len(m.Password) < pki.MinPasswordLength {
		return nil, fmt.Errorf("the keystore password has %d characters, at least %d needed", len(m.Password), pki.MinPasswordLength)
	}
	data := map[string][]byte{KeystorePasswordKey: []byte(m.Password)}
	if len(m.Trusted) > 0 {
		truststore, err := pki.Truststore(m.Trusted, m.Password)
		if err != nil {
			return nil, fmt.Errorf("while building the metadata-store truststore: %w", err)
		}
		data[TLSCAKey] = pki.BundlePEM(m.Trusted...)
		data[TruststoreKey] = truststore
	}
	if m.Client != nil {
		keystore, err := pki.Keystore(m.Client, m.ClientChain, m.Password)
		if err != nil {
			return nil, fmt.Errorf("while building the metadata-store client keystore: %w", err)
		}
		pk8, err := pki.PKCS8DER(m.Client)
		if err != nil {
			return nil, err
		}
		certPEM := append([]byte(nil), m.Client.CertPEM...)
		if len(m.ClientChain) > 0 {
			certPEM = append(certPEM, pki.BundlePEM(m.ClientChain...)...)
		}
		data[TLSCertKey] = certPEM
		data[TLSPrivateKeyKey] = m.Client.KeyPEM
		data[ClientKeyPK8Key] = pk8
		data[KeystoreKey] = keystore
	}
	return data, nil
}

// BuildMetadataTLSSecret builds plan's Secret (plan.SecretName, plan.SecretType) with
// MetadataTLSData, labelled as a cluster-wide object of c. It fails when the plan mounts no
// Secret.
func BuildMetadataTLSSecret(c *implyv1alpha1.ImplyCluster, plan MetadataTLSPlan, m MetadataTLSMaterial) (*corev1.Secret, error) {
	if plan.SecretName == "" {
		return nil, fmt.Errorf("%s needs no TLS Secret", plan.Field)
	}
	if (plan.Client != MetadataClientNone) != (m.Client != nil) {
		return nil, fmt.Errorf("%s: the client certificate does not match the plan", plan.Field)
	}
	if plan.HasTrustFiles() != (len(m.Trusted) > 0) {
		return nil, fmt.Errorf("%s: the trusted CAs do not match the plan", plan.Field)
	}
	data, err := MetadataTLSData(m)
	if err != nil {
		return nil, fmt.Errorf("while building Secret %s: %w", plan.SecretName, err)
	}
	component := ComponentCommon
	if plan.Role == MetadataStoreManager {
		component = ComponentManager
	}
	secret := &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      plan.SecretName,
			Namespace: c.Namespace,
			Labels:    Labels(c.Name, component, component),
		},
		Type: plan.SecretType,
		Data: data,
	}
	applySecretTemplate(&secret.ObjectMeta, clusterSecretTemplate(c))
	return secret, nil
}

// MetadataTLSRevision is the revision of what a pod's store connection depends on in its TLS
// Secret: the trusted CAs, the client certificate and key, and the password, as a SecretRevision
// keyed with the cluster's revision key (the key material must not be testable from an
// annotation). The PKCS#12 files are left out, as for the cluster's leaves: they derive from
// those and are re-encoded with new salts each time. Empty for nil data (nothing mounted).
func MetadataTLSRevision(revisionKey []byte, data map[string][]byte) (string, error) {
	if data == nil {
		return "", nil
	}
	material := map[string][]byte{}
	for _, k := range []string{TLSCAKey, TLSCertKey, TLSPrivateKeyKey, KeystorePasswordKey} {
		material[k] = data[k]
	}
	return SecretRevision(revisionKey, material)
}

// WithMetadataTLSRevision folds a store's MetadataTLSRevision into a workload's tls-revision,
// so a new store CA or client certificate rolls the pods that mount it, in the same order and
// windows as the cluster's own certificates. Either may be empty; with no metadata revision
// the tls revision is returned unchanged, so clusters without store TLS do not roll.
func WithMetadataTLSRevision(tlsRevision, metadataRevision string) string {
	switch {
	case metadataRevision == "":
		return tlsRevision
	case tlsRevision == "":
		return metadataRevision
	}
	h := sha256.New()
	writeField(h, []byte(tlsRevision))
	writeField(h, []byte(metadataRevision))
	return hex.EncodeToString(h.Sum(nil))[:16]
}
