package specs

import (
	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// Object names of the contract (design.md, "Objects an ImplyCluster c owns"). cluster is the
// ImplyCluster's metadata.name and group a node group's name. The API limits cluster names to 30
// characters and group names to 20, so every name here fits in a 63-character DNS label.

// CASecretName is the Secret of the generated CA: "<cluster>-ca".
func CASecretName(cluster string) string { return cluster + "-ca" }

// ClientCASecretName is the Secret of the CA that signs only Druid client certificates, when
// requireClientCertificate: "<cluster>-client-ca".
func ClientCASecretName(cluster string) string { return cluster + "-client-ca" }

// CABundleName is the ConfigMap of every trusted CA: "<cluster>-ca-bundle".
func CABundleName(cluster string) string { return cluster + "-ca-bundle" }

// GroupTLSSecretName is the TLS Secret of a node group: "<cluster>-<group>-tls".
func GroupTLSSecretName(cluster, group string) string { return cluster + "-" + group + "-tls" }

// ManagerTLSSecretName is the TLS Secret of the Imply Manager: "<cluster>-manager-tls".
func ManagerTLSSecretName(cluster string) string { return cluster + "-manager-tls" }

// GroupIssuedTLSSecretName is the Secret cert-manager issues a node group's leaf into, with
// spec.security.tls.ca.issuerRef: "<cluster>-<group>-tls-issued". Pods never mount it: the
// operator copies its leaf into "<cluster>-<group>-tls" when the CA rotation phase allows.
func GroupIssuedTLSSecretName(cluster, group string) string {
	return GroupTLSSecretName(cluster, group) + IssuedSuffix
}

// ManagerIssuedTLSSecretName is the Secret cert-manager issues the manager's leaf into:
// "<cluster>-manager-tls-issued".
func ManagerIssuedTLSSecretName(cluster string) string {
	return ManagerTLSSecretName(cluster) + IssuedSuffix
}

// IssuedSuffix follows a leaf Secret's name in the name of the Secret cert-manager issues into.
const IssuedSuffix = "-issued"

// DruidCredentialsName is the Secret of the Druid admin and internal-client passwords:
// "<cluster>-druid-credentials".
func DruidCredentialsName(cluster string) string { return cluster + "-druid-credentials" }

// MetadataClientTLSName is the Secret of the generated metadata-store client certificate:
// "<cluster>-metadata-client-tls".
func MetadataClientTLSName(cluster string) string { return cluster + "-metadata-client-tls" }

// CommonConfigName is the ConfigMap of common.runtime.properties: "<cluster>-common-config".
func CommonConfigName(cluster string) string { return cluster + "-common-config" }

// GroupConfigName is the ConfigMap of a node group's per-service configuration:
// "<cluster>-<group>-config".
func GroupConfigName(cluster, group string) string { return cluster + "-" + group + "-config" }

// SecurityPolicyConfigName is the ConfigMap of the manager's policy.json: "<cluster>-security-policy".
func SecurityPolicyConfigName(cluster string) string { return cluster + "-security-policy" }

// ManagerName is the Imply Manager Deployment and its Service: "<cluster>-manager".
func ManagerName(cluster string) string { return cluster + "-manager" }

// ManagerInternalServiceName is the Service agents use to reach the manager: "<cluster>-manager-int".
func ManagerInternalServiceName(cluster string) string { return cluster + "-manager-int" }

// GroupName is a node group's StatefulSet, client Service and PodDisruptionBudget:
// "<cluster>-<group>".
func GroupName(cluster, group string) string { return cluster + "-" + group }

// HeadlessServiceName is a node group's governing headless Service: "<cluster>-<group>-headless".
func HeadlessServiceName(cluster, group string) string { return cluster + "-" + group + "-headless" }

// DruidRoleName is a DruidRole's role name in Druid: spec.roleName, or metadata.name.
func DruidRoleName(role *implyv1alpha1.DruidRole) string {
	if role.Spec.RoleName != "" {
		return role.Spec.RoleName
	}
	return role.Name
}

// RevisionKeyName is the Secret of the key that makes revisions of secret material HMACs:
// "<cluster>-revision-key".
func RevisionKeyName(cluster string) string { return cluster + "-revision-key" }
