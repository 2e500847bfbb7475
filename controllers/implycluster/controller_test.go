package implycluster

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// ownedObjectKeys lists the kind/name of every object a default test cluster c owns.
func ownedObjects(c *implyv1alpha1.ImplyCluster) []client.Object {
	ns, n := c.Namespace, c.Name
	objs := []client.Object{
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: specs.CommonConfigName(n)}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: specs.ManagerName(n)}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: specs.ManagerName(n)}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: specs.ManagerInternalServiceName(n)}},
	}
	for _, g := range c.Spec.NodeGroups {
		objs = append(objs,
			&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: specs.GroupConfigName(n, g.Name)}},
			&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: specs.GroupName(n, g.Name)}},
			&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: specs.GroupName(n, g.Name)}},
			&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: specs.HeadlessServiceName(n, g.Name)}},
			&policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: specs.GroupName(n, g.Name)}},
		)
	}
	return objs
}

var _ = Describe("ImplyCluster workloads", func() {
	It("waits for a missing Secret with Ready=False and a Warning event, then recovers when it appears", func() {
		ns := newNamespace("ic-secret")
		c := testobj.ImplyCluster("c", ns)
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())

		Eventually(func(g Gomega) {
			cond := condition(g, c, implyv1alpha1.ConditionReady)
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(cond.Reason).To(Equal(implyv1alpha1.ReasonSecretNotFound))
			g.Expect(cond.Message).To(ContainSubstring(`Secret "imply-license"`))
			g.Expect(cond.Message).To(ContainSubstring("spec.license.secretRef"))
			g.Expect(meta.IsStatusConditionTrue(c.Status.Conditions, implyv1alpha1.ConditionDegraded)).To(BeTrue())
		}).WithTimeout(settle).Should(Succeed())
		Eventually(func() []eventsv1.Event { return warningEvents(c, implyv1alpha1.ReasonSecretNotFound) }).
			WithTimeout(settle).ShouldNot(BeEmpty())

		By("changing nothing live while the Secret is missing")
		var sets appsv1.StatefulSetList
		Expect(k8sClient.List(testCtx, &sets, client.InNamespace(ns))).To(Succeed())
		Expect(sets.Items).To(BeEmpty())

		By("naming a missing key once the Secret exists without it")
		Expect(k8sClient.Create(testCtx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: testobj.LicenseSecret, Namespace: ns},
			StringData: map[string]string{"wrong-key": "x"},
		})).To(Succeed())
		Eventually(func(g Gomega) {
			cond := condition(g, c, implyv1alpha1.ConditionReady)
			g.Expect(cond.Reason).To(Equal(implyv1alpha1.ReasonSecretKeyNotFound))
			g.Expect(cond.Message).To(ContainSubstring(`no key "IMPLY_MANAGER_LICENSE_KEY"`))
		}).WithTimeout(settle).Should(Succeed())

		By("recovering without a restart once every Secret is right")
		Expect(k8sClient.Delete(testCtx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: testobj.LicenseSecret, Namespace: ns}})).To(Succeed())
		createSecrets(ns)
		Eventually(func(g Gomega) {
			cond := condition(g, c, implyv1alpha1.ConditionReady)
			g.Expect(cond.Reason).To(Equal(implyv1alpha1.ReasonReplicasNotReady))
			g.Expect(meta.IsStatusConditionFalse(c.Status.Conditions, implyv1alpha1.ConditionDegraded)).To(BeTrue())
			g.Expect(meta.IsStatusConditionTrue(c.Status.Conditions, implyv1alpha1.ConditionProgressing)).To(BeTrue())
		}).WithTimeout(settle).Should(Succeed())
	})

	It("creates every owned object with the contract's names, labels and owner, and reports Ready once they are", func() {
		ns := newNamespace("ic-objects")
		createSecrets(ns)
		c := testobj.ImplyCluster("c", ns)
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())

		Eventually(func(g Gomega) {
			for _, obj := range ownedObjects(c) {
				g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(obj), obj)).To(Succeed(), "%T %s", obj, obj.GetName())
			}
		}).WithTimeout(settle).Should(Succeed())

		for _, obj := range ownedObjects(c) {
			Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
			Expect(metav1.IsControlledBy(obj, c)).To(BeTrue(), "%T %s is not controlled by the cluster", obj, obj.GetName())
			Expect(*metav1.GetControllerOf(obj).BlockOwnerDeletion).To(BeTrue())
			labels := obj.GetLabels()
			Expect(labels).To(HaveKeyWithValue("app.kubernetes.io/name", "imply"))
			Expect(labels).To(HaveKeyWithValue("app.kubernetes.io/instance", "c"))
			Expect(labels).To(HaveKeyWithValue("app.kubernetes.io/managed-by", "imply-operator"))
			Expect(labels).To(HaveKeyWithValue("imply.operator.dev/cluster", "c"))
			Expect(labels).To(HaveKey("app.kubernetes.io/component"))
			Expect(labels).To(HaveKey("imply.operator.dev/node-group"))
		}

		By("passing credentials by reference only")
		var data appsv1.StatefulSet
		Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-data"}, &data)).To(Succeed())
		Expect(*data.Spec.Replicas).To(Equal(int32(2)))
		agent := data.Spec.Template.Spec.Containers[0]
		env := map[string]corev1.EnvVar{}
		for _, e := range agent.Env {
			env[e.Name] = e
			Expect(e.Value).NotTo(ContainSubstring("test-metadata-password"))
		}
		Expect(env["IMPLY_MANAGER_HOST"].Value).To(Equal("c-manager-int"))
		Expect(env["IMPLY_MANAGER_AGENT_CLUSTER"].Value).To(Equal("c"))
		Expect(env["IMPLY_MANAGER_AGENT_NODE_TYPE"].Value).To(Equal("data"))
		Expect(env["DRUID_METADATA_STORAGE_PASSWORD"].ValueFrom.SecretKeyRef.Name).To(Equal(testobj.MetadataSecret))
		var manager appsv1.Deployment
		Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-manager"}, &manager)).To(Succeed())
		found := false
		for _, e := range manager.Spec.Template.Spec.Containers[0].Env {
			if e.Name == "IMPLY_MANAGER_LICENSE_KEY" {
				found = true
				Expect(e.Value).To(BeEmpty())
				Expect(e.ValueFrom.SecretKeyRef.Name).To(Equal(testobj.LicenseSecret))
			}
		}
		Expect(found).To(BeTrue(), "the manager gets the license")

		By("shifting the ports for TLS and reporting https endpoints")
		var query corev1.Service
		Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-query"}, &query)).To(Succeed())
		var ports []int32
		for _, p := range query.Spec.Ports {
			ports = append(ports, p.Port)
		}
		Expect(ports).To(ContainElements(int32(8282), int32(9088), int32(9095)))
		var headless corev1.Service
		Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-query-headless"}, &headless)).To(Succeed())
		Expect(headless.Spec.ClusterIP).To(Equal(corev1.ClusterIPNone))
		Expect(headless.Spec.PublishNotReadyAddresses).To(BeTrue())
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(c), c)).To(Succeed())
			g.Expect(c.Status.Endpoints).NotTo(BeNil())
			g.Expect(c.Status.Endpoints.Coordinator).To(Equal("https://c-master." + ns + ".svc:8281"))
			g.Expect(c.Status.Endpoints.Router).To(Equal("https://c-query." + ns + ".svc:9088"))
			g.Expect(c.Status.Endpoints.Manager).To(HavePrefix("https://c-manager." + ns + ".svc:9097"))
			g.Expect(c.Status.NodeGroups).To(HaveLen(3))
			g.Expect(c.Status.ObservedGeneration).To(Equal(c.Generation))
		}).WithTimeout(settle).Should(Succeed())

		By("reporting Ready once every workload is updated and ready")
		markWorkloadsReady(c)
		Eventually(func(g Gomega) {
			cond := condition(g, c, implyv1alpha1.ConditionReady)
			g.Expect(cond.Status).To(Equal(metav1.ConditionTrue), cond.Message)
			g.Expect(meta.IsStatusConditionFalse(c.Status.Conditions, implyv1alpha1.ConditionProgressing)).To(BeTrue())
			g.Expect(c.Status.NodeGroups[2]).To(Equal(implyv1alpha1.NodeGroupStatus{
				Name: "data", Type: implyv1alpha1.NodeGroupData, Replicas: 2, ReadyReplicas: 2, UpdatedReplicas: 2, Revision: "c-data-1",
			}))
		}).WithTimeout(settle).Should(Succeed())
	})

	It("makes zero writes when re-reconciling an unchanged cluster", func() {
		ns := newNamespace("ic-zero")
		createSecrets(ns)
		c := testobj.ImplyCluster("c", ns)
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(condition(g, c, implyv1alpha1.ConditionReady)).NotTo(BeNil())
			for _, obj := range ownedObjects(c) {
				g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
			}
		}).WithTimeout(settle).Should(Succeed())
		markWorkloadsReady(c)
		Eventually(func(g Gomega) {
			g.Expect(condition(g, c, implyv1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
		}).WithTimeout(settle).Should(Succeed())
		// A reconcile that read a workload before and after its status changed is followed by
		// another; let it land.
		waitQuiet(ns)

		counter := &writeCounter{}
		direct, err := client.New(counter.Wrap(cfg), client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())
		r := &Reconciler{Client: direct, APIReader: direct, Scheme: scheme, Recorder: noEvents{}, Clock: clock.RealClock{}}
		for range 5 {
			_, err := r.Reconcile(testCtx, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(c)})
			Expect(err).NotTo(HaveOccurred())
		}
		Expect(counter.Since(0)).To(BeEmpty(), "status writes: %v", counter.StatusBodies())
	})

	It("patches only what a spec change touches and reverts hand edits", func() {
		ns := newNamespace("ic-patch")
		createSecrets(ns)
		c := testobj.ImplyCluster("c", ns)
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		Eventually(func(g Gomega) {
			var sts appsv1.StatefulSet
			g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-data"}, &sts)).To(Succeed())
			g.Expect(condition(g, c, implyv1alpha1.ConditionReady)).NotTo(BeNil())
		}).WithTimeout(settle).Should(Succeed())
		waitQuiet(ns)

		By("scaling the data group")
		mark := operatorWrites.Mark()
		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.NodeGroups[2].Replicas = ptr.To[int32](4)
		Expect(k8sClient.Patch(testCtx, c, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			var sts appsv1.StatefulSet
			g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-data"}, &sts)).To(Succeed())
			g.Expect(*sts.Spec.Replicas).To(Equal(int32(4)))
			g.Expect(condition(g, c, implyv1alpha1.ConditionReady)).NotTo(BeNil())
			g.Expect(c.Status.ObservedGeneration).To(Equal(c.Generation))
		}).WithTimeout(settle).Should(Succeed())
		waitQuiet(ns)
		// A reconcile that read the cluster before its own status write reached the cache may
		// repeat that write; the objects written are what matters.
		Expect(dedupe(nonEventWrites(operatorWrites.Since(mark), ns))).To(ConsistOf(
			"PATCH /apis/apps/v1/namespaces/"+ns+"/statefulsets/c-data",
			"PATCH /apis/imply.operator.dev/v1alpha1/namespaces/"+ns+"/implyclusters/c/status",
		))

		By("reverting a hand edit of the StatefulSet's image and replicas")
		var sts appsv1.StatefulSet
		Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-data"}, &sts)).To(Succeed())
		want := sts.Spec.Template.Spec.Containers[0].Image
		edit := client.MergeFrom(sts.DeepCopy())
		sts.Spec.Template.Spec.Containers[0].Image = "example.com/hacked:1"
		sts.Spec.Replicas = ptr.To[int32](9)
		Expect(k8sClient.Patch(testCtx, &sts, edit)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(&sts), &sts)).To(Succeed())
			g.Expect(sts.Spec.Template.Spec.Containers[0].Image).To(Equal(want))
			g.Expect(*sts.Spec.Replicas).To(Equal(int32(4)))
		}).WithTimeout(settle).Should(Succeed())

		By("reverting a hand edit of the rendered configuration")
		var cm corev1.ConfigMap
		Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-common-config"}, &cm)).To(Succeed())
		original := cm.Data["common.runtime.properties"]
		cmEdit := client.MergeFrom(cm.DeepCopy())
		cm.Data["common.runtime.properties"] = "druid.zk.service.host=evil:2181\n"
		cm.Data["extra"] = "x"
		Expect(k8sClient.Patch(testCtx, &cm, cmEdit)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(&cm), &cm)).To(Succeed())
			g.Expect(cm.Data).To(Equal(map[string]string{"common.runtime.properties": original}))
		}).WithTimeout(settle).Should(Succeed())

		By("deleting the objects of a removed node group")
		c2 := &implyv1alpha1.ImplyCluster{}
		Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(c), c2)).To(Succeed())
		grow := client.MergeFrom(c2.DeepCopy())
		c2.Spec.NodeGroups = append(c2.Spec.NodeGroups, implyv1alpha1.NodeGroupSpec{Name: "hot", Type: implyv1alpha1.NodeGroupData, Replicas: ptr.To[int32](1)})
		Expect(k8sClient.Patch(testCtx, c2, grow)).To(Succeed())
		Eventually(func() error {
			return k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-hot"}, &appsv1.StatefulSet{})
		}).WithTimeout(settle).Should(Succeed())
		shrink := client.MergeFrom(c2.DeepCopy())
		c2.Spec.NodeGroups = c2.Spec.NodeGroups[:3]
		Expect(k8sClient.Patch(testCtx, c2, shrink)).To(Succeed())
		for _, obj := range []client.Object{
			&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "c-hot"}},
			&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "c-hot"}},
			&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "c-hot-headless"}},
			&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "c-hot-config"}},
			&policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "c-hot"}},
		} {
			Eventually(func() bool {
				err := k8sClient.Get(testCtx, client.ObjectKeyFromObject(obj), obj)
				return apierrors.IsNotFound(err) || (err == nil && !obj.GetDeletionTimestamp().IsZero())
			}).WithTimeout(settle).Should(BeTrue(), "%T %s", obj, obj.GetName())
		}
		Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-data"}, &appsv1.StatefulSet{})).To(Succeed())
	})
})

var _ = Describe("ImplyCluster changes that cannot be made in place", func() {
	It("reports a storage change as Degraded with a Warning and still applies the rest", func() {
		ns := newNamespace("ic-immutable")
		createSecrets(ns)
		c := testobj.ImplyCluster("c", ns, func(c *implyv1alpha1.ImplyCluster) {
			c.Spec.NodeGroups[2].Storage = &implyv1alpha1.StorageSpec{Size: resource.MustParse("20Gi")}
		})
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		Eventually(func() error {
			return k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-data"}, &appsv1.StatefulSet{})
		}).WithTimeout(settle).Should(Succeed())
		waitQuiet(ns)

		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.NodeGroups[2].Storage.Size = resource.MustParse("40Gi")
		c.Spec.NodeGroups[2].Replicas = ptr.To[int32](3)
		Expect(k8sClient.Patch(testCtx, c, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			cond := condition(g, c, implyv1alpha1.ConditionDegraded)
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(cond.Reason).To(Equal("ImmutableFieldChanged"))
			g.Expect(cond.Message).To(And(ContainSubstring("StatefulSet c-data"), ContainSubstring("20Gi"), ContainSubstring("40Gi")))
		}).WithTimeout(settle).Should(Succeed())
		Eventually(func() []eventsv1.Event { return warningEvents(c, "ImmutableFieldChanged") }).WithTimeout(settle).Should(HaveLen(1))

		var sts appsv1.StatefulSet
		Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-data"}, &sts)).To(Succeed())
		Expect(*sts.Spec.Replicas).To(Equal(int32(3)), "the mutable part of the change is applied")
		size := sts.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests[corev1.ResourceStorage]
		Expect(size.String()).To(Equal("20Gi"))
		waitQuiet(ns)
		// One Event object; a reconcile that read the cluster before its Degraded condition reached
		// the cache may count the Warning a second time in that Event's series.
		Expect(warningEvents(c, "ImmutableFieldChanged")).To(HaveLen(1))
	})
})
