package specs

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// contractContainer is what docs/imply-contract.md describes of a pod: its image and pull
// settings, the container's environment, ports and mounts, and the volumes behind them.
type contractContainer struct {
	Image            string                        `json:"image"`
	ImagePullPolicy  corev1.PullPolicy             `json:"imagePullPolicy,omitempty"`
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`
	Env              []corev1.EnvVar               `json:"env,omitempty"`
	EnvFrom          []corev1.EnvFromSource        `json:"envFrom,omitempty"`
	Ports            []corev1.ContainerPort        `json:"ports,omitempty"`
	VolumeMounts     []corev1.VolumeMount          `json:"volumeMounts,omitempty"`
	Volumes          []corev1.Volume               `json:"volumes,omitempty"`
}

func contractOf(pod *corev1.PodSpec) contractContainer {
	ctr := pod.Containers[0]
	return contractContainer{
		Image: ctr.Image, ImagePullPolicy: ctr.ImagePullPolicy, ImagePullSecrets: pod.ImagePullSecrets,
		Env: ctr.Env, EnvFrom: ctr.EnvFrom, Ports: ctr.Ports, VolumeMounts: ctr.VolumeMounts, Volumes: pod.Volumes,
	}
}

// contractPods builds the pods of c as the controller does (the builders, then the agent token
// of tokenRef and the security policy), keyed "manager" and by node group.
func contractPods(c *implyv1alpha1.ImplyCluster) map[string]*corev1.PodSpec {
	withToken := func(*corev1.PodSpec) {}
	if AuthEnabled(c) && c.Spec.Security.Auth.TokenRef != nil {
		withToken = func(pod *corev1.PodSpec) {
			WithAgentToken(pod, AuthTokenSecretName(c.Spec.Security.Auth.TokenRef.Name), AuthTokenKey)
		}
	}
	pods := map[string]*corev1.PodSpec{}
	for i := range c.Spec.NodeGroups {
		sts := BuildStatefulSet(c, &c.Spec.NodeGroups[i], Revisions{})
		withToken(&sts.Spec.Template.Spec)
		pods[c.Spec.NodeGroups[i].Name] = &sts.Spec.Template.Spec
	}
	manager := BuildManagerDeployment(c, Revisions{})
	WithSecurityPolicy(manager, c)
	withToken(&manager.Spec.Template.Spec)
	pods[ComponentManager] = &manager.Spec.Template.Spec
	return pods
}

// goldenContractCluster has every feature that adds to the pods: TLS with mTLS, a user CA shared
// with the manager, auth with LDAP, a token and a policy, a license, the manager's own store with
// a client certificate, deep-storage credentials, images with pull settings, Pivot's own Druid
// user.
func goldenContractCluster() *implyv1alpha1.ImplyCluster {
	c := goldenAuthLDAPCluster()
	c.Name = "full"
	c.Spec.Security.TLS.RequireClientCertificate = true
	c.Spec.Security.TLS.CA = &implyv1alpha1.CASpec{SecretRef: &implyv1alpha1.LocalObjectReference{Name: "corp-ca"}, ShareKeyWithManager: true}
	c.Spec.Security.SecurityPolicyRef = &implyv1alpha1.LocalObjectReference{Name: "strict"}
	c.Spec.License = &implyv1alpha1.LicenseSpec{SecretRef: implyv1alpha1.SecretKeySelector{Name: "imply-license"}}
	c.Spec.Manager.MetadataStore = &implyv1alpha1.MetadataStoreSpec{
		Type: implyv1alpha1.MetadataStoreMySQL, Host: "manager-db.infra.svc", Database: "imply_manager",
		CredentialsSecretRef: implyv1alpha1.CredentialsSecretReference{Name: "manager-db"},
		TLS:                  &implyv1alpha1.MetadataStoreTLSSpec{ClientCertificate: &implyv1alpha1.ClientCertificateSpec{Generate: true}},
	}
	c.Spec.Druid.DeepStorage = implyv1alpha1.DeepStorageSpec{Type: DeepStorageS3, Path: "s3://segments/full/",
		CredentialsSecretRef: &implyv1alpha1.LocalObjectReference{Name: "s3-creds"}}
	c.Spec.Pivot = &implyv1alpha1.PivotSpec{DruidCredentialsSecretRef: &implyv1alpha1.LocalObjectReference{Name: "pivot-druid-user"}}
	c.Spec.Images = &implyv1alpha1.ImagesSpec{
		Manager: "registry.example.com/imply/manager:2025.01", PullPolicy: corev1.PullIfNotPresent,
		PullSecrets: []corev1.LocalObjectReference{{Name: "imply-registry"}},
	}
	return c
}

// goldenPodCases are the clusters whose pods testdata/pods pins.
func goldenPodCases() map[string]*implyv1alpha1.ImplyCluster {
	return map[string]*implyv1alpha1.ImplyCluster{
		"tls-mysql-s3":               goldenTLSCluster(),
		"plaintext-postgresql-local": goldenPlaintextCluster(),
		"auth-tls":                   goldenAuthTLSCluster(),
		"full":                       goldenContractCluster(),
	}
}

// TestGoldenPods pins the contract of docs/imply-contract.md: the image, environment, ports,
// mounts and volumes of the manager's and every group's pods for four clusters, plaintext to
// every feature. Run `go test ./pkg/specs -update` to rewrite testdata/pods after an intended
// change, review the diff, and update docs/imply-contract.md with it.
func TestGoldenPods(t *testing.T) {
	want := map[string]string{}
	for name, c := range goldenPodCases() {
		for pod, spec := range contractPods(c) {
			out, err := yaml.Marshal(contractOf(spec))
			if err != nil {
				t.Fatal(err)
			}
			want[name+"_"+pod+".yaml.golden"] = string(out)
		}
	}
	dir := filepath.Join("testdata", "pods")
	if *update {
		old, _ := filepath.Glob(filepath.Join(dir, "*.golden"))
		for _, f := range old {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
		}
		for f, v := range want {
			if err := os.WriteFile(filepath.Join(dir, f), []byte(v), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	names := make([]string, 0, len(want))
	for f := range want {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		t.Run(f, func(t *testing.T) {
			g := NewWithT(t)
			got, err := os.ReadFile(filepath.Join(dir, f))
			g.Expect(err).NotTo(HaveOccurred(), "missing golden file; run go test ./pkg/specs -update")
			g.Expect(want[f]).To(Equal(string(got)), "pod %s differs from testdata/pods/%s; run go test ./pkg/specs -update if intended", f, f)
		})
	}
	t.Run("no stale golden files", func(t *testing.T) {
		g := NewWithT(t)
		onDisk, err := filepath.Glob(filepath.Join(dir, "*.golden"))
		g.Expect(err).NotTo(HaveOccurred())
		for _, f := range onDisk {
			g.Expect(want).To(HaveKey(filepath.Base(f)), "testdata/pods/%s is rendered by no test", filepath.Base(f))
		}
	})
}
