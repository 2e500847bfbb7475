package implycluster

import (
	"strings"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/apply"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// groupNameProblem is a NameConflict problem when node groups of c would give two of its objects
// one name (specs.NameCollisions), nil otherwise. Admission refuses such names; this catches a
// cluster admitted before it did, whose objects would otherwise overwrite each other on every
// reconcile.
func groupNameProblem(c *implyv1alpha1.ImplyCluster) *apply.Problem {
	groups := make([]string, 0, len(c.Spec.NodeGroups))
	for _, g := range c.Spec.NodeGroups {
		groups = append(groups, g.Name)
	}
	collisions := specs.NameCollisions(c.Name, groups)
	if len(collisions) == 0 {
		return nil
	}
	msgs := make([]string, 0, len(collisions))
	for _, col := range collisions {
		msgs = append(msgs, col.Error())
	}
	return &apply.Problem{Reason: implyv1alpha1.ReasonNameConflict, Message: strings.Join(msgs, "; ")}
}
