package implycluster

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// ownSecretsReconciler is a Reconciler whose cache of the operator's Secrets is empty, whose
// cache of other Secrets holds foreign, and whose apiserver holds apiserver.
func ownSecretsReconciler(t *testing.T, foreign []client.Object, apiserver ...client.Object) (*Reconciler, *countingReader) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := implyv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	uncached := &countingReader{Reader: fake.NewClientBuilder().WithScheme(scheme).WithObjects(apiserver...).Build()}
	return &Reconciler{
		Client:         fake.NewClientBuilder().WithScheme(scheme).Build(),
		APIReader:      uncached,
		ForeignSecrets: fake.NewClientBuilder().WithScheme(scheme).WithObjects(foreign...).Build(),
		Scheme:         scheme,
	}, uncached
}

// TestReissuableSecretAbsentFromBothCaches: for a cluster never reconciled, a leaf Secret that
// neither cache holds is absent without a read of the apiserver; once the cluster was reconciled
// (the cache may lag behind what that reconcile created) it is asked for. One the cache of other
// Secrets holds (it lost the operator's label) is read from the apiserver, values and all; a
// Secret whose values the operator keeps is always asked for.
func TestReissuableSecretAbsentFromBothCaches(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	cluster := &implyv1alpha1.ImplyCluster{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns", UID: "uid-c"}}

	r, apiserver := ownSecretsReconciler(t, nil)
	live, err := r.liveReissuableSecret(ctx, cluster, "c-data-tls")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(live.Data).To(BeEmpty())
	g.Expect(apiserver.gets).To(BeZero(), "neither cache holds the Secret")

	reconciled := cluster.DeepCopy()
	reconciled.Status.ObservedGeneration = 1
	_, err = r.liveReissuableSecret(ctx, reconciled, "c-data-tls")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(apiserver.gets).To(Equal(1), "a reconciled cluster's Secret may not be cached yet")

	_, err = r.liveOwnSecret(ctx, cluster, "c-druid-credentials")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(apiserver.gets).To(Equal(2), "kept values are always asked for")

	unlabelled := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "c-data-tls", Namespace: "ns", OwnerReferences: []metav1.OwnerReference{{
			APIVersion: implyv1alpha1.GroupVersion.String(), Kind: "ImplyCluster", Name: "c", UID: "uid-c", Controller: ptr.To(true),
		}}},
		Data: map[string][]byte{"tls.key": []byte("the key in use")},
	}
	r, apiserver = ownSecretsReconciler(t, []client.Object{unlabelled.DeepCopy()}, unlabelled.DeepCopy())
	live, err = r.liveReissuableSecret(ctx, cluster, "c-data-tls")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(apiserver.gets).To(Equal(1))
	g.Expect(live.Data).To(HaveKeyWithValue("tls.key", []byte("the key in use")), "its key is kept")
}

// TestGetOrCreateSecretAbsentFromBothCaches: a Secret of generated values that neither cache
// holds is created without a read of the apiserver; one the apiserver has that the caches have
// not seen yet is found by the create and returned as it is, never replaced.
func TestGetOrCreateSecretAbsentFromBothCaches(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	cluster := &implyv1alpha1.ImplyCluster{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns", UID: "uid-c"}}
	generate := func() (*corev1.Secret, func(), error) {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "c-revision-key", Namespace: "ns"}, Data: map[string][]byte{"key": []byte("new")}}, func() {}, nil
	}

	r, apiserver := ownSecretsReconciler(t, nil)
	got, err := r.getOrCreateSecret(ctx, cluster, "c-revision-key", generate)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.Data).To(HaveKeyWithValue("key", []byte("new")))
	g.Expect(apiserver.gets).To(BeZero())

	// The caches lag: the apiserver already has the Secret, which the create finds.
	existing := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "c-revision-key", Namespace: "ns"}, Data: map[string][]byte{"key": []byte("old")}}
	r, _ = ownSecretsReconciler(t, nil)
	r.Client = laggingWrites{Client: r.Client, apiserver: fake.NewClientBuilder().WithScheme(r.Scheme).WithObjects(existing).Build()}
	r.APIReader = r.Client.(laggingWrites).apiserver
	got, err = r.getOrCreateSecret(ctx, cluster, "c-revision-key", generate)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.Data).To(HaveKeyWithValue("key", []byte("old")), "an existing Secret is never replaced")
}

// laggingWrites reads from an empty cache (its Client) and writes to apiserver.
type laggingWrites struct {
	client.Client
	apiserver client.Client
}

func (l laggingWrites) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	return l.apiserver.Create(ctx, obj, opts...)
}

// TestLiveTrustOfANewCluster: with no bundle ConfigMap, what the pods trust is read from the
// leaf Secrets; of a cluster never reconciled only those a cache holds are asked for (a new
// cluster has none), of a reconciled one all; the ca.crt of one the caches hold is read from the
// apiserver.
func TestLiveTrustOfANewCluster(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	cluster := testobj.ImplyCluster("c", "ns")
	day := &metav1.Duration{Duration: 24 * time.Hour}
	cluster.Spec.Security = &implyv1alpha1.SecuritySpec{TLS: &implyv1alpha1.TLSSpec{Enabled: true,
		CA:          &implyv1alpha1.CASpec{Generate: &implyv1alpha1.GeneratedCASpec{Validity: day}},
		Certificate: implyv1alpha1.CertificateSpec{Validity: day, RenewBefore: day},
	}}
	r, apiserver := ownSecretsReconciler(t, nil)
	live, err := r.readLiveTrust(ctx, cluster)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(live.CAs).To(BeEmpty())
	g.Expect(len(specs.LeafTargets(cluster))).To(BeNumerically(">", 1))
	g.Expect(apiserver.gets).To(Equal(1), "only the bundle ConfigMap is asked for")

	reconciled := cluster.DeepCopy()
	reconciled.Status.ObservedGeneration = 1
	_, err = r.readLiveTrust(ctx, reconciled)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(apiserver.gets).To(Equal(2+len(specs.LeafTargets(cluster))), "a reconciled cluster's leaves are asked for")

	ca, err := pki.CreateRootCA(clock.RealClock{}, "c CA", implyv1alpha1.KeyAlgorithmECDSAP256, 24*time.Hour)
	g.Expect(err).NotTo(HaveOccurred())
	leaf := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "c-data-tls", Namespace: "ns"}, Data: map[string][]byte{specs.TLSCAKey: ca.CertPEM}}
	r, apiserver = ownSecretsReconciler(t, []client.Object{leaf.DeepCopy()}, leaf.DeepCopy())
	live, err = r.readLiveTrust(ctx, cluster)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(live.CAs).To(HaveLen(1))
	g.Expect(apiserver.gets).To(Equal(2), "the bundle ConfigMap and the one leaf a cache holds")
}
