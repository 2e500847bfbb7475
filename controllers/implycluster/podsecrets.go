package implycluster

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// podSecretRevisions are the secrets-revisions of the user's Secrets the manager's and the
// agents' pods read (specs.PodSecretNames).
type podSecretRevisions struct {
	Manager, Agents string
}

// podSecretsPhase reads the user's Secrets the pods read (uncached, as checkSecretsPhase does)
// and records their revisions, so that editing the license, a metadata store's credentials or
// the deep-storage credentials rolls the pods that read them.
func (r *Reconciler) podSecretsPhase(ctx context.Context, s *scope) (time.Duration, error) {
	manager, agents := specs.PodSecretNames(s.cluster)
	var err error
	if s.obs.PodSecrets.Manager, err = r.secretsRevision(ctx, s, manager); err != nil {
		return 0, err
	}
	if s.obs.PodSecrets.Agents, err = r.secretsRevision(ctx, s, agents); err != nil {
		return 0, err
	}
	return 0, nil
}

// secretsRevision is specs.SecretsRevision of the named Secrets of the cluster's namespace; a
// missing one counts as empty (checkSecretsPhase has already stopped the reconcile for it).
func (r *Reconciler) secretsRevision(ctx context.Context, s *scope, names []string) (string, error) {
	secrets := make([]*corev1.Secret, 0, len(names))
	for _, name := range names {
		var secret corev1.Secret
		err := userSecrets(ctx, r.APIReader).Get(ctx, client.ObjectKey{Namespace: s.cluster.Namespace, Name: name}, &secret)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("while reading Secret %s: %w", name, err)
		}
		secrets = append(secrets, &secret)
	}
	return specs.SecretsRevision(s.revisionKey, secrets)
}

// pruneManagerSigningCA deletes <cluster>-manager-ca when the manager may no longer hold the
// CA's key (TLS off, the user's CA without shareKeyWithManager, a cert-manager issuer).
func (r *Reconciler) pruneManagerSigningCA(ctx context.Context, c *implyv1alpha1.ImplyCluster) error {
	if specs.ManagerSignsCertificates(c) {
		return nil
	}
	var secret corev1.Secret
	err := r.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: specs.ManagerSigningCAName(c.Name)}, &secret)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("while reading Secret %s: %w", specs.ManagerSigningCAName(c.Name), err)
	}
	if !metav1.IsControlledBy(&secret, c) {
		return nil
	}
	if err := r.Delete(ctx, &secret); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("while deleting Secret %s: %w", secret.Name, err)
	}
	return nil
}
