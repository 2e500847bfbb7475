package specs

import (
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// PodSecretNames lists, sorted and once each, the user's Secrets the manager's pods and the
// agents' pods read that no other revision covers: the license, the manager's and Druid's
// metadata-store credentials (the manager passes Druid's on as imply_defaults_*) for the
// manager; Druid's metadata-store credentials, the deep-storage credentials and, with auth,
// Pivot's Druid credentials (spec.pivot.druidCredentialsSecretRef) for the agents.
// The operator's own Secrets (certificates, generated passwords, the agent token) and the
// Secrets of the tls-, auth- and metadata-tls-revisions are not listed.
func PodSecretNames(c *implyv1alpha1.ImplyCluster) (manager, agents []string) {
	druidCreds := c.Spec.Druid.MetadataStore.CredentialsSecretRef.Name
	manager = []string{druidCreds, ManagerMetadataStore(c).CredentialsSecretRef.Name}
	if l := c.Spec.License; l != nil {
		manager = append(manager, l.SecretRef.Name)
	}
	agents = []string{druidCreds}
	if ds := c.Spec.Druid.DeepStorage.CredentialsSecretRef; ds != nil {
		agents = append(agents, ds.Name)
	}
	if p := pivotCredentialsRef(c); p != nil && AuthEnabled(c) {
		agents = append(agents, p.Name)
	}
	return sortedUnique(manager), sortedUnique(agents)
}

// SecretsRevision is the secrets-revision of the Secrets a pod reads: an HMAC (SecretRevision,
// with the cluster's revision key) of each Secret's name and every key and value of its data.
// A missing Secret counts as empty.
func SecretsRevision(key []byte, secrets []*corev1.Secret) (string, error) {
	material := map[string][]byte{}
	for _, s := range secrets {
		if s == nil {
			continue
		}
		for _, k := range slices.Sorted(maps.Keys(s.Data)) {
			material[s.Name+"/"+k] = s.Data[k]
		}
		material[s.Name] = nil // a Secret without data still counts
	}
	return SecretRevision(key, material)
}

func sortedUnique(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}
