package specs

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// Keys of a certificate Secret (<cluster>-<group>-tls, <cluster>-manager-tls).
const (
	TLSCertKey          = "tls.crt"
	TLSPrivateKeyKey    = "tls.key"
	TLSCAKey            = "ca.crt"
	KeystoreKey         = "keystore.p12"
	TruststoreKey       = "truststore.p12"
	KeystorePasswordKey = "keystore-password"
)

// Keys of a certificate Secret of a node group that hold its Druid client certificate, when
// requireClientCertificate: the certificate signed by the client CA (<cluster>-client-ca), its
// key, that CA, and PKCS#12 stores of both (encrypted with keystore-password).
const (
	ClientCertKey       = "client.crt"
	ClientPrivateKeyKey = "client.key"
	ClientCAKey         = "client-ca.crt"
	ClientKeystoreKey   = "client-keystore.p12"
	ClientTruststoreKey = "client-truststore.p12"
)

// ClientMaterialKeys are the keys of a certificate Secret that hold the client certificate.
var ClientMaterialKeys = []string{ClientCertKey, ClientPrivateKeyKey, ClientCAKey, ClientKeystoreKey, ClientTruststoreKey}

// MutualTLS says whether c's Druid servers require client certificates.
func MutualTLS(c *implyv1alpha1.ImplyCluster) bool {
	return TLSEnabled(c) && c.Spec.Security.TLS.RequireClientCertificate
}

// Keys of the generated CA's Secret (<cluster>-ca) and of the client CA's (<cluster>-client-ca).
const (
	CACertKey       = "ca.crt"
	CAPrivateKeyKey = "ca.key"
)

// keystoreTypePKCS12 is the keystore and truststore type of every store the operator writes.
const keystoreTypePKCS12 = "pkcs12"

// EnvKeystorePassword carries the keystore and truststore password into the agents and the
// manager; Druid reads it through its environment password provider.
const EnvKeystorePassword = "IMPLY_TLS_KEYSTORE_PASSWORD"

// TLSVolumeName is the volume of the certificate Secret, mounted at TLSMountPath.
const TLSVolumeName = "tls"

// TLSProtocols are the TLS versions Druid accepts for the spec's minVersion: TLSv1.2 and
// TLSv1.3, or TLSv1.3 only.
func TLSProtocols(c *implyv1alpha1.ImplyCluster) []string {
	if c.Spec.Security != nil && c.Spec.Security.TLS != nil && c.Spec.Security.TLS.MinVersion == "1.3" {
		return []string{"TLSv1.3"}
	}
	return []string{"TLSv1.2", "TLSv1.3"}
}

// tlsRuntimeProperties are the common properties that make every Druid service serve and call
// https with the group's PKCS#12 keystore and the cluster's truststore, passwords through the
// environment password provider. Empty when TLS is off.
//
// With requireClientCertificate, a server trusts as clients only the certificates of the
// cluster's client CA (client-truststore.p12, which holds that CA alone), and every process
// calls others with its client certificate (client-keystore.p12); the serving keystore and
// truststore stay as they are.
func tlsRuntimeProperties(c *implyv1alpha1.ImplyCluster) map[string]string {
	if !TLSEnabled(c) {
		return nil
	}
	password := environmentPassword(EnvKeystorePassword)
	keystore, truststore := TLSMountPath+"/"+KeystoreKey, TLSMountPath+"/"+TruststoreKey
	protocols := TLSProtocols(c)
	mtls := c.Spec.Security.TLS.RequireClientCertificate
	p := map[string]string{
		"druid.server.https.keyStorePath":             keystore,
		"druid.server.https.keyStoreType":             keystoreTypePKCS12,
		"druid.server.https.keyStorePassword":         password,
		"druid.server.https.keyManagerPassword":       password,
		"druid.server.https.includeProtocols":         mustJSON(protocols),
		"druid.server.https.requireClientCertificate": boolString(mtls),
		"druid.client.https.protocol":                 protocols[len(protocols)-1],
		"druid.client.https.trustStorePath":           truststore,
		"druid.client.https.trustStoreType":           keystoreTypePKCS12,
		"druid.client.https.trustStorePassword":       password,
		"druid.client.https.validateHostnames":        "true",
	}
	if mtls {
		clientKeystore, clientTruststore := TLSMountPath+"/"+ClientKeystoreKey, TLSMountPath+"/"+ClientTruststoreKey
		p["druid.server.https.trustStorePath"] = clientTruststore
		p["druid.server.https.trustStoreType"] = keystoreTypePKCS12
		p["druid.server.https.trustStorePassword"] = password
		// The server cannot check a client's name: it only sees the peer's pod IP, which is in
		// no certificate (pods come and go), and client certificates name no host at all. That
		// is sound because the server trusts no CA but the cluster's client CA, which the
		// operator generates per cluster and signs only this cluster's client certificates
		// with, whatever CA (generated, the user's, a cert-manager issuer) signs the serving ones.
		p["druid.server.https.validateHostnames"] = "false"
		p["druid.client.https.keyStorePath"] = clientKeystore
		p["druid.client.https.keyStoreType"] = keystoreTypePKCS12
		p["druid.client.https.keyStorePassword"] = password
		p["druid.client.https.keyManagerPassword"] = password
	}
	return p
}

// boolString is "true" or "false".
func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// addTLSMounts mounts the certificate Secret at TLSMountPath and passes its keystore password
// as EnvKeystorePassword (a secretKeyRef, never a value). It does nothing when TLS is off.
func addTLSMounts(c *implyv1alpha1.ImplyCluster, secretName string, pod *corev1.PodSpec) {
	if !TLSEnabled(c) {
		return
	}
	pod.Volumes = append(pod.Volumes, corev1.Volume{
		Name: TLSVolumeName,
		VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: secretName, DefaultMode: ptr.To(secretFileMode),
		}},
	})
	container := &pod.Containers[0]
	container.VolumeMounts = append(container.VolumeMounts, corev1.VolumeMount{Name: TLSVolumeName, MountPath: TLSMountPath, ReadOnly: true})
	container.Env = append(container.Env, secretEnv(EnvKeystorePassword, secretName, KeystorePasswordKey))
}
