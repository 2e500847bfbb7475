package podsecurity

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// restrictedNamespace creates a namespace that enforces, and warns about, Pod Security
// "restricted" at the latest version.
func restrictedNamespace(name string) string {
	GinkgoHelper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
		"pod-security.kubernetes.io/enforce":         "restricted",
		"pod-security.kubernetes.io/enforce-version": "latest",
		"pod-security.kubernetes.io/warn":            "restricted",
		"pod-security.kubernetes.io/warn-version":    "latest",
	}}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	return name
}

// storedCluster creates c through the CRD and returns it as the apiserver stores it: defaulted,
// and with every field the schema would prune gone.
func storedCluster(c *implyv1alpha1.ImplyCluster) *implyv1alpha1.ImplyCluster {
	GinkgoHelper()
	Expect(k8sClient.Create(ctx, c)).To(Succeed())
	stored := &implyv1alpha1.ImplyCluster{}
	Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(c), stored)).To(Succeed())
	return stored
}

// operand is a workload the operator builds and its pod template.
type operand struct {
	obj      client.Object
	template *corev1.PodTemplateSpec
}

// operands builds every workload of c as the controller does, with the agent token and the
// security policy mounted.
func operands(c *implyv1alpha1.ImplyCluster) []operand {
	var out []operand
	for i := range c.Spec.NodeGroups {
		sts := specs.BuildStatefulSet(c, &c.Spec.NodeGroups[i], specs.Revisions{Config: "c", TLS: "t", Auth: "a"})
		specs.WithAgentToken(&sts.Spec.Template.Spec, specs.AuthTokenSecretName("agent-token"), specs.AuthTokenKey)
		out = append(out, operand{sts, &sts.Spec.Template})
	}
	d := specs.BuildManagerDeployment(c, specs.Revisions{Config: "c", TLS: "t", Auth: "a"})
	specs.WithSecurityPolicy(d, c)
	specs.WithAgentToken(&d.Spec.Template.Spec, specs.AuthTokenSecretName("agent-token"), specs.AuthTokenKey)
	return append(out, operand{d, &d.Spec.Template})
}

// podOf is a Pod of the template, as its controller would create it.
func podOf(o operand) *corev1.Pod {
	tmpl := o.template.DeepCopy()
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: o.obj.GetName() + "-", Namespace: o.obj.GetNamespace(), Labels: tmpl.Labels, Annotations: tmpl.Annotations},
		Spec:       tmpl.Spec,
	}
}

// securityWarnings are the Pod Security warnings among messages.
func securityWarnings(messages []string) []string {
	var out []string
	for _, m := range messages {
		if strings.Contains(m, "PodSecurity") || strings.Contains(m, "violate") {
			out = append(out, m)
		}
	}
	return out
}

var _ = Describe("Pods the operator builds in a namespace enforcing restricted", func() {
	It("admits every StatefulSet, the Deployment and a Pod of each, TLS and auth on, with no warning", func() {
		ns := restrictedNamespace("restricted-default")
		c := storedCluster(testobj.ImplyCluster("c", ns, testobj.WithAuth("agent-token", "strict")))
		Expect(specs.TLSEnabled(c)).To(BeTrue(), "TLS is the CRD's default")
		built := operands(c)
		Expect(built).To(HaveLen(4))
		for _, o := range built {
			warned := warnings.during(func() {
				Expect(k8sClient.Create(ctx, o.obj)).To(Succeed(), "%T %s", o.obj, o.obj.GetName())
			})
			Expect(securityWarnings(warned)).To(BeEmpty(), "%T %s", o.obj, o.obj.GetName())
			Expect(k8sClient.Create(ctx, podOf(o), client.DryRunAll)).To(Succeed(), "a Pod of %s", o.obj.GetName())
		}
	})

	It("keeps a group's podSecurityContext, securityContext and automountServiceAccountToken through the CRD and admits the merged pod", func() {
		ns := restrictedNamespace("restricted-overrides")
		c := testobj.ImplyCluster("c", ns)
		c.Spec.NodeGroups[2].PodSecurity = implyv1alpha1.PodSecurity{
			PodSecurityContext: &corev1.PodSecurityContext{RunAsUser: ptr.To(int64(2000)), SupplementalGroups: []int64{3000}},
			SecurityContext: &corev1.SecurityContext{
				ReadOnlyRootFilesystem: ptr.To(true),
				Capabilities:           &corev1.Capabilities{Add: []corev1.Capability{"NET_BIND_SERVICE"}},
			},
			AutomountServiceAccountToken: ptr.To(true),
		}
		c.Spec.Manager.PodSecurity = implyv1alpha1.PodSecurity{PodSecurityContext: &corev1.PodSecurityContext{FSGroup: ptr.To(int64(4000))}}
		stored := storedCluster(c)
		Expect(stored.Spec.NodeGroups[2].PodSecurity).To(Equal(c.Spec.NodeGroups[2].PodSecurity), "the schema keeps every field")

		for _, o := range operands(stored) {
			Expect(k8sClient.Create(ctx, podOf(o), client.DryRunAll)).To(Succeed(), "a Pod of %s", o.obj.GetName())
		}
		data := specs.BuildStatefulSet(stored, &stored.Spec.NodeGroups[2], specs.Revisions{}).Spec.Template.Spec
		Expect(*data.SecurityContext.RunAsUser).To(Equal(int64(2000)))
		Expect(*data.SecurityContext.FSGroup).To(Equal(specs.DefaultPodUserID))
		Expect(*data.Containers[0].SecurityContext.ReadOnlyRootFilesystem).To(BeTrue())
		Expect(data.Containers[0].SecurityContext.Capabilities.Drop).To(ConsistOf(corev1.Capability("ALL")))
		Expect(*data.AutomountServiceAccountToken).To(BeTrue())
		manager := specs.BuildManagerDeployment(stored, specs.Revisions{}).Spec.Template.Spec
		Expect(*manager.SecurityContext.FSGroup).To(Equal(int64(4000)))
	})

	It("refuses the Pods of a group that asks for root and privilege escalation, naming what breaks restricted", func() {
		ns := restrictedNamespace("restricted-relaxed")
		c := testobj.ImplyCluster("c", ns)
		c.Spec.NodeGroups[0].PodSecurity = implyv1alpha1.PodSecurity{
			PodSecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(false), RunAsUser: ptr.To(int64(0))},
			SecurityContext:    &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(true)},
		}
		stored := storedCluster(c)
		for _, o := range operands(stored) {
			relaxed := o.obj.GetName() == specs.GroupName("c", stored.Spec.NodeGroups[0].Name)
			warned := warnings.during(func() { Expect(k8sClient.Create(ctx, o.obj)).To(Succeed()) })
			err := k8sClient.Create(ctx, podOf(o), client.DryRunAll)
			if !relaxed {
				Expect(securityWarnings(warned)).To(BeEmpty(), o.obj.GetName())
				Expect(err).NotTo(HaveOccurred(), o.obj.GetName())
				continue
			}
			Expect(strings.Join(securityWarnings(warned), "\n")).To(ContainSubstring("allowPrivilegeEscalation"), "the StatefulSet is admitted with a warning")
			Expect(apierrors.IsForbidden(err)).To(BeTrue(), fmt.Sprintf("the Pod is refused: %v", err))
			for _, want := range []string{"allowPrivilegeEscalation != false", "runAsNonRoot != true", "runAsUser=0"} {
				Expect(err.Error()).To(ContainSubstring(want))
			}
		}
	})
})
