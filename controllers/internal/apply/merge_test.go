package apply

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

func TestMergeOwnedSpecLeavesCertificateDefaultsAndRevertsHandEdits(t *testing.T) {
	c := testobj.ImplyCluster("c", "ns")
	c.Spec.Security = &implyv1alpha1.SecuritySpec{TLS: &implyv1alpha1.TLSSpec{
		Enabled: true,
		CA:      &implyv1alpha1.CASpec{IssuerRef: &implyv1alpha1.IssuerReference{Name: "corp-issuer", Kind: "ClusterIssuer"}},
		Certificate: implyv1alpha1.CertificateSpec{
			Validity: &metav1.Duration{Duration: 2160 * time.Hour}, RenewBefore: &metav1.Duration{Duration: 720 * time.Hour},
		},
	}}
	desired := specs.BuildCertificate(c, specs.LeafTargets(c)[0])
	live := desired.DeepCopy()
	live.Spec.RevisionHistoryLimit = ptr.To[int32](1)
	if changed, err := mergeOwnedSpec(desired, live); err != nil || changed {
		t.Fatalf("a default added by cert-manager counts as a change (%v, %v)", changed, err)
	}
	live.Spec.DNSNames = append(live.Spec.DNSNames, "evil.example.com")
	if changed, err := mergeOwnedSpec(desired, live); err != nil || !changed {
		t.Fatalf("a DNS name added by hand is not reverted (%v, %v)", changed, err)
	}
	if len(live.Spec.DNSNames) != len(desired.Spec.DNSNames) {
		t.Errorf("DNS names after the merge: %v, want %v", live.Spec.DNSNames, desired.Spec.DNSNames)
	}
}

func TestPodTemplateDerivesRevertsRemovedPodSettings(t *testing.T) {
	c := testobj.ImplyCluster("c", "ns")
	build := func(pod *implyv1alpha1.PodOverrides) corev1.PodTemplateSpec {
		c.Spec.NodeGroups[0].Pod = pod
		sts := specs.BuildStatefulSet(c, &c.Spec.NodeGroups[0], specs.Revisions{Config: "r"})
		specs.ApplyGroupPodOverrides(c, 0, sts)
		return sts.Spec.Template
	}
	full := &implyv1alpha1.PodOverrides{
		ServiceAccountName: "sa", PriorityClassName: "high",
		Labels: map[string]string{"team": "a"}, Annotations: map[string]string{"note": "x"},
		TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: corev1.ScheduleAnyway}},
	}
	live := build(full)
	if !PodTemplateDerives(build(full), live) {
		t.Fatal("the same settings must derive")
	}
	withOthers := live.DeepCopy()
	withOthers.Annotations["kubectl.kubernetes.io/restartedAt"] = "now"
	if !PodTemplateDerives(build(full), *withOthers) {
		t.Error("an annotation another tool adds must be left alone")
	}
	for name, removed := range map[string]func(*implyv1alpha1.PodOverrides){
		"serviceAccountName":        func(o *implyv1alpha1.PodOverrides) { o.ServiceAccountName = "" },
		"priorityClassName":         func(o *implyv1alpha1.PodOverrides) { o.PriorityClassName = "" },
		"a label":                   func(o *implyv1alpha1.PodOverrides) { o.Labels = nil },
		"an annotation":             func(o *implyv1alpha1.PodOverrides) { o.Annotations = map[string]string{} },
		"topologySpreadConstraints": func(o *implyv1alpha1.PodOverrides) { o.TopologySpreadConstraints = nil },
		"everything":                func(o *implyv1alpha1.PodOverrides) { *o = implyv1alpha1.PodOverrides{} },
	} {
		o := full.DeepCopy()
		removed(o)
		if PodTemplateDerives(build(o), live) {
			t.Errorf("removing %s from the spec leaves the live template as it is", name)
		}
	}
}

func TestMergeServiceKeepsAllocatedNodePorts(t *testing.T) {
	c := testobj.ImplyCluster("c", "ns")
	desired := specs.BuildManagerService(c)
	specs.ApplyServiceExposure(desired, &implyv1alpha1.ServiceExposure{Type: corev1.ServiceTypeLoadBalancer})
	live := desired.DeepCopy()
	live.Spec.Ports[0].NodePort = 31234
	if mergeService(desired, live) {
		t.Fatal("a node port the apiserver allocated counts as a change")
	}
	if desired.Spec.Ports[0].NodePort != 0 {
		t.Fatal("the desired object was modified")
	}
	clusterIP := specs.BuildManagerService(c)
	if !mergeService(clusterIP, live) || live.Spec.Ports[0].NodePort != 0 || live.Spec.Type != corev1.ServiceTypeClusterIP {
		t.Fatalf("back to ClusterIP: type %s, node port %d", live.Spec.Type, live.Spec.Ports[0].NodePort)
	}
}
