package specs

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// The per-cluster key of SecretRevision, in the Secret <cluster>-revision-key.
const (
	// RevisionKeyKey is the key's name in the Secret.
	RevisionKeyKey = "hmac-key"
	// RevisionKeyBytes is the key's length: 32 random bytes, as long as SHA-256's output.
	RevisionKeyBytes = 32
)

// BuildRevisionKeySecret builds <cluster>-revision-key holding key, the cluster's revision key
// (RevisionKeyBytes random bytes the controller generates once and never replaces).
func BuildRevisionKeySecret(c *implyv1alpha1.ImplyCluster, key []byte) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      RevisionKeyName(c.Name),
			Namespace: c.Namespace,
			Labels:    Labels(c.Name, ComponentCommon, ComponentCommon),
		},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{RevisionKeyKey: append([]byte(nil), key...)},
	}
}

// RevisionKey returns the key of a <cluster>-revision-key Secret, or an error, naming the
// Secret and never the key, when it holds none of at least RevisionKeyBytes bytes.
func RevisionKey(secret *corev1.Secret) ([]byte, error) {
	key := secret.Data[RevisionKeyKey]
	if len(key) < RevisionKeyBytes {
		return nil, fmt.Errorf("secret %s has no %q of at least %d bytes", secret.Name, RevisionKeyKey, RevisionKeyBytes)
	}
	return key, nil
}
