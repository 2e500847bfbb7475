package specs

import (
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// BuildPodDisruptionBudget builds the PodDisruptionBudget <cluster>-<group>: maxUnavailable from
// the group's spec, 1 by default, over the group's pods.
func BuildPodDisruptionBudget(c *implyv1alpha1.ImplyCluster, g *implyv1alpha1.NodeGroupSpec) *policyv1.PodDisruptionBudget {
	maxUnavailable := intstr.FromInt32(1)
	if g.MaxUnavailable != nil {
		maxUnavailable = *g.MaxUnavailable
	}
	return &policyv1.PodDisruptionBudget{
		TypeMeta: metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      GroupName(c.Name, g.Name),
			Namespace: c.Namespace,
			Labels:    groupLabels(c, g),
		},
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: &maxUnavailable,
			Selector:       &metav1.LabelSelector{MatchLabels: SelectorLabels(c.Name, g.Name)},
		},
	}
}
