package specs

import (
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func TestPodDisruptionBudget(t *testing.T) {
	for _, tc := range []struct {
		name string
		max  *intstr.IntOrString
		want intstr.IntOrString
	}{
		{"default 1", nil, intstr.FromInt32(1)},
		{"integer", ptr.To(intstr.FromInt32(2)), intstr.FromInt32(2)},
		{"percent", ptr.To(intstr.FromString("34%")), intstr.FromString("34%")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			c := newCluster()
			grp := group(c, "data")
			grp.MaxUnavailable = tc.max
			pdb := BuildPodDisruptionBudget(c, grp)
			g.Expect(pdb.Name).To(Equal("c-data"))
			g.Expect(pdb.Namespace).To(Equal("ns"))
			g.Expect(pdb.Labels).To(Equal(Labels("c", "data", "data")))
			g.Expect(*pdb.Spec.MaxUnavailable).To(Equal(tc.want))
			g.Expect(pdb.Spec.MinAvailable).To(BeNil())
			g.Expect(pdb.Spec.Selector.MatchLabels).To(Equal(SelectorLabels("c", "data")))
			if tc.max != nil {
				pdb.Spec.MaxUnavailable.StrVal = "mutated"
				g.Expect(tc.max.StrVal).NotTo(Equal("mutated"), "the PDB must not alias the spec")
			}
		})
	}
}
