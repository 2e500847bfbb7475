package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// cachedSpecDigestKey is the annotation, on the cache's copy only, of the digest of a workload's
// spec as the apiserver had it before its pod template's spec was dropped (stripPodTemplates).
const cachedSpecDigestKey = "imply-operator.cache/spec-sha256"

// stripPodTemplates drops the pod spec of the operator's StatefulSets and Deployments (their
// containers, volumes and scheduling: the largest part of the cache at 1,000 clusters) and
// keeps a SpecDigest of the spec they came with instead. What the operator reads from the cache
// stays: metadata, replicas, strategy, volume claim templates, the pod template's labels and
// annotations (the rollout's revisions), and the status. A reconcile that needs the whole
// template reads it from the apiserver, or knows it derives from the wanted one because it
// found so for the same digest before (controllers/implycluster's templateMemo).
//
// Idempotent, like every transform: an object that carries the digest is left alone.
func stripPodTemplates(obj any) (any, error) {
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
	if _, done := w.GetAnnotations()[cachedSpecDigestKey]; done {
		return obj, nil
	}
	digest := SpecDigest(w)
	if digest == "" {
		return obj, nil
	}
	annotations := make(map[string]string, len(w.GetAnnotations())+1)
	for k, v := range w.GetAnnotations() {
		annotations[k] = v
	}
	annotations[cachedSpecDigestKey] = digest
	w.SetAnnotations(annotations)
	template.Spec = corev1.PodSpec{}
	return obj, nil
}

// SpecDigest is the SHA-256 of a StatefulSet's or Deployment's spec as JSON; empty for any other
// object. Equal specs have equal digests (encoding/json sorts map keys).
func SpecDigest(obj client.Object) string {
	var spec any
	switch o := obj.(type) {
	case *appsv1.StatefulSet:
		spec = &o.Spec
	case *appsv1.Deployment:
		spec = &o.Spec
	default:
		return ""
	}
	return jsonDigest(spec)
}

// TemplateDigest is the SHA-256 of a pod template as JSON.
func TemplateDigest(t *corev1.PodTemplateSpec) string { return jsonDigest(t) }

func jsonDigest(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// StrippedSpecDigest says whether obj is a cached workload without its pod spec, and the digest
// of the spec it had.
func StrippedSpecDigest(obj client.Object) (string, bool) {
	digest, ok := obj.GetAnnotations()[cachedSpecDigestKey]
	return digest, ok
}

// MarkTemplateRestored removes the stripped marker from obj once its pod template was put back.
func MarkTemplateRestored(obj client.Object) {
	if _, ok := obj.GetAnnotations()[cachedSpecDigestKey]; !ok {
		return
	}
	annotations := make(map[string]string, len(obj.GetAnnotations()))
	for k, v := range obj.GetAnnotations() {
		if k != cachedSpecDigestKey {
			annotations[k] = v
		}
	}
	obj.SetAnnotations(annotations)
}
