package implycluster

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

var _ = Describe("ImplyCluster exposure and NetworkPolicies", func() {
	It("makes zero writes when re-reconciling an unchanged cluster with every exposure, policy and pod setting", func() {
		ns := newNamespace("ic-expose-zero")
		createSecrets(ns)
		c := testobj.ImplyCluster("c", ns)
		c.Spec.NetworkPolicy = &implyv1alpha1.NetworkPolicySpec{
			Clients:   []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8"}}},
			ZooKeeper: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}}},
			Operator:  []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "ops"}}}},
			ExtraEgress: []networkingv1.NetworkPolicyEgressRule{{
				Ports: []networkingv1.NetworkPolicyPort{{Port: ptr.To(intstr.FromInt32(8020))}},
			}},
		}
		c.Spec.Exposure = &implyv1alpha1.ExposureSpec{
			Manager: &implyv1alpha1.ServiceExposure{Type: corev1.ServiceTypeLoadBalancer, LoadBalancerSourceRanges: []string{"10.0.0.0/8"},
				Annotations: map[string]string{"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}},
			Router: &implyv1alpha1.ServiceExposure{Type: corev1.ServiceTypeNodePort},
			Ingress: &implyv1alpha1.IngressSpec{
				Rules: []implyv1alpha1.IngressRule{{Backend: implyv1alpha1.IngressBackendPivot}},
				TLS:   []networkingv1.IngressTLS{{Hosts: []string{"pivot.example.com"}, SecretName: "pivot-tls"}},
			},
		}
		c.Spec.Manager.Pod = &implyv1alpha1.PodOverrides{ServiceAccountName: "manager-sa", Annotations: map[string]string{"note": "m"}}
		c.Spec.NodeGroups[0].Pod = &implyv1alpha1.PodOverrides{
			ServiceAccountName: "master-sa", PriorityClassName: "high", TerminationGracePeriodSeconds: ptr.To(int64(120)),
			Labels:         map[string]string{"team": "a"},
			Volumes:        []implyv1alpha1.PodVolume{{Volume: corev1.Volume{Name: "x", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "x"}}}}},
			VolumeMounts:   []corev1.VolumeMount{{Name: "x", MountPath: "/etc/x"}},
			InitContainers: []implyv1alpha1.PodContainer{{Container: corev1.Container{Name: "init", Image: "busybox"}}},
			Sidecars:       []implyv1alpha1.PodContainer{{Container: corev1.Container{Name: "side", Image: "busybox"}}},
			TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{
				MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: corev1.ScheduleAnyway,
			}},
		}
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(condition(g, c, implyv1alpha1.ConditionReady)).NotTo(BeNil())
			var ing networkingv1.Ingress
			g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c"}, &ing)).To(Succeed())
		}).WithTimeout(settle).Should(Succeed())
		markWorkloadsReady(c)
		Eventually(func(g Gomega) {
			g.Expect(condition(g, c, implyv1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
		}).WithTimeout(settle).Should(Succeed())
		waitQuiet(ns)

		counter := &writeCounter{}
		direct, err := client.New(counter.Wrap(cfg), client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())
		r := &Reconciler{Client: direct, APIReader: direct, Scheme: scheme, Recorder: noEvents{}, Clock: clock.RealClock{}}
		for range 3 {
			_, err := r.Reconcile(testCtx, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(c)})
			Expect(err).NotTo(HaveOccurred())
		}
		Expect(counter.Since(0)).To(BeEmpty(), "status writes: %v", counter.StatusBodies())
	})

	It("creates the NetworkPolicies by default, updates them with the spec and deletes them when switched off", func() {
		ns := newNamespace("ic-netpol")
		createSecrets(ns)
		c := testobj.ImplyCluster("c", ns)
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())

		policy := func(g Gomega, role string) *networkingv1.NetworkPolicy {
			var np networkingv1.NetworkPolicy
			g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-" + role}, &np)).To(Succeed())
			return &np
		}
		Eventually(func(g Gomega) {
			for _, role := range []string{"manager", "master", "query", "data"} {
				np := policy(g, role)
				g.Expect(metav1.IsControlledBy(np, c)).To(BeTrue())
				g.Expect(np.Labels).To(HaveKeyWithValue(specs.LabelManagedBy, specs.ManagedBy))
			}
			g.Expect(policy(g, "query").Spec.Ingress).To(HaveLen(1), "no clients: only the cluster's own pods")
		}).WithTimeout(settle).Should(Succeed())

		By("opening the user-facing ports to the clients the spec names")
		Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(c), c)).To(Succeed())
		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.NetworkPolicy = &implyv1alpha1.NetworkPolicySpec{Clients: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.20.0.0/16"}}}}
		Expect(k8sClient.Patch(testCtx, c, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			in := policy(g, "query").Spec.Ingress
			g.Expect(in).To(HaveLen(2))
			g.Expect(in[1].From[0].IPBlock.CIDR).To(Equal("10.20.0.0/16"))
			g.Expect(in[1].Ports).To(HaveLen(2))
		}).WithTimeout(settle).Should(Succeed())

		By("reverting a hand edit")
		np := policy(Default, "data")
		np.Spec.Ingress = nil
		Expect(k8sClient.Update(testCtx, np)).To(Succeed())
		Eventually(func(g Gomega) { g.Expect(policy(g, "data").Spec.Ingress).To(HaveLen(1)) }).WithTimeout(settle).Should(Succeed())

		By("deleting every policy when switched off")
		Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(c), c)).To(Succeed())
		patch = client.MergeFrom(c.DeepCopy())
		c.Spec.NetworkPolicy.Enabled = ptr.To(false)
		Expect(k8sClient.Patch(testCtx, c, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			var list networkingv1.NetworkPolicyList
			g.Expect(k8sClient.List(testCtx, &list, client.InNamespace(ns))).To(Succeed())
			g.Expect(list.Items).To(BeEmpty())
		}).WithTimeout(settle).Should(Succeed())
	})

	It("shapes the manager's Service, creates the router and Pivot Services and the Ingress, and removes them with the spec", func() {
		ns := newNamespace("ic-expose")
		createSecrets(ns)
		c := testobj.ImplyCluster("c", ns)
		c.Spec.Exposure = &implyv1alpha1.ExposureSpec{
			Manager: &implyv1alpha1.ServiceExposure{
				Type:                     corev1.ServiceTypeLoadBalancer,
				Annotations:              map[string]string{"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"},
				LoadBalancerSourceRanges: []string{"10.0.0.0/8"},
			},
			Router: &implyv1alpha1.ServiceExposure{},
			Ingress: &implyv1alpha1.IngressSpec{
				ClassName: ptr.To("nginx"),
				Rules: []implyv1alpha1.IngressRule{
					{Host: "imply.example.com", Backend: implyv1alpha1.IngressBackendManager},
					{Host: "pivot.example.com", Backend: implyv1alpha1.IngressBackendPivot},
				},
			},
		}
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())

		get := func(g Gomega, obj client.Object, name string) {
			g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: name}, obj)).To(Succeed())
		}
		Eventually(func(g Gomega) {
			var manager, router, pivot corev1.Service
			get(g, &manager, "c-manager")
			g.Expect(manager.Spec.Type).To(Equal(corev1.ServiceTypeLoadBalancer))
			g.Expect(manager.Spec.LoadBalancerSourceRanges).To(Equal([]string{"10.0.0.0/8"}))
			g.Expect(manager.Annotations).To(HaveKeyWithValue("service.beta.kubernetes.io/aws-load-balancer-scheme", "internal"))
			get(g, &router, "c-router")
			g.Expect(router.Spec.Ports[0].Port).To(Equal(int32(9088)))
			get(g, &pivot, "c-pivot")
			var ing networkingv1.Ingress
			get(g, &ing, "c")
			g.Expect(metav1.IsControlledBy(&ing, c)).To(BeTrue())
			g.Expect(ing.Spec.Rules).To(HaveLen(2))
			g.Expect(ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Port.Name).To(Equal("https"))
		}).WithTimeout(settle).Should(Succeed())

		By("going back to the defaults")
		Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(c), c)).To(Succeed())
		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.Exposure = nil
		Expect(k8sClient.Patch(testCtx, c, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			var manager corev1.Service
			get(g, &manager, "c-manager")
			g.Expect(manager.Spec.Type).To(Equal(corev1.ServiceTypeClusterIP))
			g.Expect(manager.Spec.LoadBalancerSourceRanges).To(BeEmpty())
			for _, obj := range []client.Object{
				&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "c-router"}},
				&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "c-pivot"}},
				&networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "c"}},
			} {
				err := k8sClient.Get(testCtx, client.ObjectKeyFromObject(obj), obj)
				g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%T %s: %v", obj, obj.GetName(), err)
			}
		}).WithTimeout(settle).Should(Succeed())
	})
})
