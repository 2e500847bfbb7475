package controllers

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// Index fields of ImplyClusters by the objects their spec names.
const (
	tokenRefIndexField  = "spec.security.auth.tokenRef"
	policyRefIndexField = "spec.security.securityPolicyRef"
)

// tokenRefName indexes an ImplyCluster by the AuthToken of spec.security.auth.tokenRef.
func tokenRefName(obj client.Object) []string {
	c, ok := obj.(*implyv1alpha1.ImplyCluster)
	if !ok || c.Spec.Security == nil || c.Spec.Security.Auth == nil || c.Spec.Security.Auth.TokenRef == nil {
		return nil
	}
	return []string{c.Spec.Security.Auth.TokenRef.Name}
}

// policyRefName indexes an ImplyCluster by the SecurityPolicy of spec.security.securityPolicyRef.
func policyRefName(obj client.Object) []string {
	c, ok := obj.(*implyv1alpha1.ImplyCluster)
	if !ok || c.Spec.Security == nil || c.Spec.Security.SecurityPolicyRef == nil {
		return nil
	}
	return []string{c.Spec.Security.SecurityPolicyRef.Name}
}

// clustersByIndex maps an object to the ImplyClusters of its namespace whose index field names it.
func clustersByIndex(c client.Client, field string) func(context.Context, client.Object) []reconcile.Request {
	return func(ctx context.Context, obj client.Object) []reconcile.Request {
		return clustersNaming(ctx, c, field, obj.GetNamespace(), obj.GetName())
	}
}

// clustersNaming lists the ImplyClusters of namespace whose index field is name.
func clustersNaming(ctx context.Context, c client.Client, field, namespace, name string) []reconcile.Request {
	var clusters implyv1alpha1.ImplyClusterList
	if err := c.List(ctx, &clusters, client.InNamespace(namespace), client.MatchingFields{field: name}); err != nil {
		return nil
	}
	requests := make([]reconcile.Request, 0, len(clusters.Items))
	for _, cl := range clusters.Items {
		requests = append(requests, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&cl)})
	}
	return requests
}

// clustersUsingTokenSecret maps a Secret holding an agent token (generated for an AuthToken, or a
// user Secret an AuthToken names) to the clusters whose tokenRef is that AuthToken, through the
// AuthToken controller's index of token Secrets.
func clustersUsingTokenSecret(ctx context.Context, c client.Client, secret client.Object) []reconcile.Request {
	var tokens implyv1alpha1.AuthTokenList
	if err := c.List(ctx, &tokens, client.InNamespace(secret.GetNamespace()),
		client.MatchingFields{authTokenSecretIndexField: secret.GetName()}); err != nil {
		return nil
	}
	var requests []reconcile.Request
	for _, t := range tokens.Items {
		requests = append(requests, clustersNaming(ctx, c, tokenRefIndexField, t.Namespace, t.Name)...)
	}
	return requests
}
