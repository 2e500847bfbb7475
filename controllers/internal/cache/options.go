package cache

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	crcache "sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/imply-operator/imply-operator/pkg/specs"
)

// Options restricts what the operator keeps in memory (see docs/performance.md):
//
//   - ConfigMaps, Services, StatefulSets, Deployments, PodDisruptionBudgets, NetworkPolicies and
//     Ingresses are cached only when labelled app.kubernetes.io/managed-by=imply-operator: those
//     of other applications in the watched namespaces are never listed. apply reads an unlabelled object of an owned name
//     from the apiserver and labels it. (cert-manager Certificates are not scoped: options for a
//     kind stop the manager from starting where its CRD is not installed.)
//   - Secrets too are cached only when labelled app.kubernetes.io/managed-by=imply-operator.
//     Every other Secret is watched as trimmed metadata by ForeignSecrets, so a change to a
//     referenced one reconciles the clusters that use it; its values are read from the apiserver
//     only when needed and never cached.
//   - The operator's own ConfigMaps, but for the CA bundle, keep a digest of each value instead of
//     the value (the rendered runtime properties): apply compares digests (configDataMatches).
//   - The operator's own Secrets keep their keystore.p12 and truststore.p12 keys without the
//     bytes (a third of the heap's Secret data at 1,000 clusters): the operator writes them
//     but never reads them back.
//   - The operator's StatefulSets and Deployments are cached without their pod spec
//     (dropPodSpecs); a reconcile restores it before it compares or patches a template.
//   - The operator's Services keep only the spec fields apply owns (trimServiceSpecs).
//   - The operator's NetworkPolicies are cached with a digest of their spec instead of the spec
//     (digestNetworkPolicySpecs); apply reads the spec from the apiserver when the digest is not
//     that of the desired one.
//   - No cached object keeps its managedFields, which the operator never reads, and cached
//     objects share the strings and label sets they have in common (internPool).
func Options(namespaces map[string]crcache.Config) crcache.Options {
	pool := newInternPool()
	compact := chainTransforms(stripManagedFields, pool.transform)
	owned := crcache.ByObject{Label: managedBySelector, Transform: compact}
	workload := crcache.ByObject{Label: managedBySelector, Transform: chainTransforms(dropPodSpecs, compact)}
	return crcache.Options{
		DefaultNamespaces: namespaces,
		DefaultTransform:  compact,
		ByObject: map[client.Object]crcache.ByObject{
			&corev1.ConfigMap{}:             {Label: managedBySelector, Transform: chainTransforms(digestConfigValues, compact)},
			&corev1.Service{}:               {Label: managedBySelector, Transform: chainTransforms(trimServiceSpecs, compact)},
			&appsv1.StatefulSet{}:           workload,
			&appsv1.Deployment{}:            workload,
			&policyv1.PodDisruptionBudget{}: owned,
			&networkingv1.NetworkPolicy{}:   {Label: managedBySelector, Transform: chainTransforms(digestNetworkPolicySpecs, compact)},
			&networkingv1.Ingress{}:         owned,
			&corev1.Secret{}:                {Label: managedBySelector, Transform: chainTransforms(dropKeystoreBytes, compact)},
		},
	}
}

// managedBySelector selects the objects the operator manages.
var managedBySelector = labels.SelectorFromSet(labels.Set{specs.LabelManagedBy: specs.ManagedBy})

// ConfigDataMatches says whether a live ConfigMap holds the desired data. Each live value may
// be the value itself (read from the apiserver) or its cachedDigest (read from the cache).
func ConfigDataMatches(desired, live map[string]string) bool {
	if len(desired) != len(live) {
		return false
	}
	for k, v := range desired {
		if have, ok := live[k]; !ok || (have != v && have != CachedDigest(v)) {
			return false
		}
	}
	return true
}
