// Package testobj builds valid test objects with functional modifiers, so each test states only
// what it is about: testobj.ImplyCluster("c", "ns", testobj.WithoutTLS()).
package testobj

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// Names of the Secrets a default test ImplyCluster references.
const (
	LicenseSecret     = "imply-license"
	MetadataSecret    = "metadata-credentials"
	DeepStorageSecret = "deep-storage"
)

// ClusterOption modifies a test ImplyCluster.
type ClusterOption func(*implyv1alpha1.ImplyCluster)

// ImplyCluster returns a valid cluster with a license, a MySQL metadata store, S3 deep storage,
// TLS on and one group each of master (1), query (1) and data (2), then applies opts.
func ImplyCluster(name, namespace string, opts ...ClusterOption) *implyv1alpha1.ImplyCluster {
	c := &implyv1alpha1.ImplyCluster{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: implyv1alpha1.ImplyClusterSpec{
			Version: "2025.01",
			License: &implyv1alpha1.LicenseSpec{SecretRef: implyv1alpha1.SecretKeySelector{Name: LicenseSecret}},
			Druid: implyv1alpha1.DruidSpec{
				ZooKeeper: implyv1alpha1.ZooKeeperSpec{ConnectString: "zk-0.zk:2181,zk-1.zk:2181"},
				MetadataStore: implyv1alpha1.MetadataStoreSpec{
					Type: implyv1alpha1.MetadataStoreMySQL, Host: "mysql.db.svc", Database: "druid",
					CredentialsSecretRef: implyv1alpha1.CredentialsSecretReference{Name: MetadataSecret},
				},
				DeepStorage: implyv1alpha1.DeepStorageSpec{
					Type: "s3", Path: "s3://segments/" + name,
					CredentialsSecretRef: &implyv1alpha1.LocalObjectReference{Name: DeepStorageSecret},
				},
			},
			NodeGroups: []implyv1alpha1.NodeGroupSpec{
				{Name: "master", Type: implyv1alpha1.NodeGroupMaster, Replicas: ptr.To[int32](1)},
				{Name: "query", Type: implyv1alpha1.NodeGroupQuery, Replicas: ptr.To[int32](1)},
				{Name: "data", Type: implyv1alpha1.NodeGroupData, Replicas: ptr.To[int32](2)},
			},
		},
	}
	for _, opt := range opts {
		opt(c)
	}
	return c
}

// WithoutTLS turns TLS off.
func WithoutTLS() ClusterOption {
	return func(c *implyv1alpha1.ImplyCluster) {
		c.Spec.Security = &implyv1alpha1.SecuritySpec{TLS: &implyv1alpha1.TLSSpec{Enabled: false}}
	}
}

// WithGroup adds a node group.
func WithGroup(name string, t implyv1alpha1.NodeGroupType, replicas int32) ClusterOption {
	return func(c *implyv1alpha1.ImplyCluster) {
		c.Spec.NodeGroups = append(c.Spec.NodeGroups, implyv1alpha1.NodeGroupSpec{Name: name, Type: t, Replicas: ptr.To(replicas)})
	}
}

// Secrets returns the Secrets a default test ImplyCluster references, with harmless values.
func Secrets(namespace string) []*corev1.Secret {
	mk := func(name string, data map[string]string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}, StringData: data}
	}
	return []*corev1.Secret{
		mk(LicenseSecret, map[string]string{"IMPLY_MANAGER_LICENSE_KEY": "test-license"}),
		mk(MetadataSecret, map[string]string{"username": "druid", "password": "test-metadata-password"}),
		mk(DeepStorageSecret, map[string]string{"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}),
	}
}

// WithAuth turns on Druid basic security with the Agent AuthToken tokenRef (none when empty)
// and the SecurityPolicy policyRef (none when empty), keeping the TLS settings.
func WithAuth(tokenRef, policyRef string) ClusterOption {
	return func(c *implyv1alpha1.ImplyCluster) {
		if c.Spec.Security == nil {
			c.Spec.Security = &implyv1alpha1.SecuritySpec{TLS: &implyv1alpha1.TLSSpec{Enabled: true}}
		}
		c.Spec.Security.Auth = &implyv1alpha1.AuthSpec{}
		if tokenRef != "" {
			c.Spec.Security.Auth.TokenRef = &implyv1alpha1.LocalObjectReference{Name: tokenRef}
		}
		if policyRef != "" {
			c.Spec.Security.SecurityPolicyRef = &implyv1alpha1.LocalObjectReference{Name: policyRef}
		}
	}
}
