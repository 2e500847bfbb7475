package index

import (
	"context"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// Clusters lists, as requests, the ImplyClusters of namespace whose index field is name.
func Clusters(ctx context.Context, c client.Reader, field, namespace, name string) []reconcile.Request {
	var clusters implyv1alpha1.ImplyClusterList
	if err := c.List(ctx, &clusters, client.InNamespace(namespace), client.MatchingFields{field: name}); err != nil {
		return nil
	}
	return requestsFor(clusters.Items)
}

// ClustersNamingObject maps an object to the ImplyClusters of its namespace whose index field
// names it.
func ClustersNamingObject(c client.Reader, field string) func(context.Context, client.Object) []reconcile.Request {
	return func(ctx context.Context, obj client.Object) []reconcile.Request {
		return Clusters(ctx, c, field, obj.GetNamespace(), obj.GetName())
	}
}

// Tokens lists, as requests, the AuthTokens of namespace whose index field is name.
func Tokens(ctx context.Context, c client.Reader, field, namespace, name string) []reconcile.Request {
	var tokens implyv1alpha1.AuthTokenList
	if err := c.List(ctx, &tokens, client.InNamespace(namespace), client.MatchingFields{field: name}); err != nil {
		return nil
	}
	return requestsFor(tokens.Items)
}

// ClustersUsingTokenSecret maps a Secret holding an agent token (generated for an AuthToken, or
// a user Secret an AuthToken names) to the clusters whose tokenRef is that AuthToken.
func ClustersUsingTokenSecret(ctx context.Context, c client.Reader, secret client.Object) []reconcile.Request {
	var requests []reconcile.Request
	for _, t := range Tokens(ctx, c, TokenSecret, secret.GetNamespace(), secret.GetName()) {
		requests = append(requests, Clusters(ctx, c, ClusterTokenRef, t.Namespace, t.Name)...)
	}
	return requests
}

// requestsFor is one request per item.
func requestsFor[T any, P interface {
	*T
	client.Object
}](items []T) []reconcile.Request {
	out := make([]reconcile.Request, 0, len(items))
	for i := range items {
		out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{
			Namespace: P(&items[i]).GetNamespace(), Name: P(&items[i]).GetName()}})
	}
	return out
}

// List lists into list the objects of namespace whose index field is value. A reader without
// the operator's indexes (a direct client: the apiserver knows no such field) lists the whole
// namespace instead; every caller filters what it gets by the same condition, so only the cost
// differs.
func List(ctx context.Context, c client.Reader, list client.ObjectList, namespace, field, value string) error {
	err := c.List(ctx, list, client.InNamespace(namespace), client.MatchingFields{field: value})
	if apierrors.IsBadRequest(err) && strings.Contains(err.Error(), "field label not supported") {
		return c.List(ctx, list, client.InNamespace(namespace))
	}
	return err
}
