package rollout

import (
	"reflect"
	"testing"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

func TestOrder(t *testing.T) {
	g := func(name string, typ implyv1alpha1.NodeGroupType) implyv1alpha1.NodeGroupSpec {
		return implyv1alpha1.NodeGroupSpec{Name: name, Type: typ}
	}
	manager := Step{Name: ManagerStepName, Type: ManagerStepType}
	cases := []struct {
		name   string
		groups []implyv1alpha1.NodeGroupSpec
		want   []Step
	}{
		{"no groups: the manager only", nil, []Step{manager}},
		{"druid order", []implyv1alpha1.NodeGroupSpec{
			g("master", implyv1alpha1.NodeGroupMaster), g("query", implyv1alpha1.NodeGroupQuery), g("data", implyv1alpha1.NodeGroupData),
		}, []Step{{"data", implyv1alpha1.NodeGroupData}, {"query", implyv1alpha1.NodeGroupQuery}, {"master", implyv1alpha1.NodeGroupMaster}, manager}},
		{"spec order within a type", []implyv1alpha1.NodeGroupSpec{
			g("q1", implyv1alpha1.NodeGroupQuery), g("hot", implyv1alpha1.NodeGroupData), g("m", implyv1alpha1.NodeGroupMaster),
			g("cold", implyv1alpha1.NodeGroupData), g("q0", implyv1alpha1.NodeGroupQuery),
		}, []Step{{"hot", implyv1alpha1.NodeGroupData}, {"cold", implyv1alpha1.NodeGroupData}, {"q1", implyv1alpha1.NodeGroupQuery},
			{"q0", implyv1alpha1.NodeGroupQuery}, {"m", implyv1alpha1.NodeGroupMaster}, manager}},
		{"unknown type before the manager", []implyv1alpha1.NodeGroupSpec{
			g("odd", "broker"), g("m", implyv1alpha1.NodeGroupMaster), g("d", implyv1alpha1.NodeGroupData),
		}, []Step{{"d", implyv1alpha1.NodeGroupData}, {"m", implyv1alpha1.NodeGroupMaster}, {"odd", "broker"}, manager}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Order(tc.groups); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Order = %v, want %v", got, tc.want)
			}
		})
	}
}
