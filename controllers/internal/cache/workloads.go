package cache

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// dropPodSpecs drops the pod spec of the operator's StatefulSets and Deployments: their
// containers, volumes and scheduling are the largest part of the cache at 1,000 clusters, and
// the operator renders them rather than reading them. What it does read stays: metadata (with
// the generation, which tells whether the spec changed), replicas, strategy, volume claim
// templates, the pod template's labels and annotations (the rollout's revisions) and the status.
// A reconcile that needs the pod spec restores it (controllers/implycluster's templates.go).
//
// A dropped pod spec has no containers, which the apiserver never stores (a pod template needs
// at least one): that is the mark PodSpecDropped reads, so the cache's copy needs no annotation
// (a map of its own for each workload). Idempotent, like every transform.
func dropPodSpecs(obj any) (any, error) {
	switch o := obj.(type) {
	case *appsv1.StatefulSet:
		o.Spec.Template.Spec = corev1.PodSpec{}
	case *appsv1.Deployment:
		o.Spec.Template.Spec = corev1.PodSpec{}
	}
	return obj, nil
}

// PodSpecDropped says whether obj is a cached workload without its pod spec: a StatefulSet or
// Deployment whose pod template has no container.
func PodSpecDropped(obj client.Object) bool {
	switch o := obj.(type) {
	case *appsv1.StatefulSet:
		return len(o.Spec.Template.Spec.Containers) == 0
	case *appsv1.Deployment:
		return len(o.Spec.Template.Spec.Containers) == 0
	default:
		return false
	}
}

// RestorePodSpec gives obj, a cached workload without its pod spec, a copy of spec. The caller
// vouches that spec is what the apiserver has at obj's generation.
func RestorePodSpec(obj client.Object, spec *corev1.PodSpec) {
	switch o := obj.(type) {
	case *appsv1.StatefulSet:
		o.Spec.Template.Spec = *spec.DeepCopy()
	case *appsv1.Deployment:
		o.Spec.Template.Spec = *spec.DeepCopy()
	}
}
