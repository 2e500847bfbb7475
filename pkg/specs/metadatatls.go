package specs

import (
	"crypto/x509"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
)

// TLS to the metadata store (spec.druid.metadataStore.tls and spec.manager.metadataStore.tls).
//
// The operator writes one Secret per store holding what the JDBC drivers read, in the formats
// they read, and every pod that connects to the store mounts it read-only at
// MetadataTLSMountPath:
//
//	ca.crt             the server's CA(s), PEM        pgjdbc sslrootcert
//	truststore.p12     the same CA(s), PKCS#12        Connector/J trustCertificateKeyStoreUrl
//	tls.crt            client certificate, PEM        pgjdbc sslcert
//	tls.key            client key, PKCS#8 PEM         (kubernetes.io/tls)
//	tls.pk8            client key, PKCS#8 DER         pgjdbc sslkey
//	keystore.p12       client key + chain, PKCS#12    Connector/J clientCertificateKeyStoreUrl
//	keystore-password  password of both PKCS#12 files, passed as EnvMetadataTLSPassword
//
// With a client certificate the Secret is <cluster>-metadata-client-tls (kubernetes.io/tls,
// all keys); without one it is <cluster>-metadata-tls (Opaque, the trust keys only). The manager's
// own store (spec.manager.metadataStore) gets <cluster>-manager-metadata[-client]-tls. When the
// server is verified against the JVM's system roots and there is no client certificate, nothing is
// mounted.

// Paths, keys and names of the metadata-store TLS material.
const (
	// MetadataTLSMountPath is where the store's TLS Secret is mounted in agents and the manager.
	MetadataTLSMountPath = "/etc/imply/metadata-tls"
	// MetadataTLSVolumeName is the volume of the store's TLS Secret.
	MetadataTLSVolumeName = "metadata-tls"
	// ClientKeyPK8Key is the client key as unencrypted PKCS#8 DER, the form pgjdbc reads.
	ClientKeyPK8Key = "tls.pk8"
	// EnvMetadataTLSPassword carries the store's keystore and truststore password; Druid reads
	// it through its environment password provider.
	EnvMetadataTLSPassword = "IMPLY_METADATA_TLS_PASSWORD"
	// DefaultMetadataCAKey is the default key of tls.caSecretRef.
	DefaultMetadataCAKey = "ca.crt"
	// PostgresDefaultJavaSSLFactory is pgjdbc's SSL socket factory that uses the JVM's default
	// trust store (its system roots), for a store verified without a CA of ours.
	PostgresDefaultJavaSSLFactory = "org.postgresql.ssl.DefaultJavaSSLFactory"
	// MySQLSSLModeVerifyIdentity is Connector/J's sslMode that verifies the server's certificate
	// and its host name.
	MySQLSSLModeVerifyIdentity = "VERIFY_IDENTITY"
	// PostgresSSLModeVerifyFull is pgjdbc's sslmode that verifies the server's certificate and
	// its host name.
	PostgresSSLModeVerifyFull = "verify-full"
)

// MetadataStoreRole says whose connection a metadata store is: Druid's or the manager's own.
type MetadataStoreRole string

// The two metadata-store connections.
const (
	// MetadataStoreDruid is spec.druid.metadataStore (also the manager's when it has none).
	MetadataStoreDruid MetadataStoreRole = "druid"
	// MetadataStoreManager is spec.manager.metadataStore.
	MetadataStoreManager MetadataStoreRole = "manager"
)

// MetadataTrust is what the server certificate of a store is verified against.
type MetadataTrust string

// Trust sources, in the order they are chosen.
const (
	// MetadataTrustNone: the store is plaintext (tls.enabled: false).
	MetadataTrustNone MetadataTrust = ""
	// MetadataTrustCASecret: the CA in tls.caSecretRef.
	MetadataTrustCASecret MetadataTrust = "CASecret"
	// MetadataTrustClusterBundle: the cluster's CA bundle (<cluster>-ca-bundle).
	MetadataTrustClusterBundle MetadataTrust = "ClusterBundle"
	// MetadataTrustSystem: the JVM's system roots (no caSecretRef, no cluster TLS).
	MetadataTrustSystem MetadataTrust = "System"
)

// MetadataClient is where a store's client certificate comes from.
type MetadataClient string

// Client certificate sources.
const (
	// MetadataClientNone: no client certificate.
	MetadataClientNone MetadataClient = ""
	// MetadataClientGenerate: issued by the operator from the cluster CA, CN = database user.
	MetadataClientGenerate MetadataClient = "Generate"
	// MetadataClientSecretRef: the user's kubernetes.io/tls Secret, converted.
	MetadataClientSecretRef MetadataClient = "SecretRef"
)

// MetadataTLSPlan is what the spec asks of one store connection's TLS, decided without I/O.
type MetadataTLSPlan struct {
	// Role is whose connection this is.
	Role MetadataStoreRole
	// Field is the spec path of the store, for messages ("spec.druid.metadataStore").
	Field string
	// Type of the store.
	Type implyv1alpha1.MetadataStoreType
	// Enabled is true unless tls.enabled is false.
	Enabled bool
	// Trust is what the server certificate is verified against.
	Trust MetadataTrust
	// CASecret is tls.caSecretRef with its key defaulted, when Trust is MetadataTrustCASecret.
	CASecret *implyv1alpha1.SecretKeySelector
	// Client is where the client certificate comes from.
	Client MetadataClient
	// ClientSecretName is the user's client-certificate Secret, with MetadataClientSecretRef.
	ClientSecretName string
	// SecretName is the operator's Secret the pods mount; empty when nothing is mounted.
	SecretName string
	// SecretType is kubernetes.io/tls with a client certificate, else Opaque.
	SecretType corev1.SecretType
}

// HasTrustFiles reports whether the mounted Secret carries ca.crt and truststore.p12.
func (p MetadataTLSPlan) HasTrustFiles() bool {
	return p.Trust == MetadataTrustCASecret || p.Trust == MetadataTrustClusterBundle
}

// MetadataStoreTLSEnabled reports whether connections to ms use TLS: always, unless
// tls.enabled is explicitly false.
func MetadataStoreTLSEnabled(ms *implyv1alpha1.MetadataStoreSpec) bool {
	return ms.TLS == nil || ms.TLS.Enabled == nil || *ms.TLS.Enabled
}

// metadataStoreOf returns the store of role and its spec path. The manager without a store of
// its own uses Druid's (see ManagerMetadataStore), so its role is then MetadataStoreDruid.
func metadataStoreOf(c *implyv1alpha1.ImplyCluster, role MetadataStoreRole) (*implyv1alpha1.MetadataStoreSpec, string) {
	if role == MetadataStoreManager && c.Spec.Manager.MetadataStore != nil {
		return c.Spec.Manager.MetadataStore, "spec.manager.metadataStore"
	}
	return &c.Spec.Druid.MetadataStore, "spec.druid.metadataStore"
}

// ManagerMetadataStoreRole is the role of the manager's store connection: MetadataStoreManager
// when spec.manager.metadataStore is set, else MetadataStoreDruid (the shared store and Secret).
func ManagerMetadataStoreRole(c *implyv1alpha1.ImplyCluster) MetadataStoreRole {
	if c.Spec.Manager.MetadataStore != nil {
		return MetadataStoreManager
	}
	return MetadataStoreDruid
}

// MetadataTLSSecretName is the operator's Secret of a store connection: <cluster>-metadata-tls,
// or <cluster>-metadata-client-tls with a client certificate; the manager's own store has
// "manager-" after the cluster name.
func MetadataTLSSecretName(cluster string, role MetadataStoreRole, client bool) string {
	prefix := cluster + "-"
	if role == MetadataStoreManager {
		prefix += "manager-"
	}
	if client {
		return prefix + "metadata-client-tls"
	}
	return prefix + "metadata-tls"
}

// PlanMetadataTLS decides the TLS of a store connection from the spec: enabled unless
// tls.enabled is false; trust from tls.caSecretRef, else the cluster's CA bundle when the
// cluster runs TLS, else the JVM's system roots; the client certificate from
// tls.clientCertificate. The error names the field when the spec asks for something impossible
// (a generated client certificate without a cluster CA; a PostgreSQL client certificate
// verified against system roots, which pgjdbc cannot combine); the plan is returned either way.
func PlanMetadataTLS(c *implyv1alpha1.ImplyCluster, role MetadataStoreRole) (MetadataTLSPlan, error) {
	ms, field := metadataStoreOf(c, role)
	if role == MetadataStoreManager && c.Spec.Manager.MetadataStore == nil {
		role = MetadataStoreDruid
	}
	plan := MetadataTLSPlan{Role: role, Field: field, Type: ms.Type, Enabled: MetadataStoreTLSEnabled(ms)}
	if !plan.Enabled {
		return plan, nil
	}
	var spec implyv1alpha1.MetadataStoreTLSSpec
	if ms.TLS != nil {
		spec = *ms.TLS
	}
	switch {
	case spec.CASecretRef != nil:
		plan.Trust = MetadataTrustCASecret
		plan.CASecret = &implyv1alpha1.SecretKeySelector{
			Name: spec.CASecretRef.Name, Key: spec.CASecretRef.KeyOrDefault(DefaultMetadataCAKey),
		}
	case TLSEnabled(c):
		plan.Trust = MetadataTrustClusterBundle
	default:
		plan.Trust = MetadataTrustSystem
	}
	var err error
	if cc := spec.ClientCertificate; cc != nil {
		switch {
		case cc.SecretRef != nil:
			plan.Client, plan.ClientSecretName = MetadataClientSecretRef, cc.SecretRef.Name
		case cc.Generate:
			plan.Client = MetadataClientGenerate
			if !TLSEnabled(c) {
				err = fmt.Errorf("%s.tls.clientCertificate.generate needs the cluster CA, but spec.security.tls is not enabled; use clientCertificate.secretRef", field)
			}
		}
	}
	if plan.Client != MetadataClientNone && plan.Type == implyv1alpha1.MetadataStorePostgreSQL && plan.Trust == MetadataTrustSystem {
		err = errors.Join(err, fmt.Errorf("%s.tls.caSecretRef is required with a PostgreSQL client certificate when the cluster runs without TLS: pgjdbc cannot verify against the system roots and present a certificate at once", field))
	}
	switch {
	case plan.Client != MetadataClientNone:
		plan.SecretName, plan.SecretType = MetadataTLSSecretName(c.Name, role, true), corev1.SecretTypeTLS
	case plan.HasTrustFiles():
		plan.SecretName, plan.SecretType = MetadataTLSSecretName(c.Name, role, false), corev1.SecretTypeOpaque
	}
	return plan, err
}

// metadataStoreTLSProperties are the properties that make Druid's metadata-store connection use
// TLS as plan says, with Druid's own names (bound by the metadata-storage extensions with
// JsonConfigProvider under "druid.metadata.mysql.ssl" and "druid.metadata.postgres.ssl"; see
// MySQLConnectorSslConfig and PostgreSQLConnectorConfig in apache/druid and the extensions'
// docs, docs/development/extensions-core/{mysql,postgresql}.md). Passwords go through the
// environment password provider. Empty when TLS is off.
func metadataStoreTLSProperties(c *implyv1alpha1.ImplyCluster, plan MetadataTLSPlan) map[string]string {
	if !plan.Enabled {
		return nil
	}
	file := func(key string) string { return MetadataTLSMountPath + "/" + key }
	password := environmentPassword(EnvMetadataTLSPassword)
	client := plan.Client != MetadataClientNone
	if plan.Type == implyv1alpha1.MetadataStorePostgreSQL {
		// PostgreSQLConnector copies each into the pgjdbc property of the same name in lower
		// case (PGProperty.SSL, SSL_MODE, SSL_ROOT_CERT, SSL_CERT, SSL_KEY, SSL_FACTORY). The key
		// is unencrypted PKCS#8 DER, so no sslPassword is needed.
		const pre = "druid.metadata.postgres.ssl."
		p := map[string]string{
			pre + "useSSL":  boolString(true),
			pre + "sslMode": PostgresSSLModeVerifyFull,
		}
		if plan.HasTrustFiles() {
			p[pre+"sslRootCert"] = file(TLSCAKey)
		} else {
			p[pre+"sslFactory"] = PostgresDefaultJavaSSLFactory
		}
		if client {
			p[pre+"sslCert"] = file(TLSCertKey)
			p[pre+"sslKey"] = file(ClientKeyPK8Key)
		}
		return p
	}
	// MySQLConnector passes each to Connector/J as the connection property of the same name
	// (the *KeyStoreUrl paths turned into file: URLs, lists joined with commas). Connector/J
	// maps useSSL + verifyServerCertificate to sslMode=VERIFY_CA, which does not check the host
	// name, so the connect URI adds sslMode=VERIFY_IDENTITY (see JDBCConnectURIWithTLS).
	const pre = "druid.metadata.mysql.ssl."
	p := map[string]string{
		pre + "useSSL":                  boolString(true),
		pre + "verifyServerCertificate": boolString(true),
		pre + "enabledTLSProtocols":     mustJSON(TLSProtocols(c)),
	}
	if plan.HasTrustFiles() {
		p[pre+"trustCertificateKeyStoreUrl"] = file(TruststoreKey)
		p[pre+"trustCertificateKeyStoreType"] = "PKCS12"
		p[pre+"trustCertificateKeyStorePassword"] = password
	}
	if client {
		p[pre+"clientCertificateKeyStoreUrl"] = file(KeystoreKey)
		p[pre+"clientCertificateKeyStoreType"] = "PKCS12"
		p[pre+"clientCertificateKeyStorePassword"] = password
	}
	return p
}

// JDBCConnectURIWithTLS is JDBCConnectURI, plus ?sslMode=VERIFY_IDENTITY for a MySQL store with
// TLS: Connector/J reads sslMode from the URL, and an explicit sslMode wins over the legacy
// useSSL/verifyServerCertificate pair Druid passes.
func JDBCConnectURIWithTLS(ms *implyv1alpha1.MetadataStoreSpec) string {
	uri := JDBCConnectURI(ms)
	if ms.Type == implyv1alpha1.MetadataStoreMySQL && MetadataStoreTLSEnabled(ms) {
		uri += "?sslMode=" + MySQLSSLModeVerifyIdentity
	}
	return uri
}

// addMetadataTLSMounts mounts plan's Secret read-only at MetadataTLSMountPath in the pod's first
// container and passes its keystore password as EnvMetadataTLSPassword (a secretKeyRef). It
// does nothing when the plan mounts nothing.
func addMetadataTLSMounts(plan MetadataTLSPlan, pod *corev1.PodSpec) {
	if !plan.Enabled || plan.SecretName == "" {
		return
	}
	pod.Volumes = append(pod.Volumes, corev1.Volume{
		Name: MetadataTLSVolumeName,
		VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: plan.SecretName, DefaultMode: ptr.To[int32](0o440),
		}},
	})
	container := &pod.Containers[0]
	container.VolumeMounts = append(container.VolumeMounts, corev1.VolumeMount{
		Name: MetadataTLSVolumeName, MountPath: MetadataTLSMountPath, ReadOnly: true,
	})
	container.Env = append(container.Env, secretEnv(EnvMetadataTLSPassword, plan.SecretName, KeystorePasswordKey))
}

// MetadataTrustedCAs returns the CAs a store's server certificate is verified against, for
// MetadataTLSMaterial.Trusted: the certificates of the caSecretRef key (caSecretData is that
// Secret's data; nil when it does not exist), or of the cluster's CA bundle (clusterBundlePEM),
// or none for the system roots. The error names the field and the Secret key, never its data.
func MetadataTrustedCAs(plan MetadataTLSPlan, caSecretData map[string][]byte, clusterBundlePEM []byte) ([]*x509.Certificate, error) {
	var (
		data []byte
		what string
	)
	switch plan.Trust {
	case MetadataTrustCASecret:
		what = fmt.Sprintf("key %q of Secret %q named by %s.tls.caSecretRef", plan.CASecret.Key, plan.CASecret.Name, plan.Field)
		if caSecretData == nil {
			return nil, fmt.Errorf("secret %q named by %s.tls.caSecretRef does not exist", plan.CASecret.Name, plan.Field)
		}
		data = caSecretData[plan.CASecret.Key]
	case MetadataTrustClusterBundle:
		what, data = "the cluster's CA bundle", clusterBundlePEM
	default:
		return nil, nil
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%s is missing or empty", what)
	}
	cas, err := pki.ParseBundle(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return cas, nil
}
