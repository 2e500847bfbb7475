package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// specDigestKey holds, on the cache's copy of an operator NetworkPolicy only, the SpecDigest of
// the spec digestNetworkPolicySpecs dropped. It is never written: apply restores or rereads the
// spec (and removes the key) before it compares anything.
const specDigestKey = "imply-operator.cache/spec-sha256"

// digestNetworkPolicySpecs replaces the spec of the operator's NetworkPolicies with its
// SpecDigest. The operator renders those specs whole and never reads them back except to tell
// whether they changed: four a cluster, their selectors and port lists were the largest part of
// the cache after Secrets at 1,000 clusters (docs/performance.md).
//
// Idempotent, like every transform: an object that already holds a digest is left alone.
func digestNetworkPolicySpecs(obj any) (any, error) {
	np, ok := obj.(*networkingv1.NetworkPolicy)
	if !ok {
		return obj, nil
	}
	if _, digested := np.Annotations[specDigestKey]; digested {
		return obj, nil
	}
	digest, err := SpecDigest(np.Spec)
	if err != nil {
		return nil, err
	}
	np.Annotations = withAnnotation(np.Annotations, specDigestKey, digest)
	np.Spec = networkingv1.NetworkPolicySpec{}
	return np, nil
}

// SpecDigest is the digest the cache keeps of a spec: SHA-256 of its JSON, which lists fields in
// a fixed order and map keys sorted, and leaves out empty optional fields.
func SpecDigest(spec any) (string, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// SpecDigested says whether obj is a cached object whose spec the cache holds only as a digest.
func SpecDigested(obj client.Object) bool {
	_, digested := obj.GetAnnotations()[specDigestKey]
	return digested
}

// RestoreDigestedSpec gives live, a cached object whose spec is only a digest, a copy of
// desired's spec when that spec has the same digest, and removes the digest; it says whether it
// did. When it did not, live's spec is not known and must be read from the apiserver.
func RestoreDigestedSpec(desired, live client.Object) (bool, error) {
	d, dok := desired.(*networkingv1.NetworkPolicy)
	l, lok := live.(*networkingv1.NetworkPolicy)
	if !dok || !lok || !SpecDigested(live) {
		return false, nil
	}
	digest, err := SpecDigest(d.Spec)
	if err != nil || digest != l.Annotations[specDigestKey] {
		return false, err
	}
	l.Spec = *d.Spec.DeepCopy()
	l.Annotations = withoutAnnotation(l.Annotations, specDigestKey)
	return true, nil
}
