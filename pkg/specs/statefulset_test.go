package specs

import (
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

func envByName(env []corev1.EnvVar) map[string]corev1.EnvVar {
	m := map[string]corev1.EnvVar{}
	for _, e := range env {
		m[e.Name] = e
	}
	return m
}

func TestStatefulSetPerGroupType(t *testing.T) {
	for _, tc := range []struct {
		group     string
		tls       bool
		ports     map[string]int32
		probePort int32
		grace     int64
		readyPath string
	}{
		{"master", true, map[string]int32{"coordinator": 8281, "overlord": 8290}, 8281, 60, "/status/health"},
		{"master", false, map[string]int32{"coordinator": 8081, "overlord": 8090}, 8081, 60, "/status/health"},
		{"query", true, map[string]int32{"broker": 8282, "router": 9088, "pivot": 9095}, 8282, 60, "/druid/broker/v1/readiness"},
		{"query", false, map[string]int32{"broker": 8082, "router": 8888, "pivot": 9095}, 8082, 60, "/druid/broker/v1/readiness"},
		{"data", true, map[string]int32{"historical": 8283, "middlemanager": 8291}, 8283, 86400, "/druid/historical/v1/readiness"},
		{"data", false, map[string]int32{"historical": 8083, "middlemanager": 8091}, 8083, 86400, "/druid/historical/v1/readiness"},
	} {
		t.Run(tc.group+map[bool]string{true: "/tls", false: "/plaintext"}[tc.tls], func(t *testing.T) {
			g := NewWithT(t)
			c := newCluster(withTLS(tc.tls))
			grp := group(c, tc.group)
			sts := BuildStatefulSet(c, grp, Revisions{})

			g.Expect(sts.Name).To(Equal("c-" + tc.group))
			g.Expect(sts.Namespace).To(Equal("ns"))
			g.Expect(sts.OwnerReferences).To(BeEmpty())
			g.Expect(sts.Labels).To(Equal(Labels("c", string(grp.Type), tc.group)))
			g.Expect(sts.Spec.Selector.MatchLabels).To(Equal(SelectorLabels("c", tc.group)))
			g.Expect(sts.Spec.Template.Labels).To(Equal(Labels("c", string(grp.Type), tc.group)))
			g.Expect(sts.Spec.Template.Annotations).To(BeNil())
			g.Expect(sts.Spec.ServiceName).To(Equal("c-" + tc.group + "-headless"))
			g.Expect(*sts.Spec.Replicas).To(Equal(int32(1)))
			g.Expect(sts.Spec.PodManagementPolicy).To(Equal(appsv1.ParallelPodManagement))
			g.Expect(sts.Spec.UpdateStrategy.Type).To(Equal(appsv1.RollingUpdateStatefulSetStrategyType))

			pod := sts.Spec.Template.Spec
			g.Expect(*pod.TerminationGracePeriodSeconds).To(Equal(tc.grace))
			g.Expect(pod.Containers).To(HaveLen(1))
			ctr := pod.Containers[0]
			g.Expect(ctr.Name).To(Equal("agent"))
			g.Expect(ctr.Image).To(Equal("imply/agent:"+DefaultAgentTag), "the agent has its own tag, not the release")

			ports := map[string]int32{}
			for _, p := range ctr.Ports {
				ports[p.Name] = p.ContainerPort
				g.Expect(p.Protocol).To(Equal(corev1.ProtocolTCP))
			}
			g.Expect(ports).To(Equal(tc.ports))
			scheme := corev1.URISchemeHTTP
			if tc.tls {
				scheme = corev1.URISchemeHTTPS
			}
			g.Expect(ctr.ReadinessProbe.HTTPGet).To(Equal(&corev1.HTTPGetAction{Path: tc.readyPath, Port: intstr.FromInt32(tc.probePort), Scheme: scheme}))
			g.Expect(ctr.StartupProbe.HTTPGet).To(Equal(&corev1.HTTPGetAction{Path: "/status/health", Port: intstr.FromInt32(tc.probePort), Scheme: scheme}))
			g.Expect(ctr.LivenessProbe.HTTPGet).To(Equal(&corev1.HTTPGetAction{Path: "/status/health", Port: intstr.FromInt32(tc.probePort), Scheme: scheme}))

			env := envByName(ctr.Env)
			g.Expect(env["IMPLY_MANAGER_HOST"].Value).To(Equal("c-manager-int"))
			g.Expect(env["IMPLY_MANAGER_AGENT_CLUSTER"].Value).To(Equal("c"))
			g.Expect(env["IMPLY_MANAGER_AGENT_NODE_TYPE"].Value).To(Equal(tc.group))

			mounts := map[string]string{}
			for _, m := range ctr.VolumeMounts {
				mounts[m.Name] = m.MountPath
			}
			wantMounts := map[string]string{
				"common-config": "/etc/imply/conf/druid/_common",
				"group-config":  "/etc/imply/conf/druid/" + tc.group,
				"data":          "/var/druid",
			}
			if tc.tls {
				wantMounts["tls"] = "/etc/imply/tls"
				// The metadata store's TLS is on by default, verified against the cluster's CA.
				wantMounts["metadata-tls"] = "/etc/imply/metadata-tls"
				// The agents get the CA certificate only, from the bundle.
				wantMounts["ca"] = "/etc/imply/ca"
				g.Expect(findVolume(pod.Volumes, "ca").ConfigMap.Name).To(Equal("c-ca-bundle"))
				g.Expect(findVolume(pod.Volumes, "ca").ConfigMap.Items).To(Equal([]corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}))
				g.Expect(env["IMPLY_TLS_KEYSTORE_PASSWORD"].Value).To(BeEmpty())
				g.Expect(env["IMPLY_TLS_KEYSTORE_PASSWORD"].ValueFrom.SecretKeyRef.Name).To(Equal("c-" + tc.group + "-tls"))
				g.Expect(env["IMPLY_TLS_KEYSTORE_PASSWORD"].ValueFrom.SecretKeyRef.Key).To(Equal("keystore-password"))
				g.Expect(findVolume(pod.Volumes, "tls").Secret.SecretName).To(Equal("c-" + tc.group + "-tls"))
				g.Expect(findVolume(pod.Volumes, "metadata-tls").Secret.SecretName).To(Equal("c-metadata-tls"))
				g.Expect(env["IMPLY_METADATA_TLS_PASSWORD"].ValueFrom.SecretKeyRef.Name).To(Equal("c-metadata-tls"))
			} else {
				g.Expect(env).NotTo(HaveKey("IMPLY_TLS_KEYSTORE_PASSWORD"))
			}
			g.Expect(mounts).To(Equal(wantMounts))
			g.Expect(pod.Volumes[0].ConfigMap.Name).To(Equal("c-common-config"))
			g.Expect(pod.Volumes[1].ConfigMap.Name).To(Equal("c-" + tc.group + "-config"))
		})
	}
}

func TestStatefulSetMetadataCredentialsNeverInline(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		ref                    implyv1alpha1.CredentialsSecretReference
		wantUserKey, wantPwKey string
	}{
		{"default keys", implyv1alpha1.CredentialsSecretReference{Name: "db-creds"}, "username", "password"},
		{"custom keys", implyv1alpha1.CredentialsSecretReference{Name: "db-creds", UsernameKey: "u", PasswordKey: "p"}, "u", "p"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			c := newCluster()
			c.Spec.Druid.MetadataStore.CredentialsSecretRef = tc.ref
			env := envByName(BuildStatefulSet(c, group(c, "master"), Revisions{}).Spec.Template.Spec.Containers[0].Env)
			for name, key := range map[string]string{
				"druid_metadata_storage_connector_user": tc.wantUserKey,
				"DRUID_METADATA_STORAGE_PASSWORD":       tc.wantPwKey,
			} {
				g.Expect(env).To(HaveKey(name))
				g.Expect(env[name].Value).To(BeEmpty())
				g.Expect(env[name].ValueFrom.SecretKeyRef.Name).To(Equal("db-creds"))
				g.Expect(env[name].ValueFrom.SecretKeyRef.Key).To(Equal(key))
			}
		})
	}
}

func TestStatefulSetDeepStorageCredentials(t *testing.T) {
	g := NewWithT(t)
	c := newCluster()
	g.Expect(BuildStatefulSet(c, group(c, "data"), Revisions{}).Spec.Template.Spec.Containers[0].EnvFrom).To(BeEmpty())
	c.Spec.Druid.DeepStorage.CredentialsSecretRef = &implyv1alpha1.LocalObjectReference{Name: "s3"}
	envFrom := BuildStatefulSet(c, group(c, "data"), Revisions{}).Spec.Template.Spec.Containers[0].EnvFrom
	g.Expect(envFrom).To(HaveLen(1))
	g.Expect(envFrom[0].SecretRef.Name).To(Equal("s3"))
}

func TestStatefulSetStorage(t *testing.T) {
	g := NewWithT(t)
	c := newCluster()
	data := group(c, "data")

	sts := BuildStatefulSet(c, data, Revisions{})
	g.Expect(sts.Spec.VolumeClaimTemplates).To(BeEmpty())
	g.Expect(sts.Spec.Template.Spec.Volumes).To(ContainElement(corev1.Volume{
		Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}},
	}))

	data.Storage = &implyv1alpha1.StorageSpec{Size: resource.MustParse("200Gi"), StorageClassName: ptr.To("gp3")}
	sts = BuildStatefulSet(c, data, Revisions{})
	for _, v := range sts.Spec.Template.Spec.Volumes {
		g.Expect(v.Name).NotTo(Equal("data"), "the PVC template provides the data volume")
	}
	g.Expect(sts.Spec.VolumeClaimTemplates).To(HaveLen(1))
	pvc := sts.Spec.VolumeClaimTemplates[0]
	g.Expect(pvc.Name).To(Equal("data"))
	g.Expect(*pvc.Spec.StorageClassName).To(Equal("gp3"))
	g.Expect(pvc.Spec.AccessModes).To(Equal([]corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}))
	g.Expect(pvc.Spec.Resources.Requests.Storage().String()).To(Equal("200Gi"))
}

func TestStatefulSetPassThrough(t *testing.T) {
	g := NewWithT(t)
	c := newCluster()
	c.Spec.Images = &implyv1alpha1.ImagesSpec{
		Agent: "registry.example.com/imply/agent:custom", PullPolicy: corev1.PullAlways,
		PullSecrets: []corev1.LocalObjectReference{{Name: "regcred"}},
	}
	grp := group(c, "query")
	grp.Replicas = ptr.To(int32(0))
	grp.Resources = corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}}
	grp.NodeSelector = map[string]string{"pool": "query"}
	grp.Tolerations = []corev1.Toleration{{Key: "imply.io/query", Operator: corev1.TolerationOpExists}}
	grp.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{}}

	sts := BuildStatefulSet(c, grp, Revisions{Config: "abc", TLS: "def"})
	pod := sts.Spec.Template.Spec
	g.Expect(*sts.Spec.Replicas).To(Equal(int32(0)))
	g.Expect(pod.Containers[0].Image).To(Equal("registry.example.com/imply/agent:custom"))
	g.Expect(pod.Containers[0].ImagePullPolicy).To(Equal(corev1.PullAlways))
	g.Expect(pod.ImagePullSecrets).To(Equal([]corev1.LocalObjectReference{{Name: "regcred"}}))
	g.Expect(pod.Containers[0].Resources).To(Equal(grp.Resources))
	g.Expect(pod.NodeSelector).To(Equal(grp.NodeSelector))
	g.Expect(pod.Tolerations).To(Equal(grp.Tolerations))
	g.Expect(pod.Affinity).To(Equal(grp.Affinity))
	g.Expect(sts.Spec.Template.Annotations).To(Equal(map[string]string{
		"imply.operator.dev/config-revision": "abc",
		"imply.operator.dev/tls-revision":    "def",
	}))

	// The built object shares no memory with the spec: mutating it leaves the spec alone.
	pod.NodeSelector["pool"] = "changed"
	pod.Tolerations[0].Key = "changed"
	g.Expect(grp.NodeSelector["pool"]).To(Equal("query"))
	g.Expect(grp.Tolerations[0].Key).To(Equal("imply.io/query"))
}

func TestStatefulSetIsDeterministic(t *testing.T) {
	g := NewWithT(t)
	c := goldenTLSCluster()
	for i := range c.Spec.NodeGroups {
		grp := &c.Spec.NodeGroups[i]
		first := BuildStatefulSet(c, grp, Revisions{Config: "x"})
		for range 5 {
			g.Expect(BuildStatefulSet(c, grp, Revisions{Config: "x"})).To(Equal(first))
		}
	}
}

func TestStatefulSetSharesNoMemory(t *testing.T) {
	g := NewWithT(t)
	c := newCluster()
	data := group(c, "data")
	data.Storage = &implyv1alpha1.StorageSpec{Size: resource.MustParse("1Gi"), StorageClassName: ptr.To("gp3")}
	sts := BuildStatefulSet(c, data, Revisions{})
	sts.Labels["x"] = "y"
	g.Expect(sts.Spec.Template.Labels).NotTo(HaveKey("x"))
	g.Expect(sts.Spec.VolumeClaimTemplates[0].Labels).NotTo(HaveKey("x"))
	*sts.Spec.VolumeClaimTemplates[0].Spec.StorageClassName = "changed"
	g.Expect(*data.Storage.StorageClassName).To(Equal("gp3"))
}
