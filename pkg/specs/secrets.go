package specs

import (
	"encoding/json"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// Annotations on the operator's generated Secrets, so their age and history live in the API and
// survive operator restarts.
const (
	// AnnotationGeneratedAt records when the token or password in the Secret was generated (RFC
	// 3339, UTC, whole seconds); empty for a user's password, which has no age.
	AnnotationGeneratedAt = "imply.operator.dev/generated-at"
	// AnnotationPasswordHistory records, as a JSON array (newest first), salted hashes of the
	// passwords a Druid user held before, as many as the SecurityPolicy's history.
	AnnotationPasswordHistory = "imply.operator.dev/password-history"
)

// TokenJSONKey is the key of a Druid user's credentials Secret holding what Pivot needs of the
// database auth token besides the credentials: its datasources and priority.
const TokenJSONKey = "token.json"

// ownSecretLabels label the Secrets of AuthTokens as the operator's, so their values stay cached.
func ownSecretLabels() map[string]string {
	return map[string]string{LabelName: AppName, LabelManagedBy: ManagedBy}
}

// BuildAgentTokenSecret is the Secret of a generated agent token: key auth-token, labelled as
// the operator's, with the time the token was generated.
func BuildAgentTokenSecret(token *implyv1alpha1.AuthToken, value string, generatedAt time.Time) *corev1.Secret {
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:        AuthTokenSecretName(token.Name),
			Namespace:   token.Namespace,
			Labels:      ownSecretLabels(),
			Annotations: map[string]string{AnnotationGeneratedAt: generatedAt.UTC().Format(time.RFC3339)},
		},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{AuthTokenKey: []byte(value)},
	}
	applySecretTemplate(&secret.ObjectMeta, token.Spec.SecretTemplate)
	return secret
}

// pivotToken is token.json: what Pivot's database auth token needs besides the credentials.
type pivotToken struct {
	Datasources []string `json:"datasources"`
	Priority    int32    `json:"priority"`
}

// BuildDruidUserCredentialsSecret is a Druid user's credentials: a basic-auth Secret with the
// username and password, token.json for Pivot, labelled as the operator's, with the generated
// password's age (zero for a user's password) and the password history.
func BuildDruidUserCredentialsSecret(token *implyv1alpha1.AuthToken, password string, generatedAt time.Time, history []string) (*corev1.Secret, error) {
	tj := pivotToken{Datasources: token.Spec.Datasources}
	if tj.Datasources == nil {
		tj.Datasources = []string{}
	}
	if token.Spec.Priority != nil {
		tj.Priority = *token.Spec.Priority
	}
	tokenJSON, err := json.Marshal(tj)
	if err != nil {
		return nil, err
	}
	// Both annotations are always written, empty when they do not apply: apply only adds and
	// changes annotations, so a value dropped from the map would linger.
	stamp := ""
	if !generatedAt.IsZero() {
		stamp = generatedAt.UTC().Format(time.RFC3339)
	}
	encoded, err := json.Marshal(append([]string{}, history...))
	if err != nil {
		return nil, err
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:        DruidUserCredentialsName(token.Name),
			Namespace:   token.Namespace,
			Labels:      ownSecretLabels(),
			Annotations: map[string]string{AnnotationGeneratedAt: stamp, AnnotationPasswordHistory: string(encoded)},
		},
		Type: corev1.SecretTypeBasicAuth,
		Data: map[string][]byte{
			corev1.BasicAuthUsernameKey: []byte(token.Spec.Username),
			corev1.BasicAuthPasswordKey: []byte(password),
			TokenJSONKey:                tokenJSON,
		},
	}
	applySecretTemplate(&secret.ObjectMeta, token.Spec.SecretTemplate)
	return secret, nil
}

// BuildClusterSecret is a Secret of cluster c with the given data, labelled as the cluster's
// common objects are (so its values stay cached), with the cluster's secretTemplate: the CA and
// the TLS Secrets.
func BuildClusterSecret(c *implyv1alpha1.ImplyCluster, name string, typ corev1.SecretType, data map[string][]byte) *corev1.Secret {
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: c.Namespace, Labels: ClusterLabels(c)},
		Type:       typ,
		Data:       data,
	}
	applySecretTemplate(&secret.ObjectMeta, clusterSecretTemplate(c))
	return secret
}

// ClusterLabels are the labels of cluster-wide objects (CA, bundle, certificates).
func ClusterLabels(c *implyv1alpha1.ImplyCluster) map[string]string {
	return Labels(c.Name, ComponentCommon, ComponentCommon)
}

// GeneratedAt is the time a generated Secret's annotation records (RFC 3339), or the Secret's
// creation when the annotation is missing or unreadable.
func GeneratedAt(secret *corev1.Secret, annotation string) time.Time {
	at, err := time.Parse(time.RFC3339, secret.Annotations[annotation])
	if err != nil {
		return secret.CreationTimestamp.Time
	}
	return at
}
