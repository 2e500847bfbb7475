package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// NodeGroupType is the role of an Imply node group: which Druid services its agents run.
// +kubebuilder:validation:Enum=master;query;data
type NodeGroupType string

const (
	// NodeGroupMaster runs the Druid coordinator and overlord.
	NodeGroupMaster NodeGroupType = "master"
	// NodeGroupQuery runs the Druid broker and router, and Pivot.
	NodeGroupQuery NodeGroupType = "query"
	// NodeGroupData runs the Druid historical and middleManager.
	NodeGroupData NodeGroupType = "data"
)

// MetadataStoreType is the database that holds Imply's or Druid's metadata.
// +kubebuilder:validation:Enum=mysql;postgresql
type MetadataStoreType string

const (
	// MetadataStoreMySQL is a MySQL (or MariaDB) metadata store.
	MetadataStoreMySQL MetadataStoreType = "mysql"
	// MetadataStorePostgreSQL is a PostgreSQL metadata store.
	MetadataStorePostgreSQL MetadataStoreType = "postgresql"
)

// DeepStorageType is where Druid keeps its segments.
// +kubebuilder:validation:Enum=local;s3;google;azure;hdfs
type DeepStorageType string

// KeyAlgorithm is the private-key algorithm of a generated key.
// +kubebuilder:validation:Enum=ECDSA-P256;RSA-2048;RSA-3072;RSA-4096
type KeyAlgorithm string

const (
	// KeyAlgorithmECDSAP256 is ECDSA on the NIST P-256 curve (the default).
	KeyAlgorithmECDSAP256 KeyAlgorithm = "ECDSA-P256"
	// KeyAlgorithmRSA2048 is RSA with a 2048-bit modulus.
	KeyAlgorithmRSA2048 KeyAlgorithm = "RSA-2048"
	// KeyAlgorithmRSA3072 is RSA with a 3072-bit modulus.
	KeyAlgorithmRSA3072 KeyAlgorithm = "RSA-3072"
	// KeyAlgorithmRSA4096 is RSA with a 4096-bit modulus.
	KeyAlgorithmRSA4096 KeyAlgorithm = "RSA-4096"
)

// ImplyClusterSpec is the desired state of an Imply deployment.
// +kubebuilder:validation:XValidation:rule="!has(self.pivot) || !has(self.pivot.druidCredentialsSecretRef) || (has(self.security) && has(self.security.auth))",message="druidCredentialsSecretRef needs security.auth: without it Druid asks for no credentials",fieldPath=".pivot.druidCredentialsSecretRef"
// +kubebuilder:validation:XValidation:rule="!has(self.druid.apiURL) || !self.druid.apiURL.startsWith('http://') || (has(self.security) && has(self.security.tls) && has(self.security.tls.enabled) && !self.security.tls.enabled)",message="apiURL must be https:// when TLS is on (security.tls.enabled is not false): the admin credentials never travel in plaintext",fieldPath=".druid.apiURL"
type ImplyClusterSpec struct {
	// Version is the Imply release, such as "2025.01". The default images derive from it.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[0-9A-Za-z][0-9A-Za-z._-]*$`
	Version string `json:"version"`

	// Images overrides the images derived from Version.
	// +optional
	Images *ImagesSpec `json:"images,omitempty"`

	// License is the Imply license key, read from a Secret and never copied inline.
	// +optional
	License *LicenseSpec `json:"license,omitempty"`

	// Manager configures the Imply Manager.
	// +optional
	Manager ManagerSpec `json:"manager,omitempty"`

	// Druid configures what every Druid service shares: ZooKeeper, metadata store, deep storage.
	Druid DruidSpec `json:"druid"`

	// NodeGroups are the groups of agents. At least one group each of type master, query and data.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MinItems=3
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:XValidation:rule="self.exists(g, g.type == 'master')",message="at least one node group of type master is required"
	// +kubebuilder:validation:XValidation:rule="self.exists(g, g.type == 'query')",message="at least one node group of type query is required"
	// +kubebuilder:validation:XValidation:rule="self.exists(g, g.type == 'data')",message="at least one node group of type data is required"
	// +kubebuilder:validation:XValidation:rule="self.all(a, self.all(b, !(b.name in [a.name + '-headless', a.name + '-tls', a.name + '-tls-issued', a.name + '-config'])))",message="a node group's name must not be another node group's name followed by -headless, -tls, -tls-issued or -config (such as data and data-headless), or both would take the same object name: rename one of them (spec.nodeGroups[].name)"
	NodeGroups []NodeGroupSpec `json:"nodeGroups"`

	// Security configures TLS, authentication and the password policy. TLS is on by default.
	// +optional
	// +kubebuilder:default={}
	Security *SecuritySpec `json:"security,omitempty"`

	// Rollout governs restarts driven by changes to security material.
	// +optional
	Rollout *RolloutSpec `json:"rollout,omitempty"`

	// Pivot passes settings to Pivot's config.yaml in query groups (docs/imply-contract.md).
	// +optional
	Pivot *PivotSpec `json:"pivot,omitempty"`

	// Exposure shapes the Services of the manager, the router and Pivot, and an optional Ingress.
	// +optional
	Exposure *ExposureSpec `json:"exposure,omitempty"`

	// NetworkPolicy configures the NetworkPolicies the operator creates (on by default).
	// +optional
	NetworkPolicy *NetworkPolicySpec `json:"networkPolicy,omitempty"`
}

// ImagesSpec overrides the container images. Imply versions the manager and the agent apart:
// the manager's tag follows the Imply release, the agent has its own (docs/imply-contract.md).
type ImagesSpec struct {
	// Manager is the Imply Manager image, repository and tag. Defaults to imply/manager:<version>.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Manager string `json:"manager,omitempty"`

	// Agent is the Imply agent image, repository and tag. Defaults to imply/agent with the
	// operator's default agent tag (docs/imply-contract.md), whatever the version.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Agent string `json:"agent,omitempty"`

	// PullPolicy is the image pull policy of every container.
	// +optional
	PullPolicy corev1.PullPolicy `json:"pullPolicy,omitempty"`

	// PullSecrets are Secrets used to pull the images.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	PullSecrets []corev1.LocalObjectReference `json:"pullSecrets,omitempty"`
}

// LicenseSpec locates the Imply license key.
type LicenseSpec struct {
	// SecretRef is the Secret key holding the license. The key defaults to IMPLY_MANAGER_LICENSE_KEY.
	SecretRef SecretKeySelector `json:"secretRef"`
}

// ManagerSpec configures the Imply Manager Deployment.
type ManagerSpec struct {
	// Replicas of the Imply Manager. Defaults to 1.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	Replicas *int32 `json:"replicas,omitempty"`

	// Resources of the manager container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`

	// MetadataStore is the database of the Imply Manager itself.
	// +optional
	MetadataStore *MetadataStoreSpec `json:"metadataStore,omitempty"`

	// NodeSelector constrains the nodes the manager runs on.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// Tolerations of the manager pods.
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// Affinity of the manager pods.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`

	// PodSecurity changes the pods' security settings where the image needs it: each field it
	// sets replaces the operator's restricted default (docs/pod-security.md).
	PodSecurity `json:",inline"`

	// Pod adds settings to the manager's pods over the operator's (docs/pod-settings.md).
	// +optional
	Pod *PodOverrides `json:"pod,omitempty"`
}

// PodSecurity changes the security settings of the pods the operator builds. The operator's
// defaults meet the Pod Security Standard "restricted": the pod runs as user and group 1000
// (runAsNonRoot) with fsGroup 1000 (fsGroupChangePolicy OnRootMismatch) and the RuntimeDefault
// seccomp profile; every container, init containers included, has allowPrivilegeEscalation
// false and drops ALL capabilities; the service-account token is not mounted. A field set here
// replaces the default's field (nested objects such as capabilities merge field by field;
// lists replace).
type PodSecurity struct {
	// PodSecurityContext is merged over the default pod securityContext.
	// +optional
	PodSecurityContext *corev1.PodSecurityContext `json:"podSecurityContext,omitempty"`

	// SecurityContext is merged over the default securityContext of every container and init
	// container of the pods.
	// +optional
	SecurityContext *corev1.SecurityContext `json:"securityContext,omitempty"`

	// AutomountServiceAccountToken mounts the namespace's service-account token into the pods.
	// Defaults to false: Imply's processes do not call the Kubernetes API.
	// +optional
	AutomountServiceAccountToken *bool `json:"automountServiceAccountToken,omitempty"`
}

// MetadataStoreSpec locates a MySQL or PostgreSQL database.
type MetadataStoreSpec struct {
	// Type of the database.
	Type MetadataStoreType `json:"type"`

	// Host name or address of the database server.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Host string `json:"host"`

	// Port of the database server. Defaults to the type's standard port (3306 or 5432).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port,omitempty"`

	// Database is the name of the database (schema).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	Database string `json:"database"`

	// CredentialsSecretRef names the Secret with the database username and password.
	CredentialsSecretRef CredentialsSecretReference `json:"credentialsSecretRef"`

	// TLS configures encrypted, optionally client-authenticated, connections to the database.
	// Without it, connections use TLS and verify the server's certificate (and name) against the
	// cluster's CA bundle (or, when the cluster runs without TLS, the JVM's system roots);
	// plaintext needs an explicit tls.enabled: false.
	// +optional
	TLS *MetadataStoreTLSSpec `json:"tls,omitempty"`
}

// MetadataStoreTLSSpec configures TLS to the metadata store.
// +kubebuilder:validation:XValidation:rule="!has(self.enabled) || self.enabled || (!has(self.caSecretRef) && !has(self.clientCertificate))",message="caSecretRef and clientCertificate need TLS: remove them or drop enabled: false"
type MetadataStoreTLSSpec struct {
	// Enabled turns TLS to the database on (the default); the server certificate and host name
	// are verified. false connects in plaintext.
	// +optional
	// +kubebuilder:default=true
	Enabled *bool `json:"enabled,omitempty"`

	// CASecretRef is the CA that signed the database server's certificate (PEM, one or more
	// certificates). The key defaults to ca.crt. When empty, the cluster's CA bundle is used, or
	// the JVM's system roots when the cluster runs without TLS.
	// +optional
	CASecretRef *SecretKeySelector `json:"caSecretRef,omitempty"`

	// ClientCertificate enables client-certificate authentication to the database.
	// +optional
	ClientCertificate *ClientCertificateSpec `json:"clientCertificate,omitempty"`
}

// ClientCertificateSpec is a client certificate: generated by the operator from the cluster CA,
// or taken from a kubernetes.io/tls Secret. Exactly one of the two.
// +kubebuilder:validation:XValidation:rule="(has(self.generate) && self.generate ? 1 : 0) + (has(self.secretRef) ? 1 : 0) == 1",message="exactly one of generate: true or secretRef is required"
type ClientCertificateSpec struct {
	// Generate has the operator issue a client certificate from the cluster CA into
	// <cluster>-metadata-client-tls.
	// +optional
	Generate bool `json:"generate,omitempty"`

	// SecretRef names a kubernetes.io/tls Secret holding the client certificate and key.
	// +optional
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`
}

// DruidSpec configures what every Druid service shares.
type DruidSpec struct {
	// ZooKeeper used by Druid for discovery and coordination.
	ZooKeeper ZooKeeperSpec `json:"zookeeper"`

	// MetadataStore is Druid's metadata database.
	MetadataStore MetadataStoreSpec `json:"metadataStore"`

	// DeepStorage is where Druid keeps its segments.
	DeepStorage DeepStorageSpec `json:"deepStorage"`

	// CommonRuntimeProperties are added to common.runtime.properties after the operator's own,
	// so they win. Security properties owned by the operator cannot be overridden here.
	// +optional
	// +kubebuilder:validation:MaxProperties=256
	CommonRuntimeProperties map[string]string `json:"commonRuntimeProperties,omitempty"`

	// APIURL overrides the coordinator URL the operator calls for the basic-security API, for an
	// external Druid or tests. Empty means the cluster's own coordinator Service.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self == '' || self.matches('^https?://[^/?#]+([/?#].*)?$')",message="apiURL must be an http:// or https:// URL"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^[^:/]+://[^/?#]*@')",message="apiURL must not carry user info: the operator sends the admin credentials itself"
	// +kubebuilder:validation:XValidation:rule="!self.contains('?') && !self.contains('#')",message="apiURL must not have a query or a fragment"
	APIURL string `json:"apiURL,omitempty"`
}

// ZooKeeperSpec locates the ZooKeeper ensemble.
type ZooKeeperSpec struct {
	// ConnectString is the ZooKeeper connect string, host:port[,host:port...].
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	ConnectString string `json:"connectString"`

	// BasePath is the ZooKeeper path under which Druid keeps its znodes. Defaults to
	// /druid/<namespace>/<cluster>, so clusters of the same name in different namespaces never
	// share znodes. A cluster an earlier release deployed under its default /druid/<cluster>
	// keeps that path: moving it would lose Druid's discovery state.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:Pattern=`^/.*`
	BasePath string `json:"basePath,omitempty"`
}

// DeepStorageSpec locates Druid's deep storage.
// +kubebuilder:validation:XValidation:rule="self.type != 'local' || !has(self.credentialsSecretRef)",message="credentialsSecretRef is not used with type local"
type DeepStorageSpec struct {
	// Type of deep storage.
	Type DeepStorageType `json:"type"`

	// Path is the base location: a directory for local and hdfs, a bucket/prefix URI otherwise
	// (s3://bucket/prefix, gs://bucket/prefix, azure container/prefix).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Path string `json:"path"`

	// CredentialsSecretRef names a Secret with the storage credentials, passed to the agents as
	// environment variables. Optional where workload identity is used.
	// +optional
	CredentialsSecretRef *LocalObjectReference `json:"credentialsSecretRef,omitempty"`
}

// NodeGroupSpec is one group of Imply agents, run as a StatefulSet.
// +kubebuilder:validation:XValidation:rule="!has(self.tier) || self.type == 'data'",message="tier is only valid on node groups of type data"
// +kubebuilder:validation:XValidation:rule="!has(self.druidServices) || self.druidServices.all(k, (self.type == 'master' && k in ['coordinator', 'overlord']) || (self.type == 'query' && k in ['broker', 'router']) || (self.type == 'data' && k in ['historical', 'middleManager']))",message="druidServices keys must be services of the group's type: coordinator or overlord (master), broker or router (query), historical or middleManager (data)",fieldPath=".druidServices"
type NodeGroupSpec struct {
	// Name of the group; a DNS label of at most 20 characters, used in object names such as
	// <cluster>-<name>-headless. Names whose objects would take a name of the cluster's own
	// objects are reserved (specs.ReservedNodeGroupNames): manager, manager-int, common, ca,
	// metadata, metadata-client and the like.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=20
	// +kubebuilder:validation:XValidation:rule="!(self in ['ca', 'ca-bundle', 'client-ca', 'common', 'common-config', 'druid-credentials', 'manager', 'manager-int', 'manager-metadata', 'manager-metadata-client', 'manager-metadata-client-tls', 'manager-metadata-tls', 'manager-tls', 'manager-tls-issued', 'metadata', 'metadata-client', 'metadata-client-tls', 'metadata-tls', 'revision-key', 'security-policy'])",messageExpression="'name \"' + self + '\" is reserved: the objects of a node group named so (<cluster>-' + self + ' and its -headless, -tls, -tls-issued and -config names) would take the name of an object the cluster owns itself'"
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",message="name must be a DNS label: lower-case letters, digits and '-', starting with a letter and ending with a letter or digit"
	Name string `json:"name"`

	// Type is the role of the group: master, query or data.
	Type NodeGroupType `json:"type"`

	// Replicas is the number of agents. Defaults to 1.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	Replicas *int32 `json:"replicas,omitempty"`

	// Tier is the Druid historical tier of a data group. Defaults to _default_tier.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9_.-]+$`
	Tier string `json:"tier,omitempty"`

	// Storage is the persistent volume of each agent, for segment cache and task data.
	// +optional
	Storage *StorageSpec `json:"storage,omitempty"`

	// RuntimeProperties are added to each service's runtime.properties of this group after the
	// operator's own. Security properties owned by the operator cannot be overridden here.
	// +optional
	// +kubebuilder:validation:MaxProperties=256
	RuntimeProperties map[string]string `json:"runtimeProperties,omitempty"`

	// MaxUnavailable of the group's PodDisruptionBudget: a count or a percentage of at most 100%.
	// Defaults to 1.
	// +optional
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:MaxLength=16
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? int(self) >= 0 : string(self).matches('^(100|[1-9]?[0-9])%$')",message="maxUnavailable must be a count (0 or more) or a percentage from 0% to 100%"
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`

	// Resources of the agent container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`

	// NodeSelector constrains the nodes the group runs on.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// Tolerations of the group's pods.
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// Affinity of the group's pods.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`

	// PodSecurity changes the pods' security settings where the image needs it: each field it
	// sets replaces the operator's restricted default (docs/pod-security.md).
	PodSecurity `json:",inline"`

	// Pod adds settings to the group's pods over the operator's (docs/pod-settings.md).
	// +optional
	Pod *PodOverrides `json:"pod,omitempty"`

	// DruidServices tunes each Druid service of the group: runtime properties and JVM options,
	// keyed by service (coordinator, overlord, broker, router, historical, middleManager) among
	// those the group's type runs.
	// +optional
	// +kubebuilder:validation:MaxProperties=3
	DruidServices map[string]DruidServiceSpec `json:"druidServices,omitempty"`
}

// StorageSpec is a persistent volume claim template.
type StorageSpec struct {
	// Size of each volume, such as 20Gi. It must be positive.
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="quantity(string(self)).isGreaterThan(quantity('0'))",message="size must be a positive quantity such as 20Gi"
	Size resource.Quantity `json:"size"`

	// StorageClassName of the volumes; empty uses the cluster's default class.
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`
}

// SecuritySpec configures the deployment's security.
type SecuritySpec struct {
	// TLS configures the CA, certificates and TLS on every Druid, Pivot and manager port. On by
	// default; set enabled: false to run plaintext.
	// +optional
	// +kubebuilder:default={}
	TLS *TLSSpec `json:"tls,omitempty"`

	// Auth enables agent-token authentication and Druid basic security.
	// +optional
	Auth *AuthSpec `json:"auth,omitempty"`

	// SecurityPolicyRef names the SecurityPolicy enforced on this cluster's passwords.
	// +optional
	SecurityPolicyRef *LocalObjectReference `json:"securityPolicyRef,omitempty"`

	// RetainOnDelete keeps the generated CA (<cluster>-ca), the client CA (<cluster>-client-ca)
	// and the Druid credentials (<cluster>-druid-credentials) when the ImplyCluster is deleted:
	// they carry no owner reference but the annotation imply.operator.dev/retained-for, and an
	// ImplyCluster of the same name created again in the namespace adopts them and goes on with
	// the same CA and passwords (Druid's metadata store keeps its users). false gives them an
	// owner reference, so they are deleted with the ImplyCluster. Defaults to true.
	// +optional
	// +kubebuilder:default=true
	RetainOnDelete *bool `json:"retainOnDelete,omitempty"`

	// SecretTemplate adds labels and annotations to the Secrets the operator generates for this
	// cluster (<cluster>-ca, -client-ca, -<group>-tls, -manager-tls, -druid-credentials,
	// -metadata-client-tls; through cert-manager's secretTemplate with an issuerRef) and to the
	// <cluster>-ca-bundle ConfigMap.
	// +optional
	SecretTemplate *SecretTemplate `json:"secretTemplate,omitempty"`
}

// TLSSpec configures TLS.
type TLSSpec struct {
	// Enabled turns TLS on: every Druid port shifts by +200 and all traffic uses https.
	// Defaults to true.
	// +optional
	// +kubebuilder:default=true
	Enabled bool `json:"enabled"`

	// CA is the certificate authority that signs every certificate. Defaults to a generated CA.
	// +optional
	// +kubebuilder:default={generate: {}}
	CA *CASpec `json:"ca,omitempty"`

	// Certificate configures the leaf certificates of the node groups and the manager.
	// +optional
	// +kubebuilder:default={}
	Certificate CertificateSpec `json:"certificate,omitempty"`

	// MinVersion is the lowest TLS version accepted: "1.2" (TLSv1.2 and TLSv1.3) or "1.3".
	// +optional
	// +kubebuilder:default="1.2"
	// +kubebuilder:validation:Enum="1.2";"1.3"
	MinVersion string `json:"minVersion,omitempty"`

	// RequireClientCertificate enables mutual TLS between Druid services.
	// +optional
	RequireClientCertificate bool `json:"requireClientCertificate,omitempty"`

	// ClusterDomain is the Kubernetes cluster DNS domain used in certificate SANs.
	// +optional
	// +kubebuilder:default=cluster.local
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	ClusterDomain string `json:"clusterDomain,omitempty"`
}

// CASpec is the source of the CA. Exactly one of generate, secretRef or issuerRef.
// +kubebuilder:validation:XValidation:rule="!has(self.shareKeyWithManager) || !self.shareKeyWithManager || has(self.secretRef)",message="shareKeyWithManager applies to a CA from secretRef only: a generated CA is always shared with the manager, and a cert-manager issuer has no key to share"
// +kubebuilder:validation:XValidation:rule="(has(self.generate) ? 1 : 0) + (has(self.secretRef) ? 1 : 0) + (has(self.issuerRef) ? 1 : 0) == 1",message="exactly one CA source is required: generate, secretRef or issuerRef"
type CASpec struct {
	// Generate has the operator create the CA in the Secret <cluster>-ca.
	// +optional
	Generate *GeneratedCASpec `json:"generate,omitempty"`

	// SecretRef names a Secret holding the CA as tls.crt/tls.key or ca.crt/ca.key. The operator
	// reads it and never modifies it.
	// +optional
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`

	// IssuerRef names a cert-manager Issuer or ClusterIssuer that signs the certificates.
	// +optional
	IssuerRef *IssuerReference `json:"issuerRef,omitempty"`

	// ShareKeyWithManager gives the Imply Manager the key of a CA from secretRef, so that it
	// signs its own and its agents' certificates as Imply documents. A generated CA is always
	// shared with the manager; a cert-manager issuer never is (there is no key to share).
	// Defaults to false: the key of a user's CA stays with the operator.
	// +optional
	ShareKeyWithManager bool `json:"shareKeyWithManager,omitempty"`
}

// GeneratedCASpec configures a CA generated by the operator.
// +kubebuilder:validation:XValidation:rule="!has(self.renewBefore) || !has(self.validity) || duration(self.renewBefore) < duration(self.validity)",message="renewBefore must be shorter than validity",fieldPath=".renewBefore"
type GeneratedCASpec struct {
	// Validity of the CA certificate. Defaults to 26280h (three years).
	// +optional
	// +kubebuilder:default="26280h"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('24h')",message="validity must be a duration such as 26280h, at least 24h"
	Validity *metav1.Duration `json:"validity,omitempty"`

	// RenewBefore is how long before the CA expires the operator starts, by itself, the
	// three-phase rotation to a new CA (as imply.operator.dev/rotate-ca does), so the CA never
	// expires under a running cluster. Defaults to a third of validity.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="renewBefore must be a positive duration such as 8760h"
	RenewBefore *metav1.Duration `json:"renewBefore,omitempty"`

	// KeyAlgorithm of the CA key. Defaults to ECDSA-P256.
	// +optional
	// +kubebuilder:default=ECDSA-P256
	KeyAlgorithm KeyAlgorithm `json:"keyAlgorithm,omitempty"`
}

// IssuerReference names a cert-manager issuer.
type IssuerReference struct {
	// Name of the issuer.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Kind of the issuer: Issuer (same namespace) or ClusterIssuer. Defaults to Issuer.
	// +optional
	// +kubebuilder:default=Issuer
	// +kubebuilder:validation:Enum=Issuer;ClusterIssuer
	Kind string `json:"kind,omitempty"`

	// Group of the issuer. Defaults to cert-manager.io.
	// +optional
	// +kubebuilder:default=cert-manager.io
	// +kubebuilder:validation:MaxLength=253
	Group string `json:"group,omitempty"`
}

// CertificateSpec configures the leaf certificates.
// +kubebuilder:validation:XValidation:rule="!has(self.renewBefore) || !has(self.validity) || duration(self.renewBefore) < duration(self.validity)",message="renewBefore must be shorter than validity"
type CertificateSpec struct {
	// Validity of each leaf certificate. Defaults to 2160h (90 days).
	// +optional
	// +kubebuilder:default="2160h"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1h')",message="validity must be a duration such as 2160h, at least 1h"
	Validity *metav1.Duration `json:"validity,omitempty"`

	// RenewBefore is how long before expiry a certificate is renewed. Defaults to 720h (30 days).
	// +optional
	// +kubebuilder:default="720h"
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="renewBefore must be a positive duration such as 720h"
	RenewBefore *metav1.Duration `json:"renewBefore,omitempty"`

	// KeyAlgorithm of the leaf keys. Defaults to ECDSA-P256.
	// +optional
	// +kubebuilder:default=ECDSA-P256
	KeyAlgorithm KeyAlgorithm `json:"keyAlgorithm,omitempty"`
}

// AuthSpec configures authentication.
type AuthSpec struct {
	// TokenRef names the AuthToken (type Agent) shared by the manager and the agents.
	// +optional
	TokenRef *LocalObjectReference `json:"tokenRef,omitempty"`

	// Druid configures Druid basic security.
	// +optional
	// +kubebuilder:default={}
	Druid DruidAuthSpec `json:"druid,omitempty"`
}

// DruidAuthSpec configures Druid's basic-security authenticator, escalator and authorizer.
type DruidAuthSpec struct {
	// AuthenticatorName is the name of the basic authenticator. Defaults to basic.
	// +optional
	// +kubebuilder:default=basic
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z][A-Za-z0-9_]*$`
	AuthenticatorName string `json:"authenticatorName,omitempty"`

	// AuthorizerName is the name of the basic authorizer. Defaults to basic.
	// +optional
	// +kubebuilder:default=basic
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z][A-Za-z0-9_]*$`
	AuthorizerName string `json:"authorizerName,omitempty"`

	// AdminPasswordSecretRef is the initial password of Druid's admin user. The key defaults to
	// admin-password. Generated into <cluster>-druid-credentials when empty.
	// +optional
	AdminPasswordSecretRef *SecretKeySelector `json:"adminPasswordSecretRef,omitempty"`

	// InternalClientPasswordSecretRef is the password of the druid_system user Druid services
	// use between themselves. The key defaults to internal-client-password. Generated when empty.
	// +optional
	InternalClientPasswordSecretRef *SecretKeySelector `json:"internalClientPasswordSecretRef,omitempty"`

	// CredentialIterations is the PBKDF2 iteration count of stored credentials, from 1000 to
	// 1,000,000 (the most the operator's Druid client accepts back). Defaults to 10000.
	// +optional
	// +kubebuilder:default=10000
	// +kubebuilder:validation:Minimum=1000
	// +kubebuilder:validation:Maximum=1000000
	CredentialIterations int32 `json:"credentialIterations,omitempty"`

	// LDAP authenticates users against an LDAP directory and maps its groups to Druid roles.
	// +optional
	LDAP *LDAPSpec `json:"ldap,omitempty"`
}

// LDAPSpec configures Druid's LDAP credentials validator and role provider.
type LDAPSpec struct {
	// URL of the LDAP server, ldap:// or ldaps://.
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches('^ldaps?://[^/?#]+/?$')",message="url must be ldap://host[:port] or ldaps://host[:port]"
	URL string `json:"url"`

	// BindUser is the distinguished name Druid binds as to search for users.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	BindUser string `json:"bindUser"`

	// BindPasswordSecretRef is the bind user's password. The key defaults to password.
	BindPasswordSecretRef SecretKeySelector `json:"bindPasswordSecretRef"`

	// BaseDN is where user searches start.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	BaseDN string `json:"baseDN"`

	// UserSearch is the LDAP filter that finds a user; %s is the login name.
	// Defaults to (&(sAMAccountName=%s)(objectClass=user)).
	// +optional
	// +kubebuilder:default="(&(sAMAccountName=%s)(objectClass=user))"
	// +kubebuilder:validation:MaxLength=1024
	UserSearch string `json:"userSearch,omitempty"`

	// UserAttribute is the attribute holding the login name. Defaults to sAMAccountName.
	// +optional
	// +kubebuilder:default=sAMAccountName
	// +kubebuilder:validation:MaxLength=128
	UserAttribute string `json:"userAttribute,omitempty"`

	// GroupFilters limit which of a user's groups are considered for role mapping.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=1024
	GroupFilters []string `json:"groupFilters,omitempty"`
}

// RolloutSpec governs rolling restarts.
type RolloutSpec struct {
	// MaintenanceWindows gate restarts driven by security material (certificates, tokens,
	// credentials). Spec changes roll at once. No windows means security restarts roll at once.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	MaintenanceWindows []MaintenanceWindow `json:"maintenanceWindows,omitempty"`

	// UrgentBefore forces a restart outside a window when a live certificate expires sooner.
	// Defaults to 72h.
	// +optional
	// +kubebuilder:default="72h"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('0s')",message="urgentBefore must be a duration such as 72h"
	UrgentBefore *metav1.Duration `json:"urgentBefore,omitempty"`

	// Paused holds every rollout, including spec changes, until set back to false.
	// +optional
	Paused bool `json:"paused,omitempty"`
}

// MaintenanceWindow is a recurring window in UTC.
type MaintenanceWindow struct {
	// Schedule is a standard 5-field cron expression (minute hour day-of-month month day-of-week),
	// in UTC, for the start of the window, such as "0 2 * * SAT".
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'(?i)^\s*(?:\*|[0-5]?[0-9](?:-[0-5]?[0-9])?)(?:/[0-9]{1,2})?(?:,(?:\*|[0-5]?[0-9](?:-[0-5]?[0-9])?)(?:/[0-9]{1,2})?)*\s+(?:\*|(?:[01]?[0-9]|2[0-3])(?:-(?:[01]?[0-9]|2[0-3]))?)(?:/[0-9]{1,2})?(?:,(?:\*|(?:[01]?[0-9]|2[0-3])(?:-(?:[01]?[0-9]|2[0-3]))?)(?:/[0-9]{1,2})?)*\s+(?:\*|\?|(?:0?[1-9]|[12][0-9]|3[01])(?:-(?:0?[1-9]|[12][0-9]|3[01]))?)(?:/[0-9]{1,2})?(?:,(?:\*|\?|(?:0?[1-9]|[12][0-9]|3[01])(?:-(?:0?[1-9]|[12][0-9]|3[01]))?)(?:/[0-9]{1,2})?)*\s+(?:\*|(?:0?[1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)(?:-(?:0?[1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC))?)(?:/[0-9]{1,2})?(?:,(?:\*|(?:0?[1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)(?:-(?:0?[1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC))?)(?:/[0-9]{1,2})?)*\s+(?:\*|\?|(?:[0-6]|SUN|MON|TUE|WED|THU|FRI|SAT)(?:-(?:[0-6]|SUN|MON|TUE|WED|THU|FRI|SAT))?)(?:/[0-9]{1,2})?(?:,(?:\*|\?|(?:[0-6]|SUN|MON|TUE|WED|THU|FRI|SAT)(?:-(?:[0-6]|SUN|MON|TUE|WED|THU|FRI|SAT))?)(?:/[0-9]{1,2})?)*\s*$')`,message="schedule must be a 5-field cron expression (minute hour day-of-month month day-of-week), such as \"0 2 * * SAT\""
	Schedule string `json:"schedule"`

	// Duration of the window, such as 4h.
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="duration must be a positive duration such as 4h"
	Duration metav1.Duration `json:"duration"`
}

// ImplyClusterStatus is the observed state of an ImplyCluster.
type ImplyClusterStatus struct {
	// ObservedGeneration is the generation of the spec the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Progressing, Degraded, CertificatesReady, AuthReady, RestartPending.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// NodeGroups is the state of each node group's StatefulSet.
	// +optional
	// +listType=map
	// +listMapKey=name
	NodeGroups []NodeGroupStatus `json:"nodeGroups,omitempty"`

	// Certificates describes each live certificate Secret.
	// +optional
	// +listType=map
	// +listMapKey=secretName
	Certificates []CertificateStatus `json:"certificates,omitempty"`

	// NextCertificateExpiry is the earliest notAfter of the live certificates.
	// +optional
	NextCertificateExpiry *metav1.Time `json:"nextCertificateExpiry,omitempty"`

	// Endpoints are the in-cluster URLs of the services, with the right scheme and port.
	// +optional
	Endpoints *EndpointsStatus `json:"endpoints,omitempty"`

	// Rollout is the state of the current or pending rolling restart.
	// +optional
	Rollout *RolloutStatus `json:"rollout,omitempty"`
}

// NodeGroupStatus is the state of one node group.
type NodeGroupStatus struct {
	// Name of the group.
	Name string `json:"name"`
	// Type of the group.
	Type NodeGroupType `json:"type"`
	// Replicas wanted.
	Replicas int32 `json:"replicas"`
	// ReadyReplicas are the agents passing their readiness probe.
	ReadyReplicas int32 `json:"readyReplicas"`
	// UpdatedReplicas are the agents running the current pod template.
	UpdatedReplicas int32 `json:"updatedReplicas"`
	// Revision is the StatefulSet's update revision.
	// +optional
	Revision string `json:"revision,omitempty"`
}

// CertificateStatus describes one certificate Secret.
type CertificateStatus struct {
	// SecretName is the Secret holding the certificate.
	SecretName string `json:"secretName"`
	// NotAfter is when the certificate expires.
	// +optional
	NotAfter *metav1.Time `json:"notAfter,omitempty"`
	// RenewalTime is when the operator renews it.
	// +optional
	RenewalTime *metav1.Time `json:"renewalTime,omitempty"`
	// Serial is the certificate's serial number, in hex.
	// +optional
	Serial string `json:"serial,omitempty"`
}

// EndpointsStatus are in-cluster service URLs.
type EndpointsStatus struct {
	// Manager is the Imply Manager URL.
	// +optional
	Manager string `json:"manager,omitempty"`
	// Router is the Druid router URL.
	// +optional
	Router string `json:"router,omitempty"`
	// Coordinator is the Druid coordinator URL.
	// +optional
	Coordinator string `json:"coordinator,omitempty"`
	// Pivot is the Pivot URL.
	// +optional
	Pivot string `json:"pivot,omitempty"`
}

// RolloutPhase is the state of a rolling restart.
// +kubebuilder:validation:Enum=Idle;Pending;Rolling
type RolloutPhase string

const (
	// RolloutIdle means nothing is waiting to roll.
	RolloutIdle RolloutPhase = "Idle"
	// RolloutPending means a change waits for a maintenance window.
	RolloutPending RolloutPhase = "Pending"
	// RolloutRolling means a group is rolling.
	RolloutRolling RolloutPhase = "Rolling"
)

// RolloutStatus is the state of the current or pending rolling restart.
type RolloutStatus struct {
	// Phase is Idle, Pending or Rolling.
	Phase RolloutPhase `json:"phase"`
	// Reason explains the phase, such as CertificateRenewed or SpecChanged.
	// +optional
	Reason string `json:"reason,omitempty"`
	// CurrentGroup is the group rolling now, or "manager".
	// +optional
	CurrentGroup string `json:"currentGroup,omitempty"`
	// NextWindow is the start of the next maintenance window when Phase is Pending.
	// +optional
	NextWindow *metav1.Time `json:"nextWindow,omitempty"`
}

// ImplyCluster is an Imply deployment: Imply Manager and node groups of agents running Druid and
// Pivot, with its CA, certificates, credentials and rolling restarts.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ic,categories=imply
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="TLS",type=boolean,JSONPath=`.spec.security.tls.enabled`
// +kubebuilder:printcolumn:name="Version",type=string,JSONPath=`.spec.version`
// +kubebuilder:printcolumn:name="Next-Expiry",type=string,JSONPath=`.status.nextCertificateExpiry`,description="Earliest notAfter of the live certificates (RFC 3339, UTC)"
// +kubebuilder:printcolumn:name="Rollout",type=string,JSONPath=`.status.rollout.phase`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 30 && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",message="metadata.name must be a DNS label of at most 30 characters: object names such as <cluster>-<group>-headless must fit in 63",fieldPath=".metadata"
type ImplyCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ImplyClusterSpec   `json:"spec,omitempty"`
	Status ImplyClusterStatus `json:"status,omitempty"`
}

// ImplyClusterList is a list of ImplyClusters.
// +kubebuilder:object:root=true
type ImplyClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ImplyCluster `json:"items"`
}

func init() {
	knownTypes = append(knownTypes, &ImplyCluster{}, &ImplyClusterList{})
}
