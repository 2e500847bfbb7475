package implycluster

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

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

// TestOwnSecretAbsentFromBothCaches: for a cluster never reconciled, a Secret of the operator's
// (a leaf, the Druid credentials, the CA) that neither cache holds is absent without a read of
// the apiserver; once the cluster was reconciled (the cache may lag behind what that reconcile
// created) it is asked for. One the cache of other Secrets holds (it lost the operator's label)
// is read from the apiserver, values and all.
func TestOwnSecretAbsentFromBothCaches(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	cluster := &implyv1alpha1.ImplyCluster{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns", UID: "uid-c"}}

	r, apiserver := ownSecretsReconciler(t, nil)
	for _, name := range []string{"c-data-tls", "c-druid-credentials"} {
		live, err := r.liveOwnSecret(ctx, cluster, name)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(live.Data).To(BeEmpty())
	}
	err := r.readGeneratedCA(ctx, cluster, "c-ca", &corev1.Secret{})
	g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%v", err)
	g.Expect(apiserver.gets).To(BeZero(), "neither cache holds the Secrets")

	reconciled := cluster.DeepCopy()
	reconciled.Status.ObservedGeneration = 1
	_, err = r.liveOwnSecret(ctx, reconciled, "c-data-tls")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(apiserver.gets).To(Equal(1), "a reconciled cluster's Secret may not be cached yet")
	err = r.readGeneratedCA(ctx, reconciled, "c-ca", &corev1.Secret{})
	g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%v", err)
	g.Expect(apiserver.gets).To(Equal(2), "a reconciled cluster's CA is read uncached")

	unlabelled := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "c-data-tls", Namespace: "ns", OwnerReferences: []metav1.OwnerReference{{
			APIVersion: implyv1alpha1.GroupVersion.String(), Kind: "ImplyCluster", Name: "c", UID: "uid-c", Controller: ptr.To(true),
		}}},
		Data: map[string][]byte{"tls.key": []byte("the key in use")},
	}
	r, apiserver = ownSecretsReconciler(t, []client.Object{unlabelled.DeepCopy()}, unlabelled.DeepCopy())
	live, err := r.liveOwnSecret(ctx, cluster, "c-data-tls")
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

// blindToSecrets is a cache that has not seen any Secret yet.
type blindToSecrets struct{ client.Client }

func (b blindToSecrets) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if _, ok := obj.(*corev1.Secret); ok {
		return apierrors.NewNotFound(corev1.Resource("secrets"), key.Name)
	}
	return b.Client.Get(ctx, key, obj, opts...)
}

// TestANewClusterNeverGetsASecondCAOrPasswords: a reconcile of a cluster never reconciled takes
// its CA, Druid credentials and leaf Secrets, which neither cache holds, to be absent without
// asking the apiserver. When they exist after all (an earlier reconcile created them and did not
// record the status, and the caches have not seen them yet), the reconcile ends in a Conflict
// and writes none of them, nor the CA bundle; once the caches hold them, the next reconcile
// keeps every value.
func TestANewClusterNeverGetsASecondCAOrPasswords(t *testing.T) {
	r, _, c := requestReconciler(t)
	ctx := quietCtx()
	store := r.Client
	withGeneratedTLS(c)
	c.Spec.Security.Auth = &implyv1alpha1.AuthSpec{Druid: implyv1alpha1.DruidAuthSpec{AuthenticatorName: "basic", AuthorizerName: "basic"}}
	if err := store.Update(ctx, c); err != nil {
		t.Fatal(err)
	}
	req := reconcile.Request{NamespacedName: client.ObjectKeyFromObject(c)}
	if _, err := r.Reconcile(ctx, req); err != nil {
		t.Fatal(err)
	}
	kept := map[string]client.Object{
		specs.CASecretName(c.Name): &corev1.Secret{}, specs.DruidCredentialsName(c.Name): &corev1.Secret{},
		specs.GroupTLSSecretName(c.Name, "data"): &corev1.Secret{}, specs.CABundleName(c.Name): &corev1.ConfigMap{},
	}
	for name, obj := range kept {
		if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: name}, obj); err != nil {
			t.Fatal(err)
		}
	}
	var unrecorded implyv1alpha1.ImplyCluster
	if err := store.Get(ctx, req.NamespacedName, &unrecorded); err != nil {
		t.Fatal(err)
	}
	unrecorded.Status.ObservedGeneration = 0
	if err := store.Status().Update(ctx, &unrecorded); err != nil {
		t.Fatal(err)
	}

	r.Client = blindToSecrets{Client: store}
	r.ForeignSecrets = fake.NewClientBuilder().WithScheme(r.Scheme).Build()
	if _, err := r.Reconcile(ctx, req); !apierrors.IsConflict(err) {
		t.Errorf("want a Conflict that starts the reconcile over, got %v", err)
	}
	for name, obj := range kept {
		now := obj.DeepCopyObject().(client.Object)
		if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(obj), now); err != nil {
			t.Fatal(err)
		}
		if now.GetResourceVersion() != obj.GetResourceVersion() {
			t.Errorf("%s was written (resourceVersion %s, now %s)", name, obj.GetResourceVersion(), now.GetResourceVersion())
		}
	}

	r.Client = store
	if _, err := r.Reconcile(ctx, req); err != nil {
		t.Fatal(err)
	}
	for name, obj := range kept {
		secret, ok := obj.(*corev1.Secret)
		if !ok {
			continue
		}
		var now corev1.Secret
		if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(secret), &now); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{specs.CAPrivateKeyKey, specs.DruidAdminPasswordKey, specs.DruidInternalClientPasswordKey, specs.TLSPrivateKeyKey} {
			if string(now.Data[k]) != string(secret.Data[k]) {
				t.Errorf("%s: %s changed", name, k)
			}
		}
	}
}
