package specs

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// Names inside a node group's pods.
const (
	// AgentContainerName is the agent container of a node group's pods.
	AgentContainerName = "agent"
	// DataVolumeName is the data volume (PVC template or emptyDir) mounted at /var/druid.
	DataVolumeName = "data"
	// CommonConfigVolumeName mounts <cluster>-common-config.
	CommonConfigVolumeName = "common-config"
	// GroupConfigVolumeName mounts <cluster>-<group>-config.
	GroupConfigVolumeName = "group-config"
)

// Agent environment of the contract.
const (
	EnvManagerHost      = "IMPLY_MANAGER_HOST"
	EnvAgentCluster     = "IMPLY_MANAGER_AGENT_CLUSTER"
	EnvAgentNodeType    = "IMPLY_MANAGER_AGENT_NODE_TYPE"
	defaultUsernameKey  = "username"
	defaultPasswordKey  = "password"
	configMapFileMode   = int32(0o644)
	defaultReplicaCount = int32(1)
)

// Default images. Imply publishes the manager and the agent as two images with their own tags:
// its Helm chart's values.yaml sets images.manager {repository: imply/manager, tag: "2020.12"}
// and images.agent {repository: imply/agent, tag: 2020-10-07} (a date, not the release), and
// "Install Imply Enterprise on Linux" ("Distribution archive versioning") says the two archives
// are versioned independently, the manager's following the Imply release. The manager's tag is
// therefore spec.version; the agent's is DefaultAgentTag whatever the version.
const (
	// DefaultManagerRepository is the manager image's repository (the chart's
	// images.manager.repository; "Deployment" page of Imply 3.3: imply/manager).
	DefaultManagerRepository = "imply/manager"
	// DefaultAgentRepository is the agent image's repository (the chart's
	// images.agent.repository; "Deployment" page of Imply 3.3: imply/agent).
	DefaultAgentRepository = "imply/agent"
	// DefaultAgentTag is the agent image's tag: v7, the agent generation Imply distributes with
	// its 2024 releases (the public "imply-agent-v7" archive installed next to
	// "imply-manager-2024.09"). Set spec.images.agent to pin another.
	DefaultAgentTag = "v7"
)

// AgentImage returns spec.images.agent, or imply/agent:<DefaultAgentTag>.
func AgentImage(c *implyv1alpha1.ImplyCluster) string {
	if c.Spec.Images != nil && c.Spec.Images.Agent != "" {
		return c.Spec.Images.Agent
	}
	return DefaultAgentRepository + ":" + DefaultAgentTag
}

// ManagerImage returns spec.images.manager, or imply/manager:<version>.
func ManagerImage(c *implyv1alpha1.ImplyCluster) string {
	if c.Spec.Images != nil && c.Spec.Images.Manager != "" {
		return c.Spec.Images.Manager
	}
	return DefaultManagerRepository + ":" + c.Spec.Version
}

// GroupConfigMountPath is where a group's ConfigMap is mounted: /etc/imply/conf/druid/<type>.
func GroupConfigMountPath(t implyv1alpha1.NodeGroupType) string {
	return GroupConfigMountPathPrefix + "/" + string(t)
}

// BuildStatefulSet builds the StatefulSet <cluster>-<group> of a node group's agents: replicas
// from the spec (default 1), Parallel pod management, rolling updates, the headless Service as
// serviceName, and one container "agent" with the contract's environment, the metadata-store
// credentials from their Secret, with auth the Druid passwords from their Secrets (admin,
// internal client and, with LDAP, the bind password), the deep-storage credentials Secret as
// envFrom, the group's service ports (TLS-aware), Druid-aware probes (see AgentReadinessProbe), the
// common and group ConfigMaps, with TLS the CA certificate (see addCAMount), in a query group
// with auth Pivot's Druid password (see withPivotCredentials), the metadata store's TLS Secret
// (see PlanMetadataTLS), and a
// data volume at /var/druid: a PVC template from spec.storage, else an emptyDir. Each non-empty
// revision becomes a pod-template annotation. The pods meet the Pod Security Standard
// "restricted" unless the group's podSecurityContext, securityContext or
// automountServiceAccountToken relax it (see applyPodSecurity).
func BuildStatefulSet(c *implyv1alpha1.ImplyCluster, g *implyv1alpha1.NodeGroupSpec, rev Revisions) *appsv1.StatefulSet {
	tls := TLSEnabled(c)
	services := ServicesFor(g.Type)

	ports := make([]corev1.ContainerPort, 0, len(services))
	for _, s := range services {
		ports = append(ports, corev1.ContainerPort{Name: s.PortName(), ContainerPort: Port(s, tls), Protocol: corev1.ProtocolTCP})
	}

	creds := c.Spec.Druid.MetadataStore.CredentialsSecretRef
	env := []corev1.EnvVar{
		{Name: EnvManagerHost, Value: ManagerInternalServiceName(c.Name)},
		{Name: EnvAgentCluster, Value: c.Name},
		{Name: EnvAgentNodeType, Value: string(g.Type)},
		secretEnv(EnvMetadataStorageUser, creds.Name, keyOr(creds.UsernameKey, defaultUsernameKey)),
		secretEnv(EnvMetadataStoragePassword, creds.Name, keyOr(creds.PasswordKey, defaultPasswordKey)),
	}
	env = append(env, authEnv(c, true)...)
	var envFrom []corev1.EnvFromSource
	if ref := c.Spec.Druid.DeepStorage.CredentialsSecretRef; ref != nil {
		envFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: ref.Name},
		}}}
	}

	mounts := []corev1.VolumeMount{
		{Name: CommonConfigVolumeName, MountPath: CommonConfigMountPath, ReadOnly: true},
		{Name: GroupConfigVolumeName, MountPath: GroupConfigMountPath(g.Type), ReadOnly: true},
		{Name: DataVolumeName, MountPath: DataMountPath},
	}
	volumes := []corev1.Volume{
		configMapVolume(CommonConfigVolumeName, CommonConfigName(c.Name)),
		configMapVolume(GroupConfigVolumeName, GroupConfigName(c.Name, g.Name)),
	}
	var claims []corev1.PersistentVolumeClaim
	if g.Storage != nil {
		claims = []corev1.PersistentVolumeClaim{{
			ObjectMeta: metav1.ObjectMeta{Name: DataVolumeName, Labels: groupLabels(c, g)},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				StorageClassName: ptrCopy(g.Storage.StorageClassName),
				VolumeMode:       ptr.To(corev1.PersistentVolumeFilesystem),
				Resources: corev1.VolumeResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceStorage: g.Storage.Size.DeepCopy()},
				},
			},
		}}
	} else {
		volumes = append(volumes, corev1.Volume{
			Name:         DataVolumeName,
			VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}},
		})
	}

	grace := DefaultGracePeriodSeconds
	if g.Type == implyv1alpha1.NodeGroupData {
		grace = DataGracePeriodSeconds
	}

	container := corev1.Container{
		Name:            AgentContainerName,
		Image:           AgentImage(c),
		ImagePullPolicy: pullPolicy(c),
		Env:             env,
		EnvFrom:         envFrom,
		Ports:           ports,
		ReadinessProbe:  AgentReadinessProbe(c, g),
		StartupProbe:    AgentStartupProbe(c, g),
		LivenessProbe:   AgentLivenessProbe(c, g),
		Resources:       *g.Resources.DeepCopy(),
		VolumeMounts:    mounts,
	}

	sts := &appsv1.StatefulSet{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      GroupName(c.Name, g.Name),
			Namespace: c.Namespace,
			Labels:    groupLabels(c, g),
		},
		Spec: appsv1.StatefulSetSpec{
			Replicas:            ptr.To(replicasOr(g.Replicas)),
			Selector:            &metav1.LabelSelector{MatchLabels: SelectorLabels(c.Name, g.Name)},
			ServiceName:         HeadlessServiceName(c.Name, g.Name),
			PodManagementPolicy: appsv1.ParallelPodManagement,
			UpdateStrategy:      appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: groupLabels(c, g), Annotations: revisionAnnotations(rev)},
				Spec: corev1.PodSpec{
					Containers:                    []corev1.Container{container},
					Volumes:                       volumes,
					ImagePullSecrets:              pullSecrets(c),
					TerminationGracePeriodSeconds: ptr.To(grace),
					EnableServiceLinks:            ptr.To(false),
					NodeSelector:                  copyMap(g.NodeSelector),
					Tolerations:                   copyTolerations(g.Tolerations),
					Affinity:                      g.Affinity.DeepCopy(),
				},
			},
			VolumeClaimTemplates: claims,
		},
	}
	addTLSMounts(c, GroupTLSSecretName(c.Name, g.Name), &sts.Spec.Template.Spec)
	addCAMount(c, &sts.Spec.Template.Spec, false)
	withPivotCredentials(c, g, &sts.Spec.Template.Spec)
	storePlan, _ := PlanMetadataTLS(c, MetadataStoreDruid)
	addMetadataTLSMounts(storePlan, &sts.Spec.Template.Spec)
	applyPodSecurity(&sts.Spec.Template.Spec, &g.PodSecurity)
	return sts
}

// replicasOr returns *r, or 1 when nil.
func replicasOr(r *int32) int32 {
	if r == nil {
		return defaultReplicaCount
	}
	return *r
}

func keyOr(key, def string) string {
	if key == "" {
		return def
	}
	return key
}

// secretEnv is an environment variable read from a Secret key.
func secretEnv(name, secret, key string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: secret},
		Key:                  key,
	}}}
}

func configMapVolume(volume, configMap string) corev1.Volume {
	return corev1.Volume{Name: volume, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: configMap},
		DefaultMode:          ptr.To(configMapFileMode),
	}}}
}

func pullPolicy(c *implyv1alpha1.ImplyCluster) corev1.PullPolicy {
	if c.Spec.Images == nil {
		return ""
	}
	return c.Spec.Images.PullPolicy
}

func pullSecrets(c *implyv1alpha1.ImplyCluster) []corev1.LocalObjectReference {
	if c.Spec.Images == nil || len(c.Spec.Images.PullSecrets) == 0 {
		return nil
	}
	return append([]corev1.LocalObjectReference(nil), c.Spec.Images.PullSecrets...)
}

// tcpProbe is a TCP probe with every field set, so the built object equals the defaulted live one.
func tcpProbe(port, initialDelay, period, failures int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler:        corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(port)}},
		InitialDelaySeconds: initialDelay,
		PeriodSeconds:       period,
		TimeoutSeconds:      5,
		SuccessThreshold:    1,
		FailureThreshold:    failures,
	}
}

// ptrCopy returns a pointer to a copy of *p, or nil.
func ptrCopy[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func copyTolerations(t []corev1.Toleration) []corev1.Toleration {
	if t == nil {
		return nil
	}
	out := make([]corev1.Toleration, len(t))
	for i := range t {
		t[i].DeepCopyInto(&out[i])
	}
	return out
}
