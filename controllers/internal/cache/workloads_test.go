package cache

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestDropPodSpecsKeepsWhatTheOperatorReads(t *testing.T) {
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "c-data", Generation: 3, Annotations: map[string]string{"imply.operator.dev/rollout-started": ""}},
		Spec: appsv1.StatefulSetSpec{
			Replicas: ptr.To[int32](2),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{"imply.operator.dev/tls-revision": "abc"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "agent", Image: "imply/agent:v7"}}},
			},
		},
		Status: appsv1.StatefulSetStatus{ReadyReplicas: 2},
	}
	annotationsBefore := sts.Annotations
	if _, err := dropPodSpecs(sts); err != nil {
		t.Fatal(err)
	}
	if len(sts.Spec.Template.Spec.Containers) != 0 || !PodSpecDropped(sts) {
		t.Errorf("the pod spec is still cached (marked %v): %v", PodSpecDropped(sts), sts.Spec.Template.Spec)
	}
	if !sameMap(sts.Annotations, annotationsBefore) || len(sts.Annotations) != 1 {
		t.Errorf("the object's annotations were copied or changed: %v", sts.Annotations)
	}
	if sts.Spec.Template.Annotations["imply.operator.dev/tls-revision"] != "abc" || *sts.Spec.Replicas != 2 || sts.Generation != 3 ||
		sts.Status.ReadyReplicas != 2 || sts.Annotations["imply.operator.dev/rollout-started"] != "" {
		t.Errorf("lost what the rollout reads: %+v", sts)
	}
	again := sts.DeepCopy()
	if _, err := dropPodSpecs(again); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(again, sts) {
		t.Errorf("dropping twice is not dropping once:\n got %+v\nwant %+v", again, sts)
	}
	RestorePodSpec(sts, &corev1.PodSpec{Containers: []corev1.Container{{Name: "agent"}}})
	if PodSpecDropped(sts) || len(sts.Spec.Template.Spec.Containers) != 1 {
		t.Errorf("not restored: marked %v, %v", PodSpecDropped(sts), sts.Spec.Template.Spec)
	}
}

func TestPodSpecDroppedOnlyWithoutContainers(t *testing.T) {
	// What the apiserver stores always has a container: an uncached read is never taken for a
	// dropped pod spec.
	withContainer := &appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "agent"}}}}}}
	if PodSpecDropped(withContainer) {
		t.Error("a StatefulSet with its containers counts as dropped")
	}
	if !PodSpecDropped(&appsv1.Deployment{}) {
		t.Error("a Deployment without containers does not count as dropped")
	}
}

func TestDropPodSpecsLeavesOtherKinds(t *testing.T) {
	cm := &corev1.ConfigMap{Data: map[string]string{"k": "v"}}
	if _, err := dropPodSpecs(cm); err != nil || PodSpecDropped(cm) {
		t.Errorf("a ConfigMap was marked (err %v)", err)
	}
	d := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "manager"}}}}}}
	if _, err := dropPodSpecs(d); err != nil || !PodSpecDropped(d) || len(d.Spec.Template.Spec.Containers) != 0 {
		t.Errorf("a Deployment kept its pod spec (err %v)", err)
	}
}
