package specs

import (
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

func TestPivotConfig(t *testing.T) {
	g := NewWithT(t)
	c := newCluster(withTLS(false))
	query := group(c, "query")
	g.Expect(PivotConfig(c, query)).To(Equal(PropertiesHeader + "\nport: 9095\n"))
	c = newCluster()
	query = group(c, "query")
	g.Expect(PivotConfig(c, query)).To(Equal(PropertiesHeader + "\nport: 9095\nserverHttpsOptions:\n" +
		"  cert: $read_text(/etc/imply/tls/tls.crt)\n  key: $read_text(/etc/imply/tls/tls.key)\n  minVersion: TLSv1.2\n"))
	c.Spec.Security.TLS.MinVersion = "1.3"
	g.Expect(PivotConfig(c, query)).To(ContainSubstring("minVersion: TLSv1.3\n"))
}

// With auth, Pivot runs with native users and connects to its group's router as Druid's admin
// with the password from a mounted file, never from the ConfigMap.
func TestPivotConfigWithAuth(t *testing.T) {
	g := NewWithT(t)
	c := goldenAuthTLSCluster()
	query := group(c, "query")
	cfg := PivotConfig(c, query)
	g.Expect(cfg).To(ContainSubstring("\nuserMode: native-users\n"))
	g.Expect(cfg).To(ContainSubstring("fixedConnections:\n  - name: druid\n    type: druid\n"))
	g.Expect(cfg).To(ContainSubstring("      - https://sec-query.analytics.svc:9088\n"))
	g.Expect(cfg).To(ContainSubstring("      username: admin\n      password: $read_text(/etc/imply/pivot/druid-password)\n"))

	plain := goldenAuthCluster()
	g.Expect(PivotConfig(plain, group(plain, "query"))).To(ContainSubstring("      - http://sec-query.analytics.svc:8888\n"))
	g.Expect(PivotConfig(newCluster(), group(newCluster(), "query"))).NotTo(ContainSubstring("userMode"))
}

// spec.pivot.settings are rendered after the operator's keys, in key order, as JSON; an owned
// key (rejected at admission) is never rendered over the operator's.
func TestPivotConfigSettings(t *testing.T) {
	g := NewWithT(t)
	c := goldenAuthCluster()
	c.Spec.Pivot = &implyv1alpha1.PivotSpec{Settings: map[string]string{
		"verbose":     "true",
		"appName":     `"Analytics: prod"`,
		"stateStore":  `{"type": "mysql", tablePrefix: imply-state-}`,
		"userMode":    "no-users",
		"port":        "80",
		"licenseFile": "/opt/license: {broken",
		"serverRoot":  "",
		"iframe":      "deny\nport: 80",
	}}
	cfg := PivotConfig(c, group(c, "query"))
	g.Expect(cfg).To(HaveSuffix("\nappName: \"Analytics: prod\"\niframe: \"deny\\nport: 80\"\nlicenseFile: \"/opt/license: {broken\"\n" +
		"serverRoot: \"\"\nstateStore: {\"tablePrefix\":\"imply-state-\",\"type\":\"mysql\"}\nverbose: true\n"))
	g.Expect(cfg).To(ContainSubstring("\nport: 9095\n"))
	g.Expect(cfg).NotTo(ContainSubstring("port: 80\n"))
	g.Expect(cfg).NotTo(ContainSubstring("no-users"))
}

// A query group with auth mounts the admin password for Pivot; other groups and clusters
// without auth do not.
func TestPivotCredentialsMount(t *testing.T) {
	g := NewWithT(t)
	c := goldenAuthTLSCluster()
	for _, ng := range c.Spec.NodeGroups {
		pod := BuildStatefulSet(c, &ng, Revisions{}).Spec.Template.Spec
		v := findVolume(pod.Volumes, PivotCredentialsVolumeName)
		if ng.Type != implyv1alpha1.NodeGroupQuery {
			g.Expect(v).To(BeNil(), ng.Name)
			continue
		}
		g.Expect(v).NotTo(BeNil())
		g.Expect(v.Secret.SecretName).To(Equal("druid-admin"))
		g.Expect(v.Secret.Items).To(Equal([]corev1.KeyToPath{{Key: "pw", Path: PivotDruidPasswordFile}}))
		g.Expect(pod.Containers[0].VolumeMounts).To(ContainElement(corev1.VolumeMount{
			Name: PivotCredentialsVolumeName, MountPath: PivotCredentialsMountPath, ReadOnly: true}))
	}
	plain := goldenPlaintextCluster()
	pod := BuildStatefulSet(plain, group(plain, "query"), Revisions{}).Spec.Template.Spec
	g.Expect(findVolume(pod.Volumes, PivotCredentialsVolumeName)).To(BeNil())
}

func findVolume(vs []corev1.Volume, name string) *corev1.Volume {
	for i := range vs {
		if vs[i].Name == name {
			return &vs[i]
		}
	}
	return nil
}

// spec.pivot.druidCredentialsSecretRef replaces the admin user: Pivot reads the user's name and
// password from its Secret, which the query groups mount, watch and roll on.
func TestPivotDruidCredentialsSecretRef(t *testing.T) {
	g := NewWithT(t)
	c := goldenAuthTLSCluster()
	c.Spec.Pivot = &implyv1alpha1.PivotSpec{DruidCredentialsSecretRef: &implyv1alpha1.LocalObjectReference{Name: "pivot-credentials"}}
	query := group(c, "query")
	g.Expect(PivotConfig(c, query)).To(ContainSubstring("      username: $read_text(/etc/imply/pivot/druid-username)\n" +
		"      password: $read_text(/etc/imply/pivot/druid-password)\n"))
	pod := BuildStatefulSet(c, query, Revisions{}).Spec.Template.Spec
	v := findVolume(pod.Volumes, PivotCredentialsVolumeName)
	g.Expect(v.Secret.SecretName).To(Equal("pivot-credentials"))
	g.Expect(v.Secret.Items).To(Equal([]corev1.KeyToPath{{Key: "username", Path: "druid-username"}, {Key: "password", Path: "druid-password"}}))
	g.Expect(ReferencedSecrets(c)).To(ContainElement(SecretReference{Field: "spec.pivot.druidCredentialsSecretRef", Name: "pivot-credentials", Keys: []string{"username", "password"}}))
	_, agents := PodSecretNames(c)
	g.Expect(agents).To(ContainElement("pivot-credentials"))
}
