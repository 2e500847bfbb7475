package controllers

import (
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/imply-operator/imply-operator/pkg/specs"
)

// CacheOptions restricts what the operator keeps in memory. No cached object keeps its
// managedFields, which the operator never reads (they were an eighth of the heap at 1,000
// clusters, see docs/performance.md). Secrets are watched so a change to a referenced one
// reconciles the clusters that use it, but only the operator's own Secrets (labelled
// app.kubernetes.io/managed-by=imply-operator) keep their values in the cache. Values of every
// other Secret are dropped as they arrive and read from the apiserver only when needed.
func CacheOptions(namespaces map[string]cache.Config) cache.Options {
	return cache.Options{
		DefaultNamespaces: namespaces,
		DefaultTransform:  stripManagedFields,
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {Transform: func(obj any) (any, error) {
				obj, err := stripManagedFields(obj)
				if err != nil {
					return nil, err
				}
				return dropForeignSecretValues(obj)
			}},
		},
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
