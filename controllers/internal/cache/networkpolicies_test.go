package cache

import (
	"maps"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// networkPolicy is an operator NetworkPolicy opening port.
func networkPolicy(port int32) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "c-data", Namespace: "ns", Annotations: map[string]string{"note": "kept"}},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "c", "role": "data"}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{
				{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(port))},
			}}},
		},
	}
}

func TestDigestNetworkPolicySpecsKeepsOnlyTheDigest(t *testing.T) {
	np := networkPolicy(8083)
	annotationsBefore := np.Annotations
	want, err := SpecDigest(np.Spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := digestNetworkPolicySpecs(np); err != nil {
		t.Fatal(err)
	}
	if len(np.Spec.Ingress) != 0 || len(np.Spec.PodSelector.MatchLabels) != 0 || !SpecDigested(np) {
		t.Fatalf("the spec is still cached (digested %v): %+v", SpecDigested(np), np.Spec)
	}
	if got, _ := heldDigest(np); got != want {
		t.Errorf("digest %q, want %q", got, want)
	}
	if !sameMap(np.Annotations, annotationsBefore) || len(np.Annotations) != 1 {
		t.Errorf("the annotations were copied or changed: %v", np.Annotations)
	}
	// Idempotent: a second pass (an informer's relist) keeps the digest of the real spec.
	if _, err := digestNetworkPolicySpecs(np); err != nil {
		t.Fatal(err)
	}
	if got, _ := heldDigest(np); got != want {
		t.Errorf("a second pass changed the digest to %q", got)
	}
	if SpecDigested(networkPolicy(8083)) {
		t.Error("a spec with one real policy type counts as a digest")
	}
}

func TestRestoreDigestedSpecOnlyFromTheSameSpec(t *testing.T) {
	cached := networkPolicy(8083)
	if _, err := digestNetworkPolicySpecs(cached); err != nil {
		t.Fatal(err)
	}
	other := cached.DeepCopy()
	if restored, err := RestoreDigestedSpec(networkPolicy(8084), other); err != nil || restored {
		t.Fatalf("restored from another spec (%v)", err)
	}
	if !SpecDigested(other) || len(other.Spec.Ingress) != 0 {
		t.Errorf("an unrestored object lost its digest or gained a spec: %+v", other)
	}
	desired := networkPolicy(8083)
	if restored, err := RestoreDigestedSpec(desired, cached); err != nil || !restored {
		t.Fatalf("not restored from the same spec (%v)", err)
	}
	if SpecDigested(cached) || !maps.Equal(cached.Annotations, map[string]string{"note": "kept"}) {
		t.Errorf("annotations after the restore: %v", cached.Annotations)
	}
	if len(cached.Spec.PolicyTypes) != 1 || cached.Spec.PolicyTypes[0] != networkingv1.PolicyTypeIngress {
		t.Errorf("policy types after the restore: %v", cached.Spec.PolicyTypes)
	}
	if cached.Spec.Ingress[0].Ports[0].Port.IntVal != 8083 {
		t.Errorf("restored spec: %+v", cached.Spec)
	}
	desired.Spec.Ingress[0].Ports[0].Port = ptr.To(intstr.FromInt32(9))
	if cached.Spec.Ingress[0].Ports[0].Port.IntVal != 8083 {
		t.Error("the restored spec shares memory with the desired one")
	}
}
