package implycluster

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/apply"
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
	key := client.ObjectKey{Namespace: c.Namespace, Name: name}
	live := &corev1.Secret{}
	err := r.Get(ctx, key, live)
	askAPIServer := err == nil && (live.Labels[specs.LabelManagedBy] != specs.ManagedBy || apply.CheckOwner(r.Scheme, c, live) != nil)
	if askAPIServer || apierrors.IsNotFound(err) {
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
