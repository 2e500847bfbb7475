package specs

import (
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// fullOverrides sets every pod setting, none colliding with the operator's.
func fullOverrides() *implyv1alpha1.PodOverrides {
	return &implyv1alpha1.PodOverrides{
		ServiceAccountName: "imply-irsa",
		Labels:             map[string]string{"team": "analytics", "azure.workload.identity/use": "true"},
		Annotations:        map[string]string{"sidecar.istio.io/inject": "false"},
		Env:                []corev1.EnvVar{{Name: "GOOGLE_APPLICATION_CREDENTIALS", Value: "/etc/gcs/key.json"}},
		EnvFrom:            []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "extra-env"}}}},
		Volumes:            []implyv1alpha1.PodVolume{{Volume: corev1.Volume{Name: "gcs-key", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "gcs-key"}}}}},
		VolumeMounts:       []corev1.VolumeMount{{Name: "gcs-key", MountPath: "/etc/gcs", ReadOnly: true}},
		InitContainers: []implyv1alpha1.PodContainer{{Container: corev1.Container{
			Name: "sysctl", Image: "busybox",
			SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true), RunAsUser: ptr.To(int64(0)), RunAsNonRoot: ptr.To(false)},
		}}},
		Sidecars:                      []implyv1alpha1.PodContainer{{Container: corev1.Container{Name: "log-shipper", Image: "fluent-bit"}}},
		PriorityClassName:             "imply-critical",
		TopologySpreadConstraints:     []corev1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: corev1.DoNotSchedule}},
		TerminationGracePeriodSeconds: ptr.To(int64(7200)),
	}
}

func TestGroupPodOverridesReachThePodTemplate(t *testing.T) {
	g := NewWithT(t)
	c := newCluster()
	data := group(c, "data")
	data.Pod = fullOverrides()
	sts := BuildStatefulSet(c, data, Revisions{Config: "r1"})
	before := sts.DeepCopy()

	g.Expect(ApplyGroupPodOverrides(c, 2, sts)).To(BeEmpty())
	pod := sts.Spec.Template.Spec
	g.Expect(pod.ServiceAccountName).To(Equal("imply-irsa"))
	g.Expect(pod.PriorityClassName).To(Equal("imply-critical"))
	g.Expect(*pod.TerminationGracePeriodSeconds).To(Equal(int64(7200)))
	g.Expect(pod.TopologySpreadConstraints).To(HaveLen(1))
	g.Expect(pod.TopologySpreadConstraints[0].LabelSelector.MatchLabels).To(Equal(SelectorLabels("c", "data")),
		"a constraint without selector spreads the group's own pods")
	g.Expect(sts.Spec.Template.Labels).To(HaveKeyWithValue("team", "analytics"))
	g.Expect(sts.Spec.Template.Labels).To(HaveKeyWithValue(LabelInstance, "c"))
	g.Expect(sts.Spec.Template.Annotations).To(HaveKeyWithValue("sidecar.istio.io/inject", "false"))
	g.Expect(sts.Spec.Template.Annotations).To(HaveKeyWithValue(AnnotationConfigRevision, "r1"))

	g.Expect(pod.InitContainers).To(HaveLen(1))
	initSC := pod.InitContainers[0].SecurityContext
	g.Expect(*initSC.Privileged).To(BeTrue(), "the container's own securityContext wins")
	g.Expect(initSC.Capabilities.Drop).To(ConsistOf(corev1.Capability("ALL")), "over the pods' defaults")
	g.Expect(pod.Containers).To(HaveLen(2))
	g.Expect(pod.Containers[1].Name).To(Equal("log-shipper"))
	g.Expect(*pod.Containers[1].SecurityContext.AllowPrivilegeEscalation).To(BeFalse())

	agent := pod.Containers[0]
	g.Expect(agent.Name).To(Equal(AgentContainerName))
	g.Expect(agent.Env[:len(before.Spec.Template.Spec.Containers[0].Env)]).To(Equal(before.Spec.Template.Spec.Containers[0].Env),
		"the operator's env comes first, unchanged")
	g.Expect(agent.Env[len(agent.Env)-1].Name).To(Equal("GOOGLE_APPLICATION_CREDENTIALS"))
	g.Expect(agent.EnvFrom[len(agent.EnvFrom)-1].ConfigMapRef.Name).To(Equal("extra-env"))
	g.Expect(agent.VolumeMounts[:len(before.Spec.Template.Spec.Containers[0].VolumeMounts)]).
		To(Equal(before.Spec.Template.Spec.Containers[0].VolumeMounts))
	g.Expect(agent.VolumeMounts[len(agent.VolumeMounts)-1].MountPath).To(Equal("/etc/gcs"))
	g.Expect(pod.Volumes[len(pod.Volumes)-1].Name).To(Equal("gcs-key"))
	g.Expect(agent.ReadinessProbe).To(Equal(before.Spec.Template.Spec.Containers[0].ReadinessProbe))
	g.Expect(pod.SecurityContext).To(Equal(before.Spec.Template.Spec.SecurityContext))
}

func TestPodOverridesNeverReplaceWhatTheOperatorOwns(t *testing.T) {
	for _, tc := range []struct {
		name   string
		pod    implyv1alpha1.PodOverrides
		refuse string
	}{
		{"an owned env variable", implyv1alpha1.PodOverrides{Env: []corev1.EnvVar{{Name: EnvManagerHost, Value: "evil"}}},
			"spec.nodeGroups[2].pod.env[0]: the operator sets IMPLY_MANAGER_HOST"},
		{"the agent token variable", implyv1alpha1.PodOverrides{Env: []corev1.EnvVar{{Name: EnvAgentToken, Value: "x"}}},
			"env[0]: the operator sets IMPLY_MANAGER_AUTH_TOKEN"},
		{"a druid_ variable of an owned property", implyv1alpha1.PodOverrides{Env: []corev1.EnvVar{{Name: "druid_auth_authenticatorChain", Value: "[]"}}},
			"druid_auth_authenticatorChain would set a Druid property the operator owns"},
		{"an owned volume name", implyv1alpha1.PodOverrides{Volumes: []implyv1alpha1.PodVolume{{Volume: corev1.Volume{Name: "tls", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}}},
			`volumes[0]: the operator uses the volume name "tls"`},
		{"the claim template's name", implyv1alpha1.PodOverrides{Volumes: []implyv1alpha1.PodVolume{{Volume: corev1.Volume{Name: DataVolumeName, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}}},
			`the operator uses the volume name "data"`},
		{"a mount of an owned volume", implyv1alpha1.PodOverrides{VolumeMounts: []corev1.VolumeMount{{Name: "tls", MountPath: "/tmp/keys"}}},
			`volumeMounts[0]: the volume "tls" is the operator's`},
		{"a mount over the TLS directory", implyv1alpha1.PodOverrides{VolumeMounts: []corev1.VolumeMount{{Name: "mine", MountPath: "/etc/imply/tls"}}},
			"/etc/imply/tls clashes with /etc/imply/tls"},
		{"a mount inside an owned path", implyv1alpha1.PodOverrides{VolumeMounts: []corev1.VolumeMount{{Name: "mine", MountPath: "/etc/imply/auth/x/"}}},
			"clashes with /etc/imply/auth"},
		{"a mount above owned paths", implyv1alpha1.PodOverrides{VolumeMounts: []corev1.VolumeMount{{Name: "mine", MountPath: "/etc/imply"}}},
			"/etc/imply clashes with"},
		{"an owned container name", implyv1alpha1.PodOverrides{Sidecars: []implyv1alpha1.PodContainer{{Container: corev1.Container{Name: AgentContainerName, Image: "x"}}}},
			`sidecars[0]: the operator uses the container name "agent"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			c := newCluster(withAuthToken("agent-token"))
			data := group(c, "data")
			data.Pod = tc.pod.DeepCopy()
			refused := PodOverrideConflicts(c)
			g.Expect(refused).To(HaveLen(1))
			g.Expect(refused[0]).To(HavePrefix("spec.nodeGroups[2].pod."))
			g.Expect(refused[0]).To(ContainSubstring(tc.refuse))

			sts := BuildStatefulSet(c, data, Revisions{})
			WithAgentToken(&sts.Spec.Template.Spec, "agent-token-token", AgentTokenFile)
			owned := sts.DeepCopy()
			ApplyGroupPodOverrides(c, 2, sts)
			g.Expect(sts.Spec.Template.Spec.Containers[0].Env).To(Equal(owned.Spec.Template.Spec.Containers[0].Env), "owned env unchanged")
			g.Expect(sts.Spec.Template.Spec.Containers[0].VolumeMounts).To(Equal(owned.Spec.Template.Spec.Containers[0].VolumeMounts), "owned mounts unchanged")
			g.Expect(sts.Spec.Template.Spec.Volumes).To(Equal(owned.Spec.Template.Spec.Volumes), "owned volumes unchanged")
			g.Expect(sts.Spec.Template.Spec.Containers).To(HaveLen(1))
		})
	}
}

func TestManagerPodOverrides(t *testing.T) {
	g := NewWithT(t)
	c := newCluster(withAuthToken("agent-token"))
	c.Spec.Manager.Pod = &implyv1alpha1.PodOverrides{
		ServiceAccountName: "manager-sa",
		Env:                []corev1.EnvVar{{Name: EnvManagerLicenseKey, Value: "stolen"}, {Name: "JAVA_TOOL_OPTIONS", Value: "-Xss1m"}},
		VolumeMounts:       []corev1.VolumeMount{{Name: "mine", MountPath: SecurityPolicyMountPath + "/x"}},
	}
	c.Spec.Security.SecurityPolicyRef = &implyv1alpha1.LocalObjectReference{Name: "strict"}
	c.Spec.License = &implyv1alpha1.LicenseSpec{SecretRef: implyv1alpha1.SecretKeySelector{Name: "lic"}}
	refused := PodOverrideConflicts(c)
	g.Expect(refused).To(ConsistOf(
		"spec.manager.pod.env[0]: the operator sets IMPLY_MANAGER_LICENSE_KEY",
		ContainSubstring("spec.manager.pod.volumeMounts[0]: "+SecurityPolicyMountPath+"/x clashes with"),
	))

	d := BuildManagerDeployment(c, Revisions{})
	ApplyManagerPodOverrides(c, d)
	g.Expect(d.Spec.Template.Spec.ServiceAccountName).To(Equal("manager-sa"))
	g.Expect(*d.Spec.Template.Spec.TerminationGracePeriodSeconds).To(Equal(DefaultGracePeriodSeconds))
	env := envByName(d.Spec.Template.Spec.Containers[0].Env)
	g.Expect(env).To(HaveKeyWithValue("JAVA_TOOL_OPTIONS", corev1.EnvVar{Name: "JAVA_TOOL_OPTIONS", Value: "-Xss1m"}))
	g.Expect(env[EnvManagerLicenseKey].ValueFrom.SecretKeyRef.Name).To(Equal("lic"))
}

func TestPodOverridesLabelsKeepTheOperatorsValues(t *testing.T) {
	g := NewWithT(t)
	c := newCluster()
	// Admission refuses these keys; the builder keeps the operator's values all the same.
	group(c, "query").Pod = &implyv1alpha1.PodOverrides{
		Labels:      map[string]string{LabelInstance: "other", "extra": "1"},
		Annotations: map[string]string{AnnotationConfigRevision: "forged"},
	}
	sts := BuildStatefulSet(c, group(c, "query"), Revisions{Config: "real"})
	refused := ApplyGroupPodOverrides(c, 1, sts)
	g.Expect(refused).To(ConsistOf(
		"spec.nodeGroups[1].pod.labels["+LabelInstance+"]: the operator sets this key",
		"spec.nodeGroups[1].pod.annotations["+AnnotationConfigRevision+"]: the operator sets this key",
	))
	g.Expect(sts.Spec.Template.Labels).To(HaveKeyWithValue(LabelInstance, "c"))
	g.Expect(sts.Spec.Template.Labels).To(HaveKeyWithValue("extra", "1"))
	g.Expect(sts.Spec.Template.Annotations).To(HaveKeyWithValue(AnnotationConfigRevision, "real"))
}

func TestDefaultGracePeriods(t *testing.T) {
	g := NewWithT(t)
	c := newCluster()
	for name, want := range map[string]int64{"master": 60, "query": 60, "data": 86400} {
		sts := BuildStatefulSet(c, group(c, name), Revisions{})
		g.Expect(*sts.Spec.Template.Spec.TerminationGracePeriodSeconds).To(Equal(want), name)
	}
	g.Expect(*BuildManagerDeployment(c, Revisions{}).Spec.Template.Spec.TerminationGracePeriodSeconds).To(Equal(int64(60)))
}

func TestPathClash(t *testing.T) {
	g := NewWithT(t)
	owned := []string{"/etc/imply/tls", "/var/druid"}
	for p, clash := range map[string]bool{
		"/etc/imply/tls": true, "/etc/imply/tls/": true, "/etc/imply/tls/x": true, "/etc/imply": true, "/": true,
		"/etc/imply/tlsx": false, "/var/druid2": false, "/etc/gcs": false,
	} {
		_, got := pathClash(p, owned)
		g.Expect(got).To(Equal(clash), p)
	}
}

func withAuthToken(name string) clusterOption {
	return func(c *implyv1alpha1.ImplyCluster) {
		c.Spec.Security.Auth = &implyv1alpha1.AuthSpec{TokenRef: &implyv1alpha1.LocalObjectReference{Name: name}}
	}
}
