package implycluster

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/apply"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// revisionKeyPhase reads the cluster's revision key, the HMAC key that makes the tls-, auth- and
// secrets-revisions of its pod templates unguessable from the material they stand for (anyone with
// view on a StatefulSet reads them). The key is generated once, into <cluster>-revision-key,
// and never replaced: a Secret of that name that is not the cluster's (NameConflict), or that
// holds no usable key, stops the reconcile.
func (r *Reconciler) revisionKeyPhase(ctx context.Context, s *scope) (time.Duration, error) {
	c := s.cluster
	secret, err := r.revisionKeySecret(ctx, c)
	if err != nil {
		return 0, err
	}
	if err := apply.CheckOwner(r.Scheme, c, secret); err != nil {
		p := apply.AsConflict(err).Problem()
		s.obs.SecretProblem = p
		r.stop(s, p)
		return 0, nil
	}
	if s.revisionKey, err = specs.RevisionKey(secret); err != nil {
		p := &apply.Problem{Reason: implyv1alpha1.ReasonInvalidRevisionKey, Message: err.Error() + "; delete it to generate a new one"}
		s.obs.SecretProblem = p
		r.stop(s, p)
	}
	return 0, nil
}

// revisionKeySecret reads <cluster>-revision-key, creating it with a new random key when it
// does not exist.
func (r *Reconciler) revisionKeySecret(ctx context.Context, c *implyv1alpha1.ImplyCluster) (*corev1.Secret, error) {
	return r.getOrCreateSecret(ctx, c, specs.RevisionKeyName(c.Name), func() (*corev1.Secret, func(), error) {
		value := make([]byte, specs.RevisionKeyBytes)
		if _, err := rand.Read(value); err != nil {
			return nil, nil, fmt.Errorf("while generating the revision key: %w", err)
		}
		return specs.BuildRevisionKeySecret(c, value), func() {}, nil
	})
}

// getOrCreateSecret reads the operator's Secret name of c (through the cache, uncached when the
// cache holds it without values or only the cache of other Secrets holds it), and only when
// there is none creates the one generate builds, controlled by c (or
// marked retained for c, see specs.MarkRetained), then
// calls the func generate returned. Secrets of generated keys are never replaced: one that
// exists, whoever owns it, is returned as it is for the caller to judge.
func (r *Reconciler) getOrCreateSecret(ctx context.Context, c *implyv1alpha1.ImplyCluster, name string,
	generate func() (*corev1.Secret, func(), error)) (*corev1.Secret, error) {
	key := client.ObjectKey{Namespace: c.Namespace, Name: name}
	var secret corev1.Secret
	err := r.Get(ctx, key, &secret)
	if err == nil && len(secret.Data) > 0 {
		return &secret, nil
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("while reading Secret %s: %w", name, err)
	}
	// Cached without values (not labelled as the operator's), or held by the cache of the other
	// Secrets: ask the apiserver before generating. In neither cache: generate, and the create
	// below, which never replaces a Secret, finds one the caches have not seen yet.
	ask := err == nil
	if !ask {
		if ask, err = r.foreignSecretCached(ctx, key); err != nil {
			return nil, err
		}
	}
	if ask {
		switch err := r.APIReader.Get(ctx, key, &secret); {
		case err == nil:
			return &secret, nil
		case !apierrors.IsNotFound(err):
			return nil, fmt.Errorf("while reading Secret %s: %w", name, err)
		}
	}
	desired, created, err := generate()
	if err != nil {
		return nil, err
	}
	if !specs.MarkRetained(c, desired) {
		if err := controllerutil.SetControllerReference(c, desired, r.Scheme); err != nil {
			return nil, err
		}
	}
	if err := r.Create(ctx, desired); err != nil {
		if !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("while creating Secret %s: %w", name, err)
		}
		if err := r.APIReader.Get(ctx, key, &secret); err != nil {
			return nil, fmt.Errorf("while reading Secret %s: %w", name, err)
		}
		return &secret, nil
	}
	created()
	return desired, nil
}
