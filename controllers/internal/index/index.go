// Package index holds the field indexes the reconcilers share: ImplyClusters by the Secrets,
// AuthToken and SecurityPolicy their spec names, AuthTokens by their Secrets, cluster and
// username, and DruidRoles by their cluster and role name. A reconcile lists what concerns its
// cluster or name, never a whole namespace: with n of a kind in a namespace, listing them all
// for each would cost n² in all.
// Register adds them all once, so a kind can look up another kind's index without importing it.
package index

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// Index fields.
const (
	// ClusterSecrets indexes ImplyClusters by the names of the Secrets their spec references.
	ClusterSecrets = "spec.referencedSecrets"
	// ClusterTokenRef indexes ImplyClusters by spec.security.auth.tokenRef.
	ClusterTokenRef = "spec.security.auth.tokenRef"
	// ClusterPolicyRef indexes ImplyClusters by spec.security.securityPolicyRef.
	ClusterPolicyRef = "spec.security.securityPolicyRef"
	// TokenSecret indexes AuthTokens by the Secrets that hold their token or password.
	TokenSecret = "spec.tokenSecret"
	// TokenCluster indexes AuthTokens of type Druid by spec.clusterRef.
	TokenCluster = "spec.clusterRef"
	// TokenUsername indexes AuthTokens of type Druid by ClusterScoped(spec.clusterRef, username).
	TokenUsername = "spec.clusterRef+username"
	// RoleCluster indexes DruidRoles by spec.clusterRef.
	RoleCluster = "spec.clusterRef"
	// RoleName indexes DruidRoles by ClusterScoped(spec.clusterRef, the Druid role name).
	RoleName = "spec.clusterRef+roleName"
)

// ClusterScoped is the index value of a name within one cluster (TokenUsername, RoleName).
func ClusterScoped(cluster, name string) string { return cluster + "/" + name }

// Register adds every index to indexer.
func Register(ctx context.Context, indexer client.FieldIndexer) error {
	for _, ix := range []struct {
		obj   client.Object
		field string
		fn    client.IndexerFunc
	}{
		{&implyv1alpha1.ImplyCluster{}, ClusterSecrets, clusterSecretNames},
		{&implyv1alpha1.ImplyCluster{}, ClusterTokenRef, clusterTokenRef},
		{&implyv1alpha1.ImplyCluster{}, ClusterPolicyRef, clusterPolicyRef},
		{&implyv1alpha1.AuthToken{}, TokenSecret, tokenSecretNames},
		{&implyv1alpha1.AuthToken{}, TokenCluster, tokenCluster},
		{&implyv1alpha1.AuthToken{}, TokenUsername, tokenUsername},
		{&implyv1alpha1.DruidRole{}, RoleCluster, roleCluster},
		{&implyv1alpha1.DruidRole{}, RoleName, roleName},
	} {
		if err := indexer.IndexField(ctx, ix.obj, ix.field, ix.fn); err != nil {
			return fmt.Errorf("while indexing %T by %s: %w", ix.obj, ix.field, err)
		}
	}
	return nil
}

// clusterSecretNames is the index function of ClusterSecrets.
func clusterSecretNames(obj client.Object) []string {
	c, ok := obj.(*implyv1alpha1.ImplyCluster)
	if !ok {
		return nil
	}
	var names []string
	for _, ref := range specs.ReferencedSecrets(c) {
		names = append(names, ref.Name)
	}
	sort.Strings(names)
	return slices.Compact(names)
}

// clusterTokenRef is the index function of ClusterTokenRef.
func clusterTokenRef(obj client.Object) []string {
	c, ok := obj.(*implyv1alpha1.ImplyCluster)
	if !ok || c.Spec.Security == nil || c.Spec.Security.Auth == nil || c.Spec.Security.Auth.TokenRef == nil {
		return nil
	}
	return []string{c.Spec.Security.Auth.TokenRef.Name}
}

// clusterPolicyRef is the index function of ClusterPolicyRef.
func clusterPolicyRef(obj client.Object) []string {
	c, ok := obj.(*implyv1alpha1.ImplyCluster)
	if !ok || c.Spec.Security == nil || c.Spec.Security.SecurityPolicyRef == nil {
		return nil
	}
	return []string{c.Spec.Security.SecurityPolicyRef.Name}
}

// tokenSecretNames is the index function of TokenSecret: the Secret an Agent token reads
// (spec.secretRef) or generates (<name>-token); the password Secret a Druid user reads
// (spec.passwordSecretRef) and its <name>-credentials. A Secret of that name that appears,
// changes or disappears wakes the AuthToken, also when it is not the operator's.
func tokenSecretNames(obj client.Object) []string {
	token, ok := obj.(*implyv1alpha1.AuthToken)
	if !ok {
		return nil
	}
	if token.Spec.Type == implyv1alpha1.AuthTokenDruid {
		names := []string{specs.DruidUserCredentialsName(token.Name)}
		if ref := token.Spec.PasswordSecretRef; ref != nil {
			names = append(names, ref.Name)
		}
		return names
	}
	if ref := token.Spec.SecretRef; ref != nil {
		return []string{ref.Name}
	}
	return []string{specs.AuthTokenSecretName(token.Name)}
}

// tokenCluster is the index function of TokenCluster.
func tokenCluster(obj client.Object) []string {
	token, ok := obj.(*implyv1alpha1.AuthToken)
	if !ok || token.Spec.Type != implyv1alpha1.AuthTokenDruid || token.Spec.ClusterRef == nil {
		return nil
	}
	return []string{token.Spec.ClusterRef.Name}
}

// tokenUsername is the index function of TokenUsername.
func tokenUsername(obj client.Object) []string {
	token, ok := obj.(*implyv1alpha1.AuthToken)
	if !ok || token.Spec.Type != implyv1alpha1.AuthTokenDruid || token.Spec.ClusterRef == nil {
		return nil
	}
	return []string{ClusterScoped(token.Spec.ClusterRef.Name, token.Spec.Username)}
}

// roleCluster is the index function of RoleCluster.
func roleCluster(obj client.Object) []string {
	role, ok := obj.(*implyv1alpha1.DruidRole)
	if !ok {
		return nil
	}
	return []string{role.Spec.ClusterRef.Name}
}

// roleName is the index function of RoleName.
func roleName(obj client.Object) []string {
	role, ok := obj.(*implyv1alpha1.DruidRole)
	if !ok {
		return nil
	}
	return []string{ClusterScoped(role.Spec.ClusterRef.Name, specs.DruidRoleName(role))}
}
