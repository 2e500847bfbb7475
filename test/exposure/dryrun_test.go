package exposure

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// manifest renders objects as one multi-document YAML stream.
func manifest(objs ...client.Object) []byte {
	GinkgoHelper()
	var docs []string
	for _, obj := range objs {
		b, err := yaml.Marshal(obj)
		Expect(err).NotTo(HaveOccurred())
		docs = append(docs, string(b))
	}
	return []byte(strings.Join(docs, "---\n"))
}

// dryRun applies objs with --dry-run=server in namespace ns and returns kubectl's output.
func dryRun(ns string, objs ...client.Object) (string, error) {
	return kubectl(manifest(objs...), "apply", "--dry-run=server", "-n", ns, "-f", "-")
}

// everything builds every optional object and the workloads of c.
func everything(c *implyv1alpha1.ImplyCluster) []client.Object {
	var objs []client.Object
	for _, np := range specs.BuildNetworkPolicies(c) {
		objs = append(objs, np)
	}
	for _, svc := range specs.BuildExposedServices(c) {
		objs = append(objs, svc)
	}
	if ing := specs.BuildIngress(c); ing != nil {
		objs = append(objs, ing)
	}
	manager := specs.BuildManagerService(c)
	specs.ApplyServiceExposure(manager, c.Spec.Exposure.Manager)
	d := specs.BuildManagerDeployment(c, specs.Revisions{})
	Expect(specs.ApplyManagerPodOverrides(c, d)).To(BeEmpty())
	objs = append(objs, manager, d)
	for i := range c.Spec.NodeGroups {
		sts := specs.BuildStatefulSet(c, &c.Spec.NodeGroups[i], specs.Revisions{})
		Expect(specs.ApplyGroupPodOverrides(c, i, sts)).To(BeEmpty())
		objs = append(objs, sts)
	}
	return objs
}

// exposedCluster is a cluster that sets every exposure, NetworkPolicy and pod setting.
func exposedCluster(ns string, tls bool) *implyv1alpha1.ImplyCluster {
	c := testobj.ImplyCluster("c", ns)
	c.Spec.Security = &implyv1alpha1.SecuritySpec{TLS: &implyv1alpha1.TLSSpec{Enabled: tls, MinVersion: "1.2"}}
	c.Spec.Security.Auth = &implyv1alpha1.AuthSpec{Druid: implyv1alpha1.DruidAuthSpec{LDAP: &implyv1alpha1.LDAPSpec{URL: "ldaps://ad.corp:3269", BindUser: "cn=druid", BaseDN: "dc=corp", BindPasswordSecretRef: implyv1alpha1.SecretKeySelector{Name: "ldap-bind"}}}}
	c.Spec.NetworkPolicy = &implyv1alpha1.NetworkPolicySpec{
		Clients:   []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8", Except: []string{"10.9.0.0/16"}}}, {NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "ingress-nginx"}}}},
		ZooKeeper: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "zookeeper"}}}},
		ExtraEgress: []networkingv1.NetworkPolicyEgressRule{{
			To:    []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "192.168.10.0/24"}}},
			Ports: []networkingv1.NetworkPolicyPort{{Port: ptr.To(intstr.FromInt32(8020))}},
		}},
	}
	c.Spec.Exposure = &implyv1alpha1.ExposureSpec{
		Manager: &implyv1alpha1.ServiceExposure{
			Type: corev1.ServiceTypeLoadBalancer, LoadBalancerSourceRanges: []string{"10.0.0.0/8"},
			Annotations: map[string]string{"service.beta.kubernetes.io/azure-load-balancer-internal": "true"},
		},
		Router: &implyv1alpha1.ServiceExposure{Type: corev1.ServiceTypeNodePort},
		Ingress: &implyv1alpha1.IngressSpec{
			ClassName: ptr.To("nginx"),
			Annotations: map[string]string{
				"nginx.ingress.kubernetes.io/backend-protocol": "HTTPS",
				"nginx.ingress.kubernetes.io/proxy-ssl-secret": ns + "/c-ca-bundle-secret",
			},
			Rules: []implyv1alpha1.IngressRule{
				{Host: "imply.example.com", Backend: implyv1alpha1.IngressBackendManager},
				{Host: "imply.example.com", Path: "/druid", Backend: implyv1alpha1.IngressBackendRouter},
				{Host: "pivot.example.com", Backend: implyv1alpha1.IngressBackendPivot},
			},
			TLS: []networkingv1.IngressTLS{{Hosts: []string{"imply.example.com", "pivot.example.com"}, SecretName: "imply-tls"}},
		},
	}
	pod := &implyv1alpha1.PodOverrides{
		ServiceAccountName: "imply",
		Labels:             map[string]string{"azure.workload.identity/use": "true"},
		Annotations:        map[string]string{"iam.gke.io/note": "x"},
		Env:                []corev1.EnvVar{{Name: "GOOGLE_APPLICATION_CREDENTIALS", Value: "/etc/gcs/key.json"}},
		EnvFrom:            []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "extra"}}}},
		Volumes:            []implyv1alpha1.PodVolume{{Volume: corev1.Volume{Name: "gcs", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "gcs"}}}}},
		VolumeMounts:       []corev1.VolumeMount{{Name: "gcs", MountPath: "/etc/gcs", ReadOnly: true}},
		InitContainers: []implyv1alpha1.PodContainer{{Container: corev1.Container{
			Name: "sysctl", Image: "busybox:1.36", Command: []string{"sysctl", "-w", "vm.max_map_count=262144"},
			SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true), RunAsUser: ptr.To(int64(0)), RunAsNonRoot: ptr.To(false), AllowPrivilegeEscalation: ptr.To(true)},
		}}},
		Sidecars:                      []implyv1alpha1.PodContainer{{Container: corev1.Container{Name: "shipper", Image: "fluent-bit:3"}}},
		PriorityClassName:             "system-cluster-critical",
		TopologySpreadConstraints:     []corev1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: corev1.DoNotSchedule}},
		TerminationGracePeriodSeconds: ptr.To(int64(86400)),
	}
	for i := range c.Spec.NodeGroups {
		c.Spec.NodeGroups[i].Pod = pod.DeepCopy()
	}
	c.Spec.Manager.Pod = pod.DeepCopy()
	return c
}

var _ = Describe("kubectl apply --dry-run=server", func() {
	It("accepts the NetworkPolicies, Ingress, Services and pod templates of a fully exposed cluster, with and without TLS", func() {
		ns := "dryrun"
		_, err := kubectl(nil, "create", "namespace", ns)
		Expect(err).NotTo(HaveOccurred())
		for _, tls := range []bool{true, false} {
			c := exposedCluster(ns, tls)
			objs := everything(c)
			Expect(objs).To(ContainElement(BeAssignableToTypeOf(&networkingv1.Ingress{})))
			out, err := dryRun(ns, objs...)
			Expect(err).NotTo(HaveOccurred(), "TLS %v", tls)
			for _, want := range []string{
				"networkpolicy.networking.k8s.io/c-manager created (server dry run)",
				"networkpolicy.networking.k8s.io/c-master created (server dry run)",
				"networkpolicy.networking.k8s.io/c-query created (server dry run)",
				"networkpolicy.networking.k8s.io/c-data created (server dry run)",
				"ingress.networking.k8s.io/c created (server dry run)",
				"service/c-router created (server dry run)",
				"service/c-pivot created (server dry run)",
				"service/c-manager created (server dry run)",
				"deployment.apps/c-manager created (server dry run)",
				"statefulset.apps/c-data created (server dry run)",
			} {
				Expect(out).To(ContainSubstring(want), "TLS %v", tls)
			}
		}

		By("the defaults: NetworkPolicies only, with mTLS probes")
		c := testobj.ImplyCluster("d", ns)
		c.Spec.Security = &implyv1alpha1.SecuritySpec{TLS: &implyv1alpha1.TLSSpec{Enabled: true, RequireClientCertificate: true}}
		var objs []client.Object
		for _, np := range specs.BuildNetworkPolicies(c) {
			objs = append(objs, np)
		}
		for i := range c.Spec.NodeGroups {
			objs = append(objs, specs.BuildStatefulSet(c, &c.Spec.NodeGroups[i], specs.Revisions{}))
		}
		out, err := dryRun(ns, objs...)
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.Count(out, "created (server dry run)")).To(Equal(7))
	})

	It("fails when the apiserver refuses what it is sent, so the acceptance above means something", func() {
		ns := "dryrun-negative"
		_, err := kubectl(nil, "create", "namespace", ns)
		Expect(err).NotTo(HaveOccurred())
		c := testobj.ImplyCluster("c", ns)
		np := specs.BuildNetworkPolicies(c)[3] // data: the peon range has an endPort
		np.Spec.Ingress[0].Ports[2].EndPort = ptr.To(int32(1))
		_, err = dryRun(ns, np)
		Expect(err).To(MatchError(ContainSubstring("endPort")))

		c.Spec.NodeGroups[0].Pod = &implyv1alpha1.PodOverrides{Sidecars: []implyv1alpha1.PodContainer{{Container: corev1.Container{Name: "no-image"}}}}
		sts := specs.BuildStatefulSet(c, &c.Spec.NodeGroups[0], specs.Revisions{})
		Expect(specs.ApplyGroupPodOverrides(c, 0, sts)).To(BeEmpty())
		_, err = dryRun(ns, sts)
		Expect(err).To(MatchError(ContainSubstring("image")))
	})
})
