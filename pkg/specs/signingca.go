package specs

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// The CA directory of the manager and the agents. Imply's "Imply Manager security" page ("TLS",
// "Enabling TLS connectivity") has the manager generate certificates for itself and the agents
// from a signing certificate and key, and gives the agents the certificate only, to validate
// them; Imply's Helm chart takes that pair as a kubernetes.io/tls Secret (security.tls.secretName,
// "kubectl create secret tls imply-ca --key ca.key --cert ca.crt"). Where the images read it is
// not documented: /etc/imply/ca is the operator's choice (docs/imply-contract.md).
const (
	// CAMountPath holds ca.crt in every pod and, in the manager's when it may sign, ca.key.
	CAMountPath = "/etc/imply/ca"
	// CAVolumeName is the volume mounted at CAMountPath.
	CAVolumeName = "ca"
)

// ManagerSigningCAName is the Secret with the CA certificate and key the manager signs with:
// "<cluster>-manager-ca".
func ManagerSigningCAName(cluster string) string { return cluster + "-manager-ca" }

// ManagerSignsCertificates says whether the manager gets the signing CA's key: with TLS, always
// for the CA the operator generates; for the user's CA (secretRef) only with
// shareKeyWithManager; never for a cert-manager issuer, which keeps its key to itself. Without
// it the manager gets the CA certificate only, as the agents do, and the operator's leaves
// remain the only certificates (see docs/imply-contract.md).
func ManagerSignsCertificates(c *implyv1alpha1.ImplyCluster) bool {
	if !TLSEnabled(c) {
		return false
	}
	ca := c.Spec.Security.TLS.CA
	switch {
	case ca == nil || ca.Generate != nil:
		return true
	case ca.SecretRef != nil:
		return ca.ShareKeyWithManager
	default:
		return false
	}
}

// BuildManagerSigningCASecret builds <cluster>-manager-ca with the current signing CA: ca.crt
// and ca.key, PEM. The controller writes it only when ManagerSignsCertificates.
func BuildManagerSigningCASecret(c *implyv1alpha1.ImplyCluster, certPEM, keyPEM []byte) *corev1.Secret {
	s := BuildClusterSecret(c, ManagerSigningCAName(c.Name), corev1.SecretTypeOpaque, map[string][]byte{
		CACertKey:       append([]byte(nil), certPEM...),
		CAPrivateKeyKey: append([]byte(nil), keyPEM...),
	})
	s.Labels = managerLabels(c)
	return s
}

// addCAMount mounts the CA directory into the pod's first container with TLS: the manager's
// signing CA (certificate and key) when signing is true, else the CA bundle's ca.crt only.
func addCAMount(c *implyv1alpha1.ImplyCluster, pod *corev1.PodSpec, signing bool) {
	if !TLSEnabled(c) {
		return
	}
	v := corev1.Volume{Name: CAVolumeName}
	if signing {
		v.VolumeSource = corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: ManagerSigningCAName(c.Name),
			Items: []corev1.KeyToPath{
				{Key: CACertKey, Path: CACertKey},
				{Key: CAPrivateKeyKey, Path: CAPrivateKeyKey},
			},
			DefaultMode: ptr.To(secretFileMode),
		}}
	} else {
		v.VolumeSource = corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: CABundleName(c.Name)},
			Items:                []corev1.KeyToPath{{Key: TLSCAKey, Path: CACertKey}},
			DefaultMode:          ptr.To(configMapFileMode),
		}}
	}
	pod.Volumes = append(pod.Volumes, v)
	container := &pod.Containers[0]
	container.VolumeMounts = append(container.VolumeMounts, corev1.VolumeMount{Name: CAVolumeName, MountPath: CAMountPath, ReadOnly: true})
}
