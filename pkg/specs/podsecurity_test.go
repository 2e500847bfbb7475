package specs

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"k8s.io/utils/ptr"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// restrictedViolations evaluates a pod template with the checks of the Pod Security admission
// plugin at level "restricted", latest version, and returns one "reason: detail" per failed check.
func restrictedViolations(t *testing.T, tmpl *corev1.PodTemplateSpec) []string {
	t.Helper()
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	lv := api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}
	var out []string
	for _, r := range evaluator.EvaluatePod(lv, &tmpl.ObjectMeta, &tmpl.Spec) {
		if !r.Allowed {
			out = append(out, r.ForbiddenReason+": "+r.ForbiddenDetail)
		}
	}
	return out
}

// operandTemplates are the pod templates of every workload the operator builds for c, with
// what the controller adds (agent token, security policy), keyed by workload name.
func operandTemplates(c *implyv1alpha1.ImplyCluster) map[string]*corev1.PodTemplateSpec {
	out := map[string]*corev1.PodTemplateSpec{}
	for i := range c.Spec.NodeGroups {
		sts := BuildStatefulSet(c, &c.Spec.NodeGroups[i], Revisions{Config: "c", TLS: "t", Auth: "a"})
		WithAgentToken(&sts.Spec.Template.Spec, "agent-token-token", AuthTokenKey)
		out[sts.Name] = &sts.Spec.Template
	}
	d := BuildManagerDeployment(c, Revisions{Config: "c", TLS: "t", Auth: "a"})
	WithSecurityPolicy(d, c)
	WithAgentToken(&d.Spec.Template.Spec, "agent-token-token", AuthTokenKey)
	out[d.Name] = &d.Spec.Template
	return out
}

// allContainers are the init containers and containers of a pod.
func allContainers(pod *corev1.PodSpec) []corev1.Container {
	return append(append([]corev1.Container(nil), pod.InitContainers...), pod.Containers...)
}

// TestOperandsMeetRestricted holds every pod the operator builds, for plaintext, TLS, auth,
// mTLS and LDAP clusters, to the Pod Security Standard "restricted" as the admission plugin
// checks it, and checks the settings of every container and init container one by one.
func TestOperandsMeetRestricted(t *testing.T) {
	clusters := map[string]*implyv1alpha1.ImplyCluster{
		"minimal":   newCluster(),
		"plaintext": goldenPlaintextCluster(),
		"tls":       goldenTLSCluster(),
		"auth-tls":  goldenAuthTLSCluster(),
		"auth-ldap": goldenAuthLDAPCluster(),
	}
	clusters["auth-tls"].Spec.Security.SecurityPolicyRef = &implyv1alpha1.LocalObjectReference{Name: "strict"}
	for name, c := range clusters {
		for workload, tmpl := range operandTemplates(c) {
			t.Run(name+"/"+workload, func(t *testing.T) {
				g := NewWithT(t)
				g.Expect(restrictedViolations(t, tmpl)).To(BeEmpty())

				pod := &tmpl.Spec
				g.Expect(pod.AutomountServiceAccountToken).To(Equal(ptr.To(false)))
				g.Expect(pod.SecurityContext).To(Equal(DefaultPodSecurityContext()))
				for _, ctr := range allContainers(pod) {
					g.Expect(ctr.SecurityContext).NotTo(BeNil(), ctr.Name)
					g.Expect(ctr.SecurityContext.AllowPrivilegeEscalation).To(Equal(ptr.To(false)), ctr.Name)
					g.Expect(ctr.SecurityContext.Capabilities.Drop).To(ConsistOf(corev1.Capability("ALL")), ctr.Name)
					g.Expect(ctr.SecurityContext.Capabilities.Add).To(BeEmpty(), ctr.Name)
				}
				for _, v := range pod.Volumes {
					if v.Secret != nil {
						g.Expect(v.Secret.DefaultMode).To(Equal(ptr.To(int32(0o440))), "Secret volume %s", v.Name)
					}
				}
			})
		}
	}
}

// TestPodSecurityOverrides: what a node group or the manager sets replaces the default field by
// field; the rest of the default stays.
func TestPodSecurityOverrides(t *testing.T) {
	g := NewWithT(t)
	user := implyv1alpha1.PodSecurity{
		PodSecurityContext: &corev1.PodSecurityContext{
			RunAsUser:          ptr.To(int64(2000)),
			SupplementalGroups: []int64{3000},
			SeccompProfile:     &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr.To("imply.json")},
		},
		SecurityContext: &corev1.SecurityContext{
			Capabilities:           &corev1.Capabilities{Add: []corev1.Capability{"NET_BIND_SERVICE"}},
			ReadOnlyRootFilesystem: ptr.To(true),
		},
		AutomountServiceAccountToken: ptr.To(true),
	}
	c := newCluster(func(c *implyv1alpha1.ImplyCluster) {
		group(c, "data").PodSecurity = *user.DeepCopy()
		c.Spec.Manager.PodSecurity = *user.DeepCopy()
	})
	data := BuildStatefulSet(c, group(c, "data"), Revisions{}).Spec.Template
	manager := BuildManagerDeployment(c, Revisions{}).Spec.Template
	for _, tmpl := range []corev1.PodTemplateSpec{data, manager} {
		pod := tmpl.Spec
		g.Expect(pod.AutomountServiceAccountToken).To(Equal(ptr.To(true)))
		g.Expect(pod.SecurityContext).To(Equal(&corev1.PodSecurityContext{
			RunAsNonRoot:        ptr.To(true),
			RunAsUser:           ptr.To(int64(2000)),
			RunAsGroup:          ptr.To(DefaultPodUserID),
			FSGroup:             ptr.To(DefaultPodUserID),
			FSGroupChangePolicy: ptr.To(corev1.FSGroupChangeOnRootMismatch),
			SupplementalGroups:  []int64{3000},
			SeccompProfile:      &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr.To("imply.json")},
		}))
		g.Expect(pod.Containers[0].SecurityContext).To(Equal(&corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			Capabilities:             &corev1.Capabilities{Add: []corev1.Capability{"NET_BIND_SERVICE"}, Drop: []corev1.Capability{"ALL"}},
			ReadOnlyRootFilesystem:   ptr.To(true),
		}))
		// NET_BIND_SERVICE and a localhost profile are allowed by "restricted".
		g.Expect(restrictedViolations(t, &tmpl)).To(BeEmpty())
	}
	g.Expect(group(c, "data").PodSecurity).To(Equal(user), "building must not modify the spec")

	query := BuildStatefulSet(c, group(c, "query"), Revisions{}).Spec.Template.Spec
	g.Expect(query.SecurityContext).To(Equal(DefaultPodSecurityContext()), "another group keeps the defaults")
	g.Expect(query.AutomountServiceAccountToken).To(Equal(ptr.To(false)))

	// The built contexts do not share memory with the spec or with each other.
	built := BuildStatefulSet(c, group(c, "data"), Revisions{}).Spec.Template.Spec
	built.SecurityContext.SeccompProfile.LocalhostProfile = ptr.To("changed")
	built.Containers[0].SecurityContext.Capabilities.Add[0] = "CHANGED"
	g.Expect(group(c, "data").PodSecurity).To(Equal(user))
}

// TestPodSecurityRelaxed: a group that asks for root and privilege escalation (an image that
// needs them) gets them, and the restricted checks name what it gave up: the check fails when it
// must.
func TestPodSecurityRelaxed(t *testing.T) {
	g := NewWithT(t)
	c := newCluster(func(c *implyv1alpha1.ImplyCluster) {
		group(c, "master").PodSecurity = implyv1alpha1.PodSecurity{
			PodSecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(false), RunAsUser: ptr.To(int64(0))},
			SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: ptr.To(true),
				Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"NET_RAW"}},
			},
		}
	})
	tmpl := BuildStatefulSet(c, group(c, "master"), Revisions{}).Spec.Template
	g.Expect(*tmpl.Spec.SecurityContext.RunAsNonRoot).To(BeFalse())
	g.Expect(*tmpl.Spec.SecurityContext.RunAsUser).To(BeZero())
	g.Expect(tmpl.Spec.Containers[0].SecurityContext.Capabilities.Drop).To(Equal([]corev1.Capability{"NET_RAW"}), "lists replace")
	violations := strings.Join(restrictedViolations(t, &tmpl), "\n")
	for _, want := range []string{"allowPrivilegeEscalation != false", "unrestricted capabilities", "runAsNonRoot != true", "runAsUser=0"} {
		g.Expect(violations).To(ContainSubstring(want))
	}
}

// TestApplyPodSecurityInitContainers: init containers get the same securityContext as the
// containers, each its own copy.
func TestApplyPodSecurityInitContainers(t *testing.T) {
	g := NewWithT(t)
	pod := &corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "init"}},
		Containers:     []corev1.Container{{Name: "main"}, {Name: "sidecar"}},
	}
	applyPodSecurity(pod, &implyv1alpha1.PodSecurity{})
	g.Expect(restrictedViolations(t, &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{}, Spec: *pod})).To(BeEmpty())
	for _, ctr := range allContainers(pod) {
		g.Expect(ctr.SecurityContext).To(Equal(DefaultContainerSecurityContext()), ctr.Name)
	}
	pod.InitContainers[0].SecurityContext.Capabilities.Drop[0] = "NONE"
	g.Expect(pod.Containers[0].SecurityContext.Capabilities.Drop).To(Equal([]corev1.Capability{"ALL"}))
}
