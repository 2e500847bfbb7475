package cache

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestStripPodTemplatesKeepsWhatTheOperatorReadsAndADigestOfTheSpec(t *testing.T) {
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "c-data", Annotations: map[string]string{"imply.operator.dev/rollout-started": ""}},
		Spec: appsv1.StatefulSetSpec{
			Replicas: ptr.To[int32](2),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{"imply.operator.dev/tls-revision": "abc"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "agent", Image: "imply/agent:v7"}}},
			},
		},
		Status: appsv1.StatefulSetStatus{ReadyReplicas: 2},
	}
	want := SpecDigest(sts)
	if _, err := stripPodTemplates(sts); err != nil {
		t.Fatal(err)
	}
	if len(sts.Spec.Template.Spec.Containers) != 0 {
		t.Errorf("the pod spec is still cached: %v", sts.Spec.Template.Spec)
	}
	if got, ok := StrippedSpecDigest(sts); !ok || got != want {
		t.Errorf("digest %q (stripped %v), want %q of the spec as it came", got, ok, want)
	}
	if sts.Spec.Template.Annotations["imply.operator.dev/tls-revision"] != "abc" || *sts.Spec.Replicas != 2 ||
		sts.Status.ReadyReplicas != 2 || sts.Annotations["imply.operator.dev/rollout-started"] != "" {
		t.Errorf("lost what the rollout reads: %+v", sts)
	}
	if _, err := stripPodTemplates(sts); err != nil {
		t.Fatal(err)
	}
	if got, _ := StrippedSpecDigest(sts); got != want {
		t.Errorf("transformed twice, the digest became %q: client-go may transform an object twice", got)
	}
	MarkTemplateRestored(sts)
	if _, ok := StrippedSpecDigest(sts); ok {
		t.Error("still marked stripped after its template was restored")
	}
}

func TestSpecDigestChangesWithTheTemplateOnly(t *testing.T) {
	d := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "manager", Image: "a"}}}}}}
	before := SpecDigest(d)
	d.Status.ReadyReplicas, d.Annotations = 1, map[string]string{"x": "y"}
	if SpecDigest(d) != before {
		t.Error("the digest changed with the status or metadata")
	}
	d.Spec.Template.Spec.Containers[0].Image = "b"
	if SpecDigest(d) == before {
		t.Error("the digest did not change with the pod template")
	}
	if SpecDigest(&corev1.ConfigMap{}) != "" {
		t.Error("a ConfigMap has a spec digest")
	}
}
