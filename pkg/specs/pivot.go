package specs

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// Pivot's configuration (Imply's "Pivot server config", https://docs.imply.io/latest/pivot-config-api/,
// and "Pivot connections API" for the connection's properties).
const (
	// PivotUserModeNativeUsers is Pivot's userMode with auth: Imply's "Imply Manager security"
	// ("Token authentication") runs Pivot with native users once a token enables authentication.
	PivotUserModeNativeUsers = "native-users"
	// PivotConnectionName is the name of the Druid connection the operator gives Pivot.
	PivotConnectionName = "druid"
	// PivotCredentialsVolumeName is the volume of the Druid password Pivot connects with.
	PivotCredentialsVolumeName = "pivot-druid"
	// PivotCredentialsMountPath is where Pivot reads that password, as the file druid-password.
	PivotCredentialsMountPath = "/etc/imply/pivot"
	// PivotDruidPasswordFile is the password's file under PivotCredentialsMountPath.
	PivotDruidPasswordFile = "druid-password"
	// PivotDruidUsernameFile is the user's file under PivotCredentialsMountPath, with
	// spec.pivot.druidCredentialsSecretRef.
	PivotDruidUsernameFile = "druid-username"
)

// pivotCredentialsRef is spec.pivot.druidCredentialsSecretRef, or nil.
func pivotCredentialsRef(c *implyv1alpha1.ImplyCluster) *implyv1alpha1.LocalObjectReference {
	if c.Spec.Pivot == nil {
		return nil
	}
	return c.Spec.Pivot.DruidCredentialsSecretRef
}

// PivotOwnedSettings are the top-level keys of Pivot's config.yaml the operator writes; the API
// rejects them in spec.pivot.settings.
var PivotOwnedSettings = []string{"port", "serverHttpsOptions", "userMode", "fixedConnections"}

// PivotConfig renders Pivot's config.yaml for query group g: port 9095; with TLS an https
// server on the group's certificate (mounted at /etc/imply/tls) with the cluster's minimum TLS
// version; with auth userMode native-users and one fixed Druid connection to the group's
// router, authenticated as Druid's admin user, or the user of spec.pivot.druidCredentialsSecretRef,
// with the files the group mounts (withPivotCredentials), so no credential is in the ConfigMap; then spec.pivot.settings in key
// order, each value read as YAML and written as JSON (which YAML reads as it is), or as a JSON
// string when it is not YAML, so no value can break the file.
func PivotConfig(c *implyv1alpha1.ImplyCluster, g *implyv1alpha1.NodeGroupSpec) string {
	tls := TLSEnabled(c)
	var b strings.Builder
	b.WriteString(PropertiesHeader + "\n")
	fmt.Fprintf(&b, "port: %d\n", Pivot.PlaintextPort)
	if tls {
		minVersion := "TLSv1.2"
		if c.Spec.Security.TLS.MinVersion == "1.3" {
			minVersion = "TLSv1.3"
		}
		b.WriteString("serverHttpsOptions:\n")
		fmt.Fprintf(&b, "  cert: $read_text(%s/tls.crt)\n", TLSMountPath)
		fmt.Fprintf(&b, "  key: $read_text(%s/tls.key)\n", TLSMountPath)
		fmt.Fprintf(&b, "  minVersion: %s\n", minVersion)
	}
	if AuthEnabled(c) {
		fmt.Fprintf(&b, "userMode: %s\n", PivotUserModeNativeUsers)
		b.WriteString("fixedConnections:\n")
		fmt.Fprintf(&b, "  - name: %s\n", PivotConnectionName)
		b.WriteString("    type: druid\n")
		b.WriteString("    title: Druid\n")
		b.WriteString("    queryHosts:\n")
		fmt.Fprintf(&b, "      - %s\n", serviceURL(tls, GroupName(c.Name, g.Name), c.Namespace, Port(Router, tls)))
		b.WriteString("    defaultDbAuthToken:\n")
		b.WriteString("      type: basic-auth\n")
		username := DruidAdminUsername
		if pivotCredentialsRef(c) != nil {
			username = fmt.Sprintf("$read_text(%s/%s)", PivotCredentialsMountPath, PivotDruidUsernameFile)
		}
		fmt.Fprintf(&b, "      username: %s\n", username)
		fmt.Fprintf(&b, "      password: $read_text(%s/%s)\n", PivotCredentialsMountPath, PivotDruidPasswordFile)
	}
	if c.Spec.Pivot != nil {
		for _, k := range slices.Sorted(maps.Keys(c.Spec.Pivot.Settings)) {
			if slices.Contains(PivotOwnedSettings, k) {
				continue // rejected at admission; never rendered over the operator's
			}
			fmt.Fprintf(&b, "%s: %s\n", k, settingJSON(c.Spec.Pivot.Settings[k]))
		}
	}
	return b.String()
}

// settingJSON is a setting's YAML value as one line of JSON, or value as a JSON string when it
// is not one YAML value.
func settingJSON(value string) string {
	var v any
	if err := yaml.Unmarshal([]byte(value), &v); err != nil || strings.TrimSpace(value) == "" {
		return mustJSON(value)
	}
	return mustJSON(v)
}

// withPivotCredentials mounts, in a query group's pod with auth, the Druid admin password
// (DruidAdminPasswordRef) as PivotCredentialsMountPath/druid-password, or the username and
// password of spec.pivot.druidCredentialsSecretRef as druid-username and druid-password, which
// Pivot's Druid connection reads. It does nothing for other groups or without auth.
func withPivotCredentials(c *implyv1alpha1.ImplyCluster, g *implyv1alpha1.NodeGroupSpec, pod *corev1.PodSpec) {
	if !AuthEnabled(c) || g.Type != implyv1alpha1.NodeGroupQuery {
		return
	}
	ref := DruidAdminPasswordRef(c)
	secret, items := ref.Name, []corev1.KeyToPath{{Key: ref.Key, Path: PivotDruidPasswordFile}}
	if user := pivotCredentialsRef(c); user != nil {
		secret = user.Name
		items = []corev1.KeyToPath{
			{Key: defaultUsernameKey, Path: PivotDruidUsernameFile},
			{Key: defaultPasswordKey, Path: PivotDruidPasswordFile},
		}
	}
	pod.Volumes = append(pod.Volumes, corev1.Volume{
		Name: PivotCredentialsVolumeName,
		VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName:  secret,
			Items:       items,
			DefaultMode: ptr.To(secretFileMode),
		}},
	})
	container := &pod.Containers[0]
	container.VolumeMounts = append(container.VolumeMounts, corev1.VolumeMount{
		Name: PivotCredentialsVolumeName, MountPath: PivotCredentialsMountPath, ReadOnly: true,
	})
}
