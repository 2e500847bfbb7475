package specs

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

func TestBuildAgentTokenSecret(t *testing.T) {
	g := NewWithT(t)
	token := &implyv1alpha1.AuthToken{ObjectMeta: metav1.ObjectMeta{Name: "agents", Namespace: "ns"}}
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	s := BuildAgentTokenSecret(token, "tok", at)
	g.Expect(s.Name).To(Equal("agents-token"))
	g.Expect(s.Namespace).To(Equal("ns"))
	g.Expect(s.Labels).To(Equal(map[string]string{LabelName: AppName, LabelManagedBy: ManagedBy}))
	g.Expect(s.Annotations).To(Equal(map[string]string{AnnotationGeneratedAt: "2026-12-04T09:00:00Z"}))
	g.Expect(s.Type).To(Equal(corev1.SecretTypeOpaque))
	g.Expect(s.Data).To(Equal(map[string][]byte{AuthTokenKey: []byte("tok")}))
	g.Expect(GeneratedAt(s, AnnotationGeneratedAt)).To(BeTemporally("==", at))
}

func TestBuildDruidUserCredentialsSecret(t *testing.T) {
	g := NewWithT(t)
	token := &implyv1alpha1.AuthToken{ObjectMeta: metav1.ObjectMeta{Name: "pivot", Namespace: "ns"},
		Spec: implyv1alpha1.AuthTokenSpec{Username: "pivot-user", Datasources: []string{"wiki"}, Priority: ptr.To[int32](3)}}
	s, err := BuildDruidUserCredentialsSecret(token, "pw", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), []string{"h1"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(s.Name).To(Equal("pivot-credentials"))
	g.Expect(s.Type).To(Equal(corev1.SecretTypeBasicAuth))
	g.Expect(s.Data).To(Equal(map[string][]byte{
		"username": []byte("pivot-user"), "password": []byte("pw"), TokenJSONKey: []byte(`{"datasources":["wiki"],"priority":3}`),
	}))
	g.Expect(s.Annotations).To(Equal(map[string]string{AnnotationGeneratedAt: "2026-01-02T03:04:05Z", AnnotationPasswordHistory: `["h1"]`}))

	by := "a user's password has no age and an empty history is []"
	token.Spec.Datasources, token.Spec.Priority = nil, nil
	s, err = BuildDruidUserCredentialsSecret(token, "pw", time.Time{}, nil)
	g.Expect(err).NotTo(HaveOccurred(), by)
	g.Expect(s.Annotations).To(Equal(map[string]string{AnnotationGeneratedAt: "", AnnotationPasswordHistory: "[]"}), by)
	g.Expect(string(s.Data[TokenJSONKey])).To(Equal(`{"datasources":[],"priority":0}`), by)
}

func TestGeneratedAtFallsBackToCreation(t *testing.T) {
	created := metav1.NewTime(time.Date(2025, 5, 5, 5, 5, 5, 0, time.UTC))
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: created, Annotations: map[string]string{AnnotationGeneratedAt: "yesterday"}}}
	if got := GeneratedAt(s, AnnotationGeneratedAt); !got.Equal(created.Time) {
		t.Errorf("GeneratedAt = %v, want the creation time %v", got, created)
	}
}

func TestBuildClusterSecretAndCABundle(t *testing.T) {
	g := NewWithT(t)
	c := newCluster()
	s := BuildClusterSecret(c, "c-data-tls", corev1.SecretTypeTLS, map[string][]byte{"tls.crt": []byte("x")})
	g.Expect(s.Namespace).To(Equal(c.Namespace))
	g.Expect(s.Labels).To(Equal(Labels(c.Name, ComponentCommon, ComponentCommon)))
	g.Expect(s.Type).To(Equal(corev1.SecretTypeTLS))
	cm := BuildCABundleConfigMap(c, []byte("PEM"))
	g.Expect(cm.Name).To(Equal(CABundleName(c.Name)))
	g.Expect(cm.Labels).To(Equal(ClusterLabels(c)))
	g.Expect(cm.Data).To(Equal(map[string]string{TLSCAKey: "PEM"}))
}
