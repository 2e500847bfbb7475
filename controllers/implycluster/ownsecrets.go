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
func (r *Reconciler) liveOwnSecret(ctx context.Context, c *implyv1alpha1.ImplyCluster, name string) (*corev1.Secret, error) {
	return r.readOwnSecret(ctx, c, name, false)
}

// liveReissuableSecret is liveOwnSecret for a Secret whose values the operator can issue again
// from what it keeps (a leaf's certificate, key, keystores and their password). For a cluster
// never reconciled yet (neverReconciled), one that neither the cache of the operator's Secrets
// nor that of the other Secrets holds is taken to be absent without asking the apiserver: a new
// cluster's first reconcile read each of them uncached only to find none (docs/performance.md,
// step 23). From the first reconcile on, a Secret the cache lacks may be one the last reconcile
// created and the cache has not seen yet, and the apiserver is asked, as liveOwnSecret does.
func (r *Reconciler) liveReissuableSecret(ctx context.Context, c *implyv1alpha1.ImplyCluster, name string) (*corev1.Secret, error) {
	return r.readOwnSecret(ctx, c, name, neverReconciled(c))
}

// neverReconciled says whether no reconcile of c has recorded its status yet (every reconcile
// that creates anything records it, before it returns). Its reissuable Secrets, if the caches
// hold none, do not exist; should a reconcile that created them have failed to record the
// status, they are issued again before any pod used them for long.
func neverReconciled(c *implyv1alpha1.ImplyCluster) bool {
	return c.Status.ObservedGeneration == 0
}

// readOwnSecret is liveOwnSecret, taking the caches' NotFound for an absence when
// trustCachedAbsence.
func (r *Reconciler) readOwnSecret(ctx context.Context, c *implyv1alpha1.ImplyCluster, name string, trustCachedAbsence bool) (*corev1.Secret, error) {
	key := client.ObjectKey{Namespace: c.Namespace, Name: name}
	live := &corev1.Secret{}
	err := r.Get(ctx, key, live)
	askAPIServer := err == nil && (live.Labels[specs.LabelManagedBy] != specs.ManagedBy || apply.CheckOwner(r.Scheme, c, live) != nil)
	if apierrors.IsNotFound(err) {
		askAPIServer = true
		if trustCachedAbsence {
			if askAPIServer, err = r.foreignSecretCached(ctx, key); err != nil {
				return nil, err
			}
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
