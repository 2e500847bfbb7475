package apply

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/cache"
)

// countingReader counts the reads that reach the apiserver.
type countingReader struct {
	client.Reader
	gets int
}

func (r *countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	r.gets++
	return r.Reader.Get(ctx, key, obj, opts...)
}

// cachedReads is a client that reads from cache and writes through Client.
type cachedReads struct {
	client.Client
	cache client.Reader
}

func (c cachedReads) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	return c.cache.Get(ctx, key, obj, opts...)
}

// TestApplyReadsADigestedSpecOnlyWhenItDiffers: the cache holds the operator's NetworkPolicies
// as a digest of their spec. A desired spec with that digest is applied without a read or a
// write; another one is compared with, and patched from, the apiserver's copy.
func TestApplyReadsADigestedSpecOnlyWhenItDiffers(t *testing.T) {
	g := NewWithT(t)
	scheme := testScheme(t)
	g.Expect(networkingv1.AddToScheme(scheme)).To(Succeed())
	owner := &implyv1alpha1.ImplyCluster{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns", UID: "uid-c"}}
	policy := func(port int32) *networkingv1.NetworkPolicy {
		return &networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "c-data", Namespace: "ns"},
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"role": "data"}},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{
					{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(port))},
				}}},
			},
		}
	}
	live := policy(8083)
	g.Expect(controllerutil.SetControllerReference(owner, live, scheme)).To(Succeed())
	digest, err := cache.SpecDigest(live.Spec)
	g.Expect(err).NotTo(HaveOccurred())
	cached := live.DeepCopy()
	cached.Spec = networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyType("imply-operator.cache/spec-sha256:" + digest)}}
	g.Expect(cache.SpecDigested(cached)).To(BeTrue())

	// The manager's client: reads from the cache's view, writes to the apiserver.
	newClients := func() (client.Client, *countingReader) {
		apiserver := fake.NewClientBuilder().WithScheme(scheme).WithObjects(live.DeepCopy()).Build()
		view := fake.NewClientBuilder().WithScheme(scheme).WithObjects(cached.DeepCopy()).Build()
		return cachedReads{Client: apiserver, cache: view}, &countingReader{Reader: apiserver}
	}

	c, uncached := newClients()
	result, err := Apply(context.Background(), c, uncached, scheme, owner, policy(8083))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(result).To(Equal(Unchanged))
	g.Expect(uncached.gets).To(BeZero(), "the desired spec has the cached digest: nothing to read")

	c, uncached = newClients()
	result, err = Apply(context.Background(), c, uncached, scheme, owner, policy(9000))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(result).To(Equal(Patched))
	g.Expect(uncached.gets).To(Equal(1))
	var patched networkingv1.NetworkPolicy
	g.Expect(uncached.Get(context.Background(), client.ObjectKeyFromObject(live), &patched)).To(Succeed())
	g.Expect(patched.Spec).To(Equal(policy(9000).Spec), "the patch is computed against the apiserver's spec, not the empty cached one")
}

// TestApplyWritesDerivedValuesOnlyOverTheirBaseVersion: a desired object carrying a
// resourceVersion holds values derived from that version of the live one. Applied over a newer
// version (one that gained a pending password since the reconcile read it) it must stop with a
// Conflict, not drop that password; applied while the cache still holds an older version (the
// reconcile patched the object itself) it is applied over the apiserver's copy at that version.
func TestApplyWritesDerivedValuesOnlyOverTheirBaseVersion(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	scheme := testScheme(t)
	owner := &implyv1alpha1.ImplyCluster{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns", UID: "uid-c"}}
	secret := func(data map[string]string) *corev1.Secret {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "c-druid-credentials", Namespace: "ns"}, Data: map[string][]byte{}}
		for k, v := range data {
			s.Data[k] = []byte(v)
		}
		return s
	}
	// The apiserver holds two versions in turn: the one a reconcile read, then one with a
	// pending password.
	older := secret(map[string]string{"admin-password": "second"})
	g.Expect(controllerutil.SetControllerReference(owner, older, scheme)).To(Succeed())
	apiserver := fake.NewClientBuilder().WithScheme(scheme).WithObjects(older).Build()
	g.Expect(apiserver.Get(ctx, client.ObjectKeyFromObject(older), older)).To(Succeed())
	newer := older.DeepCopy()
	newer.Data["admin-password-next"] = []byte("third")
	g.Expect(apiserver.Update(ctx, newer)).To(Succeed())
	g.Expect(newer.ResourceVersion).NotTo(Equal(older.ResourceVersion))

	withCache := func(cached *corev1.Secret) (client.Client, *countingReader) {
		view := fake.NewClientBuilder().WithScheme(scheme).WithObjects(cached.DeepCopy()).Build()
		return cachedReads{Client: apiserver, cache: view}, &countingReader{Reader: apiserver}
	}

	// Derived from the older version, the cache already at the newer one: a Conflict.
	c, uncached := withCache(newer)
	stale := secret(map[string]string{"admin-password": "second"})
	stale.ResourceVersion = older.ResourceVersion
	_, err := Apply(ctx, c, uncached, scheme, owner, stale)
	g.Expect(apierrors.IsConflict(err)).To(BeTrue(), "%v", err)
	var now corev1.Secret
	g.Expect(apiserver.Get(ctx, client.ObjectKeyFromObject(newer), &now)).To(Succeed())
	g.Expect(now.Data).To(HaveKeyWithValue("admin-password-next", []byte("third")), "the pending password was dropped")

	// Derived from the newer version, the cache still at the older one: applied over the
	// apiserver's copy.
	c, uncached = withCache(older)
	current := secret(map[string]string{"admin-password": "third"})
	current.ResourceVersion = newer.ResourceVersion
	result, err := Apply(ctx, c, uncached, scheme, owner, current)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(result).To(Equal(Patched))
	g.Expect(uncached.gets).To(Equal(1))
	g.Expect(apiserver.Get(ctx, client.ObjectKeyFromObject(newer), &now)).To(Succeed())
	g.Expect(now.Data).To(Equal(current.Data))
}

// TestApplyKeepsTheBytesTheCacheDoesNotHold: the Secret cache holds the PKCS#12 keys without
// their bytes, so a Secret derived from a cached one carries them without a value. When Apply
// compares it with the apiserver's copy instead (the cache no longer holds the Secret: it lost
// its label), the apiserver's bytes are kept, not erased, while the label is put back.
func TestApplyKeepsTheBytesTheCacheDoesNotHold(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	scheme := testScheme(t)
	owner := &implyv1alpha1.ImplyCluster{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns", UID: "uid-c"}}
	live := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "c-data-tls", Namespace: "ns"},
		Data:       map[string][]byte{"tls.crt": []byte("cert"), "keystore.p12": []byte("keystore bytes")},
	}
	g.Expect(controllerutil.SetControllerReference(owner, live, scheme)).To(Succeed())
	apiserver := fake.NewClientBuilder().WithScheme(scheme).WithObjects(live).Build()
	emptyCache := fake.NewClientBuilder().WithScheme(scheme).Build()
	c := cachedReads{Client: apiserver, cache: emptyCache}

	desired := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "c-data-tls", Namespace: "ns", Labels: map[string]string{"app.kubernetes.io/managed-by": "imply-operator"}},
		Data:       map[string][]byte{"tls.crt": []byte("cert"), "keystore.p12": nil, "truststore.p12": nil},
	}
	result, err := Apply(ctx, c, apiserver, scheme, owner, desired)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(result).To(Equal(Patched))
	var now corev1.Secret
	g.Expect(apiserver.Get(ctx, client.ObjectKeyFromObject(live), &now)).To(Succeed())
	g.Expect(now.Labels).To(HaveKeyWithValue("app.kubernetes.io/managed-by", "imply-operator"))
	g.Expect(now.Data).To(Equal(map[string][]byte{"tls.crt": []byte("cert"), "keystore.p12": []byte("keystore bytes")}))
	g.Expect(desired.Data).To(HaveKeyWithValue("keystore.p12", BeNil()), "desired was modified")
}

// TestApplyOnlyCreatesWhatWasDerivedFromAbsence: a Secret whose values were made because the
// reconcile found none (DerivedFrom an empty Secret) is created when there is still none. When
// one exists by then, whether the cache has seen it yet or not, Apply ends in a Conflict and
// writes nothing: new values (a second CA, new passwords) never replace the kept ones. One that
// lost the operator's labels (so the cache of labelled objects will never hold it) gets them
// back, its values kept, so that the reconcile starting over finds it.
func TestApplyOnlyCreatesWhatWasDerivedFromAbsence(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	scheme := testScheme(t)
	owner := &implyv1alpha1.ImplyCluster{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns", UID: "uid-c"}}
	generated := func(value string) *corev1.Secret {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "c-ca", Namespace: "ns", Labels: map[string]string{"app.kubernetes.io/managed-by": "imply-operator"}},
			Data: map[string][]byte{"ca.key": []byte(value)}}
		DerivedFrom(s, &corev1.Secret{})
		return s
	}

	apiserver := fake.NewClientBuilder().WithScheme(scheme).Build()
	result, err := Apply(ctx, apiserver, apiserver, scheme, owner, generated("first"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(result).To(Equal(Created))
	var kept corev1.Secret
	g.Expect(apiserver.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "c-ca"}, &kept)).To(Succeed())
	g.Expect(kept.Data).To(HaveKeyWithValue("ca.key", []byte("first")))

	emptyCache := fake.NewClientBuilder().WithScheme(scheme).Build()
	for name, c := range map[string]client.Client{
		"the cache has not seen it yet": cachedReads{Client: apiserver, cache: emptyCache},
		"the cache holds it":            apiserver,
	} {
		_, err := Apply(ctx, c, apiserver, scheme, owner, generated("second"))
		g.Expect(apierrors.IsConflict(err)).To(BeTrue(), "%s: %v", name, err)
		var now corev1.Secret
		g.Expect(apiserver.Get(ctx, client.ObjectKeyFromObject(&kept), &now)).To(Succeed())
		g.Expect(now.ResourceVersion).To(Equal(kept.ResourceVersion), "%s: written", name)
		g.Expect(now.Data).To(HaveKeyWithValue("ca.key", []byte("first")), name)
	}

	unlabelled := kept.DeepCopy()
	unlabelled.Labels = nil
	g.Expect(apiserver.Update(ctx, unlabelled)).To(Succeed())
	_, err = Apply(ctx, cachedReads{Client: apiserver, cache: emptyCache}, apiserver, scheme, owner, generated("third"))
	g.Expect(apierrors.IsConflict(err)).To(BeTrue(), "%v", err)
	var now corev1.Secret
	g.Expect(apiserver.Get(ctx, client.ObjectKeyFromObject(&kept), &now)).To(Succeed())
	g.Expect(now.Labels).To(HaveKeyWithValue("app.kubernetes.io/managed-by", "imply-operator"))
	g.Expect(now.Data).To(HaveKeyWithValue("ca.key", []byte("first")))
}
