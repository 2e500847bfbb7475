package specs

import implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"

// Label keys and fixed values put on every object an ImplyCluster owns.
const (
	LabelName      = "app.kubernetes.io/name"
	LabelInstance  = "app.kubernetes.io/instance"
	LabelComponent = "app.kubernetes.io/component"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelCluster   = "imply.operator.dev/cluster"
	LabelNodeGroup = "imply.operator.dev/node-group"

	// AppName is the value of app.kubernetes.io/name.
	AppName = "imply"
	// ManagedBy is the value of app.kubernetes.io/managed-by.
	ManagedBy = "imply-operator"
)

// Component and node-group label values that are not node groups. Node groups use their type
// as component and their name as node-group; the API reserves the names "manager" and "common"
// so these never collide with a group.
const (
	// ComponentManager labels the Imply Manager's objects (component and node-group).
	ComponentManager = "manager"
	// ComponentCommon labels cluster-wide objects that belong to no single group, such as
	// <cluster>-common-config and <cluster>-ca-bundle (component and node-group).
	ComponentCommon = "common"
)

// Pod-template annotations whose change rolls the pods: hashes of what the pods mount.
const (
	AnnotationTLSRevision    = "imply.operator.dev/tls-revision"
	AnnotationAuthRevision   = "imply.operator.dev/auth-revision"
	AnnotationConfigRevision = "imply.operator.dev/config-revision"
	// AnnotationMetadataTLSRevision is the revision of the metadata store's TLS material a pod
	// mounts (its CA, client certificate and password): a change rolls like the cluster's own
	// certificates, without touching the tls-revision a CA rotation waits on.
	AnnotationMetadataTLSRevision = "imply.operator.dev/metadata-tls-revision"
	// AnnotationSecretsRevision is the revision of the user's Secrets a pod reads (the license,
	// the metadata stores' and deep storage's credentials; see PodSecretNames): editing one rolls
	// the pods that read it, as a spec change does.
	AnnotationSecretsRevision = "imply.operator.dev/secrets-revision"
	// AnnotationRestart carries the ImplyCluster's imply.operator.dev/restart value into every
	// pod template (as kubectl rollout restart does with restartedAt), so a new value rolls them.
	AnnotationRestart = "imply.operator.dev/restart"
)

// Labels returns the six labels of the contract for an object of cluster. component is
// manager, master, query or data (or common for cluster-wide objects); group is the node
// group's name, or the same value as component for the manager and common objects.
func Labels(cluster, component, group string) map[string]string {
	return map[string]string{
		LabelName:      AppName,
		LabelInstance:  cluster,
		LabelComponent: component,
		LabelManagedBy: ManagedBy,
		LabelCluster:   cluster,
		LabelNodeGroup: group,
	}
}

// SelectorLabels returns the immutable subset of Labels used in selectors of StatefulSets,
// Deployments, Services and PodDisruptionBudgets: name, instance and node-group.
func SelectorLabels(cluster, group string) map[string]string {
	return map[string]string{
		LabelName:      AppName,
		LabelInstance:  cluster,
		LabelNodeGroup: group,
	}
}

// groupLabels is Labels for a node group's objects.
func groupLabels(c *implyv1alpha1.ImplyCluster, g *implyv1alpha1.NodeGroupSpec) map[string]string {
	return Labels(c.Name, string(g.Type), g.Name)
}

// managerLabels is Labels for the Imply Manager's objects.
func managerLabels(c *implyv1alpha1.ImplyCluster) map[string]string {
	return Labels(c.Name, ComponentManager, ComponentManager)
}

// revisionAnnotations turns non-empty revisions into pod-template annotations; nil when all are empty.
func revisionAnnotations(rev Revisions) map[string]string {
	var a map[string]string
	set := func(k, v string) {
		if v == "" {
			return
		}
		if a == nil {
			a = map[string]string{}
		}
		a[k] = v
	}
	set(AnnotationConfigRevision, rev.Config)
	set(AnnotationTLSRevision, rev.TLS)
	set(AnnotationAuthRevision, rev.Auth)
	set(AnnotationMetadataTLSRevision, rev.MetadataTLS)
	set(AnnotationSecretsRevision, rev.Secrets)
	set(AnnotationRestart, rev.Restart)
	return a
}

// Revisions are the hashes of what a group's (or the manager's) pods mount. Each non-empty one
// becomes a pod-template annotation, so a change rolls the pods.
type Revisions struct {
	// Config is the hash of the mounted ConfigMaps (see ConfigRevision).
	Config string
	// TLS is the hash of the mounted TLS material and trust bundle.
	TLS string
	// Auth is the hash of the mounted tokens and credentials.
	Auth string
	// MetadataTLS is the revision of the mounted metadata-store TLS material (MetadataTLSRevision).
	MetadataTLS string
	// Secrets is the revision of the user's Secrets the pods read (license, credentials, deep
	// storage), see SecretsRevision.
	Secrets string
	// Restart is the value of the ImplyCluster's restart annotation.
	Restart string
}
