package rollout

import (
	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

const (
	// ManagerStepName is the name of the manager's step, the last of every rollout. No node
	// group can take it: the CRD reserves "manager".
	ManagerStepName = "manager"
	// ManagerStepType is the Type of the manager's step. It is not a NodeGroupType the API
	// accepts; it only marks the manager's Deployment among the steps.
	ManagerStepType implyv1alpha1.NodeGroupType = "manager"
)

// Step is one unit of a rollout: a node group's StatefulSet or the manager's Deployment.
type Step struct {
	// Name is the node group's name, or ManagerStepName.
	Name string
	// Type is the node group's type, or ManagerStepType.
	Type implyv1alpha1.NodeGroupType
}

// typeRank is the position of a group type in Druid's upgrade order.
func typeRank(t implyv1alpha1.NodeGroupType) int {
	switch t {
	case implyv1alpha1.NodeGroupData:
		return 0
	case implyv1alpha1.NodeGroupQuery:
		return 1
	case implyv1alpha1.NodeGroupMaster:
		return 2
	default:
		return 3
	}
}

// Order returns the steps of a rollout in Druid's upgrade order: the data groups, then the query
// groups, then the master groups, each in spec order, then the manager. A group of a type the API
// does not know (the CRD rejects them) rolls after the masters, before the manager, so no group is
// ever left out.
func Order(groups []implyv1alpha1.NodeGroupSpec) []Step {
	steps := make([]Step, 0, len(groups)+1)
	for rank := 0; rank <= 3; rank++ {
		for _, g := range groups {
			if typeRank(g.Type) == rank {
				steps = append(steps, Step{Name: g.Name, Type: g.Type})
			}
		}
	}
	return append(steps, Step{Name: ManagerStepName, Type: ManagerStepType})
}
