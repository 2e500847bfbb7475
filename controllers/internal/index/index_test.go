package index

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/test/testobj"
)

func TestClusterIndexes(t *testing.T) {
	c := testobj.ImplyCluster("c", "ns", testobj.WithAuth("agents", "strict"))
	names := clusterSecretNames(c)
	if !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Errorf("secret names are not sorted and unique: %v", names)
	}
	if got := clusterTokenRef(c); !slices.Equal(got, []string{"agents"}) {
		t.Errorf("token ref index = %v", got)
	}
	if got := clusterPolicyRef(c); !slices.Equal(got, []string{"strict"}) {
		t.Errorf("policy ref index = %v", got)
	}
	plain := testobj.ImplyCluster("p", "ns")
	if clusterTokenRef(plain) != nil || clusterPolicyRef(plain) != nil {
		t.Error("a cluster without auth is indexed by a token or policy")
	}
}

func TestTokenIndexes(t *testing.T) {
	agent := &implyv1alpha1.AuthToken{ObjectMeta: metav1.ObjectMeta{Name: "agents"}, Spec: implyv1alpha1.AuthTokenSpec{Type: implyv1alpha1.AuthTokenAgent}}
	if got := tokenSecretNames(agent); !slices.Equal(got, []string{"agents-token"}) {
		t.Errorf("generated agent token index = %v", got)
	}
	agent.Spec.SecretRef = &implyv1alpha1.SecretKeySelector{Name: "mine"}
	if got := tokenSecretNames(agent); !slices.Equal(got, []string{"mine"}) {
		t.Errorf("user agent token index = %v", got)
	}
	if tokenCluster(agent) != nil {
		t.Error("an agent token is indexed by a cluster")
	}
	user := &implyv1alpha1.AuthToken{ObjectMeta: metav1.ObjectMeta{Name: "pivot"}, Spec: implyv1alpha1.AuthTokenSpec{
		Type: implyv1alpha1.AuthTokenDruid, ClusterRef: &implyv1alpha1.LocalObjectReference{Name: "c"},
		PasswordSecretRef: &implyv1alpha1.SecretKeySelector{Name: "pw"}}}
	if got := tokenSecretNames(user); !slices.Equal(got, []string{"pivot-credentials", "pw"}) {
		t.Errorf("Druid user index = %v", got)
	}
	if got := tokenCluster(user); !slices.Equal(got, []string{"c"}) {
		t.Errorf("Druid user cluster index = %v", got)
	}
}

func TestClusterScopedIndexes(t *testing.T) {
	user := &implyv1alpha1.AuthToken{Spec: implyv1alpha1.AuthTokenSpec{Type: implyv1alpha1.AuthTokenDruid,
		ClusterRef: &implyv1alpha1.LocalObjectReference{Name: "c"}, Username: "pivot/reader"}}
	if got := tokenUsername(user); !slices.Equal(got, []string{"c/pivot/reader"}) {
		t.Errorf("Druid user username index = %v", got)
	}
	agent := &implyv1alpha1.AuthToken{Spec: implyv1alpha1.AuthTokenSpec{Type: implyv1alpha1.AuthTokenAgent}}
	if tokenUsername(agent) != nil {
		t.Error("an agent token is indexed by a username")
	}
	role := &implyv1alpha1.DruidRole{ObjectMeta: metav1.ObjectMeta{Name: "readers"},
		Spec: implyv1alpha1.DruidRoleSpec{ClusterRef: implyv1alpha1.LocalObjectReference{Name: "c"}}}
	if got := roleCluster(role); !slices.Equal(got, []string{"c"}) {
		t.Errorf("role cluster index = %v", got)
	}
	if got := roleName(role); !slices.Equal(got, []string{"c/readers"}) {
		t.Errorf("role name index (metadata.name) = %v", got)
	}
	role.Spec.RoleName = "analysts"
	if got := roleName(role); !slices.Equal(got, []string{"c/analysts"}) {
		t.Errorf("role name index (spec.roleName) = %v", got)
	}
}
