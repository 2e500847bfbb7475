package implycluster

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/apply"
	"github.com/imply-operator/imply-operator/controllers/internal/index"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// checkReferencedSecrets reads each referenced Secret (uncached: only the operator's own Secrets
// are cached) and returns the first one that is missing or lacks a key. It never returns values.
func checkReferencedSecrets(ctx context.Context, reader client.Reader, c *implyv1alpha1.ImplyCluster) (*apply.Problem, error) {
	for _, ref := range specs.ReferencedSecrets(c) {
		if ref.WatchOnly {
			continue
		}
		var secret corev1.Secret
		err := reader.Get(ctx, types.NamespacedName{Namespace: c.Namespace, Name: ref.Name}, &secret)
		if apierrors.IsNotFound(err) {
			return &apply.Problem{
				Reason:  implyv1alpha1.ReasonSecretNotFound,
				Message: fmt.Sprintf("Secret %q named by %s does not exist", ref.Name, ref.Field),
			}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("while reading Secret %s: %w", ref.Name, err)
		}
		for _, key := range ref.Keys {
			if _, ok := secret.Data[key]; !ok {
				return &apply.Problem{
					Reason:  implyv1alpha1.ReasonSecretKeyNotFound,
					Message: fmt.Sprintf("Secret %q named by %s has no key %q", ref.Name, ref.Field, key),
				}, nil
			}
		}
	}
	return nil, nil
}

// clustersReferencingSecret maps a Secret event to the ImplyClusters that own it (as controller,
// or as a plain owner: the Secrets cert-manager writes) and those whose spec names it.
func clustersReferencingSecret(c client.Client) func(context.Context, client.Object) []reconcile.Request {
	return func(ctx context.Context, secret client.Object) []reconcile.Request {
		var requests []reconcile.Request
		for _, owner := range secret.GetOwnerReferences() {
			if owner.Kind == "ImplyCluster" && owner.APIVersion == implyv1alpha1.GroupVersion.String() {
				requests = append(requests, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: secret.GetNamespace(), Name: owner.Name}})
			}
		}
		// A Secret kept after its cluster's deletion, or marked to be handed over: the cluster it
		// is retained for adopts it.
		prefix := specs.RetainedFor("ImplyCluster", secret.GetNamespace(), "")
		if name, ok := strings.CutPrefix(secret.GetAnnotations()[implyv1alpha1.AnnotationRetainedFor], prefix); ok && name != "" {
			requests = append(requests, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: secret.GetNamespace(), Name: name}})
		}
		var clusters implyv1alpha1.ImplyClusterList
		if err := c.List(ctx, &clusters, client.InNamespace(secret.GetNamespace()),
			client.MatchingFields{index.ClusterSecrets: secret.GetName()}); err != nil {
			return requests
		}
		for _, cl := range clusters.Items {
			requests = append(requests, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&cl)})
		}
		return append(requests, index.ClustersUsingTokenSecret(ctx, c, secret)...)
	}
}
