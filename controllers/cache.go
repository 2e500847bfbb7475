package controllers

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/imply-operator/imply-operator/pkg/specs"
)

// CacheOptions restricts what the operator keeps in memory (see docs/performance.md):
//
//   - ConfigMaps, Services, StatefulSets, Deployments and PodDisruptionBudgets are cached only
//     when labelled app.kubernetes.io/managed-by=imply-operator: those of other applications in
//     the watched namespaces are never listed. apply reads an unlabelled object of an owned name
//     from the apiserver and labels it. (cert-manager Certificates are not scoped: options for a
//     kind stop the manager from starting where its CRD is not installed.)
//   - Secrets are all watched, so a change to a referenced one reconciles the clusters that use
//     it, but only the operator's own keep their values. Values of every other Secret are
//     dropped as they arrive and read from the apiserver only when needed.
//   - The operator's own ConfigMaps, but for the CA bundle, keep a digest of each value instead of
//     the value (the rendered runtime properties): apply compares digests (configDataMatches).
//   - The operator's own Secrets keep their keystore.p12 and truststore.p12 keys without the
//     bytes (a third of the heap's Secret data at 1,000 clusters): the operator writes them
//     but never reads them back.
//   - No cached object keeps its managedFields, which the operator never reads, and cached
//     objects share the strings and label sets they have in common (internPool).
func CacheOptions(namespaces map[string]cache.Config) cache.Options {
	pool := newInternPool()
	compact := chainTransforms(stripManagedFields, pool.transform)
	owned := cache.ByObject{Label: managedBySelector, Transform: compact}
	return cache.Options{
		DefaultNamespaces: namespaces,
		DefaultTransform:  compact,
		ByObject: map[client.Object]cache.ByObject{
			&corev1.ConfigMap{}:             {Label: managedBySelector, Transform: chainTransforms(digestConfigValues, compact)},
			&corev1.Service{}:               owned,
			&appsv1.StatefulSet{}:           owned,
			&appsv1.Deployment{}:            owned,
			&policyv1.PodDisruptionBudget{}: owned,
			&corev1.Secret{}:                {Transform: chainTransforms(dropForeignSecretValues, dropKeystoreBytes, compact)},
		},
	}
}

// managedBySelector selects the objects the operator manages.
var managedBySelector = labels.SelectorFromSet(labels.Set{specs.LabelManagedBy: specs.ManagedBy})

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
var stripManagedFields = cache.TransformStripManagedFields()

// dropForeignSecretValues empties the data of Secrets the operator does not manage.
func dropForeignSecretValues(obj any) (any, error) {
	secret, ok := obj.(*corev1.Secret)
	if !ok || secret.Labels[specs.LabelManagedBy] == specs.ManagedBy {
		return obj, nil
	}
	secret.Data, secret.StringData = nil, nil
	return secret, nil
}

// dropKeystoreBytes keeps the PKCS#12 keys of a Secret but not their bytes. The operator writes
// keystores when it issues or re-trusts a leaf and never reads them back: a pod's TLS revision
// is a hash of what they are made of (mountedMaterial), and apply's merge patch leaves a key
// that neither the cached nor the desired Secret changes alone on the apiserver.
func dropKeystoreBytes(obj any) (any, error) {
	secret, ok := obj.(*corev1.Secret)
	if !ok {
		return obj, nil
	}
	for _, k := range []string{specs.KeystoreKey, specs.TruststoreKey} {
		if _, present := secret.Data[k]; present {
			secret.Data[k] = nil
		}
	}
	return secret, nil
}

// cachedDigestPrefix starts the digest that stands for a value in the cache's copy of an owned
// ConfigMap.
const cachedDigestPrefix = "imply-operator.cache.sha256:"

// cachedDigest is what the cache holds instead of an owned ConfigMap's value v.
func cachedDigest(v string) string {
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
			cm.Data[k] = cachedDigest(v)
		}
	}
	return cm, nil
}
