package argocd

import (
	"encoding/json"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testenv"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// actionTimestamp is what the restart and rotate-ca actions write: the UTC time to the second.
const actionTimestamp = `^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$`

// toMap turns a typed object into the unstructured form Argo CD's Lua sees.
func toMap(obj any) map[string]any {
	GinkgoHelper()
	data, err := json.Marshal(obj)
	Expect(err).NotTo(HaveOccurred())
	var m map[string]any
	Expect(json.Unmarshal(data, &m)).To(Succeed())
	return m
}

// runActionLive runs an action on the live ImplyCluster and applies what it returns as Argo CD
// does, with a JSON merge patch from the live object. It returns the patched object.
func runActionLive(actions resourceActions, name string, cluster client.Object) *unstructured.Unstructured {
	GinkgoHelper()
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(implyv1alpha1.GroupVersion.WithKind("ImplyCluster"))
	Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(cluster), live)).To(Succeed())
	result, err := runAction(actions, name, live.DeepCopy().Object)
	Expect(err).NotTo(HaveOccurred())
	patched := &unstructured.Unstructured{Object: result}
	Expect(k8sClient.Patch(ctx, patched, client.MergeFrom(live))).To(Succeed(), "applying the result of %s", name)
	return patched
}

var _ = Describe("The Argo CD resource actions of docs/argocd.md", func() {
	var actions resourceActions
	BeforeEach(func() {
		var err error
		actions, err = actionScripts()
		Expect(err).NotTo(HaveOccurred())
	})

	It("define restart, rotate-ca, pause and resume, and offer those that apply", func() {
		var names []string
		for _, d := range actions.Definitions {
			names = append(names, d.Name)
		}
		Expect(names).To(ConsistOf("restart", "rotate-ca", "pause", "resume"))

		disabled := func(obj any) map[string]bool {
			found, err := discoverActions(actions, toMap(obj))
			Expect(err).NotTo(HaveOccurred())
			out := map[string]bool{}
			for name, a := range found {
				out[name] = a.Disabled
			}
			return out
		}
		// As the apiserver defaults it: TLS on with a generated CA.
		withTLS := func(c *implyv1alpha1.ImplyCluster) {
			c.Spec.Security = &implyv1alpha1.SecuritySpec{TLS: &implyv1alpha1.TLSSpec{Enabled: true}}
		}
		running := testobj.ImplyCluster("c", "ns", withTLS)
		Expect(disabled(running)).To(Equal(map[string]bool{"restart": false, "rotate-ca": false, "pause": false, "resume": true}))

		paused := testobj.ImplyCluster("c", "ns", withTLS)
		paused.Spec.Rollout = &implyv1alpha1.RolloutSpec{Paused: true}
		Expect(disabled(paused)).To(Equal(map[string]bool{"restart": false, "rotate-ca": false, "pause": true, "resume": false}))

		Expect(disabled(testobj.ImplyCluster("c", "ns", testobj.WithoutTLS()))).To(HaveKeyWithValue("rotate-ca", true), "no CA without TLS")
		userCA := testobj.ImplyCluster("c", "ns")
		userCA.Spec.Security = &implyv1alpha1.SecuritySpec{TLS: &implyv1alpha1.TLSSpec{Enabled: true,
			CA: &implyv1alpha1.CASpec{SecretRef: &implyv1alpha1.LocalObjectReference{Name: "my-ca"}}}}
		Expect(disabled(userCA)).To(HaveKeyWithValue("rotate-ca", true), "the operator never replaces the user's CA")
	})

	It("do what the operator acts on, on a live ImplyCluster", func() {
		restartOnFailure()
		ns := newNamespace()
		for _, s := range testobj.Secrets(ns) {
			Expect(k8sClient.Create(ctx, s)).To(Succeed())
		}
		cluster := testobj.ImplyCluster("c", ns)
		Expect(k8sClient.Create(ctx, cluster)).To(Succeed())
		Eventually(func() error { return testenv.MarkWorkloadsReady(ctx, k8sClient, ns, "c") }).WithTimeout(30 * time.Second).Should(Succeed())
		expectHealth(cluster, "Healthy", Not(BeEmpty()))

		By("pause: spec.rollout.paused, and Argo CD shows the cluster Suspended")
		patched := runActionLive(actions, "pause", cluster)
		Expect(patched.Object["spec"]).To(HaveKeyWithValue("rollout", HaveKeyWithValue("paused", true)))
		Expect(patched.Object["spec"]).To(HaveKeyWithValue("nodeGroups", HaveLen(3)), "the rest of the spec is untouched")
		expectHealth(cluster, "Suspended", HavePrefix("Rollouts are paused (spec.rollout.paused)"))

		By("restart while paused: the annotation is set, and the restart waits")
		patched = runActionLive(actions, "restart", cluster)
		restart := patched.GetAnnotations()[implyv1alpha1.AnnotationRestart]
		Expect(restart).To(MatchRegexp(actionTimestamp))
		Eventually(func(g Gomega) {
			var c implyv1alpha1.ImplyCluster
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(cluster), &c)).To(Succeed())
			g.Expect(c.Status.Rollout).NotTo(BeNil())
			g.Expect(c.Status.Rollout.Reason).To(Equal(implyv1alpha1.ReasonPaused))
			g.Expect(meta.IsStatusConditionTrue(c.Status.Conditions, implyv1alpha1.ConditionRestartPending)).To(BeTrue())
		}).WithTimeout(30 * time.Second).Should(Succeed())
		expectHealth(cluster, "Suspended", ContainSubstring("; "))
		var sets appsv1.StatefulSetList
		Expect(k8sClient.List(ctx, &sets, client.InNamespace(ns), client.MatchingLabels{specs.LabelCluster: "c"})).To(Succeed())
		for _, sts := range sets.Items {
			Expect(sts.Spec.Template.Annotations).NotTo(HaveKeyWithValue(specs.AnnotationRestart, restart), "%s restarted while paused", sts.Name)
		}

		By("resume: the held restart rolls, data first")
		patched = runActionLive(actions, "resume", cluster)
		Expect(patched.Object["spec"]).To(HaveKeyWithValue("rollout", HaveKeyWithValue("paused", false)))
		Eventually(func(g Gomega) {
			var data appsv1.StatefulSet
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "c-data"}, &data)).To(Succeed())
			g.Expect(data.Spec.Template.Annotations).To(HaveKeyWithValue(specs.AnnotationRestart, restart))
		}).WithTimeout(30 * time.Second).Should(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(testenv.MarkWorkloadsReady(ctx, k8sClient, ns, "c")).To(Succeed())
			g.Expect(k8sClient.List(ctx, &sets, client.InNamespace(ns), client.MatchingLabels{specs.LabelCluster: "c"})).To(Succeed())
			for _, sts := range sets.Items {
				g.Expect(sts.Spec.Template.Annotations).To(HaveKeyWithValue(specs.AnnotationRestart, restart), sts.Name)
			}
		}).WithTimeout(60 * time.Second).WithPolling(500 * time.Millisecond).Should(Succeed())

		By("rotate-ca: the operator starts a CA rotation for that request")
		patched = runActionLive(actions, "rotate-ca", cluster)
		rotate := patched.GetAnnotations()[implyv1alpha1.AnnotationRotateCA]
		Expect(rotate).To(MatchRegexp(actionTimestamp))
		Expect(patched.GetAnnotations()).To(HaveKeyWithValue(implyv1alpha1.AnnotationRestart, restart), "other annotations stay")
		Eventually(func(g Gomega) {
			_ = testenv.MarkWorkloadsReady(ctx, k8sClient, ns, "c")
			var ca corev1.Secret
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: specs.CASecretName("c")}, &ca)).To(Succeed())
			g.Expect(ca.Annotations).To(HaveKeyWithValue(implyv1alpha1.AnnotationCARotationRequested, rotate))
			var bundle corev1.ConfigMap
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: specs.CABundleName("c")}, &bundle)).To(Succeed())
			g.Expect(bundle.Data[specs.TLSCAKey]).To(ContainSubstring("END CERTIFICATE-----\n-----BEGIN CERTIFICATE"), "old and new CA trusted")
		}).WithTimeout(60 * time.Second).WithPolling(500 * time.Millisecond).Should(Succeed())
	})
})
