package authtoken

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// TestOnlyTheOwnerOfARoleNameKeepsItsAssignments: a DruidRole that lost the claim to its role
// name cannot stop an AuthToken from unassigning that role.
func TestOnlyTheOwnerOfARoleNameKeepsItsAssignments(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	role := func(name, roleName, cluster string, age time.Duration, deleting bool, users ...string) implyv1alpha1.DruidRole {
		r := implyv1alpha1.DruidRole{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(t0.Add(-age))}}
		r.Spec.RoleName, r.Spec.ClusterRef.Name, r.Spec.Users = roleName, cluster, users
		if deleting {
			now := metav1.NewTime(t0)
			r.DeletionTimestamp = &now
		}
		return r
	}
	for _, tc := range []struct {
		name  string
		roles []implyv1alpha1.DruidRole
		want  []string
	}{
		{"the owner lists the user", []implyv1alpha1.DruidRole{role("a", "readers", "c", time.Hour, false, "u")}, []string{"readers"}},
		{"a later claimant lists the user, the owner does not", []implyv1alpha1.DruidRole{
			role("first", "readers", "c", time.Hour, false), role("second", "readers", "c", time.Minute, false, "u")}, nil},
		{"the owner is being deleted", []implyv1alpha1.DruidRole{role("a", "readers", "c", time.Hour, true, "u")}, nil},
		{"another cluster's role", []implyv1alpha1.DruidRole{role("a", "readers", "other", time.Hour, false, "u")}, nil},
		{"two names, one each", []implyv1alpha1.DruidRole{
			role("a", "readers", "c", time.Hour, false, "u"), role("b", "writers", "c", time.Minute, false, "u"),
			role("c", "admins", "c", time.Minute, false, "v")}, []string{"readers", "writers"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := rolesClaiming(tc.roles, "c", "u")
			if len(got) != len(tc.want) {
				t.Fatalf("claimed %v, want %v", got, tc.want)
			}
			for _, w := range tc.want {
				if !got[w] {
					t.Errorf("claimed %v, want %v", got, tc.want)
				}
			}
		})
	}
}
