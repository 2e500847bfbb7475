// Package claim decides which object owns a name several objects claim in Druid (an AuthToken's
// username, a DruidRole's role name): the first to claim it, that is the oldest, so the decision
// is the same after an operator restart and never moves while the owner exists.
package claim

import (
	"fmt"
	"slices"

	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/apply"
)

// Owner is the claimant that owns the name: the one created first, the name breaking a tie
// (creation times have a resolution of a second). Nil when there is none.
func Owner[T client.Object](claimants []T) T {
	var owner T
	if len(claimants) == 0 {
		return owner
	}
	return slices.MinFunc(claimants, func(a, b T) int {
		if c := a.GetCreationTimestamp().Compare(b.GetCreationTimestamp().Time); c != 0 {
			return c
		}
		switch {
		case a.GetName() < b.GetName():
			return -1
		case a.GetName() > b.GetName():
			return 1
		}
		return 0
	})
}

// Conflict is the problem of a claimant that is not the owner: what (a "Druid user", a "Druid
// role") name of cluster belongs to the owner of kind.
func Conflict(what, name, cluster, kind, owner string) *apply.Problem {
	return &apply.Problem{Reason: implyv1alpha1.ReasonConflict, Message: fmt.Sprintf(
		"%s %q of ImplyCluster %q belongs to %s %q, which claimed it first: this object changes nothing in Druid until that one is deleted",
		what, name, cluster, kind, owner)}
}

// OwnersByName groups claimants by the name nameOf gives each and returns each name's Owner.
func OwnersByName[T client.Object](claimants []T, nameOf func(T) string) map[string]T {
	byName := map[string][]T{}
	for _, c := range claimants {
		byName[nameOf(c)] = append(byName[nameOf(c)], c)
	}
	owners := make(map[string]T, len(byName))
	for name, group := range byName {
		owners[name] = Owner(group)
	}
	return owners
}
