package implycluster

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// quietCtx carries a logger that discards: a reconcile logging through controller-runtime's root
// logger before the envtest suite of this package sets it would leave the suite without logs.
func quietCtx() context.Context { return log.IntoContext(context.Background(), logr.Discard()) }

// readCounter is an uncached reader that counts its reads by kind and name.
type readCounter struct {
	client.Reader
	mu    sync.Mutex
	reads map[string]int
}

func (c *readCounter) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	c.mu.Lock()
	c.reads[fmt.Sprintf("%T %s", obj, key.Name)]++
	c.mu.Unlock()
	return c.Reader.Get(ctx, key, obj, opts...)
}

// take returns the reads counted since the last take.
func (c *readCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.reads
	c.reads = map[string]int{}
	return out
}

// podSpecDroppingClient hands out workloads without their pod specs, as the operator's cache does.
type podSpecDroppingClient struct{ client.Client }

func (c podSpecDroppingClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if err := c.Client.Get(ctx, key, obj, opts...); err != nil {
		return err
	}
	switch o := obj.(type) {
	case *appsv1.StatefulSet:
		o.Spec.Template.Spec = corev1.PodSpec{}
	case *appsv1.Deployment:
		o.Spec.Template.Spec = corev1.PodSpec{}
	}
	return nil
}

// requestReconciler is a reconciler over a fake apiserver holding the user's Secrets and the
// cluster, reading through a cache that drops pod specs and counting its uncached reads.
func requestReconciler(t *testing.T) (*Reconciler, *readCounter, *implyv1alpha1.ImplyCluster) {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, implyv1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	c := testobj.ImplyCluster("c", "ns")
	c.UID = types.UID("c-uid")
	objs := []client.Object{c}
	for _, s := range testobj.Secrets("ns") {
		for k, v := range s.StringData { // as the apiserver stores it; the fake does not
			if s.Data == nil {
				s.Data = map[string][]byte{}
			}
			s.Data[k] = []byte(v)
		}
		s.StringData = nil
		objs = append(objs, s)
	}
	store := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).
		WithStatusSubresource(&implyv1alpha1.ImplyCluster{}).
		WithInterceptorFuncs(interceptor.Funcs{Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			// As the apiserver does (the fake gives neither).
			obj.SetUID(types.UID("uid-" + obj.GetName()))
			obj.SetGeneration(1)
			return c.Create(ctx, obj, opts...)
		}}).Build()
	uncached := &readCounter{Reader: store, reads: map[string]int{}}
	r := &Reconciler{Client: podSpecDroppingClient{store}, APIReader: uncached, Scheme: scheme, Recorder: noEvents{},
		Clock: clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
	return r, uncached, c
}

func TestAReconcileReadsEachReferencedSecretOnce(t *testing.T) {
	r, uncached, c := requestReconciler(t)
	for pass := range 2 {
		if _, err := r.Reconcile(quietCtx(), reconcile.Request{NamespacedName: client.ObjectKeyFromObject(c)}); err != nil {
			t.Fatal(err)
		}
		reads := uncached.take()
		for _, ref := range specs.ReferencedSecrets(c) {
			if n := reads["*v1.Secret "+ref.Name]; n != 1 {
				t.Errorf("reconcile %d read Secret %s (%s) %d times, want once", pass+1, ref.Name, ref.Field, n)
			}
		}
	}
}

func TestAReconcileDoesNotReadBackTheWorkloadsItCreated(t *testing.T) {
	r, uncached, c := requestReconciler(t)
	req := reconcile.Request{NamespacedName: client.ObjectKeyFromObject(c)}
	if _, err := r.Reconcile(quietCtx(), req); err != nil {
		t.Fatal(err)
	}
	uncached.take()
	if _, err := r.Reconcile(quietCtx(), req); err != nil {
		t.Fatal(err)
	}
	reads := uncached.take()
	for _, name := range []string{specs.ManagerName(c.Name), specs.GroupName(c.Name, "master"), specs.GroupName(c.Name, "query"), specs.GroupName(c.Name, "data")} {
		for _, kind := range []string{"*v1.StatefulSet", "*v1.Deployment"} {
			if n := reads[kind+" "+name]; n != 0 {
				t.Errorf("the reconcile after the create read %s %s %d times from the apiserver", kind, name, n)
			}
		}
	}

	// A workload edited since (its generation moved on) is read again.
	var sts appsv1.StatefulSet
	if err := r.APIReader.Get(quietCtx(), client.ObjectKey{Namespace: c.Namespace, Name: specs.GroupName(c.Name, "data")}, &sts); err != nil {
		t.Fatal(err)
	}
	sts.Spec.Template.Spec.Containers[0].Image = "edited:by-hand"
	sts.Generation++
	if err := r.Update(quietCtx(), &sts); err != nil {
		t.Fatal(err)
	}
	uncached.take()
	if _, err := r.Reconcile(quietCtx(), req); err != nil {
		t.Fatal(err)
	}
	if n := uncached.take()["*v1.StatefulSet "+sts.Name]; n == 0 {
		t.Error("a workload whose generation changed since its create was trusted to the memo")
	}
}

func TestUserSecretSnapshotHandsOutCopiesAndPassesOthersThrough(t *testing.T) {
	r, uncached, c := requestReconciler(t)
	ctx := withUserSecrets(quietCtx(), r.APIReader, c)
	key := client.ObjectKey{Namespace: c.Namespace, Name: testobj.LicenseSecret}
	var first, second corev1.Secret
	if err := userSecrets(ctx, nil).Get(ctx, key, &first); err != nil {
		t.Fatal(err)
	}
	for k := range first.Data {
		first.Data[k] = []byte("changed by a caller")
	}
	if err := userSecrets(ctx, nil).Get(ctx, key, &second); err != nil {
		t.Fatal(err)
	}
	for k, v := range second.Data {
		if string(v) == "changed by a caller" {
			t.Errorf("key %s: a caller's change to its copy reached the next reader", k)
		}
	}
	missing := client.ObjectKey{Namespace: c.Namespace, Name: "not-referenced"}
	for range 2 {
		_ = userSecrets(ctx, nil).Get(ctx, missing, &corev1.Secret{})
		_ = userSecrets(ctx, nil).Get(ctx, client.ObjectKey{Namespace: "other", Name: testobj.LicenseSecret}, &corev1.Secret{})
	}
	reads := uncached.take()
	if reads["*v1.Secret "+testobj.LicenseSecret] != 3 || reads["*v1.Secret not-referenced"] != 2 {
		t.Errorf("want one read of the referenced Secret and every read of the others passed through, got %v", reads)
	}
	if userSecrets(quietCtx(), uncached) != client.Reader(uncached) {
		t.Error("outside a reconcile the uncached reader is not used")
	}
}
