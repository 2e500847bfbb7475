package implycluster

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// expectNameConflict waits for c to be Ready=False with reason NameConflict naming every
// fragment, then, once quiet, checks that exactly one NameConflict Warning was recorded.
func expectNameConflict(c *implyv1alpha1.ImplyCluster, fragments ...string) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		cond := condition(g, c, implyv1alpha1.ConditionReady)
		g.Expect(cond).NotTo(BeNil())
		g.Expect(cond.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(cond.Reason).To(Equal(implyv1alpha1.ReasonNameConflict), cond.Message)
		for _, f := range fragments {
			g.Expect(cond.Message).To(ContainSubstring(f))
		}
	}).WithTimeout(settle).Should(Succeed())
	waitQuiet(c.Namespace)
	Eventually(func() []eventsv1.Event { return warningEvents(c, implyv1alpha1.ReasonNameConflict) }).
		WithTimeout(settle).Should(HaveLen(1))
	Consistently(func() []eventsv1.Event { return warningEvents(c, implyv1alpha1.ReasonNameConflict) }).
		WithTimeout(2 * time.Second).Should(HaveLen(1))
}

// unchanged reads obj again and checks that nobody wrote it since before was read.
func expectUnchanged(before client.Object) {
	GinkgoHelper()
	now := before.DeepCopyObject().(client.Object)
	Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(before), now)).To(Succeed())
	Expect(now.GetResourceVersion()).To(Equal(before.GetResourceVersion()), "%s was written", before.GetName())
	Expect(now.GetOwnerReferences()).To(Equal(before.GetOwnerReferences()))
}

var _ = Describe("Ownership of owned names", func() {
	It("leaves another cluster's object of a colliding name untouched (NameConflict) and applies everything else", func() {
		ns := newNamespace("own-cross")
		createSecrets(ns)
		ab := testobj.ImplyCluster("a-b", ns)
		Expect(k8sClient.Create(testCtx, ab)).To(Succeed())
		var theirs corev1.ConfigMap
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "a-b-common-config"}, &theirs)).To(Succeed())
			g.Expect(metav1.IsControlledBy(&theirs, ab)).To(BeTrue())
		}).WithTimeout(settle).Should(Succeed())
		waitQuiet(ns)
		Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(&theirs), &theirs)).To(Succeed())

		By("creating cluster a with a node group b-common, whose ConfigMap would be a-b-common-config")
		a := testobj.ImplyCluster("a", ns, testobj.WithGroup("b-common", implyv1alpha1.NodeGroupData, 1))
		Expect(k8sClient.Create(testCtx, a)).To(Succeed())
		expectNameConflict(a, `ConfigMap "a-b-common-config"`, "ImplyCluster a-b")
		expectUnchanged(&theirs)

		By("applying every other object of a")
		for _, obj := range ownedObjects(a) {
			if obj.GetName() == "a-b-common-config" {
				continue
			}
			Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(obj), obj)).To(Succeed(), "%T %s", obj, obj.GetName())
			Expect(metav1.IsControlledBy(obj, a)).To(BeTrue(), "%T %s", obj, obj.GetName())
		}
		Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "a-b-common-tls"}, &corev1.Secret{})).To(Succeed())
	})

	It("never adopts an unmarked Secret of an owned name, and adopts one marked retained for the cluster", func() {
		ns := newNamespace("own-marked")
		createSecrets(ns)
		createAuthInputs(ns, 12, "agent-token-0123456789")
		handMade := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "c-druid-credentials", Namespace: ns},
			Data:       map[string][]byte{"admin-password": []byte("hand-made-admin-pw"), "internal-client-password": []byte("hand-made-internal")},
		}
		Expect(k8sClient.Create(testCtx, handMade)).To(Succeed())
		c := testobj.ImplyCluster("c", ns, testobj.WithAuth("agent", "strict"))
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		expectNameConflict(c, `Secret "c-druid-credentials"`, "no controller")
		expectUnchanged(handMade)

		By("still refusing it when it is marked for another cluster")
		handMade.Annotations = map[string]string{implyv1alpha1.AnnotationRetainedFor: specs.RetainedFor("ImplyCluster", ns, "other")}
		Expect(k8sClient.Update(testCtx, handMade)).To(Succeed())
		Consistently(func(g Gomega) {
			expectConditionReason(g, c, implyv1alpha1.ConditionReady, implyv1alpha1.ReasonNameConflict)
		}).WithTimeout(3 * time.Second).Should(Succeed())
		expectUnchanged(handMade)

		By("adopting it, values and all, once it is marked retained for this cluster")
		handMade.Annotations[implyv1alpha1.AnnotationRetainedFor] = specs.RetainedFor("ImplyCluster", ns, "c")
		Expect(k8sClient.Update(testCtx, handMade)).To(Succeed())
		Eventually(func(g Gomega) {
			expectConditionTrue(g, c, implyv1alpha1.ConditionAuthReady)
			s := getSecret(ns, "c-druid-credentials")
			g.Expect(s.Labels).To(HaveKeyWithValue(specs.LabelManagedBy, specs.ManagedBy))
		}).WithTimeout(settle).Should(Succeed())
		s := getSecret(ns, "c-druid-credentials")
		Expect(string(s.Data["admin-password"])).To(Equal("hand-made-admin-pw"))
		Expect(string(s.Data["internal-client-password"])).To(Equal("hand-made-internal"))
		Expect(s.OwnerReferences).To(BeEmpty(), "retained (retainOnDelete defaults to true)")
	})

	It("reads a user Secret the spec names, honouring its key, and never writes or owns it, even named <cluster>-druid-credentials", func() {
		ns := newNamespace("own-user")
		createSecrets(ns)
		createAuthInputs(ns, 12, "agent-token-0123456789")
		mine := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "my-admin", Namespace: ns},
			Data: map[string][]byte{"pw": []byte("my-admin-password-1")}}
		Expect(k8sClient.Create(testCtx, mine)).To(Succeed())
		c := testobj.ImplyCluster("c", ns, testobj.WithAuth("agent", "strict"))
		c.Spec.Security.Auth.Druid.AdminPasswordSecretRef = &implyv1alpha1.SecretKeySelector{Name: "my-admin", Key: "pw"}
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		Eventually(func(g Gomega) {
			expectConditionTrue(g, c, implyv1alpha1.ConditionAuthReady)
			var data appsv1.StatefulSet
			g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-data"}, &data)).To(Succeed())
			ref := envOf(data.Spec.Template.Spec)[specs.EnvDruidAdminPassword].ValueFrom.SecretKeyRef
			g.Expect(ref.Name).To(Equal("my-admin"))
			g.Expect(ref.Key).To(Equal("pw"))
		}).WithTimeout(settle).Should(Succeed())
		waitQuiet(ns)
		expectUnchanged(mine)
		Expect(getSecret(ns, "c-druid-credentials").Data).NotTo(HaveKey("admin-password"), "the user's password is not copied")

		By("refusing to write a user Secret named c-druid-credentials, and reading its key")
		other := newNamespace("own-user-same")
		createSecrets(other)
		createAuthInputs(other, 12, "agent-token-0123456789")
		same := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "c-druid-credentials", Namespace: other},
			Data: map[string][]byte{"pw": []byte("my-admin-password-1")}}
		Expect(k8sClient.Create(testCtx, same)).To(Succeed())
		c2 := testobj.ImplyCluster("c", other, testobj.WithAuth("agent", "strict"))
		c2.Spec.Security.Auth.Druid.AdminPasswordSecretRef = &implyv1alpha1.SecretKeySelector{Name: "c-druid-credentials", Key: "pw"}
		Expect(k8sClient.Create(testCtx, c2)).To(Succeed())
		expectNameConflict(c2, `Secret "c-druid-credentials"`, "spec.security.auth.druid.adminPasswordSecretRef")
		expectUnchanged(same)

		By("naming the missing key of that Secret rather than reading another")
		c3 := testobj.ImplyCluster("d", other, testobj.WithAuth("agent", "strict"))
		c3.Spec.Security.Auth.Druid.AdminPasswordSecretRef = &implyv1alpha1.SecretKeySelector{Name: "c-druid-credentials", Key: "admin-password"}
		Expect(k8sClient.Create(testCtx, c3)).To(Succeed())
		Eventually(func(g Gomega) {
			cond := condition(g, c3, implyv1alpha1.ConditionReady)
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.Reason).To(Equal(implyv1alpha1.ReasonSecretKeyNotFound), cond.Message)
			g.Expect(cond.Message).To(ContainSubstring(`no key "admin-password"`))
		}).WithTimeout(settle).Should(Succeed())
		expectUnchanged(same)
	})
})
