package specs

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// clusterOption modifies a test ImplyCluster.
type clusterOption func(*implyv1alpha1.ImplyCluster)

// newCluster returns a minimal ImplyCluster "c" in namespace "ns" as the API server would
// default it (TLS on), with groups master, query and data, modified by opts.
func newCluster(opts ...clusterOption) *implyv1alpha1.ImplyCluster {
	c := &implyv1alpha1.ImplyCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns"},
		Spec: implyv1alpha1.ImplyClusterSpec{
			Version: "2025.01",
			Druid: implyv1alpha1.DruidSpec{
				ZooKeeper: implyv1alpha1.ZooKeeperSpec{ConnectString: "zk:2181"},
				MetadataStore: implyv1alpha1.MetadataStoreSpec{
					Type:                 implyv1alpha1.MetadataStoreMySQL,
					Host:                 "mysql",
					Database:             "druid",
					CredentialsSecretRef: implyv1alpha1.CredentialsSecretReference{Name: "db-creds"},
				},
				DeepStorage: implyv1alpha1.DeepStorageSpec{Type: DeepStorageS3, Path: "s3://bucket/prefix"},
			},
			NodeGroups: []implyv1alpha1.NodeGroupSpec{
				{Name: "master", Type: implyv1alpha1.NodeGroupMaster},
				{Name: "query", Type: implyv1alpha1.NodeGroupQuery},
				{Name: "data", Type: implyv1alpha1.NodeGroupData},
			},
			Security: &implyv1alpha1.SecuritySpec{TLS: &implyv1alpha1.TLSSpec{Enabled: true, MinVersion: "1.2"}},
		},
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

func withTLS(on bool) clusterOption {
	return func(c *implyv1alpha1.ImplyCluster) { c.Spec.Security.TLS.Enabled = on }
}

func withGroups(groups ...implyv1alpha1.NodeGroupSpec) clusterOption {
	return func(c *implyv1alpha1.ImplyCluster) { c.Spec.NodeGroups = groups }
}

func withDeepStorage(t implyv1alpha1.DeepStorageType, path string) clusterOption {
	return func(c *implyv1alpha1.ImplyCluster) {
		c.Spec.Druid.DeepStorage = implyv1alpha1.DeepStorageSpec{Type: t, Path: path}
	}
}

// group returns the node group of c named name; it panics when there is none.
func group(c *implyv1alpha1.ImplyCluster, name string) *implyv1alpha1.NodeGroupSpec {
	for i := range c.Spec.NodeGroups {
		if c.Spec.NodeGroups[i].Name == name {
			return &c.Spec.NodeGroups[i]
		}
	}
	panic("no group " + name)
}

// goldenTLSCluster is the first golden cluster: TLS on, MySQL, S3, sized groups, user
// properties including operator-owned keys that must be ignored.
func goldenTLSCluster() *implyv1alpha1.ImplyCluster {
	return &implyv1alpha1.ImplyCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "imply", Namespace: "analytics"},
		Spec: implyv1alpha1.ImplyClusterSpec{
			Version: "2025.01",
			Druid: implyv1alpha1.DruidSpec{
				ZooKeeper: implyv1alpha1.ZooKeeperSpec{
					ConnectString: "zk-0.zk.infra.svc:2181,zk-1.zk.infra.svc:2181,zk-2.zk.infra.svc:2181",
					BasePath:      "/imply/imply",
				},
				MetadataStore: implyv1alpha1.MetadataStoreSpec{
					Type:                 implyv1alpha1.MetadataStoreMySQL,
					Host:                 "mysql.infra.svc",
					Database:             "druid",
					CredentialsSecretRef: implyv1alpha1.CredentialsSecretReference{Name: "druid-db", UsernameKey: "username", PasswordKey: "password"},
				},
				DeepStorage: implyv1alpha1.DeepStorageSpec{
					Type:                 DeepStorageS3,
					Path:                 "s3://example-segments/imply/prod/",
					CredentialsSecretRef: &implyv1alpha1.LocalObjectReference{Name: "s3-creds"},
				},
				CommonRuntimeProperties: map[string]string{
					"druid.emitter":                             "logging",
					"druid.emitter.logging.logLevel":            "info",
					"druid.auth.authenticatorChain":             `["mine"]`,
					"druid.enableTlsPort":                       "false",
					"druid.server.hiddenProperties":             `["druid.s3.secretKey"]`,
					"druid.metadata.storage.connector.password": "hunter2",
				},
			},
			NodeGroups: []implyv1alpha1.NodeGroupSpec{
				{
					Name: "master", Type: implyv1alpha1.NodeGroupMaster, Replicas: ptr.To(int32(3)),
					Storage: &implyv1alpha1.StorageSpec{Size: resource.MustParse("20Gi")},
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
						corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("4Gi"),
					}},
				},
				{
					Name: "query", Type: implyv1alpha1.NodeGroupQuery, Replicas: ptr.To(int32(2)),
					Resources: corev1.ResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("6Gi")},
						Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("8Gi")},
					},
					RuntimeProperties: map[string]string{"druid.server.http.numThreads": "60"},
				},
				{
					Name: "data", Type: implyv1alpha1.NodeGroupData, Replicas: ptr.To(int32(3)), Tier: "hot",
					Storage: &implyv1alpha1.StorageSpec{Size: resource.MustParse("200Gi"), StorageClassName: ptr.To("gp3")},
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
						corev1.ResourceMemory: resource.MustParse("16Gi"),
					}},
					RuntimeProperties: map[string]string{
						"druid.processing.numThreads":       "4",
						"druid.processing.buffer.sizeBytes": "256MiB",
						"druid.server.https.keyStorePath":   "/tmp/mine.p12",
					},
					MaxUnavailable: ptr.To(intstr.FromString("34%")),
				},
			},
			Security: &implyv1alpha1.SecuritySpec{TLS: &implyv1alpha1.TLSSpec{Enabled: true, MinVersion: "1.3"}},
		},
	}
}

// goldenPlaintextCluster is the second golden cluster: TLS off, PostgreSQL on a custom port,
// local deep storage, no sizes.
func goldenPlaintextCluster() *implyv1alpha1.ImplyCluster {
	return &implyv1alpha1.ImplyCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "dev", Namespace: "default"},
		Spec: implyv1alpha1.ImplyClusterSpec{
			Version: "2024.10",
			Druid: implyv1alpha1.DruidSpec{
				ZooKeeper: implyv1alpha1.ZooKeeperSpec{ConnectString: "zookeeper:2181"},
				MetadataStore: implyv1alpha1.MetadataStoreSpec{
					Type:                 implyv1alpha1.MetadataStorePostgreSQL,
					Host:                 "postgres.db.svc",
					Port:                 6432,
					Database:             "druid",
					CredentialsSecretRef: implyv1alpha1.CredentialsSecretReference{Name: "pg"},
				},
				DeepStorage: implyv1alpha1.DeepStorageSpec{Type: DeepStorageLocal, Path: "/mnt/deep-storage/"},
				CommonRuntimeProperties: map[string]string{
					"druid.javascript.enabled": "true",
					"druid.lookup.note":        "Tschüss = bye: #1 !",
				},
			},
			NodeGroups: []implyv1alpha1.NodeGroupSpec{
				{Name: "master", Type: implyv1alpha1.NodeGroupMaster},
				{Name: "query", Type: implyv1alpha1.NodeGroupQuery},
				{Name: "data", Type: implyv1alpha1.NodeGroupData},
			},
			Security: &implyv1alpha1.SecuritySpec{TLS: &implyv1alpha1.TLSSpec{Enabled: false}},
		},
	}
}

// goldenAuthCluster is the base of the auth golden clusters: a plaintext cluster "sec" with
// Druid basic security as the API server defaults it, and user properties that try to take
// over the operator's auth keys and to replace the extensions.
func goldenAuthCluster() *implyv1alpha1.ImplyCluster {
	c := goldenPlaintextCluster()
	c.Name, c.Namespace = "sec", "analytics"
	c.Spec.Druid.CommonRuntimeProperties = map[string]string{
		"druid.auth.authenticatorChain":          `["allowAll"]`,
		"druid.auth.authenticator.allowAll.type": "allowAll",
		"druid.escalator.internalClientPassword": "hunter2",
		"druid.extensions.loadList":              `["druid-histogram","druid-datasketches","druid-basic-security"]`,
		"druid.auth.basic.ssl.trustStorePath":    "/tmp/mine.jks",
		"druid.sql.enable":                       "true",
	}
	c.Spec.Security.Auth = &implyv1alpha1.AuthSpec{
		TokenRef: &implyv1alpha1.LocalObjectReference{Name: "agent-token"},
		Druid: implyv1alpha1.DruidAuthSpec{
			AuthenticatorName: "basic", AuthorizerName: "basic", CredentialIterations: 10000,
		},
	}
	return c
}

// goldenAuthTLSCluster is auth with TLS (TLSv1.3 only, mTLS), custom authenticator and
// authorizer names, a user-supplied admin password and more credential iterations.
func goldenAuthTLSCluster() *implyv1alpha1.ImplyCluster {
	c := goldenAuthCluster()
	c.Spec.Security.TLS = &implyv1alpha1.TLSSpec{Enabled: true, MinVersion: "1.3", RequireClientCertificate: true}
	c.Spec.Security.Auth.Druid = implyv1alpha1.DruidAuthSpec{
		AuthenticatorName:      "MyBasicMetadataAuthenticator",
		AuthorizerName:         "MyBasicMetadataAuthorizer",
		AdminPasswordSecretRef: &implyv1alpha1.SecretKeySelector{Name: "druid-admin", Key: "pw"},
		CredentialIterations:   50000,
	}
	return c
}

// goldenAuthLDAPCluster is auth with TLS and an LDAPS directory with group filters.
func goldenAuthLDAPCluster() *implyv1alpha1.ImplyCluster {
	c := goldenAuthCluster()
	c.Spec.Security.TLS = &implyv1alpha1.TLSSpec{Enabled: true, MinVersion: "1.2"}
	c.Spec.Security.Auth.Druid.LDAP = &implyv1alpha1.LDAPSpec{
		URL:                   "ldaps://ad.example.com:636",
		BindUser:              "CN=druid-bind,OU=Service Accounts,DC=example,DC=com",
		BindPasswordSecretRef: implyv1alpha1.SecretKeySelector{Name: "ldap-bind"},
		BaseDN:                "OU=Users,DC=example,DC=com",
		UserSearch:            "(&(sAMAccountName=%s)(objectClass=user))",
		UserAttribute:         "sAMAccountName",
		GroupFilters:          []string{"*,OU=Druid,OU=Groups,DC=example,DC=com", "CN=druid-admins,OU=Groups,DC=example,DC=com"},
	}
	return c
}
