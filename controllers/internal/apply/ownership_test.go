package apply

import (
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

func testScheme(t *testing.T) *runtime.Scheme {
	s := runtime.NewScheme()
	NewWithT(t).Expect(implyv1alpha1.AddToScheme(s)).To(Succeed())
	NewWithT(t).Expect(corev1.AddToScheme(s)).To(Succeed())
	return s
}

func TestCheckOwner(t *testing.T) {
	scheme := testScheme(t)
	owner := &implyv1alpha1.ImplyCluster{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "ns", UID: "uid-a"}}
	secret := func(refs []metav1.OwnerReference, annotations map[string]string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "a-ca", Namespace: "ns", OwnerReferences: refs, Annotations: annotations}}
	}
	marker := func(v string) map[string]string { return map[string]string{implyv1alpha1.AnnotationRetainedFor: v} }
	for _, tc := range []struct {
		name   string
		live   *corev1.Secret
		ok     bool
		holder string
	}{
		{"controlled by the owner", secret([]metav1.OwnerReference{{Kind: "ImplyCluster", Name: "a", UID: "uid-a", Controller: ptr.To(true)}}, nil), true, ""},
		{"controlled by another cluster", secret([]metav1.OwnerReference{{Kind: "ImplyCluster", Name: "a-b", UID: "uid-ab", Controller: ptr.To(true)}}, nil), false, "ImplyCluster a-b"},
		{"controlled by an earlier cluster of the same name", secret([]metav1.OwnerReference{{Kind: "ImplyCluster", Name: "a", UID: "uid-old", Controller: ptr.To(true)}}, nil), false, "ImplyCluster a"},
		{"nobody's", secret(nil, nil), false, ""},
		{"retained for the owner", secret(nil, marker("ImplyCluster/ns/a")), true, ""},
		{"retained for another cluster", secret(nil, marker("ImplyCluster/ns/b")), false, ""},
		{"retained for the owner's name in another namespace", secret(nil, marker("ImplyCluster/other/a")), false, ""},
		{"retained for an AuthToken of the owner's name", secret(nil, marker("AuthToken/ns/a")), false, ""},
		{"retained for the owner but controlled by another", secret([]metav1.OwnerReference{{Kind: "ImplyCluster", Name: "b", UID: "uid-b", Controller: ptr.To(true)}}, marker("ImplyCluster/ns/a")), false, "ImplyCluster b"},
		{"a plain owner reference to the owner (cert-manager's Secrets)", secret([]metav1.OwnerReference{{Kind: "ImplyCluster", Name: "a", UID: "uid-a"}}, nil), true, ""},
	} {
		err := CheckOwner(scheme, owner, tc.live)
		if tc.ok {
			NewWithT(t).Expect(err).NotTo(HaveOccurred(), tc.name)
			continue
		}
		c := AsConflict(err)
		NewWithT(t).Expect(c).NotTo(BeNil(), tc.name)
		NewWithT(t).Expect(c.Kind).To(Equal("Secret"), tc.name)
		NewWithT(t).Expect(c.Holder).To(Equal(tc.holder), tc.name)
		NewWithT(t).Expect(c.Problem().Reason).To(Equal(implyv1alpha1.ReasonNameConflict))
		NewWithT(t).Expect(c.Error()).To(ContainSubstring(`Secret "a-ca" exists and is not ImplyCluster a's`), tc.name)
	}
}

func TestMergeOwnedMetadataRetainedOrOwned(t *testing.T) {
	g := NewWithT(t)
	owner := &implyv1alpha1.ImplyCluster{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "ns", UID: "uid-a"}}
	controller := metav1.OwnerReference{APIVersion: "imply.operator.dev/v1alpha1", Kind: "ImplyCluster", Name: "a", UID: "uid-a", Controller: ptr.To(true)}
	other := metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: "x", UID: "uid-x"}
	marker := map[string]string{implyv1alpha1.AnnotationRetainedFor: "ImplyCluster/ns/a"}

	// Retaining: the reference to the owner goes, others stay, the marker comes.
	live := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{OwnerReferences: []metav1.OwnerReference{controller, other}}}
	desired := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Annotations: marker}}
	g.Expect(mergeOwnedMetadata(owner, desired, live, true)).To(BeTrue())
	g.Expect(live.OwnerReferences).To(Equal([]metav1.OwnerReference{other}))
	g.Expect(live.Annotations).To(Equal(marker))
	g.Expect(mergeOwnedMetadata(owner, desired, live, true)).To(BeFalse(), "a second merge changes nothing")

	// Owning: the controller reference comes, the marker goes.
	desired = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{OwnerReferences: []metav1.OwnerReference{controller}}}
	g.Expect(mergeOwnedMetadata(owner, desired, live, false)).To(BeTrue())
	g.Expect(live.OwnerReferences).To(ConsistOf(controller, other))
	g.Expect(live.Annotations).NotTo(HaveKey(implyv1alpha1.AnnotationRetainedFor))
	g.Expect(mergeOwnedMetadata(owner, desired, live, false)).To(BeFalse())
}
