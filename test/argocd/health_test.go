package argocd

import (
	"encoding/json"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testenv"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// trackingAnnotation is the annotation Argo CD tracks the resources of an Application by.
const trackingAnnotation = "argocd.argoproj.io/tracking-id"

// kinds are the four kinds of the API, each of which needs a health check.
var kinds = []string{"ImplyCluster", "AuthToken", "SecurityPolicy", "DruidRole"}

// newNamespace creates a namespace with a generated name.
func newNamespace() string {
	GinkgoHelper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "argocd-"}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	return ns.Name
}

// liveHealth reads the object as Argo CD's cache holds it (unstructured) and runs its kind's
// health check on it.
func liveHealth(gvk schema.GroupVersionKind, key client.ObjectKey) (health, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	if err := k8sClient.Get(ctx, key, u); err != nil {
		return health{}, err
	}
	return runHealthCheck(scripts[gvk.Kind], u.Object)
}

// expectHealth waits until the live object's health matches.
func expectHealth(obj client.Object, status string, message types.GomegaMatcher) {
	GinkgoHelper()
	gvk, err := apiutil.GVKForObject(obj, scheme)
	Expect(err).NotTo(HaveOccurred())
	Eventually(func(g Gomega) {
		h, err := liveHealth(gvk, client.ObjectKeyFromObject(obj))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(h.Status).To(Equal(status), "message: %s", h.Message)
		g.Expect(h.Message).To(message)
	}).WithTimeout(30 * time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())
}

// sampleOf returns the config/samples object of kind (the first, for AuthToken the Agent one),
// typed, in namespace.
func sampleOf(kind, namespace string) client.Object {
	GinkgoHelper()
	samples, err := testenv.Samples()
	Expect(err).NotTo(HaveOccurred())
	for _, s := range samples {
		if s.GetKind() != kind {
			continue
		}
		if kind == "AuthToken" && s.Object["spec"].(map[string]any)["type"] != "Agent" {
			continue
		}
		obj, err := scheme.New(s.GroupVersionKind())
		Expect(err).NotTo(HaveOccurred())
		typed := obj.(client.Object)
		data, err := json.Marshal(s.Object)
		Expect(err).NotTo(HaveOccurred())
		Expect(json.Unmarshal(data, typed)).To(Succeed())
		typed.SetNamespace(namespace)
		return typed
	}
	Fail("no sample of kind " + kind)
	return nil
}

// restartOnFailure makes sure a spec that stopped the operator leaves it running.
func restartOnFailure() {
	DeferCleanup(func() {
		if stopOperator == nil {
			startOperator()
		}
	})
}

var _ = Describe("The Argo CD health checks of docs/argocd.md", func() {
	It("exist for each of the four kinds", func() {
		for _, kind := range kinds {
			Expect(scripts).To(HaveKeyWithValue(kind, Not(BeEmpty())), "argocd-cm key %simply.operator.dev_%s", healthKeyPrefix, kind)
		}
		Expect(scripts).To(HaveLen(len(kinds)))
	})

	DescribeTable("decide from conditions and observedGeneration",
		func(object string, status string, message types.GomegaMatcher) {
			var obj map[string]any
			Expect(json.Unmarshal([]byte(object), &obj)).To(Succeed())
			for _, kind := range kinds {
				h, err := runHealthCheck(scripts[kind], obj)
				Expect(err).NotTo(HaveOccurred(), kind)
				Expect(h.Status).To(Equal(status), "%s: %s", kind, h.Message)
				Expect(h.Message).To(message, kind)
			}
		},
		Entry("no status", `{"metadata": {"generation": 1}}`,
			"Progressing", Equal("Waiting for the operator to observe generation 1")),
		Entry("an older generation observed, though Ready", `{"metadata": {"generation": 3}, "status": {"observedGeneration": 2,
			"conditions": [{"type": "Ready", "status": "True", "reason": "AllReplicasReady", "message": "all good"}]}}`,
			"Progressing", Equal("Waiting for the operator to observe generation 3")),
		Entry("observed, no conditions", `{"metadata": {"generation": 1}, "status": {"observedGeneration": 1}}`,
			"Progressing", Equal("Waiting for the Ready condition")),
		Entry("Degraded wins over Ready", `{"metadata": {"generation": 1}, "status": {"observedGeneration": 1, "conditions": [
			{"type": "Ready", "status": "True", "reason": "AllReplicasReady", "message": "all good"},
			{"type": "Degraded", "status": "True", "reason": "ApplyFailed", "message": "cannot patch"}]}}`,
			"Degraded", Equal("cannot patch")),
		Entry("Degraded without a message", `{"metadata": {"generation": 1}, "status": {"observedGeneration": 1, "conditions": [
			{"type": "Degraded", "status": "True", "reason": "ApplyFailed", "message": ""}]}}`,
			"Degraded", Equal("ApplyFailed")),
		Entry("Ready=Unknown for another reason", `{"metadata": {"generation": 1}, "status": {"observedGeneration": 1, "conditions": [
			{"type": "Ready", "status": "Unknown", "reason": "Reconciling", "message": "first pass"}]}}`,
			"Progressing", Equal("first pass")),
		Entry("Ready=False without a message, Progressing with one", `{"metadata": {"generation": 1}, "status": {"observedGeneration": 1, "conditions": [
			{"type": "Ready", "status": "False", "reason": "ReplicasNotReady", "message": ""},
			{"type": "Progressing", "status": "True", "reason": "RollingOut", "message": "rolling data"}]}}`,
			"Progressing", Equal("rolling data")),
		Entry("Ready=Unknown NotImplemented", `{"metadata": {"generation": 2}, "status": {"observedGeneration": 2, "conditions": [
			{"type": "Ready", "status": "Unknown", "reason": "NotImplemented", "message": "not yet"}]}}`,
			"Healthy", Equal("Accepted; the operator does not act on it yet: not yet")),
	)

	It("follow an ImplyCluster and the other kinds through their life with the real operator", func() {
		restartOnFailure()
		broken, ready, others := newNamespace(), newNamespace(), newNamespace()

		By("creating objects while the operator is stopped: Progressing, nothing observed yet")
		stopOperator()
		missingSecrets := testobj.ImplyCluster("c", broken)
		Expect(k8sClient.Create(ctx, missingSecrets)).To(Succeed())
		for _, s := range testobj.Secrets(ready) {
			Expect(k8sClient.Create(ctx, s)).To(Succeed())
		}
		cluster := testobj.ImplyCluster("c", ready)
		// What Argo CD puts on what it syncs (annotation tracking, the default from Argo CD 3.0).
		cluster.Annotations = map[string]string{trackingAnnotation: "imply-prod:imply.operator.dev/ImplyCluster:" + ready + "/c"}
		Expect(k8sClient.Create(ctx, cluster)).To(Succeed())
		var samples []client.Object
		for _, kind := range []string{"AuthToken", "SecurityPolicy", "DruidRole"} {
			obj := sampleOf(kind, others)
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			samples = append(samples, obj)
		}
		agentToken, policy, role := samples[0], samples[1], samples[2]
		for _, obj := range append([]client.Object{missingSecrets, cluster}, samples...) {
			expectHealth(obj, "Progressing", Equal("Waiting for the operator to observe generation 1"))
		}

		By("starting the operator")
		startOperator()
		expectHealth(missingSecrets, "Degraded", And(ContainSubstring(`Secret "`+testobj.LicenseSecret+`"`), ContainSubstring("does not exist")))
		expectHealth(cluster, "Progressing", ContainSubstring("Not yet updated and ready"))
		expectHealth(agentToken, "Healthy", ContainSubstring("holds the agent token"))
		expectHealth(policy, "Healthy", HavePrefix("Passwords of 16 to 128 characters"))
		// The sample names cluster "imply", which does not exist in that namespace.
		expectHealth(role, "Degraded", ContainSubstring("named by spec.clusterRef does not exist"))

		By("keeping Argo CD's tracking annotation off what the operator creates, so Argo CD never prunes it")
		for _, list := range []client.ObjectList{&appsv1.StatefulSetList{}, &appsv1.DeploymentList{}, &corev1.ServiceList{}, &corev1.ConfigMapList{}, &corev1.SecretList{}} {
			Expect(k8sClient.List(ctx, list, client.InNamespace(ready), client.MatchingLabels{specs.LabelCluster: "c"})).To(Succeed())
			items, err := meta.ExtractList(list)
			Expect(err).NotTo(HaveOccurred())
			if _, isSecrets := list.(*corev1.SecretList); !isSecrets {
				Expect(items).NotTo(BeEmpty(), "%T", list)
			}
			for _, item := range items {
				owned := item.(client.Object)
				Expect(owned.GetAnnotations()).NotTo(HaveKey(trackingAnnotation), "%T %s", owned, owned.GetName())
			}
		}

		By("making the workloads ready")
		Expect(testenv.MarkWorkloadsReady(ctx, k8sClient, ready, "c")).To(Succeed())
		expectHealth(cluster, "Healthy", Not(BeEmpty()))

		By("creating the missing Secrets: no longer Degraded")
		for _, s := range testobj.Secrets(broken) {
			Expect(k8sClient.Create(ctx, s)).To(Succeed())
		}
		expectHealth(missingSecrets, "Progressing", ContainSubstring("Not yet updated and ready"))

		By("changing the spec while the operator is down: Progressing until it observes the change")
		stopOperator()
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(cluster), cluster)).To(Succeed())
		before := cluster.DeepCopy()
		for i := range cluster.Spec.NodeGroups {
			if cluster.Spec.NodeGroups[i].Name == "query" {
				cluster.Spec.NodeGroups[i].Replicas = ptr.To[int32](2)
			}
		}
		Expect(k8sClient.Patch(ctx, cluster, client.MergeFrom(before))).To(Succeed())
		expectHealth(cluster, "Progressing", Equal("Waiting for the operator to observe generation 2"))
		startOperator()
		expectHealth(cluster, "Progressing", ContainSubstring("query"))
		Expect(testenv.MarkWorkloadsReady(ctx, k8sClient, ready, "c")).To(Succeed())
		expectHealth(cluster, "Healthy", Not(BeEmpty()))
	})
})
