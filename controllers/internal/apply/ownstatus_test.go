package apply

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// laggingCache is a cache that holds what it was last given, however old.
type laggingCache struct {
	objects map[client.ObjectKey]client.Object
}

func (l *laggingCache) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	held, ok := l.objects[key]
	if !ok {
		return apierrors.NewNotFound(schema.GroupResource{}, key.Name)
	}
	held.(*implyv1alpha1.ImplyCluster).DeepCopyInto(obj.(*implyv1alpha1.ImplyCluster))
	return nil
}

func (l *laggingCache) List(context.Context, client.ObjectList, ...client.ListOption) error {
	return nil
}

// reconcileReady is a reconcile that finds the cluster Ready (or not) and writes that status.
func reconcileReady(ctx context.Context, g Gomega, c client.Client, key client.ObjectKey, ready metav1.ConditionStatus) {
	var cluster implyv1alpha1.ImplyCluster
	g.Expect(c.Get(ctx, key, &cluster)).To(Succeed())
	before := cluster.DeepCopy()
	SetCondition(&cluster, implyv1alpha1.ConditionReady, ready, "Test", "")
	g.Expect(PatchStatusIfChanged(ctx, c, before, &cluster)).To(Succeed())
}

// TestOwnStatusWritesOutrunALaggingCache: a reconcile writes Ready=False; the next one, before
// the cache has that write, finds the cluster ready again. Judged against the cache's copy
// (Ready=True, from before the first write) it would write nothing, and the apiserver would keep
// Ready=False with nothing to wake the cluster again.
func TestOwnStatusWritesOutrunALaggingCache(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	scheme := testScheme(t)
	cluster := &implyv1alpha1.ImplyCluster{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns", UID: "uid-c"}}
	SetCondition(cluster, implyv1alpha1.ConditionReady, metav1.ConditionTrue, "Test", "")
	apiserver := fake.NewClientBuilder().WithScheme(scheme).WithObjects(cluster).WithStatusSubresource(cluster).Build()
	key := client.ObjectKeyFromObject(cluster)
	var first implyv1alpha1.ImplyCluster
	g.Expect(apiserver.Get(ctx, key, &first)).To(Succeed())
	cache := &laggingCache{objects: map[client.ObjectKey]client.Object{key: first.DeepCopy()}}
	c := WithOwnStatusWrites(cachedReads{Client: apiserver, cache: cache}, apiserver)

	reconcileReady(ctx, g, c, key, metav1.ConditionFalse)
	reconcileReady(ctx, g, c, key, metav1.ConditionTrue) // the cache still holds the first version

	var live implyv1alpha1.ImplyCluster
	g.Expect(apiserver.Get(ctx, key, &live)).To(Succeed())
	g.Expect(meta.IsStatusConditionTrue(live.Status.Conditions, implyv1alpha1.ConditionReady)).To(BeTrue(),
		"the second reconcile's Ready=True was not written: %v", live.Status.Conditions)

	// While the cache is behind, reads go to the apiserver; only the written version is kept.
	var behind implyv1alpha1.ImplyCluster
	g.Expect(c.Get(ctx, key, &behind)).To(Succeed())
	g.Expect(behind.ResourceVersion).To(Equal(live.ResourceVersion))
	g.Expect(c.(ownStatusClient).written.versions).To(Equal(map[writtenKey]writtenVersion{
		keyOf(&live): {uid: live.UID, resourceVersion: live.ResourceVersion},
	}))

	// Once the cache has the last write (or a newer version), its copy is read again and the
	// remembered version is forgotten.
	cache.objects[key] = live.DeepCopy()
	var read implyv1alpha1.ImplyCluster
	g.Expect(c.Get(ctx, key, &read)).To(Succeed())
	g.Expect(read.ResourceVersion).To(Equal(live.ResourceVersion))
	g.Expect(c.(ownStatusClient).written.versions).To(BeEmpty())
}

// clusterWithStatusWrite is an apiserver holding a cluster and a client that has written the
// cluster's status through it (Ready=False), the cache being the apiserver itself.
func clusterWithStatusWrite(ctx context.Context, t *testing.T, g Gomega) (client.Client, client.Client, *implyv1alpha1.ImplyCluster) {
	cluster := &implyv1alpha1.ImplyCluster{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns", UID: "uid-c"}}
	apiserver := fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(cluster).WithStatusSubresource(cluster).Build()
	c := WithOwnStatusWrites(apiserver, apiserver)
	reconcileReady(ctx, g, c, client.ObjectKeyFromObject(cluster), metav1.ConditionFalse)
	return apiserver, c, cluster
}

// TestOwnStatusWritesYieldToANewerCache: a version newer than the last write (someone else
// wrote since) is read from the cache, not replaced by the older write.
func TestOwnStatusWritesYieldToANewerCache(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	apiserver, c, cluster := clusterWithStatusWrite(ctx, t, g)
	key := client.ObjectKeyFromObject(cluster)

	var newer implyv1alpha1.ImplyCluster
	g.Expect(apiserver.Get(ctx, key, &newer)).To(Succeed())
	newer.Labels = map[string]string{"edited": "by someone else"}
	g.Expect(apiserver.Update(ctx, &newer)).To(Succeed())

	var read implyv1alpha1.ImplyCluster
	g.Expect(c.Get(ctx, key, &read)).To(Succeed())
	g.Expect(read.ResourceVersion).To(Equal(newer.ResourceVersion))
	g.Expect(read.Labels).To(HaveKeyWithValue("edited", "by someone else"))
	g.Expect(c.(ownStatusClient).written.versions).To(BeEmpty())
}

// TestOwnStatusWritesForgetADeletedObject: what was remembered of an object is dropped when a
// read finds it gone.
func TestOwnStatusWritesForgetADeletedObject(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	apiserver, c, cluster := clusterWithStatusWrite(ctx, t, g)
	key := client.ObjectKeyFromObject(cluster)
	g.Expect(c.(ownStatusClient).written.versions).To(HaveLen(1))

	g.Expect(apiserver.Delete(ctx, cluster.DeepCopy())).To(Succeed())
	g.Expect(apierrors.IsNotFound(c.Get(ctx, key, &implyv1alpha1.ImplyCluster{}))).To(BeTrue())
	g.Expect(c.(ownStatusClient).written.versions).To(BeEmpty())
}
