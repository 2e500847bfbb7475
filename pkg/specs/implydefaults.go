package specs

import (
	corev1 "k8s.io/api/core/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// The manager's defaults for the Druid clusters it creates: Imply's on-prem "Deployment" page
// (https://docs.imply.io/on-prem/imply-manager/deployment, "Configuring the manager container",
// "Optional properties") names imply_defaults_zkType, imply_defaults_zkHosts and
// imply_defaults_zkBasePath; the same env.list block continues, in Imply's Linux install
// scripts published next to it, with imply_defaults_metadataStorage{Type,Host,Port,User,Password}
// and imply_defaults_deepStorage{Type,BaseLocation}. See docs/imply-contract.md.
const (
	EnvDefaultsZKType                  = "imply_defaults_zkType"
	EnvDefaultsZKHosts                 = "imply_defaults_zkHosts"
	EnvDefaultsZKBasePath              = "imply_defaults_zkBasePath"
	EnvDefaultsMetadataStorageType     = "imply_defaults_metadataStorageType"
	EnvDefaultsMetadataStorageHost     = "imply_defaults_metadataStorageHost"
	EnvDefaultsMetadataStoragePort     = "imply_defaults_metadataStoragePort"
	EnvDefaultsMetadataStorageUser     = "imply_defaults_metadataStorageUser"
	EnvDefaultsMetadataStoragePassword = "imply_defaults_metadataStoragePassword"
	EnvDefaultsDeepStorageType         = "imply_defaults_deepStorageType"
	EnvDefaultsDeepStorageBaseLocation = "imply_defaults_deepStorageBaseLocation"

	// ZooKeeperTypeExternal is imply_defaults_zkType for an ensemble the manager does not run.
	ZooKeeperTypeExternal = "external"
)

// implyDefaultsEnv is the manager's imply_defaults_* environment, derived from spec.druid:
// ZooKeeper (an external ensemble, its connect string and zkBasePath, the base path Druid runs
// under), Druid's metadata store (user and password from its credentials Secret, by reference)
// and deep storage (its type and base location). Deep-storage credentials are not among them:
// the agents get them from their Secret (see BuildStatefulSet).
func implyDefaultsEnv(c *implyv1alpha1.ImplyCluster, zkBasePath string) []corev1.EnvVar {
	d := &c.Spec.Druid
	ms := &d.MetadataStore
	creds := ms.CredentialsSecretRef
	return []corev1.EnvVar{
		{Name: EnvDefaultsZKType, Value: ZooKeeperTypeExternal},
		{Name: EnvDefaultsZKHosts, Value: d.ZooKeeper.ConnectString},
		{Name: EnvDefaultsZKBasePath, Value: zkBasePath},
		{Name: EnvDefaultsMetadataStorageType, Value: string(ms.Type)},
		{Name: EnvDefaultsMetadataStorageHost, Value: ms.Host},
		{Name: EnvDefaultsMetadataStoragePort, Value: itoa(MetadataStorePort(ms))},
		secretEnv(EnvDefaultsMetadataStorageUser, creds.Name, keyOr(creds.UsernameKey, defaultUsernameKey)),
		secretEnv(EnvDefaultsMetadataStoragePassword, creds.Name, keyOr(creds.PasswordKey, defaultPasswordKey)),
		{Name: EnvDefaultsDeepStorageType, Value: string(d.DeepStorage.Type)},
		{Name: EnvDefaultsDeepStorageBaseLocation, Value: d.DeepStorage.Path},
	}
}
