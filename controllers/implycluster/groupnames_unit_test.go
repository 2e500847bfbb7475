package implycluster

import (
	"testing"

	. "github.com/onsi/gomega"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/test/testobj"
)

func TestGroupNameProblem(t *testing.T) {
	g := NewWithT(t)
	g.Expect(groupNameProblem(testobj.ImplyCluster("c", "ns"))).To(BeNil())
	c := testobj.ImplyCluster("c", "ns", testobj.WithGroup("data-headless", implyv1alpha1.NodeGroupData, 1),
		testobj.WithGroup("manager-int", implyv1alpha1.NodeGroupQuery, 1))
	p := groupNameProblem(c)
	g.Expect(p).NotTo(BeNil())
	g.Expect(p.Reason).To(Equal(implyv1alpha1.ReasonNameConflict))
	g.Expect(p.Message).To(ContainSubstring(`spec.nodeGroups[3].name: node group "data-headless" would name an object c-data-headless`))
	g.Expect(p.Message).To(ContainSubstring(`spec.nodeGroups[4].name: node group "manager-int" would name an object c-manager-int`))
}
