package implycluster

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/apply"
	"github.com/imply-operator/imply-operator/controllers/internal/cache"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// liveOwnSecret reads a Secret of c whose values the operator keeps (passwords, keystore
// passwords, keys): through the cache, else from the apiserver when the cache has no copy, a
// copy without the operator's managed-by label (the cache drops the values of those, so its copy
// would look empty and the values would be generated again) or a copy that is not c's (the cache
// may not have seen an owner change the operator just wrote, such as taking a leaf Secret over
// from its Certificate). It returns an empty Secret when the apiserver has none, and a
// *apply.ConflictError when the Secret is not c's: its values are never used. apply restores the
// labels of a Secret that lost them, values unchanged.
//
// For a cluster never reconciled yet (neverReconciled), a Secret that neither the cache of the
// operator's Secrets nor that of the other Secrets holds is taken to be absent without asking
// the apiserver: a new cluster's first reconcile read each of them uncached only to find none
// (docs/performance.md, steps 23 and 28). The caller derives the desired Secret from the live
// one (apply.DerivedFrom), so values made for an absent Secret are only created: should it exist
// after all (created by an earlier reconcile the caches have not seen yet), the apply ends in a
// Conflict and the reconcile starts over, never writing new values over the kept ones. From the
// first reconcile on, the apiserver is asked about every Secret the cache lacks.
func (r *Reconciler) liveOwnSecret(ctx context.Context, c *implyv1alpha1.ImplyCluster, name string) (*corev1.Secret, error) {
	key := client.ObjectKey{Namespace: c.Namespace, Name: name}
	live := &corev1.Secret{}
	err := r.Get(ctx, key, live)
	askAPIServer := err == nil && (live.Labels[specs.LabelManagedBy] != specs.ManagedBy || apply.CheckOwner(r.Scheme, c, live) != nil)
	if apierrors.IsNotFound(err) {
		if askAPIServer, err = r.absenceUnsure(ctx, c, key); err != nil {
			return nil, err
		}
		if !askAPIServer {
			return &corev1.Secret{}, nil
		}
	}
	if askAPIServer {
		live = &corev1.Secret{}
		err = r.APIReader.Get(ctx, key, live)
	}
	if apierrors.IsNotFound(err) {
		return &corev1.Secret{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("while reading Secret %s: %w", name, err)
	}
	if err := apply.CheckOwner(r.Scheme, c, live); err != nil {
		return nil, err
	}
	return live, nil
}

// neverReconciled says whether no reconcile of c has recorded its status yet.
func neverReconciled(c *implyv1alpha1.ImplyCluster) bool {
	return c.Status.ObservedGeneration == 0
}

// absenceUnsure says whether the apiserver must be asked about Secret key of c, which the cache
// of the operator's Secrets does not hold: always once c was reconciled, and for a cluster never
// reconciled when the cache of the other Secrets holds it (it lost the operator's label).
func (r *Reconciler) absenceUnsure(ctx context.Context, c *implyv1alpha1.ImplyCluster, key client.ObjectKey) (bool, error) {
	if !neverReconciled(c) {
		return true, nil
	}
	return r.foreignSecretCached(ctx, key)
}

// secretAbsentFromCaches says whether Secret key is in neither the cache of the operator's
// Secrets nor that of the others.
func (r *Reconciler) secretAbsentFromCaches(ctx context.Context, key client.ObjectKey) (bool, error) {
	err := r.Get(ctx, key, &corev1.Secret{})
	if !apierrors.IsNotFound(err) {
		return false, client.IgnoreNotFound(err)
	}
	foreign, err := r.foreignSecretCached(ctx, key)
	return !foreign, err
}

// foreignSecretCached says whether the cache of the Secrets the operator does not manage holds
// key (their metadata only), or there is no such cache to ask (true then too).
func (r *Reconciler) foreignSecretCached(ctx context.Context, key client.ObjectKey) (bool, error) {
	if r.ForeignSecrets == nil {
		return true, nil
	}
	err := r.ForeignSecrets.Get(ctx, key, cache.SecretMetadata())
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("while reading Secret %s from the cache: %w", key.Name, err)
	}
	return true, nil
}
