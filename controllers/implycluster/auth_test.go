package implycluster

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// createAuthInputs creates a SecurityPolicy "strict" (minLength minLength) and an Agent
// AuthToken "agent" whose token is the user's Secret "agent-token-value".
func createAuthInputs(ns string, minLength int32, token string) {
	Expect(k8sClient.Create(testCtx, &implyv1alpha1.SecurityPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "strict", Namespace: ns},
		Spec:       implyv1alpha1.SecurityPolicySpec{Password: implyv1alpha1.PasswordPolicy{MinLength: minLength, MaxLength: 64}},
	})).To(Succeed())
	Expect(k8sClient.Create(testCtx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "agent-token-value", Namespace: ns},
		StringData: map[string]string{"auth-token": token},
	})).To(Succeed())
	Expect(k8sClient.Create(testCtx, &implyv1alpha1.AuthToken{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: ns},
		Spec: implyv1alpha1.AuthTokenSpec{
			Type: implyv1alpha1.AuthTokenAgent, SecretRef: &implyv1alpha1.SecretKeySelector{Name: "agent-token-value"},
		},
	})).To(Succeed())
}

// envOf returns the environment of a workload's first container by name.
func envOf(pod corev1.PodSpec) map[string]corev1.EnvVar {
	env := map[string]corev1.EnvVar{}
	for _, e := range pod.Containers[0].Env {
		env[e.Name] = e
	}
	return env
}

var _ = Describe("ImplyCluster authentication", func() {
	It("generates Druid credentials under the policy and mounts them, the policy and the agent token by reference", func() {
		ns := newNamespace("auth")
		createSecrets(ns)
		createAuthInputs(ns, 30, "first-agent-token-0123456789")
		c := testobj.ImplyCluster("c", ns, testobj.WithAuth("agent", "strict"))
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		Eventually(func(g Gomega) {
			cond := condition(g, c, implyv1alpha1.ConditionAuthReady)
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.Status).To(Equal(metav1.ConditionTrue), cond.Message)
		}).WithTimeout(settle).Should(Succeed())

		creds := getSecret(ns, "c-druid-credentials")
		for _, key := range []string{"admin-password", "internal-client-password"} {
			pw := string(creds.Data[key])
			Expect(len(pw)).To(BeNumerically(">=", 30), key)
			Expect(len(pw)).To(BeNumerically("<=", 64), key)
			Expect(pw).NotTo(ContainSubstring(":"))
		}
		var policy corev1.ConfigMap
		Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-security-policy"}, &policy)).To(Succeed())
		Expect(policy.Data["policy.json"]).To(ContainSubstring(`"minLength": 30`))
		var common corev1.ConfigMap
		Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-common-config"}, &common)).To(Succeed())
		Expect(common.Data["common.runtime.properties"]).To(ContainSubstring("druid.auth.authenticatorChain="))
		Expect(common.Data["common.runtime.properties"]).To(ContainSubstring("druid-basic-security"))

		var data appsv1.StatefulSet
		Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-data"}, &data)).To(Succeed())
		env := envOf(data.Spec.Template.Spec)
		Expect(env["DRUID_ADMIN_PASSWORD"].ValueFrom.SecretKeyRef.Name).To(Equal("c-druid-credentials"))
		Expect(env["IMPLY_MANAGER_AUTH_TOKEN"].ValueFrom.SecretKeyRef.Name).To(Equal("agent-token-value"))
		Expect(data.Spec.Template.Spec.Containers[0].VolumeMounts).To(ContainElement(HaveField("MountPath", "/etc/imply/auth")))
		revision := data.Spec.Template.Annotations[specs.AnnotationAuthRevision]
		Expect(revision).NotTo(BeEmpty())
		var manager appsv1.Deployment
		Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-manager"}, &manager)).To(Succeed())
		Expect(envOf(manager.Spec.Template.Spec)["IMPLY_MANAGER_AUTH_TOKEN"].ValueFrom.SecretKeyRef.Key).To(Equal("auth-token"))
		Expect(manager.Spec.Template.Spec.Volumes).To(ContainElement(HaveField("ConfigMap.Name", "c-security-policy")))
		for _, e := range append(data.Spec.Template.Spec.Containers[0].Env, manager.Spec.Template.Spec.Containers[0].Env...) {
			Expect(e.Value).NotTo(Equal(string(creds.Data["admin-password"])), e.Name)
			Expect(e.Value).NotTo(Equal("first-agent-token-0123456789"), e.Name)
		}

		By("rolling every group when the agent token changes")
		waitQuiet(ns)
		token := getSecret(ns, "agent-token-value")
		token.Data["auth-token"] = []byte("second-agent-token-9876543210")
		Expect(k8sClient.Update(testCtx, token)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(&data), &data)).To(Succeed())
			g.Expect(data.Spec.Template.Annotations[specs.AnnotationAuthRevision]).NotTo(Equal(revision))
		}).WithTimeout(settle).Should(Succeed())
		Expect(getSecret(ns, "c-druid-credentials").Data).To(Equal(creds.Data), "the generated passwords stay")

		By("re-evaluating the live passwords when the policy tightens")
		var sp implyv1alpha1.SecurityPolicy
		Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "strict"}, &sp)).To(Succeed())
		sp.Spec.Password.MinLength = 60
		Expect(k8sClient.Update(testCtx, &sp)).To(Succeed())
		Eventually(func(g Gomega) {
			cond := condition(g, c, implyv1alpha1.ConditionAuthReady)
			g.Expect(cond.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(cond.Reason).To(Equal("PasswordRotationPending"))
			g.Expect(cond.Message).To(ContainSubstring("minLength"))
			g.Expect(cond.Message).To(ContainSubstring("until Druid"))
			g.Expect(cond.Message).NotTo(ContainSubstring(string(creds.Data["admin-password"])))
		}).WithTimeout(settle).Should(Succeed())
		Expect(policyJSON(ns)).To(ContainSubstring(`"minLength": 60`))
	})

	It("does not apply a user password that violates the policy, naming the rule but never the password", func() {
		ns := newNamespace("auth-bad")
		createSecrets(ns)
		createAuthInputs(ns, 20, "agent-token-abcdefghijklmnop")
		Expect(k8sClient.Create(testCtx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "admin", Namespace: ns},
			StringData: map[string]string{"password": "short-pw"},
		})).To(Succeed())
		c := testobj.ImplyCluster("c", ns, testobj.WithAuth("agent", "strict"), func(c *implyv1alpha1.ImplyCluster) {
			c.Spec.Security.Auth.Druid.AdminPasswordSecretRef = &implyv1alpha1.SecretKeySelector{Name: "admin", Key: "password"}
		})
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		Eventually(func(g Gomega) {
			cond := condition(g, c, implyv1alpha1.ConditionAuthReady)
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(cond.Reason).To(Equal("PolicyViolation"))
			g.Expect(cond.Message).To(ContainSubstring("minLength"))
			g.Expect(cond.Message).To(ContainSubstring(`"admin"`))
			g.Expect(cond.Message).NotTo(ContainSubstring("short-pw"))
			g.Expect(meta.IsStatusConditionFalse(c.Status.Conditions, implyv1alpha1.ConditionReady)).To(BeTrue())
		}).WithTimeout(settle).Should(Succeed())
		Eventually(func() int { return len(warningEvents(c, "PolicyViolation")) }).WithTimeout(settle).Should(BeNumerically(">", 0))
		var sets appsv1.StatefulSetList
		Expect(k8sClient.List(testCtx, &sets, client.InNamespace(ns))).To(Succeed())
		Expect(sets.Items).To(BeEmpty(), "nothing is deployed with a rejected password")

		By("applying it once it complies")
		admin := getSecret(ns, "admin")
		admin.Data["password"] = []byte("a-long-enough-admin-password-2026")
		Expect(k8sClient.Update(testCtx, admin)).To(Succeed())
		Eventually(func(g Gomega) {
			cond := condition(g, c, implyv1alpha1.ConditionAuthReady)
			g.Expect(cond.Status).To(Equal(metav1.ConditionTrue), cond.Message)
		}).WithTimeout(settle).Should(Succeed())
		var data appsv1.StatefulSet
		Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-data"}, &data)).To(Succeed())
		Expect(envOf(data.Spec.Template.Spec)["DRUID_ADMIN_PASSWORD"].ValueFrom.SecretKeyRef.Name).To(Equal("admin"))
		Expect(getSecret(ns, "c-druid-credentials").Data).NotTo(HaveKey("admin-password"))
	})
})

// policyJSON is the rendered policy.json of cluster c in ns.
func policyJSON(ns string) string {
	var cm corev1.ConfigMap
	ExpectWithOffset(1, k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-security-policy"}, &cm)).To(Succeed())
	return cm.Data["policy.json"]
}
