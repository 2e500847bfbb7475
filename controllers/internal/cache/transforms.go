package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	corev1 "k8s.io/api/core/v1"
	toolscache "k8s.io/client-go/tools/cache"
	crcache "sigs.k8s.io/controller-runtime/pkg/cache"

	"github.com/imply-operator/imply-operator/pkg/specs"
)

// chainTransforms applies each transform in turn.
func chainTransforms(transforms ...toolscache.TransformFunc) toolscache.TransformFunc {
	return func(obj any) (any, error) {
		for _, t := range transforms {
			var err error
			if obj, err = t(obj); err != nil {
				return nil, err
			}
		}
		return obj, nil
	}
}

// stripManagedFields drops the server-side-apply bookkeeping of a cached object.
var stripManagedFields = crcache.TransformStripManagedFields()

// dropKeystoreBytes keeps the PKCS#12 keys of a Secret but not their bytes. The operator writes
// keystores when it issues or re-trusts a leaf and never reads them back: a pod's TLS revision
// is a hash of what they are made of (mountedMaterial), and apply's merge patch leaves a key
// that neither the cached nor the desired Secret changes alone on the apiserver; when apply
// compares with the apiserver's copy instead, it keeps that copy's bytes for a key the desired
// Secret carries without a value (apply's mergeSecret).
func dropKeystoreBytes(obj any) (any, error) {
	secret, ok := obj.(*corev1.Secret)
	if !ok {
		return obj, nil
	}
	for _, k := range []string{specs.KeystoreKey, specs.TruststoreKey, specs.ClientKeystoreKey, specs.ClientTruststoreKey} {
		if _, present := secret.Data[k]; present {
			secret.Data[k] = nil
		}
	}
	return secret, nil
}

// cachedDigestPrefix starts the digest that stands for a value in the cache's copy of an owned
// ConfigMap.
const cachedDigestPrefix = "imply-operator.cache.sha256:"

// CachedDigest is what the cache holds instead of an owned ConfigMap's value v.
func CachedDigest(v string) string {
	sum := sha256.Sum256([]byte(v))
	return cachedDigestPrefix + hex.EncodeToString(sum[:])
}

// digestConfigValues replaces each value of the operator's ConfigMaps with its cachedDigest.
// The operator renders those values and never reads them back, so the cache needs only enough to
// tell whether they changed. The CA bundle is kept as it is: the Druid client trusts it.
//
// Like every transform it must be idempotent: client-go may transform an object twice (an
// informer's initial list does), and a digest of a digest would make a restarted operator
// rewrite every ConfigMap.
//
// apply never writes a digest: when the data differ it patches from the cached copy to the
// desired data, which replaces every value and deletes the keys that are not desired.
func digestConfigValues(obj any) (any, error) {
	cm, ok := obj.(*corev1.ConfigMap)
	if !ok || cm.Labels[specs.LabelManagedBy] != specs.ManagedBy || cm.Name == specs.CABundleName(cm.Labels[specs.LabelCluster]) {
		return obj, nil
	}
	for k, v := range cm.Data {
		if !strings.HasPrefix(v, cachedDigestPrefix) {
			cm.Data[k] = CachedDigest(v)
		}
	}
	return cm, nil
}
