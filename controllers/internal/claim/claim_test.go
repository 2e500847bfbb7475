package claim

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

func TestOwnerIsTheFirstClaimant(t *testing.T) {
	at := func(name string, age time.Duration) *implyv1alpha1.DruidRole {
		return &implyv1alpha1.DruidRole{ObjectMeta: metav1.ObjectMeta{Name: name,
			CreationTimestamp: metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(-age))}}
	}
	for _, tc := range []struct {
		name      string
		claimants []*implyv1alpha1.DruidRole
		want      string
	}{
		{"alone", []*implyv1alpha1.DruidRole{at("a", 0)}, "a"},
		{"the oldest", []*implyv1alpha1.DruidRole{at("young", time.Minute), at("old", time.Hour), at("middle", 2*time.Minute)}, "old"},
		{"same second: by name", []*implyv1alpha1.DruidRole{at("b", time.Hour), at("a", time.Hour)}, "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Owner(tc.claimants); got.Name != tc.want {
				t.Errorf("Owner = %s, want %s", got.Name, tc.want)
			}
		})
	}
	if Owner[*implyv1alpha1.DruidRole](nil) != nil {
		t.Error("an owner among no claimants")
	}
	p := Conflict("Druid role", "readers", "c", "DruidRole", "first")
	if p.Reason != implyv1alpha1.ReasonConflict {
		t.Errorf("reason %s", p.Reason)
	}
}
