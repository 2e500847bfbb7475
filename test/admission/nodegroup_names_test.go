package admission

import (
	"fmt"
	"slices"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// groupNameCases are node-group lists built from the naming scheme: master, query and data
// plus each reserved name, each of them with a group suffix, and near misses; and pairs of a
// name and the same name with each group suffix.
func groupNameCases() [][]string {
	base := []string{"master", "query", "data"}
	candidates := []string{"data2", "hot", "headless", "tls", "config", "manager2", "ca2", "cas", "metadatas"}
	for _, r := range specs.ReservedNodeGroupNames() {
		candidates = append(candidates, r)
		for _, s := range specs.GroupNameSuffixes() {
			candidates = append(candidates, r+s)
		}
	}
	var cases [][]string
	for _, c := range candidates {
		if len(c) <= 20 && !slices.Contains(base, c) {
			cases = append(cases, append(slices.Clone(base), c))
		}
	}
	for _, first := range []string{"data", "hot", "q"} {
		for _, s := range specs.GroupNameSuffixes() {
			cases = append(cases, append(slices.Clone(base), first+"x", first+"x"+s), []string{"master", "query", first + s, first})
		}
	}
	return cases
}

var _ = Describe("Node group names", func() {
	It("are refused exactly when specs.NameCollisions finds that two objects of the cluster would share a name", func() {
		ns := newNamespace()
		refused := 0
		for _, groups := range groupNameCases() {
			c := testobj.ImplyCluster(fmt.Sprintf("c%d", refused), ns)
			c.Spec.NodeGroups = nil
			for _, g := range groups {
				t := implyv1alpha1.NodeGroupData
				switch g {
				case "master":
					t = implyv1alpha1.NodeGroupMaster
				case "query":
					t = implyv1alpha1.NodeGroupQuery
				}
				c.Spec.NodeGroups = append(c.Spec.NodeGroups, implyv1alpha1.NodeGroupSpec{Name: g, Type: t})
			}
			want := specs.NameCollisions(c.Name, groups)
			err := k8sClient.Create(ctx, c, client.DryRunAll)
			if len(want) == 0 {
				Expect(err).NotTo(HaveOccurred(), "%v has no colliding names and must be admitted", groups)
				continue
			}
			refused++
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v makes %v twice and must be refused, got %v", groups, want[0].Name, err)
			if want[0].OtherGroup == "" {
				field := fmt.Sprintf("spec.nodeGroups[%d].name", want[0].Index)
				Expect(err.Error()).To(ContainSubstring(field+": Invalid value"), "%v: the error must be at %s", groups, field)
				continue
			}
			// CEL's cost budget allows no index in the message of a rule across the list.
			Expect(err.Error()).To(ContainSubstring("spec.nodeGroups: Invalid value"), groups)
			Expect(err.Error()).To(ContainSubstring("(spec.nodeGroups[].name)"), groups)
		}
		Expect(refused).To(BeNumerically(">=", 40))
	})
})
