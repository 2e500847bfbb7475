package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// specDigestPrefix starts the one policy type the cache's copy of an operator NetworkPolicy
// holds: the SpecDigest of the spec digestNetworkPolicySpecs dropped. In the spec, not in an
// annotation, it costs a string rather than a map of its own a policy; and it cannot be written
// by mistake, as the apiserver accepts no such policy type. apply restores or rereads the spec
// before it compares anything.
const specDigestPrefix = "imply-operator.cache/spec-sha256:"

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
	if SpecDigested(np) {
		return obj, nil
	}
	digest, err := SpecDigest(np.Spec)
	if err != nil {
		return nil, err
	}
	np.Spec = networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyType(specDigestPrefix + digest)}}
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
	_, digested := heldDigest(obj)
	return digested
}

// heldDigest is the digest the cache's copy obj holds instead of its spec, if it does.
func heldDigest(obj client.Object) (string, bool) {
	np, ok := obj.(*networkingv1.NetworkPolicy)
	if !ok || len(np.Spec.PolicyTypes) != 1 {
		return "", false
	}
	return strings.CutPrefix(string(np.Spec.PolicyTypes[0]), specDigestPrefix)
}

// RestoreDigestedSpec gives live, a cached object whose spec is only a digest, a copy of
// desired's spec (in place of the digest) when that spec has the same digest; it says whether it
// did. When it did not, live's spec is not known and must be read from the apiserver.
func RestoreDigestedSpec(desired, live client.Object) (bool, error) {
	d, dok := desired.(*networkingv1.NetworkPolicy)
	l, lok := live.(*networkingv1.NetworkPolicy)
	held, digested := heldDigest(live)
	if !dok || !lok || !digested {
		return false, nil
	}
	digest, err := SpecDigest(d.Spec)
	if err != nil || digest != held {
		return false, err
	}
	l.Spec = *d.Spec.DeepCopy()
	return true, nil
}
