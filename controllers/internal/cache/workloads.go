package cache

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// podSpecDroppedKey marks, on the cache's copy only, a workload whose pod spec dropPodSpecs
// dropped. It is never written: a reconcile restores the pod spec (and removes the mark) before
// anything is computed from the workload.
const podSpecDroppedKey = "imply-operator.cache/pod-spec-dropped"

// dropPodSpecs drops the pod spec of the operator's StatefulSets and Deployments: their
// containers, volumes and scheduling are the largest part of the cache at 1,000 clusters, and
// the operator renders them rather than reading them. What it does read stays: metadata (with
// the generation, which tells whether the spec changed), replicas, strategy, volume claim
// templates, the pod template's labels and annotations (the rollout's revisions) and the status.
// A reconcile that needs the pod spec restores it (controllers/implycluster's templates.go).
//
// Idempotent, like every transform: a marked object is left alone.
func dropPodSpecs(obj any) (any, error) {
	var template *corev1.PodTemplateSpec
	switch o := obj.(type) {
	case *appsv1.StatefulSet:
		template = &o.Spec.Template
	case *appsv1.Deployment:
		template = &o.Spec.Template
	default:
		return obj, nil
	}
	w := obj.(client.Object)
	if PodSpecDropped(w) {
		return obj, nil
	}
	w.SetAnnotations(withAnnotation(w.GetAnnotations(), podSpecDroppedKey, "true"))
	template.Spec = corev1.PodSpec{}
	return obj, nil
}

// PodSpecDropped says whether obj is a cached workload without its pod spec.
func PodSpecDropped(obj client.Object) bool {
	_, dropped := obj.GetAnnotations()[podSpecDroppedKey]
	return dropped
}

// RestorePodSpec gives obj, a cached workload without its pod spec, a copy of spec and removes
// the mark. The caller vouches that spec is what the apiserver has at obj's generation.
func RestorePodSpec(obj client.Object, spec *corev1.PodSpec) {
	switch o := obj.(type) {
	case *appsv1.StatefulSet:
		o.Spec.Template.Spec = *spec.DeepCopy()
	case *appsv1.Deployment:
		o.Spec.Template.Spec = *spec.DeepCopy()
	default:
		return
	}
	if !PodSpecDropped(obj) {
		return
	}
	obj.SetAnnotations(withoutAnnotation(obj.GetAnnotations(), podSpecDroppedKey))
}
