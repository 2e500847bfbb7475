package specs

import (
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

func TestManagerDeployment(t *testing.T) {
	g := NewWithT(t)
	c := newCluster()
	d := BuildManagerDeployment(c, Revisions{Auth: "tok"})

	g.Expect(d.Name).To(Equal("c-manager"))
	g.Expect(d.Namespace).To(Equal("ns"))
	g.Expect(d.OwnerReferences).To(BeEmpty())
	g.Expect(d.Labels).To(Equal(Labels("c", "manager", "manager")))
	g.Expect(d.Spec.Selector.MatchLabels).To(Equal(SelectorLabels("c", "manager")))
	g.Expect(d.Spec.Template.Labels).To(Equal(Labels("c", "manager", "manager")))
	g.Expect(d.Spec.Template.Annotations).To(Equal(map[string]string{"imply.operator.dev/auth-revision": "tok"}))
	g.Expect(*d.Spec.Replicas).To(Equal(int32(1)))

	ctr := d.Spec.Template.Spec.Containers[0]
	g.Expect(ctr.Image).To(Equal("imply/manager:2025.01"))
	g.Expect(ctr.Ports).To(Equal([]corev1.ContainerPort{
		{Name: "https", ContainerPort: 9097, Protocol: corev1.ProtocolTCP},
		{Name: "agent", ContainerPort: 9989, Protocol: corev1.ProtocolTCP},
		{Name: "logs", ContainerPort: 9994, Protocol: corev1.ProtocolTCP},
	}))
	g.Expect(ctr.ReadinessProbe.TCPSocket.Port).To(Equal(intstr.FromInt32(9097)))
	g.Expect(ctr.LivenessProbe.TCPSocket.Port).To(Equal(intstr.FromInt32(9097)))

	env := envByName(ctr.Env)
	g.Expect(env).NotTo(HaveKey("IMPLY_MANAGER_LICENSE_KEY"), "no license, no variable")
	g.Expect(env["IMPLY_MANAGER_STORE_TYPE"].Value).To(Equal("mysql"))
	g.Expect(env["IMPLY_MANAGER_STORE_HOST"].Value).To(Equal("mysql"))
	g.Expect(env["IMPLY_MANAGER_STORE_PORT"].Value).To(Equal("3306"))
	g.Expect(env["IMPLY_MANAGER_STORE_DATABASE"].Value).To(Equal("imply_manager"))
	for name, key := range map[string]string{"IMPLY_MANAGER_STORE_USER": "username", "IMPLY_MANAGER_STORE_PASSWORD": "password"} {
		g.Expect(env[name].Value).To(BeEmpty())
		g.Expect(env[name].ValueFrom.SecretKeyRef.Name).To(Equal("db-creds"))
		g.Expect(env[name].ValueFrom.SecretKeyRef.Key).To(Equal(key))
	}
	g.Expect(c.Spec.Druid.MetadataStore.Database).To(Equal("druid"), "defaulting must not modify the spec")

	g.Expect(BuildManagerDeployment(newCluster(withTLS(false)), Revisions{}).Spec.Template.Spec.Containers[0].Ports[0].Name).To(Equal("http"))
}

func TestManagerLicense(t *testing.T) {
	for _, tc := range []struct {
		name    string
		license *implyv1alpha1.LicenseSpec
		wantKey string
	}{
		{"default key", &implyv1alpha1.LicenseSpec{SecretRef: implyv1alpha1.SecretKeySelector{Name: "lic"}}, "IMPLY_MANAGER_LICENSE_KEY"},
		{"custom key", &implyv1alpha1.LicenseSpec{SecretRef: implyv1alpha1.SecretKeySelector{Name: "lic", Key: "license"}}, "license"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			c := newCluster()
			c.Spec.License = tc.license
			env := envByName(BuildManagerDeployment(c, Revisions{}).Spec.Template.Spec.Containers[0].Env)
			g.Expect(env["IMPLY_MANAGER_LICENSE_KEY"].Value).To(BeEmpty())
			g.Expect(env["IMPLY_MANAGER_LICENSE_KEY"].ValueFrom.SecretKeyRef.Name).To(Equal("lic"))
			g.Expect(env["IMPLY_MANAGER_LICENSE_KEY"].ValueFrom.SecretKeyRef.Key).To(Equal(tc.wantKey))
		})
	}
}

func TestManagerOwnMetadataStoreAndPassThrough(t *testing.T) {
	g := NewWithT(t)
	c := newCluster()
	c.Spec.Images = &implyv1alpha1.ImagesSpec{Manager: "my/manager:1", PullPolicy: corev1.PullIfNotPresent}
	c.Spec.Manager = implyv1alpha1.ManagerSpec{
		Replicas:  ptr.To(int32(2)),
		Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("2Gi")}},
		MetadataStore: &implyv1alpha1.MetadataStoreSpec{
			Type: implyv1alpha1.MetadataStorePostgreSQL, Host: "pg", Database: "mgr",
			CredentialsSecretRef: implyv1alpha1.CredentialsSecretReference{Name: "mgr-db", UsernameKey: "u", PasswordKey: "p"},
		},
		NodeSelector: map[string]string{"pool": "system"},
		Tolerations:  []corev1.Toleration{{Key: "system", Operator: corev1.TolerationOpExists}},
		Affinity:     &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{}},
	}
	d := BuildManagerDeployment(c, Revisions{})
	pod := d.Spec.Template.Spec
	ctr := pod.Containers[0]
	env := envByName(ctr.Env)
	g.Expect(*d.Spec.Replicas).To(Equal(int32(2)))
	g.Expect(ctr.Image).To(Equal("my/manager:1"))
	g.Expect(ctr.ImagePullPolicy).To(Equal(corev1.PullIfNotPresent))
	g.Expect(ctr.Resources).To(Equal(c.Spec.Manager.Resources))
	g.Expect(env["IMPLY_MANAGER_STORE_TYPE"].Value).To(Equal("postgresql"))
	g.Expect(env["IMPLY_MANAGER_STORE_PORT"].Value).To(Equal("5432"))
	g.Expect(env["IMPLY_MANAGER_STORE_DATABASE"].Value).To(Equal("mgr"))
	g.Expect(env["IMPLY_MANAGER_STORE_USER"].ValueFrom.SecretKeyRef).To(Equal(&corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: "mgr-db"}, Key: "u"}))
	g.Expect(env["IMPLY_MANAGER_STORE_PASSWORD"].ValueFrom.SecretKeyRef.Key).To(Equal("p"))
	g.Expect(pod.NodeSelector).To(Equal(c.Spec.Manager.NodeSelector))
	g.Expect(pod.Tolerations).To(Equal(c.Spec.Manager.Tolerations))
	g.Expect(pod.Affinity).To(Equal(c.Spec.Manager.Affinity))
}

func TestManagerServices(t *testing.T) {
	for _, tls := range []bool{true, false} {
		t.Run(Scheme(tls), func(t *testing.T) {
			g := NewWithT(t)
			c := newCluster(withTLS(tls))
			ui := corev1.ServicePort{Name: Scheme(tls), Protocol: corev1.ProtocolTCP, AppProtocol: ptr.To(Scheme(tls)),
				Port: 9097, TargetPort: intstr.FromInt32(9097)}

			svc := BuildManagerService(c)
			g.Expect(svc.Name).To(Equal("c-manager"))
			g.Expect(svc.Spec.Ports).To(Equal([]corev1.ServicePort{ui}))

			internal := BuildManagerInternalService(c)
			g.Expect(internal.Name).To(Equal("c-manager-int"))
			g.Expect(internal.Spec.Ports).To(Equal([]corev1.ServicePort{
				{Name: "agent", Protocol: corev1.ProtocolTCP, Port: 9989, TargetPort: intstr.FromString("agent")},
				{Name: "logs", Protocol: corev1.ProtocolTCP, Port: 9994, TargetPort: intstr.FromString("logs")},
				ui,
			}))
			for _, s := range []*corev1.Service{svc, internal} {
				g.Expect(s.Namespace).To(Equal("ns"))
				g.Expect(s.Labels).To(Equal(Labels("c", "manager", "manager")))
				g.Expect(s.Spec.Selector).To(Equal(SelectorLabels("c", "manager")))
				g.Expect(s.Spec.Type).To(Equal(corev1.ServiceTypeClusterIP))
			}
		})
	}
}
