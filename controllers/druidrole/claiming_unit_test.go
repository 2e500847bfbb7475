package druidrole

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// TestOnlyTheOwnerOfAUsernameKeepsItsAssignments: an AuthToken that lost the claim to its
// username cannot stop a DruidRole from unassigning its role from that user.
func TestOnlyTheOwnerOfAUsernameKeepsItsAssignments(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	token := func(name, username, cluster string, typ implyv1alpha1.AuthTokenType, age time.Duration, deleting bool, roles ...string) implyv1alpha1.AuthToken {
		tok := implyv1alpha1.AuthToken{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(t0.Add(-age))}}
		tok.Spec.Type, tok.Spec.Username, tok.Spec.Roles = typ, username, roles
		tok.Spec.ClusterRef = &implyv1alpha1.LocalObjectReference{Name: cluster}
		if deleting {
			now := metav1.NewTime(t0)
			tok.DeletionTimestamp = &now
		}
		return tok
	}
	druidType := implyv1alpha1.AuthTokenDruid
	for _, tc := range []struct {
		name   string
		tokens []implyv1alpha1.AuthToken
		want   []string
	}{
		{"the owner lists the role", []implyv1alpha1.AuthToken{token("a", "u", "c", druidType, time.Hour, false, "readers")}, []string{"u"}},
		{"a later claimant lists the role, the owner does not", []implyv1alpha1.AuthToken{
			token("first", "u", "c", druidType, time.Hour, false), token("second", "u", "c", druidType, time.Minute, false, "readers")}, nil},
		{"the owner is being deleted", []implyv1alpha1.AuthToken{token("a", "u", "c", druidType, time.Hour, true, "readers")}, nil},
		{"another cluster's token", []implyv1alpha1.AuthToken{token("a", "u", "other", druidType, time.Hour, false, "readers")}, nil},
		{"two users", []implyv1alpha1.AuthToken{
			token("a", "u", "c", druidType, time.Hour, false, "readers"), token("b", "v", "c", druidType, time.Minute, false, "readers"),
			token("c", "w", "c", druidType, time.Minute, false, "writers")}, []string{"u", "v"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := usersClaiming(tc.tokens, "c", "readers")
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
