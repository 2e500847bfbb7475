package implycluster

import (
	"encoding/json"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/druid"
	"github.com/imply-operator/imply-operator/pkg/druid/fakecoordinator"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// accepted tells whether the coordinator at url accepts user with password for its security
// API (admin, druid_system and druid_system_2 hold every permission); a user without its role
// yet is not accepted either.
func accepted(url, user, password string) bool {
	GinkgoHelper()
	api, err := druid.New(druid.Config{BaseURL: url, Username: user, Password: password, Retries: -1})
	Expect(err).NotTo(HaveOccurred())
	_, err = api.ListRoles(testCtx, "basic")
	if druid.IsUnauthorized(err) || druid.IsForbidden(err) {
		return false
	}
	Expect(err).NotTo(HaveOccurred())
	return true
}

// rotationCluster creates a namespace with a SecurityPolicy "p" of password lifetime 24h and
// the given history, and a cluster "c" without TLS using it, and waits for its generated
// credentials.
func rotationCluster(prefix string, history int32, mutate func(*implyv1alpha1.ImplyCluster)) (string, *implyv1alpha1.ImplyCluster, client.ObjectKey) {
	GinkgoHelper()
	ns := newNamespace(prefix)
	createSecrets(ns)
	Expect(k8sClient.Create(testCtx, &implyv1alpha1.SecurityPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: ns},
		Spec: implyv1alpha1.SecurityPolicySpec{Password: implyv1alpha1.PasswordPolicy{
			Lifetime: &metav1.Duration{Duration: 24 * time.Hour}, History: history}},
	})).To(Succeed())
	c := testobj.ImplyCluster("c", ns, testobj.WithoutTLS(), testobj.WithAuth("", "p"))
	if mutate != nil {
		mutate(c)
	}
	Expect(k8sClient.Create(testCtx, c)).To(Succeed())
	credsKey := client.ObjectKey{Namespace: ns, Name: specs.DruidCredentialsName("c")}
	Eventually(func() error { return k8sClient.Get(testCtx, credsKey, &corev1.Secret{}) }).WithTimeout(30 * time.Second).Should(Succeed())
	return ns, c, credsKey
}

// expectEscalatorUser waits until cluster c's common properties name user as the internal user.
func expectEscalatorUser(ns, user string) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		var common corev1.ConfigMap
		g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: specs.CommonConfigName("c")}, &common)).To(Succeed())
		g.Expect(common.Data[specs.CommonRuntimePropertiesKey]).To(ContainSubstring("druid.escalator.internalClientUsername=" + user))
	}).WithTimeout(30 * time.Second).Should(Succeed())
}

// rollUntilRetired marks the workloads ready, as they roll group by group, until the previous
// internal user is retired, and returns the credentials Secret then.
func rollUntilRetired(c *implyv1alpha1.ImplyCluster, credsKey client.ObjectKey) corev1.Secret {
	GinkgoHelper()
	var creds corev1.Secret
	Eventually(func(g Gomega) {
		markWorkloadsReady(c)
		g.Expect(k8sClient.Get(testCtx, credsKey, &creds)).To(Succeed())
		g.Expect(creds.Annotations).NotTo(HaveKey("imply.operator.dev/internal-client-retiring"))
	}).WithTimeout(60 * time.Second).WithPolling(time.Second).Should(Succeed())
	return creds
}

// pointAt sets the cluster's coordinator URL.
func pointAt(c *implyv1alpha1.ImplyCluster, url string) {
	GinkgoHelper()
	Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(c), c)).To(Succeed())
	patch := client.MergeFrom(c.DeepCopy())
	c.Spec.Druid.APIURL = url
	Expect(k8sClient.Patch(testCtx, c, patch)).To(Succeed())
}

// age sets a generated-at annotation of the credentials to 25 hours ago on the suite's clock.
func age(credsKey client.ObjectKey, annotation string) {
	GinkgoHelper()
	var creds corev1.Secret
	Expect(k8sClient.Get(testCtx, credsKey, &creds)).To(Succeed())
	patch := client.MergeFrom(creds.DeepCopy())
	if creds.Annotations == nil {
		creds.Annotations = map[string]string{}
	}
	creds.Annotations[annotation] = suiteClock.Now().Add(-25 * time.Hour).UTC().Format(time.RFC3339)
	Expect(k8sClient.Patch(testCtx, &creds, patch)).To(Succeed())
}

var _ = Describe("Rotating the generated Druid admin password", func() {
	It("pushes a new one through the coordinator after the policy's lifetime, keeps the old one's hash, and resumes a rotation cut short", func() {
		ns, c, credsKey := rotationCluster("admin-rot", 2, nil)
		var creds corev1.Secret
		Expect(k8sClient.Get(testCtx, credsKey, &creds)).To(Succeed())
		first := string(creds.Data[specs.DruidAdminPasswordKey])
		Expect(first).NotTo(BeEmpty())

		By("pointing the cluster at a coordinator that knows the generated password")
		fake := fakecoordinator.New(fakecoordinator.Options{AdminPassword: first, CredentialIterations: 100})
		DeferCleanup(fake.Close)
		pointAt(c, fake.URL)
		waitQuiet(ns)
		Expect(accepted(fake.URL, "admin", first)).To(BeTrue())

		By("ageing the password past the lifetime")
		age(credsKey, "imply.operator.dev/admin-password-generated-at")

		var second string
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(testCtx, credsKey, &creds)).To(Succeed())
			second = string(creds.Data[specs.DruidAdminPasswordKey])
			g.Expect(second).NotTo(Equal(first))
			g.Expect(creds.Data).NotTo(HaveKey("admin-password-next"))
		}).WithTimeout(30 * time.Second).Should(Succeed())
		Expect(accepted(fake.URL, "admin", second)).To(BeTrue())
		Expect(accepted(fake.URL, "admin", first)).To(BeFalse())
		var history []string
		Expect(json.Unmarshal([]byte(creds.Annotations["imply.operator.dev/admin-password-history"]), &history)).To(Succeed())
		Expect(history).To(HaveLen(1))
		at, err := time.Parse(time.RFC3339, creds.Annotations["imply.operator.dev/admin-password-generated-at"])
		Expect(err).NotTo(HaveOccurred())
		Expect(at).To(BeTemporally("~", suiteClock.Now(), 2*time.Second))
		Eventually(func() []eventsv1.Event { return normalEvents(c, implyv1alpha1.EventAdminPasswordRotated) }).WithTimeout(10 * time.Second).ShouldNot(BeEmpty())

		By("finishing a rotation whose new password reached Druid but not the Secret")
		third := "Third-Admin-Password-0123456789"
		hand, err := druid.New(druid.Config{BaseURL: fake.URL, Username: "admin", Password: second, Retries: -1})
		Expect(err).NotTo(HaveOccurred())
		Expect(hand.SetCredentials(testCtx, "basic", "admin", third)).To(Succeed())
		Expect(k8sClient.Get(testCtx, credsKey, &creds)).To(Succeed())
		sp := client.MergeFrom(creds.DeepCopy())
		creds.Data["admin-password-next"] = []byte(third)
		Expect(k8sClient.Patch(testCtx, &creds, sp)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(testCtx, credsKey, &creds)).To(Succeed())
			g.Expect(string(creds.Data[specs.DruidAdminPasswordKey])).To(Equal(third))
			g.Expect(creds.Data).NotTo(HaveKey("admin-password-next"))
		}).WithTimeout(30 * time.Second).Should(Succeed())
		Expect(json.Unmarshal([]byte(creds.Annotations["imply.operator.dev/admin-password-history"]), &history)).To(Succeed())
		Expect(history).To(HaveLen(2))
		Expect(accepted(fake.URL, "admin", third)).To(BeTrue())
		waitQuiet(ns)
		Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(c), c)).To(Succeed())
		Expect(condition(Default, c, implyv1alpha1.ConditionAuthReady).Status).To(Equal(metav1.ConditionTrue))
	})

	It("keeps a due rotation pending, with the new password stored, while Druid cannot be reached", func() {
		ns, c, credsKey := rotationCluster("admin-rot-down", 0, func(c *implyv1alpha1.ImplyCluster) {
			c.Spec.Druid.APIURL = "http://127.0.0.1:1" // nothing listens there
		})
		var creds corev1.Secret
		Expect(k8sClient.Get(testCtx, credsKey, &creds)).To(Succeed())
		first := string(creds.Data[specs.DruidAdminPasswordKey])
		waitQuiet(ns)
		age(credsKey, "imply.operator.dev/admin-password-generated-at")
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(c), c)).To(Succeed())
			cond := condition(g, c, implyv1alpha1.ConditionAuthReady)
			g.Expect(cond.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(cond.Reason).To(Equal("PasswordRotationPending"))
			g.Expect(cond.Message).To(ContainSubstring("waits in Secret"))
		}).WithTimeout(60 * time.Second).Should(Succeed())
		Expect(k8sClient.Get(testCtx, credsKey, &creds)).To(Succeed())
		Expect(string(creds.Data[specs.DruidAdminPasswordKey])).To(Equal(first))
		Expect(creds.Data["admin-password-next"]).NotTo(BeEmpty())
	})
})

var _ = Describe("Rotating the generated internal-client password", func() {
	It("moves Druid services to the other internal user with a new password, and revokes the old one once every pod has restarted", func() {
		ns, c, credsKey := rotationCluster("internal-rot", 2, nil)
		var creds corev1.Secret
		Expect(k8sClient.Get(testCtx, credsKey, &creds)).To(Succeed())
		admin := string(creds.Data[specs.DruidAdminPasswordKey])
		first := string(creds.Data[specs.DruidInternalClientPasswordKey])

		fake := fakecoordinator.New(fakecoordinator.Options{AdminPassword: admin, InternalClientPassword: first, CredentialIterations: 100})
		DeferCleanup(fake.Close)
		pointAt(c, fake.URL)
		waitQuiet(ns)
		markWorkloadsReady(c)
		waitQuiet(ns)
		Expect(accepted(fake.URL, "druid_system", first)).To(BeTrue())

		By("ageing the password past the lifetime")
		age(credsKey, "imply.operator.dev/internal-client-password-generated-at")

		var second string
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(testCtx, credsKey, &creds)).To(Succeed())
			second = string(creds.Data[specs.DruidInternalClientPasswordKey])
			g.Expect(second).NotTo(Equal(first))
			g.Expect(creds.Annotations).To(HaveKeyWithValue("imply.operator.dev/internal-client-user", "druid_system_2"))
			g.Expect(creds.Annotations).To(HaveKeyWithValue("imply.operator.dev/internal-client-retiring", "druid_system"))
		}).WithTimeout(30 * time.Second).Should(Succeed())
		Expect(accepted(fake.URL, "druid_system_2", second)).To(BeTrue())
		Expect(accepted(fake.URL, "druid_system", first)).To(BeTrue(), "pods not yet restarted still call as druid_system")
		expectEscalatorUser(ns, "druid_system_2")
		Eventually(func() []eventsv1.Event { return normalEvents(c, implyv1alpha1.EventInternalClientPasswordRotated) }).WithTimeout(10 * time.Second).ShouldNot(BeEmpty())

		By("rolling every workload onto the new material")
		creds = rollUntilRetired(c, credsKey)
		Expect(accepted(fake.URL, "druid_system", first)).To(BeFalse())
		Expect(accepted(fake.URL, "druid_system_2", second)).To(BeTrue())
		Eventually(func() []eventsv1.Event { return normalEvents(c, implyv1alpha1.EventInternalClientUserRetired) }).WithTimeout(10 * time.Second).ShouldNot(BeEmpty())
		var history []string
		Expect(json.Unmarshal([]byte(creds.Annotations["imply.operator.dev/internal-client-password-history"]), &history)).To(Succeed())
		Expect(history).To(HaveLen(1))
	})
})

// Found by the fault campaign (test/chaos, full form): a push of the new internal-client
// password that the coordinator answered too late (a timeout) was retried with a freshly
// generated password, which was committed; the coordinator then applied the abandoned push, so
// Druid held a password for druid_system_2 that no pod had, and every pod's internal calls
// would be refused. Each attempt must push the one staged value.
var _ = Describe("An internal-client rotation whose pushes fail", func() {
	It("stages the new password before the first push and pushes that one value until Druid takes it", func() {
		ns, c, credsKey := rotationCluster("internal-late", 0, nil)
		var creds corev1.Secret
		Expect(k8sClient.Get(testCtx, credsKey, &creds)).To(Succeed())
		admin := string(creds.Data[specs.DruidAdminPasswordKey])
		first := string(creds.Data[specs.DruidInternalClientPasswordKey])
		fake := fakecoordinator.New(fakecoordinator.Options{AdminPassword: admin, InternalClientPassword: first, CredentialIterations: 100})
		DeferCleanup(fake.Close)
		pointAt(c, fake.URL)
		waitQuiet(ns)
		markWorkloadsReady(c)
		waitQuiet(ns)

		By("failing every request while the password falls due")
		fake.FailNext(1_000_000, 503)
		age(credsKey, "imply.operator.dev/internal-client-password-generated-at")
		var staged string
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(testCtx, credsKey, &creds)).To(Succeed())
			staged = string(creds.Data["internal-client-password-next"])
			g.Expect(staged).NotTo(BeEmpty(), "the new password is stored before Druid is asked to take it")
		}).WithTimeout(30 * time.Second).Should(Succeed())
		attempts := func() int {
			n := 0
			for _, r := range fake.Requests() {
				if strings.Contains(r.Path, "/users/druid_system_2") {
					n++
				}
			}
			return n
		}
		Eventually(attempts).WithTimeout(60 * time.Second).WithPolling(time.Second).Should(BeNumerically(">=", 2))
		Expect(k8sClient.Get(testCtx, credsKey, &creds)).To(Succeed())
		Expect(string(creds.Data["internal-client-password-next"])).To(Equal(staged), "a retry pushes the staged password, not a new one")
		Expect(string(creds.Data[specs.DruidInternalClientPasswordKey])).To(Equal(first))

		By("letting Druid answer: the staged password is what the Secret commits")
		fake.FailNext(0, 0)
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(testCtx, credsKey, &creds)).To(Succeed())
			g.Expect(creds.Annotations).To(HaveKeyWithValue("imply.operator.dev/internal-client-user", "druid_system_2"))
		}).WithTimeout(60 * time.Second).Should(Succeed())
		Expect(string(creds.Data[specs.DruidInternalClientPasswordKey])).To(Equal(staged))
		Expect(creds.Data).NotTo(HaveKey("internal-client-password-next"))
		Expect(accepted(fake.URL, "druid_system_2", staged)).To(BeTrue())
	})
})

var _ = Describe("Changing the user's Druid passwords", func() {
	It("sets a new admin password in Druid, and moves services to the other internal user with a new internal password", func() {
		ns := newNamespace("user-pw")
		createSecrets(ns)
		setPassword := func(name, value string) {
			s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
			err := k8sClient.Get(testCtx, client.ObjectKeyFromObject(s), s)
			if err != nil {
				s.StringData = map[string]string{"password": value}
				Expect(k8sClient.Create(testCtx, s)).To(Succeed())
				return
			}
			s.Data = map[string][]byte{"password": []byte(value)}
			Expect(k8sClient.Update(testCtx, s)).To(Succeed())
		}
		setPassword("druid-admin", "Admin-Password-One-1")
		setPassword("druid-internal", "Internal-Password-One-1")
		fake := fakecoordinator.New(fakecoordinator.Options{AdminPassword: "Admin-Password-One-1",
			InternalClientPassword: "Internal-Password-One-1", CredentialIterations: 100})
		DeferCleanup(fake.Close)
		c := testobj.ImplyCluster("c", ns, testobj.WithoutTLS(), testobj.WithAuth("", ""), func(c *implyv1alpha1.ImplyCluster) {
			c.Spec.Druid.APIURL = fake.URL
			c.Spec.Security.Auth.Druid.AdminPasswordSecretRef = &implyv1alpha1.SecretKeySelector{Name: "druid-admin", Key: "password"}
			c.Spec.Security.Auth.Druid.InternalClientPasswordSecretRef = &implyv1alpha1.SecretKeySelector{Name: "druid-internal", Key: "password"}
		})
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		credsKey := client.ObjectKey{Namespace: ns, Name: specs.DruidCredentialsName("c")}
		var creds corev1.Secret
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(testCtx, credsKey, &creds)).To(Succeed())
			g.Expect(creds.Annotations).To(HaveKey("imply.operator.dev/admin-password-secret-version"))
			g.Expect(creds.Annotations).To(HaveKey("imply.operator.dev/internal-client-password-secret-version"))
		}).WithTimeout(30 * time.Second).Should(Succeed())
		Expect(creds.Data).To(BeEmpty(), "the user's passwords are not copied")
		waitQuiet(ns)
		markWorkloadsReady(c)
		waitQuiet(ns)
		Expect(fake.Requests()).To(BeEmpty(), "the first version of each is what Druid initializes with")

		By("changing the admin password")
		setPassword("druid-admin", "Admin-Password-Two-2")
		Eventually(func() bool { return accepted(fake.URL, "admin", "Admin-Password-Two-2") }).WithTimeout(30 * time.Second).Should(BeTrue())
		Expect(accepted(fake.URL, "admin", "Admin-Password-One-1")).To(BeFalse())
		Eventually(func() []eventsv1.Event { return normalEvents(c, implyv1alpha1.EventAdminPasswordChanged) }).WithTimeout(10 * time.Second).ShouldNot(BeEmpty())

		By("changing the internal-client password")
		setPassword("druid-internal", "Internal-Password-Two-2")
		Eventually(func() bool {
			return accepted(fake.URL, "druid_system_2", "Internal-Password-Two-2")
		}).WithTimeout(30 * time.Second).Should(BeTrue())
		Expect(accepted(fake.URL, "druid_system", "Internal-Password-One-1")).To(BeTrue(), "pods not yet restarted still call as druid_system")
		expectEscalatorUser(ns, "druid_system_2")
		creds = rollUntilRetired(c, credsKey)
		Expect(accepted(fake.URL, "druid_system", "Internal-Password-One-1")).To(BeFalse())
		Expect(accepted(fake.URL, "druid_system_2", "Internal-Password-Two-2")).To(BeTrue())
		Expect(accepted(fake.URL, "admin", "Admin-Password-Two-2")).To(BeTrue())
		waitQuiet(ns)
		Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(c), c)).To(Succeed())
		Expect(condition(Default, c, implyv1alpha1.ConditionAuthReady).Status).To(Equal(metav1.ConditionTrue))
	})
})
