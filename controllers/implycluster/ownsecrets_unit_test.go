package implycluster

import (
	"context"
	"maps"
	"slices"
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
// leaf Secrets; of a cluster never reconciled, the bundle ConfigMap and the leaves are asked for
// only when a cache holds them (a new cluster has none), of a reconciled one all; the ca.crt of
// one the caches hold is read from the apiserver.
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
	g.Expect(live.BundleAbsent).To(BeTrue())
	g.Expect(len(specs.LeafTargets(cluster))).To(BeNumerically(">", 1))
	g.Expect(apiserver.gets).To(BeZero(), "nothing is asked for")

	reconciled := cluster.DeepCopy()
	reconciled.Status.ObservedGeneration = 1
	live, err = r.readLiveTrust(ctx, reconciled)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(live.BundleAbsent).To(BeTrue())
	g.Expect(apiserver.gets).To(Equal(1+len(specs.LeafTargets(cluster))), "a reconciled cluster's bundle and leaves are asked for")

	ca, err := pki.CreateRootCA(clock.RealClock{}, "c CA", implyv1alpha1.KeyAlgorithmECDSAP256, 24*time.Hour)
	g.Expect(err).NotTo(HaveOccurred())
	leaf := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "c-data-tls", Namespace: "ns"}, Data: map[string][]byte{specs.TLSCAKey: ca.CertPEM}}
	r, apiserver = ownSecretsReconciler(t, []client.Object{leaf.DeepCopy()}, leaf.DeepCopy())
	live, err = r.readLiveTrust(ctx, cluster)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(live.CAs).To(HaveLen(1))
	g.Expect(apiserver.gets).To(Equal(1), "the one leaf a cache holds")
}

// laggingCache is a cache that has not seen the Secrets and ConfigMaps named unseen yet.
type laggingCache struct {
	client.Client
	unseen []string
}

func (l laggingCache) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	switch obj.(type) {
	case *corev1.Secret, *corev1.ConfigMap:
		if slices.Contains(l.unseen, key.Name) {
			return apierrors.NewNotFound(corev1.Resource("objects"), key.Name)
		}
	}
	return l.Client.Get(ctx, key, obj, opts...)
}

// unrecordedReconciler is a Reconciler of a cluster with generated TLS and auth, reconciled
// once, whose status then says it was never reconciled: as if the reconcile that created its
// objects had not recorded the status.
func unrecordedReconciler(t *testing.T) (*Reconciler, reconcile.Request) {
	r, _, c := requestReconciler(t)
	ctx := quietCtx()
	withGeneratedTLS(c)
	c.Spec.Security.Auth = &implyv1alpha1.AuthSpec{Druid: implyv1alpha1.DruidAuthSpec{AuthenticatorName: "basic", AuthorizerName: "basic"}}
	if err := r.Update(ctx, c); err != nil {
		t.Fatal(err)
	}
	req := reconcile.Request{NamespacedName: client.ObjectKeyFromObject(c)}
	if _, err := r.Reconcile(ctx, req); err != nil {
		t.Fatal(err)
	}
	var unrecorded implyv1alpha1.ImplyCluster
	if err := r.Get(ctx, req.NamespacedName, &unrecorded); err != nil {
		t.Fatal(err)
	}
	unrecorded.Status.ObservedGeneration = 0
	if err := r.Status().Update(ctx, &unrecorded); err != nil {
		t.Fatal(err)
	}
	r.ForeignSecrets = fake.NewClientBuilder().WithScheme(r.Scheme).Build()
	return r, req
}

// TestANewClusterNeverGetsASecondCAOrPasswords: a reconcile of a cluster never reconciled takes
// its CA, Druid credentials, leaf Secrets, CA bundle and common ConfigMap, which no cache holds,
// to be absent without asking the apiserver. When they exist after all (an earlier reconcile
// created them and did not record the status, and the caches have not seen them yet), the
// reconcile ends in a Conflict and writes none of them; once the caches hold them, the next
// reconcile keeps every value (CA, passwords, keys, trusted CAs, ZooKeeper path).
func TestANewClusterNeverGetsASecondCAOrPasswords(t *testing.T) {
	r, req := unrecordedReconciler(t)
	ctx := quietCtx()
	store := r.Client
	c := &implyv1alpha1.ImplyCluster{ObjectMeta: metav1.ObjectMeta{Name: req.Name, Namespace: req.Namespace}}
	kept := map[string]client.Object{
		specs.CASecretName(c.Name): &corev1.Secret{}, specs.DruidCredentialsName(c.Name): &corev1.Secret{},
		specs.GroupTLSSecretName(c.Name, "data"): &corev1.Secret{}, specs.CABundleName(c.Name): &corev1.ConfigMap{},
		specs.CommonConfigName(c.Name): &corev1.ConfigMap{},
	}
	for name, obj := range kept {
		if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: name}, obj); err != nil {
			t.Fatal(err)
		}
	}

	r.Client = laggingCache{Client: store, unseen: slices.Collect(maps.Keys(kept))}
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
		switch obj := obj.(type) {
		case *corev1.Secret:
			var now corev1.Secret
			if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(obj), &now); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{specs.CAPrivateKeyKey, specs.DruidAdminPasswordKey, specs.DruidInternalClientPasswordKey, specs.TLSPrivateKeyKey} {
				if string(now.Data[k]) != string(obj.Data[k]) {
					t.Errorf("%s: %s changed", name, k)
				}
			}
		case *corev1.ConfigMap:
			var now corev1.ConfigMap
			if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(obj), &now); err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(now.Data, obj.Data) {
				t.Errorf("%s: its data changed", name)
			}
		}
	}
}

// TestANewClusterKeepsTheTrustAndZooKeeperPathTheCacheHasNotSeen: of a cluster never reconciled,
// the CA bundle and the common ConfigMap that the cache does not hold are taken to be absent.
// When they exist after all, with what a cluster keeps (a second trusted CA, the ZooKeeper path
// an earlier release chose), the reconcile ends in a Conflict instead of writing the CA bundle
// or path made for their absence over them.
func TestANewClusterKeepsTheTrustAndZooKeeperPathTheCacheHasNotSeen(t *testing.T) {
	extra, err := pki.CreateRootCA(clock.RealClock{}, "another CA", implyv1alpha1.KeyAlgorithmECDSAP256, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for name, keep := range map[string]func(*corev1.ConfigMap){
		specs.CommonConfigName("c"): func(cm *corev1.ConfigMap) {
			cm.Annotations[specs.AnnotationZooKeeperBasePath] = "/druid/kept"
		},
		specs.CABundleName("c"): func(cm *corev1.ConfigMap) {
			cm.Data[specs.TLSCAKey] += string(extra.CertPEM)
		},
	} {
		t.Run(name, func(t *testing.T) {
			r, req := unrecordedReconciler(t)
			ctx := quietCtx()
			var cm corev1.ConfigMap
			if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: req.Namespace, Name: name}, &cm); err != nil {
				t.Fatal(err)
			}
			keep(&cm)
			if err := r.Update(ctx, &cm); err != nil {
				t.Fatal(err)
			}
			r.Client = laggingCache{Client: r.Client, unseen: []string{name}}
			if _, err := r.Reconcile(ctx, req); !apierrors.IsConflict(err) {
				t.Errorf("want a Conflict that starts the reconcile over, got %v", err)
			}
			var now corev1.ConfigMap
			if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(&cm), &now); err != nil {
				t.Fatal(err)
			}
			if now.ResourceVersion != cm.ResourceVersion {
				t.Errorf("%s was written over (annotations %v)", name, now.Annotations)
			}
		})
	}
}
