package implycluster

import (
	"context"
	"errors"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

// cachedWithoutPodSpec is sts as the cache holds it: without its pod spec.
func cachedWithoutPodSpec(sts *appsv1.StatefulSet) *appsv1.StatefulSet {
	cached := sts.DeepCopy()
	cached.Spec.Template.Spec = corev1.PodSpec{}
	return cached
}

func TestWithPodSpecTakesTheAPIServersOnlyAtTheCachedGeneration(t *testing.T) {
	scheme := runtime.NewScheme()
	_ = appsv1.AddToScheme(scheme)
	live := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "c-data", UID: "u1", Generation: 4},
		Spec: appsv1.StatefulSetSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "agent", Image: "imply/agent:v7", TerminationMessagePath: "/dev/termination-log"}}}}},
	}
	wanted := live.DeepCopy()
	wanted.Spec.Template.Spec.Containers[0].TerminationMessagePath = "" // the apiserver's default
	apiserver := &countingReader{Reader: fake.NewClientBuilder().WithScheme(scheme).WithObjects(live).Build()}
	r := &Reconciler{APIReader: apiserver}
	ctx := withSnapshot(context.Background(), apiserver)

	got := cachedWithoutPodSpec(live)
	if err := r.withPodSpec(ctx, wanted, got); err != nil {
		t.Fatal(err)
	}
	if got.Spec.Template.Spec.Containers[0].TerminationMessagePath != "/dev/termination-log" || len(got.Annotations) != 0 {
		t.Errorf("not the apiserver's pod spec, or annotated: %+v", got)
	}
	var snap appsv1.StatefulSet
	if err := workloads(ctx, nil).Get(ctx, client.ObjectKeyFromObject(live), &snap); err != nil || len(snap.Spec.Template.Spec.Containers) != 1 {
		t.Errorf("the snapshot does not hand out the restored workload (%v): %+v", err, snap.Spec.Template.Spec)
	}

	again := cachedWithoutPodSpec(live)
	reads := apiserver.gets
	if err := r.withPodSpec(withSnapshot(context.Background(), apiserver), wanted, again); err != nil {
		t.Fatal(err)
	}
	if apiserver.gets != reads || len(again.Spec.Template.Spec.Containers) != 1 {
		t.Errorf("a generation known to derive from the wanted template was read again (%d reads)", apiserver.gets-reads)
	}
	changed := wanted.DeepCopy()
	changed.Spec.Template.Spec.Containers[0].Image = "imply/agent:v8"
	if err := r.withPodSpec(withSnapshot(context.Background(), apiserver), changed, cachedWithoutPodSpec(live)); err != nil {
		t.Fatal(err)
	}
	if apiserver.gets != reads+1 {
		t.Error("a changed wanted template was trusted to the memo")
	}

	behind := cachedWithoutPodSpec(live)
	behind.Generation = 3
	if err := r.withPodSpec(withSnapshot(context.Background(), apiserver), wanted, behind); !errors.Is(err, errCacheBehind) {
		t.Errorf("a cached generation older than the apiserver's gave %v, want errCacheBehind", err)
	}
	if len(behind.Spec.Template.Spec.Containers) != 0 {
		t.Error("a newer generation's pod spec was put into an older cached workload")
	}
}

type countingReader struct {
	client.Reader
	gets int
}

func (c *countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	c.gets++
	return c.Reader.Get(ctx, key, obj, opts...)
}
