package authtoken

import (
	"crypto/tls"
	"encoding/json"
	"net/url"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/druidconn"
	"github.com/imply-operator/imply-operator/pkg/druid"
	"github.com/imply-operator/imply-operator/pkg/druid/fakecoordinator"
	"github.com/imply-operator/imply-operator/pkg/pki"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// druidUserEnv is a druidRoleEnv with a direct AuthToken reconciler on the same fake.
type druidUserEnv struct {
	*druidRoleEnv
	tr *Reconciler
}

func newDruidUserEnv(prefix string) *druidUserEnv {
	e := &druidUserEnv{druidRoleEnv: newDruidRoleEnv(prefix, true)}
	e.tr = e.tokenReconciler()
	return e
}

func (e *druidUserEnv) tokenReconciler() *Reconciler {
	return &Reconciler{Client: k8sClient, APIReader: k8sClient, Scheme: k8sClient.Scheme(),
		Recorder: e.Events, ResyncPeriod: time.Minute, Clock: clock.RealClock{}, NewAPI: newDruidAPI}
}

// druidToken is an AuthToken of type Druid of cluster "c".
func druidToken(name, ns, username string, mutate func(*implyv1alpha1.AuthToken)) *implyv1alpha1.AuthToken {
	t := &implyv1alpha1.AuthToken{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: implyv1alpha1.AuthTokenSpec{
			Type:       implyv1alpha1.AuthTokenDruid,
			ClusterRef: &implyv1alpha1.LocalObjectReference{Name: "c"},
			Username:   username,
		},
	}
	if mutate != nil {
		mutate(t)
	}
	return t
}

func (e *druidUserEnv) reconcileToken(t *implyv1alpha1.AuthToken) ctrl.Result {
	GinkgoHelper()
	res, err := e.tr.Reconcile(testCtx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(t)})
	Expect(err).NotTo(HaveOccurred())
	return res
}

// waitUserReady waits until the operator's own controller reports the token Ready.
func waitUserReady(t *implyv1alpha1.AuthToken) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(t), t)).To(Succeed())
		cond := meta.FindStatusCondition(t.Status.Conditions, implyv1alpha1.ConditionReady)
		g.Expect(cond).NotTo(BeNil())
		g.Expect(cond.Status).To(Equal(metav1.ConditionTrue), cond.Message)
		g.Expect(t.Status.ObservedGeneration).To(Equal(t.Generation))
	}).WithTimeout(30 * time.Second).Should(Succeed())
}

func setUserPassword(ns, name, value string) {
	GinkgoHelper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	err := k8sClient.Get(testCtx, client.ObjectKeyFromObject(s), s)
	if apierrors.IsNotFound(err) {
		s.StringData = map[string]string{"password": value}
		Expect(k8sClient.Create(testCtx, s)).To(Succeed())
		return
	}
	Expect(err).NotTo(HaveOccurred())
	s.Data = map[string][]byte{"password": []byte(value)}
	Expect(k8sClient.Update(testCtx, s)).To(Succeed())
}

func tokenCond(t *implyv1alpha1.AuthToken, typ string) *metav1.Condition {
	Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(t), t)).To(Succeed())
	return meta.FindStatusCondition(t.Status.Conditions, typ)
}

var _ = Describe("AuthToken type Druid", func() {
	It("creates the user with a generated password, its Secret and roles, then only reads", func() {
		e := newDruidUserEnv("iat-druid")
		Expect(e.Hand.CreateRole(testCtx, "basic", "readers")).To(Succeed())
		t := druidToken("pivot", e.Ns, "pivot-user", func(t *implyv1alpha1.AuthToken) {
			t.Spec.Roles = []string{"readers"}
			t.Spec.Datasources = []string{"wikipedia", "koalas"}
			t.Spec.Priority = ptr.To[int32](5)
		})
		Expect(k8sClient.Create(testCtx, t)).To(Succeed())
		waitUserReady(t)
		settledObject(t)

		s := credentials(e.Ns, "pivot")
		Expect(s.Type).To(Equal(corev1.SecretTypeBasicAuth))
		Expect(string(s.Data["username"])).To(Equal("pivot-user"))
		password := string(s.Data["password"])
		Expect(password).To(MatchRegexp(`^[A-Za-z0-9_-]{24,}$`))
		var tj map[string]any
		Expect(json.Unmarshal(s.Data["token.json"], &tj)).To(Succeed())
		Expect(tj).To(Equal(map[string]any{"datasources": []any{"wikipedia", "koalas"}, "priority": float64(5)}))
		Expect(metav1.IsControlledBy(s, t)).To(BeTrue())
		Expect(s.Labels).To(HaveKeyWithValue(specs.LabelManagedBy, specs.ManagedBy))

		Expect(t.Status.SecretName).To(Equal("pivot-credentials"))
		Expect(t.Status.RotatedAt).NotTo(BeNil())
		Expect(t.Status.NextRotation).To(BeNil())
		Expect(t.Finalizers).To(ContainElement("imply.operator.dev/druid-user"))
		Expect(meta.FindStatusCondition(t.Status.Conditions, implyv1alpha1.ConditionPolicyCompliant).Status).To(Equal(metav1.ConditionTrue))
		Expect(meta.FindStatusCondition(t.Status.Conditions, implyv1alpha1.ConditionReady).Message).To(ContainSubstring("roles readers"))

		Expect(e.LoginAs("pivot-user", password)).To(BeTrue())
		Expect(e.LoginAs("pivot-user", password+"x")).To(BeFalse())
		Expect(e.RolesOf("pivot-user")).To(ConsistOf("readers"))

		By("sending no write to Druid nor to the apiserver when nothing differs")
		e.Fake.ResetLog()
		rv := t.ResourceVersion
		secretRV := s.ResourceVersion
		res := e.reconcileToken(t)
		Expect(res.RequeueAfter).To(Equal(time.Minute))
		Expect(e.Writes()).To(BeEmpty())
		Expect(e.Fake.Requests()).NotTo(BeEmpty())
		Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(t), t)).To(Succeed())
		Expect(t.ResourceVersion).To(Equal(rv))
		Expect(credentials(e.Ns, "pivot").ResourceVersion).To(Equal(secretRV))
		Expect(e.Events.List()).To(BeEmpty())
	})

	It("reverts changes made by hand in Druid: the password, a role taken away, a role added, the user deleted", func() {
		e := newDruidUserEnv("iat-druid-drift")
		for _, r := range []string{"readers", "admins"} {
			Expect(e.Hand.CreateRole(testCtx, "basic", r)).To(Succeed())
		}
		t := druidToken("pivot", e.Ns, "pivot-user", func(t *implyv1alpha1.AuthToken) { t.Spec.Roles = []string{"readers"} })
		Expect(k8sClient.Create(testCtx, t)).To(Succeed())
		waitUserReady(t)
		settledObject(t)
		password := string(credentials(e.Ns, "pivot").Data["password"])

		Expect(e.Hand.SetCredentials(testCtx, "basic", "pivot-user", "changed-by-hand")).To(Succeed())
		Expect(e.Hand.UnassignRole(testCtx, "basic", "pivot-user", "readers")).To(Succeed())
		Expect(e.Hand.AssignRole(testCtx, "basic", "pivot-user", "admins")).To(Succeed())
		e.reconcileToken(t)
		Expect(e.LoginAs("pivot-user", password)).To(BeTrue())
		Expect(e.LoginAs("pivot-user", "changed-by-hand")).To(BeFalse())
		Expect(e.RolesOf("pivot-user")).To(ConsistOf("readers"))

		Expect(e.Hand.DeleteAuthenticatorUser(testCtx, "basic", "pivot-user")).To(Succeed())
		Expect(e.Hand.DeleteAuthorizerUser(testCtx, "basic", "pivot-user")).To(Succeed())
		e.reconcileToken(t)
		Expect(e.LoginAs("pivot-user", password)).To(BeTrue())
		Expect(e.RolesOf("pivot-user")).To(ConsistOf("readers"))
		Expect(string(credentials(e.Ns, "pivot").Data["password"])).To(Equal(password))
	})

	It("pushes the user's password changes, and refuses one that breaks the policy or repeats the history", func() {
		e := newDruidUserEnv("iat-druid-user")
		policy := &implyv1alpha1.SecurityPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "strict", Namespace: e.Ns},
			Spec:       implyv1alpha1.SecurityPolicySpec{Password: implyv1alpha1.PasswordPolicy{MinLength: 12, History: 2}},
		}
		Expect(k8sClient.Create(testCtx, policy)).To(Succeed())
		var c implyv1alpha1.ImplyCluster
		Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: e.Ns, Name: "c"}, &c)).To(Succeed())
		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.Security.SecurityPolicyRef = &implyv1alpha1.LocalObjectReference{Name: "strict"}
		Expect(k8sClient.Patch(testCtx, &c, patch)).To(Succeed())

		setUserPassword(e.Ns, "pivot-password", "first-password-1")
		t := druidToken("pivot", e.Ns, "pivot-user", func(t *implyv1alpha1.AuthToken) {
			t.Spec.PasswordSecretRef = &implyv1alpha1.SecretKeySelector{Name: "pivot-password"}
		})
		Expect(k8sClient.Create(testCtx, t)).To(Succeed())
		waitUserReady(t)
		Expect(e.LoginAs("pivot-user", "first-password-1")).To(BeTrue())
		Expect(t.Status.RotatedAt).To(BeNil())

		By("pushing a new password from the user's Secret")
		setUserPassword(e.Ns, "pivot-password", "second-password-2")
		Eventually(func() bool { return e.LoginAs("pivot-user", "second-password-2") }).WithTimeout(30 * time.Second).Should(BeTrue())
		Expect(e.LoginAs("pivot-user", "first-password-1")).To(BeFalse())
		Expect(string(credentials(e.Ns, "pivot").Data["password"])).To(Equal("second-password-2"))
		waitUserReady(t)

		for _, c := range []struct{ value, rule string }{{"short-1", "minLength"}, {"first-password-1", "history"}} {
			By("refusing " + c.rule)
			setUserPassword(e.Ns, "pivot-password", c.value)
			Eventually(func(g Gomega) {
				cond := tokenCond(t, implyv1alpha1.ConditionPolicyCompliant)
				g.Expect(cond.Status).To(Equal(metav1.ConditionFalse))
				g.Expect(cond.Reason).To(Equal("PolicyViolation"))
				g.Expect(cond.Message).To(ContainSubstring(c.rule + ":"))
				g.Expect(cond.Message).To(ContainSubstring(`Secret "pivot-password" key "password"`))
				g.Expect(cond.Message).NotTo(ContainSubstring(c.value))
				ready := meta.FindStatusCondition(t.Status.Conditions, implyv1alpha1.ConditionReady)
				g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
			}).WithTimeout(30 * time.Second).Should(Succeed())
			Expect(e.LoginAs("pivot-user", "second-password-2")).To(BeTrue())
			Expect(e.LoginAs("pivot-user", c.value)).To(BeFalse())
			Expect(string(credentials(e.Ns, "pivot").Data["password"])).To(Equal("second-password-2"))
		}
		Eventually(func() []string {
			var notes []string
			for _, ev := range tokenEvents(t, corev1.EventTypeWarning, "PolicyViolation") {
				notes = append(notes, ev.Note)
			}
			return notes
		}).WithTimeout(10 * time.Second).Should(ContainElements(
			ContainSubstring("minLength:"), ContainSubstring("history:")))

		var history []string
		Expect(json.Unmarshal([]byte(credentials(e.Ns, "pivot").Annotations["imply.operator.dev/password-history"]), &history)).To(Succeed())
		Expect(history).To(HaveLen(1))
		Expect(history[0]).To(HavePrefix("pbkdf2-sha256$"))
		Expect(history[0]).NotTo(ContainSubstring("first-password-1"))
	})

	It("rotates a generated password after the policy's lifetime, keeping the old one's hash", func() {
		e := newDruidUserEnv("iat-druid-rot")
		policy := &implyv1alpha1.SecurityPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: e.Ns},
			Spec: implyv1alpha1.SecurityPolicySpec{Password: implyv1alpha1.PasswordPolicy{
				Lifetime: &metav1.Duration{Duration: 24 * time.Hour}, History: 3}},
		}
		Expect(k8sClient.Create(testCtx, policy)).To(Succeed())
		var c implyv1alpha1.ImplyCluster
		Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: e.Ns, Name: "c"}, &c)).To(Succeed())
		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.Security.SecurityPolicyRef = &implyv1alpha1.LocalObjectReference{Name: "p"}
		Expect(k8sClient.Patch(testCtx, &c, patch)).To(Succeed())

		t := druidToken("pivot", e.Ns, "pivot-user", nil)
		Expect(k8sClient.Create(testCtx, t)).To(Succeed())
		waitUserReady(t)
		settledObject(t)
		Expect(t.Status.NextRotation.Sub(t.Status.RotatedAt.Time)).To(Equal(24 * time.Hour))
		first := string(credentials(e.Ns, "pivot").Data["password"])

		By("a clock a day later")
		fake := &shiftedClock{shift: 25 * time.Hour}
		r := e.tokenReconciler()
		r.Clock = fake
		_, err := r.Reconcile(testCtx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(t)})
		Expect(err).NotTo(HaveOccurred())
		s := credentials(e.Ns, "pivot")
		second := string(s.Data["password"])
		Expect(second).NotTo(Equal(first))
		Expect(e.LoginAs("pivot-user", second)).To(BeTrue())
		Expect(e.LoginAs("pivot-user", first)).To(BeFalse())
		var history []string
		Expect(json.Unmarshal([]byte(s.Annotations["imply.operator.dev/password-history"]), &history)).To(Succeed())
		Expect(history).To(HaveLen(1))
		Expect(e.Events.List()).To(ContainElement(HavePrefix("Normal PasswordRotated")))
		for _, ev := range e.Events.List() {
			Expect(ev).NotTo(ContainSubstring(first))
			Expect(ev).NotTo(ContainSubstring(second))
		}
	})

	It("shares role assignments with DruidRoles without either undoing the other's", func() {
		e := newDruidUserEnv("iat-druid-share")
		e.CreateUsers("alice")
		role := e.CreateRole("analysts", func(r *implyv1alpha1.DruidRole) { r.Spec.Users = []string{"alice"} })
		other := e.CreateRole("auditors", func(r *implyv1alpha1.DruidRole) { r.Spec.Users = []string{"pivot-user"} })
		t := druidToken("pivot", e.Ns, "pivot-user", func(t *implyv1alpha1.AuthToken) { t.Spec.Roles = []string{"analysts"} })
		Expect(k8sClient.Create(testCtx, t)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(syncedOf(other)).To(HaveField("Status", metav1.ConditionTrue))
			g.Expect(tokenCond(t, implyv1alpha1.ConditionReady)).To(HaveField("Status", metav1.ConditionTrue))
		}).WithTimeout(30 * time.Second).Should(Succeed())
		settledObject(role)
		settledObject(other)
		settledObject(t)

		for range 2 {
			e.Reconcile(role)
			e.Reconcile(other)
			e.reconcileToken(t)
		}
		live, err := e.Hand.GetRole(testCtx, "basic", "analysts")
		Expect(err).NotTo(HaveOccurred())
		Expect(live.Users).To(ConsistOf("alice", "pivot-user"))
		Expect(e.RolesOf("pivot-user")).To(ConsistOf("analysts", "auditors"))

		By("dropping the role from the AuthToken")
		patch := client.MergeFrom(t.DeepCopy())
		t.Spec.Roles = nil
		Expect(k8sClient.Patch(testCtx, t, patch)).To(Succeed())
		Eventually(func() []string { return e.RolesOf("pivot-user") }).WithTimeout(30 * time.Second).Should(ConsistOf("auditors"))
		e.Reconcile(role)
		live, err = e.Hand.GetRole(testCtx, "basic", "analysts")
		Expect(err).NotTo(HaveOccurred())
		Expect(live.Users).To(ConsistOf("alice"))
	})

	It("deletes the user from Druid with the AuthToken", func() {
		e := newDruidUserEnv("iat-druid-del")
		t := druidToken("pivot", e.Ns, "pivot-user", nil)
		Expect(k8sClient.Create(testCtx, t)).To(Succeed())
		waitUserReady(t)
		Expect(k8sClient.Delete(testCtx, t)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(apierrors.IsNotFound(k8sClient.Get(testCtx, client.ObjectKeyFromObject(t), t))).To(BeTrue())
		}).WithTimeout(30 * time.Second).Should(Succeed())
		_, err := e.Hand.GetAuthenticatorUser(testCtx, "basic", "pivot-user")
		Expect(druid.IsNotFound(err)).To(BeTrue(), "%v", err)
		_, err = e.Hand.GetAuthorizerUser(testCtx, "basic", "pivot-user")
		Expect(druid.IsNotFound(err)).To(BeTrue(), "%v", err)
	})

	It("waits for auth on the cluster and for the cluster itself", func() {
		e := newDruidRoleEnv("iat-druid-noauth", false)
		r := (&druidUserEnv{druidRoleEnv: e}).tokenReconciler()
		t := druidToken("pivot", e.Ns, "pivot-user", nil)
		Expect(k8sClient.Create(testCtx, t)).To(Succeed())
		_, err := r.Reconcile(testCtx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(t)})
		Expect(err).NotTo(HaveOccurred())
		cond := tokenCond(t, implyv1alpha1.ConditionReady)
		Expect(cond.Status).To(Equal(metav1.ConditionFalse))
		Expect(cond.Reason).To(Equal("AuthNotEnabled"))
		Expect(e.Fake.Requests()).To(BeEmpty())

		orphan := druidToken("orphan", e.Ns, "orphan-user", func(t *implyv1alpha1.AuthToken) { t.Spec.ClusterRef.Name = "nope" })
		Expect(k8sClient.Create(testCtx, orphan)).To(Succeed())
		Eventually(func() string {
			c := tokenCond(orphan, implyv1alpha1.ConditionReady)
			if c == nil {
				return ""
			}
			return c.Reason
		}).WithTimeout(30 * time.Second).Should(Equal("ClusterNotFound"))
		Expect(k8sClient.Delete(testCtx, orphan)).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(testCtx, client.ObjectKeyFromObject(orphan), orphan))
		}).WithTimeout(30 * time.Second).Should(BeTrue())
	})
})

var _ = Describe("Druid users and roles over TLS with faults", func() {
	It("converge through the cluster's CA, survive 5xx and resets without duplicate or lost assignments, and delete", func() {
		ns := newNamespace("iat-druid-tls")
		createSecrets(ns)
		c := testobj.ImplyCluster("c", ns, testobj.WithAuth("", ""))
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())

		By("waiting for the cluster's CA and bundle")
		var caSecret corev1.Secret
		Eventually(func() error {
			return k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: specs.CASecretName("c")}, &caSecret)
		}).WithTimeout(30 * time.Second).Should(Succeed())
		ca, err := pki.ParseKeyPair(caSecret.Data[specs.CACertKey], caSecret.Data[specs.CAPrivateKeyKey])
		Expect(err).NotTo(HaveOccurred())
		leaf, err := ca.SignLeaf(clock.RealClock{}, pki.LeafRequest{CommonName: "coordinator", DNSNames: []string{"localhost"}, Validity: time.Hour})
		Expect(err).NotTo(HaveOccurred())
		cert, err := tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM)
		Expect(err).NotTo(HaveOccurred())

		var creds corev1.Secret
		Eventually(func() error {
			return k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: specs.DruidCredentialsName("c")}, &creds)
		}).WithTimeout(30 * time.Second).Should(Succeed())
		admin := string(creds.Data[specs.DruidAdminPasswordKey])
		fake := fakecoordinator.New(fakecoordinator.Options{AdminPassword: admin, CredentialIterations: 100, TLS: true, Certificate: &cert})
		DeferCleanup(fake.Close)
		u, err := url.Parse(fake.URL)
		Expect(err).NotTo(HaveOccurred())
		u.Host = "localhost:" + u.Port()

		Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(c), c)).To(Succeed())
		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.Druid.APIURL = u.String()
		Expect(k8sClient.Patch(testCtx, c, patch)).To(Succeed())
		e := &druidRoleEnv{Ns: ns, Fake: fake, Events: &recordedEvents{}, CABundle: ca.CertPEM}
		e.Fake.URL = u.String()
		hand, err := druid.New(druid.Config{BaseURL: u.String(), Username: "admin", Password: admin, Retries: -1, CABundle: ca.CertPEM})
		Expect(err).NotTo(HaveOccurred())
		e.Hand = hand

		By("injecting 5xx answers and connection resets while both are created")
		fake.FailNext(3, 503)
		fake.ResetNext(2)
		role := e.CreateRole("readers", func(r *implyv1alpha1.DruidRole) { r.Spec.Permissions = []implyv1alpha1.DruidPermission{readWiki} })
		t := druidToken("pivot", ns, "pivot-user", func(t *implyv1alpha1.AuthToken) { t.Spec.Roles = []string{"readers"} })
		Expect(k8sClient.Create(testCtx, t)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(syncedOf(role)).To(HaveField("Status", metav1.ConditionTrue))
			cond := tokenCond(t, implyv1alpha1.ConditionReady)
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.Status).To(Equal(metav1.ConditionTrue), cond.Message)
		}).WithTimeout(60 * time.Second).Should(Succeed())
		password := string(credentials(ns, "pivot").Data["password"])
		Expect(e.LoginAs("pivot-user", password)).To(BeTrue())
		Expect(e.RolesOf("pivot-user")).To(Equal([]string{"readers"}))
		live, err := hand.GetRole(testCtx, "basic", "readers")
		Expect(err).NotTo(HaveOccurred())
		Expect(live.Users).To(Equal([]string{"pivot-user"}))

		By("reverting drift over TLS while requests fail")
		Expect(hand.UnassignRole(testCtx, "basic", "pivot-user", "readers")).To(Succeed())
		fake.FailNext(2, 500)
		r := (&druidUserEnv{druidRoleEnv: e}).tokenReconciler()
		Eventually(func() error {
			_, err := r.Reconcile(testCtx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(t)})
			return err
		}).WithTimeout(30 * time.Second).Should(Succeed())
		Expect(e.RolesOf("pivot-user")).To(Equal([]string{"readers"}))

		By("deleting both")
		Expect(k8sClient.Delete(testCtx, t)).To(Succeed())
		Expect(k8sClient.Delete(testCtx, role)).To(Succeed())
		Eventually(func(g Gomega) {
			_, err := hand.GetAuthenticatorUser(testCtx, "basic", "pivot-user")
			g.Expect(druid.IsNotFound(err)).To(BeTrue(), "%v", err)
			_, err = hand.GetRole(testCtx, "basic", "readers")
			g.Expect(druid.IsNotFound(err)).To(BeTrue(), "%v", err)
		}).WithTimeout(30 * time.Second).Should(Succeed())
		for _, req := range fake.Requests() {
			Expect(req.Query).NotTo(ContainSubstring(password))
			Expect(strings.Contains(req.Path, password)).To(BeFalse())
		}
	})
})

// shiftedClock is the real clock moved by shift.
type shiftedClock struct{ shift time.Duration }

func (c *shiftedClock) Now() time.Time                  { return time.Now().Add(c.shift) }
func (c *shiftedClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

var _ = Describe("Druid API request metrics", func() {
	It("count the operator's requests by cluster, method and code", func() {
		e := newDruidUserEnv("druid-metrics")
		t := druidToken("pivot", e.Ns, "pivot-user", nil)
		Expect(k8sClient.Create(testCtx, t)).To(Succeed())
		waitUserReady(t)
		before := testutil.ToFloat64(druidconn.Requests.WithLabelValues(e.Ns, "c", "GET", "200"))
		e.Fake.FailNext(1, 503)
		e.reconcileToken(t)
		Expect(testutil.ToFloat64(druidconn.Requests.WithLabelValues(e.Ns, "c", "GET", "200"))).To(BeNumerically(">", before))
		Expect(testutil.ToFloat64(druidconn.Requests.WithLabelValues(e.Ns, "c", "GET", "503"))).To(BeNumerically(">=", 1))
	})
})
