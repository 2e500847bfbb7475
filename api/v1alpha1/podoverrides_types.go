package v1alpha1

import (
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
)

// PodContainer is a container of the pod API (k8s.io/api/core/v1 Container). Its schema is left
// out of the CRD, which would otherwise outgrow what kubectl apply can annotate; the apiserver
// checks it when the operator writes the workload (an invalid one is Ready=False ApplyFailed).
// +kubebuilder:validation:Type=object
// +kubebuilder:pruning:PreserveUnknownFields
type PodContainer struct {
	corev1.Container `json:"-"`
}

// MarshalJSON encodes the container as the pod API does.
func (p PodContainer) MarshalJSON() ([]byte, error) { return json.Marshal(p.Container) }

// UnmarshalJSON decodes a container of the pod API.
func (p *PodContainer) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, &p.Container) }

// PodVolume is a volume of the pod API (k8s.io/api/core/v1 Volume), kept out of the CRD's
// schema like PodContainer.
// +kubebuilder:validation:Type=object
// +kubebuilder:pruning:PreserveUnknownFields
type PodVolume struct {
	corev1.Volume `json:"-"`
}

// MarshalJSON encodes the volume as the pod API does.
func (p PodVolume) MarshalJSON() ([]byte, error) { return json.Marshal(p.Volume) }

// UnmarshalJSON decodes a volume of the pod API.
func (p *PodVolume) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, &p.Volume) }

// PodOverrides are pod settings a platform team adds to the pods the operator builds (a node
// group's agents or the Imply Manager). They are merged over the operator's secure defaults and
// can never remove what the operator owns: an env variable, volume or mount path that collides
// with one of the operator's is refused (Ready=False, reason InvalidPodOverrides, naming the
// field, with nothing live changed), and labels and annotations under the operator's keys are
// refused at admission (docs/pod-settings.md).
type PodOverrides struct {
	// ServiceAccountName runs the pods under this ServiceAccount of the namespace. The operator
	// creates no ServiceAccount: for IRSA (EKS), Workload Identity (GKE) or Azure Workload
	// Identity, annotate your own ServiceAccount as the cloud documents and name it here.
	// Empty: the namespace's default ServiceAccount.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// Labels are added to the pods. The operator's labels (app.kubernetes.io/name, instance,
	// component, managed-by and every imply.operator.dev/ key) cannot be set here.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, !(k in ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/component', 'app.kubernetes.io/managed-by']) && !k.startsWith('imply.operator.dev/'))",message="labels must not set app.kubernetes.io/name, instance, component, managed-by or an imply.operator.dev/ key: the operator owns them"
	Labels map[string]string `json:"labels,omitempty"`

	// Annotations are added to the pods, such as those of a service mesh or of Azure Workload
	// Identity. imply.operator.dev/ keys (the revisions that roll the pods) cannot be set here.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, !k.startsWith('imply.operator.dev/'))",message="annotations must not set an imply.operator.dev/ key: the operator owns them"
	Annotations map[string]string `json:"annotations,omitempty"`

	// Env is added to the main container's environment (agent or manager). A name the operator
	// sets, or a druid_* variable that maps to a Druid property the operator owns, is refused.
	// +optional
	// +kubebuilder:validation:MaxItems=128
	Env []corev1.EnvVar `json:"env,omitempty"`

	// EnvFrom adds ConfigMaps and Secrets to the main container's environment. The operator's
	// own variables win over any of the same name.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	EnvFrom []corev1.EnvFromSource `json:"envFrom,omitempty"`

	// Volumes are added to the pods (a GCS key file, a core-site.xml, ...). A name the operator
	// uses is refused. Checked by the apiserver when the workload is written.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	Volumes []PodVolume `json:"volumes,omitempty"`

	// VolumeMounts are added to the main container. A name of the operator's volumes, or a path
	// equal to, inside or above one the operator mounts, is refused.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	VolumeMounts []corev1.VolumeMount `json:"volumeMounts,omitempty"`

	// InitContainers run, in order, after any of the operator's and before its containers (such
	// as raising vm.max_map_count). Each gets the pods' container securityContext defaults with
	// its own merged over them. A name the operator uses is refused. Checked by the apiserver
	// when the workload is written.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	InitContainers []PodContainer `json:"initContainers,omitempty"`

	// Sidecars are containers added after the operator's, with the same securityContext
	// defaults as init containers. A name the operator uses is refused.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	Sidecars []PodContainer `json:"sidecars,omitempty"`

	// PriorityClassName of the pods.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	PriorityClassName string `json:"priorityClassName,omitempty"`

	// TopologySpreadConstraints of the pods. A constraint without labelSelector spreads the
	// group's (or the manager's) own pods.
	// +optional
	// +kubebuilder:validation:MaxItems=8
	TopologySpreadConstraints []corev1.TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty"`

	// TerminationGracePeriodSeconds is how long a stopping pod may take before it is killed.
	// Defaults to 86400 (a day, as Imply's Helm chart gives its agents, so ingestion tasks can
	// finish) for data groups, where the middleManagers run them, and 60 for master and query groups
	// and the manager.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=604800
	TerminationGracePeriodSeconds *int64 `json:"terminationGracePeriodSeconds,omitempty"`
}

// DruidServiceSpec tunes one Druid service of a node group.
type DruidServiceSpec struct {
	// RuntimeProperties are added to this service's runtime.properties after the group's
	// runtimeProperties, so they win. Security properties owned by the operator are ignored,
	// with a Warning naming them.
	// +optional
	// +kubebuilder:validation:MaxProperties=256
	RuntimeProperties map[string]string `json:"runtimeProperties,omitempty"`

	// JVMOptions are appended to this service's jvm.config, after the operator's, so they win
	// (the JVM takes the last). With -Xmx the operator's heap options are left out. An option
	// that sets a security system property the operator owns (-Djavax.net.ssl..., ...) or reads
	// options from a file is ignored, with a Warning naming it.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=1024
	JVMOptions []string `json:"jvmOptions,omitempty"`
}
