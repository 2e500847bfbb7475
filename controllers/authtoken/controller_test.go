package authtoken

import (
	"encoding/json"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/setup"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testenv"
)

// generatedTokenPattern is a generated agent token: 32 bytes as unpadded URL-safe base64.
var generatedTokenPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// tokenOption modifies a test AuthToken.
type tokenOption func(*implyv1alpha1.AuthToken)

// withRotation sets spec.rotation.period.
func withRotation(period time.Duration) tokenOption {
	return func(t *implyv1alpha1.AuthToken) {
		t.Spec.Rotation = &implyv1alpha1.RotationSpec{Period: metav1.Duration{Duration: period}}
	}
}

// withSecretRef sets spec.secretRef.
func withSecretRef(name, key string) tokenOption {
	return func(t *implyv1alpha1.AuthToken) {
		t.Spec.SecretRef = &implyv1alpha1.SecretKeySelector{Name: name, Key: key}
	}
}

// agentToken builds an AuthToken of type Agent.
func agentToken(name, ns string, opts ...tokenOption) *implyv1alpha1.AuthToken {
	t := &implyv1alpha1.AuthToken{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       implyv1alpha1.AuthTokenSpec{Type: implyv1alpha1.AuthTokenAgent},
	}
	for _, o := range opts {
		o(t)
	}
	return t
}

// tokenCondition re-reads the AuthToken and returns its condition of the given type.
func tokenCondition(g Gomega, t *implyv1alpha1.AuthToken, condType string) *metav1.Condition {
	g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(t), t)).To(Succeed())
	return meta.FindStatusCondition(t.Status.Conditions, condType)
}

// waitTokenReady waits until the AuthToken reports Ready=True for its current generation.
func waitTokenReady(t *implyv1alpha1.AuthToken) {
	EventuallyWithOffset(1, func(g Gomega) {
		cond := tokenCondition(g, t, implyv1alpha1.ConditionReady)
		g.Expect(cond).NotTo(BeNil())
		g.Expect(cond.Status).To(Equal(metav1.ConditionTrue), cond.Message)
		g.Expect(cond.Reason).To(Equal(implyv1alpha1.ReasonTokenReady))
		g.Expect(t.Status.ObservedGeneration).To(Equal(t.Generation))
	}).WithTimeout(settle).Should(Succeed())
}

// waitTokenNotReady waits until the AuthToken reports Ready=False with reason, and returns the
// condition.
func waitTokenNotReady(t *implyv1alpha1.AuthToken, reason string) *metav1.Condition {
	var cond *metav1.Condition
	EventuallyWithOffset(1, func(g Gomega) {
		cond = tokenCondition(g, t, implyv1alpha1.ConditionReady)
		g.Expect(cond).NotTo(BeNil())
		g.Expect(cond.Status).To(Equal(metav1.ConditionFalse), cond.Message)
		g.Expect(cond.Reason).To(Equal(reason), cond.Message)
		g.Expect(t.Status.ObservedGeneration).To(Equal(t.Generation))
	}).WithTimeout(settle).Should(Succeed())
	return cond
}

// tokenEvents lists the events of a type and reason about an AuthToken.
func tokenEvents(t *implyv1alpha1.AuthToken, eventType, reason string) []eventsv1.Event {
	var list eventsv1.EventList
	ExpectWithOffset(1, k8sClient.List(testCtx, &list, client.InNamespace(t.Namespace))).To(Succeed())
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Kind == "AuthToken" && e.Regarding.Name == t.Name && e.Type == eventType && e.Reason == reason {
			out = append(out, e)
		}
	}
	return out
}

// tokenValue is the value of the agent token in a generated Secret.
func tokenValue(ns, secret string) string {
	return string(getSecret(ns, secret).Data[specs.AuthTokenKey])
}

// tokenGeneratedAt is the generated-at annotation of a generated token's Secret.
func tokenGeneratedAt(s *corev1.Secret) time.Time {
	at, err := time.Parse(time.RFC3339, s.Annotations[specs.AnnotationGeneratedAt])
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return at
}

// createUserSecret creates an unlabelled Secret as a user would.
func createUserSecret(ns, name string, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, StringData: data}
	ExpectWithOffset(1, k8sClient.Create(testCtx, s)).To(Succeed())
	return s
}

// setUserSecretData replaces the data of a user's Secret.
func setUserSecretData(s *corev1.Secret, data map[string]string) {
	ExpectWithOffset(1, k8sClient.Get(testCtx, client.ObjectKeyFromObject(s), s)).To(Succeed())
	s.Data, s.StringData = nil, data
	ExpectWithOffset(1, k8sClient.Update(testCtx, s)).To(Succeed())
}

var _ = Describe("AuthToken type Agent, generated", func() {
	It("generates a 43-character URL-safe token once into an owned, labelled Secret", func() {
		ns := newNamespace("iat-gen")
		t := agentToken("agents", ns)
		Expect(k8sClient.Create(testCtx, t)).To(Succeed())
		waitTokenReady(t)

		Expect(t.Status.SecretName).To(Equal("agents-token"))
		Expect(t.Status.NextRotation).To(BeNil())
		Expect(t.Status.RotatedAt).NotTo(BeNil())
		policy := meta.FindStatusCondition(t.Status.Conditions, implyv1alpha1.ConditionPolicyCompliant)
		Expect(policy).NotTo(BeNil())
		Expect(policy.Status).To(Equal(metav1.ConditionTrue))
		Expect(policy.Reason).To(Equal(implyv1alpha1.ReasonNotApplicable))
		Expect(meta.IsStatusConditionFalse(t.Status.Conditions, implyv1alpha1.ConditionDegraded)).To(BeTrue())
		Expect(meta.IsStatusConditionFalse(t.Status.Conditions, implyv1alpha1.ConditionProgressing)).To(BeTrue())

		s := getSecret(ns, "agents-token")
		Expect(s.Type).To(Equal(corev1.SecretTypeOpaque))
		Expect(s.Labels).To(HaveKeyWithValue(specs.LabelManagedBy, specs.ManagedBy))
		Expect(s.Labels).To(HaveKeyWithValue(specs.LabelName, specs.AppName))
		Expect(metav1.IsControlledBy(s, t)).To(BeTrue())
		Expect(s.Data).To(HaveLen(1))
		token := string(s.Data[specs.AuthTokenKey])
		Expect(token).To(MatchRegexp(generatedTokenPattern.String()))
		Expect(t.Status.RotatedAt.Time.Equal(tokenGeneratedAt(s))).To(BeTrue())
		Eventually(func() []eventsv1.Event {
			return tokenEvents(t, corev1.EventTypeNormal, implyv1alpha1.EventTokenGenerated)
		}).
			WithTimeout(settle).Should(HaveLen(1))

		By("keeping the token when the spec changes and rotation is not yet due")
		patch := client.MergeFrom(t.DeepCopy())
		t.Spec.Rotation = &implyv1alpha1.RotationSpec{Period: metav1.Duration{Duration: 720 * time.Hour}}
		Expect(k8sClient.Patch(testCtx, t, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(t), t)).To(Succeed())
			g.Expect(t.Status.ObservedGeneration).To(Equal(int64(2)))
			g.Expect(t.Status.NextRotation).NotTo(BeNil())
			g.Expect(t.Status.NextRotation.Time.Equal(tokenGeneratedAt(s).Add(720 * time.Hour))).To(BeTrue())
		}).WithTimeout(settle).Should(Succeed())
		Expect(tokenValue(ns, "agents-token")).To(Equal(token))

		By("generating a new token when the Secret is deleted")
		Expect(k8sClient.Delete(testCtx, s)).To(Succeed())
		Eventually(func(g Gomega) {
			var again corev1.Secret
			g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(s), &again)).To(Succeed())
			g.Expect(again.UID).NotTo(Equal(s.UID))
			g.Expect(string(again.Data[specs.AuthTokenKey])).To(MatchRegexp(generatedTokenPattern.String()))
			g.Expect(string(again.Data[specs.AuthTokenKey])).NotTo(Equal(token))
		}).WithTimeout(settle).Should(Succeed())
		waitTokenReady(t)
	})

	It("writes nothing when reconciled again with nothing due", func() {
		ns := newNamespace("iat-resync")
		t := agentToken("agents", ns, withRotation(720*time.Hour))
		Expect(k8sClient.Create(testCtx, t)).To(Succeed())
		waitTokenReady(t)
		waitQuiet(ns)
		before := getSecret(ns, "agents-token")

		counter := &writeCounter{}
		direct, err := client.New(counter.Wrap(cfg), client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())
		recorder := &captureEvents{}
		r := &Reconciler{Client: direct, APIReader: direct, Scheme: scheme, Recorder: recorder, Clock: clock.RealClock{}}
		for range 5 {
			res, err := r.Reconcile(testCtx, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(t)})
			Expect(err).NotTo(HaveOccurred())
			Expect(res.RequeueAfter).To(BeNumerically(">", 719*time.Hour))
		}
		Expect(counter.Since(0)).To(BeEmpty(), "status writes: %v", counter.StatusBodies())
		Expect(recorder.List()).To(BeEmpty())
		after := getSecret(ns, "agents-token")
		Expect(after.ResourceVersion).To(Equal(before.ResourceVersion))
		Expect(after.Data).To(Equal(before.Data))
	})

	It("rotates the token once the period has passed, not before, and requeues for the next rotation", func() {
		ns := newNamespace("iat-rotate")
		t := agentToken("agents", ns, withRotation(24*time.Hour))
		Expect(k8sClient.Create(testCtx, t)).To(Succeed())
		waitTokenReady(t)
		waitQuiet(ns)
		s0 := getSecret(ns, "agents-token")
		token0, at0 := string(s0.Data[specs.AuthTokenKey]), tokenGeneratedAt(s0)
		Expect(t.Status.RotatedAt.Time.Equal(at0)).To(BeTrue())
		Expect(t.Status.NextRotation.Time.Equal(at0.Add(24 * time.Hour))).To(BeTrue())

		direct, err := client.New(cfg, client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())
		fake := clocktesting.NewFakeClock(at0.Add(time.Hour))
		recorder := &captureEvents{}
		r := &Reconciler{Client: direct, APIReader: direct, Scheme: scheme, Recorder: recorder, Clock: fake}
		req := reconcile.Request{NamespacedName: client.ObjectKeyFromObject(t)}

		res, err := r.Reconcile(testCtx, req)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.RequeueAfter).To(Equal(23 * time.Hour))

		fake.SetTime(at0.Add(24*time.Hour - time.Second))
		res, err = r.Reconcile(testCtx, req)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.RequeueAfter).To(Equal(time.Second))
		Expect(getSecret(ns, "agents-token").ResourceVersion).To(Equal(s0.ResourceVersion), "nothing is due yet")
		Expect(recorder.List()).To(BeEmpty())

		fake.SetTime(at0.Add(24 * time.Hour))
		// The operator running beside this reconciler reacts to the rotated Secret too, so a
		// write may conflict; a reconcile after a conflict finishes the job.
		Eventually(func() error { res, err = r.Reconcile(testCtx, req); return err }).WithTimeout(settle).Should(Succeed())
		Expect(res.RequeueAfter).To(Equal(24 * time.Hour))
		s1 := getSecret(ns, "agents-token")
		token1 := string(s1.Data[specs.AuthTokenKey])
		Expect(token1).To(MatchRegexp(generatedTokenPattern.String()))
		Expect(token1).NotTo(Equal(token0))
		Expect(tokenGeneratedAt(s1).Equal(at0.Add(24 * time.Hour))).To(BeTrue())
		Expect(metav1.IsControlledBy(s1, t)).To(BeTrue())

		Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(t), t)).To(Succeed())
		Expect(t.Status.RotatedAt.Time.Equal(at0.Add(24 * time.Hour))).To(BeTrue())
		Expect(t.Status.NextRotation.Time.Equal(at0.Add(48 * time.Hour))).To(BeTrue())
		Expect(meta.IsStatusConditionTrue(t.Status.Conditions, implyv1alpha1.ConditionReady)).To(BeTrue())

		events := recorder.List()
		Expect(events).To(HaveLen(1))
		Expect(events[0].Type).To(Equal(corev1.EventTypeNormal))
		Expect(events[0].Reason).To(Equal(implyv1alpha1.EventTokenRotated))
		Expect(events[0].Note).To(ContainSubstring(`"agents-token"`))
		Expect(events[0].Note).To(ContainSubstring("24h"))
		Expect(events[0].Note).NotTo(ContainSubstring(token0))
		Expect(events[0].Note).NotTo(ContainSubstring(token1))

		By("not rotating again until the next period has passed")
		res, err = r.Reconcile(testCtx, req)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.RequeueAfter).To(Equal(24 * time.Hour))
		Expect(tokenValue(ns, "agents-token")).To(Equal(token1))
	})

	It("rotates at once when the Secret says the token is older than the period, after an operator restart too", func() {
		ns := newNamespace("iat-rotate-api")
		t := agentToken("agents", ns, withRotation(time.Hour))
		Expect(k8sClient.Create(testCtx, t)).To(Succeed())
		waitTokenReady(t)
		s := getSecret(ns, "agents-token")
		token0 := string(s.Data[specs.AuthTokenKey])

		// The schedule lives in the annotation: backdating it is what a token generated long ago
		// (before a restart of the operator) looks like.
		patch := client.MergeFrom(s.DeepCopy())
		s.Annotations[specs.AnnotationGeneratedAt] = "2020-01-01T00:00:00Z"
		Expect(k8sClient.Patch(testCtx, s, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(s), s)).To(Succeed())
			g.Expect(string(s.Data[specs.AuthTokenKey])).NotTo(Equal(token0))
			g.Expect(tokenGeneratedAt(s)).To(BeTemporally(">", time.Now().Add(-time.Minute)))
		}).WithTimeout(settle).Should(Succeed())
		Eventually(func() []eventsv1.Event {
			return tokenEvents(t, corev1.EventTypeNormal, implyv1alpha1.EventTokenRotated)
		}).
			WithTimeout(settle).Should(HaveLen(1))
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(t), t)).To(Succeed())
			g.Expect(t.Status.RotatedAt.Time.Equal(tokenGeneratedAt(s))).To(BeTrue())
			g.Expect(t.Status.NextRotation.Time.Equal(tokenGeneratedAt(s).Add(time.Hour))).To(BeTrue())
		}).WithTimeout(settle).Should(Succeed())
	})

	It("never takes over a Secret of the generated name that is not its own", func() {
		ns := newNamespace("iat-conflict")
		mine := createUserSecret(ns, "agents-token", map[string]string{specs.AuthTokenKey: "a-token-someone-else-made"})
		t := agentToken("agents", ns)
		Expect(k8sClient.Create(testCtx, t)).To(Succeed())
		cond := waitTokenNotReady(t, implyv1alpha1.ReasonNameConflict)
		Expect(cond.Message).To(ContainSubstring(`Secret "agents-token"`))
		Expect(t.Status.SecretName).To(BeEmpty())
		Eventually(func() []eventsv1.Event {
			return tokenEvents(t, corev1.EventTypeWarning, implyv1alpha1.ReasonNameConflict)
		}).
			WithTimeout(settle).ShouldNot(BeEmpty())
		s := getSecret(ns, "agents-token")
		Expect(s.OwnerReferences).To(BeEmpty())
		Expect(s.Labels).To(BeEmpty())
		Expect(string(s.Data[specs.AuthTokenKey])).To(Equal("a-token-someone-else-made"))

		By("generating its own once that Secret is gone")
		Expect(k8sClient.Delete(testCtx, mine)).To(Succeed())
		waitTokenReady(t)
		Expect(tokenValue(ns, "agents-token")).To(MatchRegexp(generatedTokenPattern.String()))
	})

	It("is Ready with the sample of config/samples", func() {
		ns := newNamespace("iat-sample")
		all, err := testenv.Samples()
		Expect(err).NotTo(HaveOccurred())
		found := false
		for _, s := range all {
			if typ, _, _ := unstructured.NestedString(s.Object, "spec", "type"); s.GetKind() != "AuthToken" || typ != string(implyv1alpha1.AuthTokenAgent) {
				continue
			}
			found = true
			s.SetNamespace(ns)
			Expect(k8sClient.Create(testCtx, s)).To(Succeed())
			t := &implyv1alpha1.AuthToken{ObjectMeta: metav1.ObjectMeta{Name: s.GetName(), Namespace: ns}}
			waitTokenReady(t)
			Expect(t.Status.SecretName).To(Equal(specs.AuthTokenSecretName(s.GetName())))
			Expect(t.Status.NextRotation.Time.Sub(t.Status.RotatedAt.Time)).To(Equal(2160 * time.Hour))
		}
		Expect(found).To(BeTrue())
	})
})

var _ = Describe("AuthToken type Agent, from the user's Secret", func() {
	It("waits for a missing Secret and key, rejects an unusable token without showing it, and recovers without a restart", func() {
		ns := newNamespace("iat-user")
		t := agentToken("agents", ns, withSecretRef("corp-agent-token", ""))
		Expect(k8sClient.Create(testCtx, t)).To(Succeed())

		cond := waitTokenNotReady(t, implyv1alpha1.ReasonSecretNotFound)
		Expect(cond.Message).To(ContainSubstring(`Secret "corp-agent-token"`))
		Expect(cond.Message).To(ContainSubstring("spec.secretRef"))
		Expect(meta.IsStatusConditionTrue(t.Status.Conditions, implyv1alpha1.ConditionDegraded)).To(BeTrue())
		Expect(t.Status.SecretName).To(BeEmpty())
		Eventually(func() []eventsv1.Event {
			return tokenEvents(t, corev1.EventTypeWarning, implyv1alpha1.ReasonSecretNotFound)
		}).
			WithTimeout(settle).Should(HaveLen(1))

		By("not repeating the Warning while the problem persists")
		direct, err := client.New(cfg, client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())
		recorder := &captureEvents{}
		r := &Reconciler{Client: direct, APIReader: direct, Scheme: scheme, Recorder: recorder, Clock: clock.RealClock{}}
		for range 3 {
			res, err := r.Reconcile(testCtx, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(t)})
			Expect(err).NotTo(HaveOccurred())
			Expect(res.RequeueAfter).To(BeZero(), "a watch on the Secret wakes it, not polling")
		}
		Expect(recorder.List()).To(BeEmpty())

		By("naming the missing key once the Secret exists")
		user := createUserSecret(ns, "corp-agent-token", map[string]string{"token": "x"})
		cond = waitTokenNotReady(t, implyv1alpha1.ReasonSecretKeyNotFound)
		Expect(cond.Message).To(ContainSubstring(`Secret "corp-agent-token"`))
		Expect(cond.Message).To(ContainSubstring(`key "auth-token"`))
		Eventually(func() []eventsv1.Event {
			return tokenEvents(t, corev1.EventTypeWarning, implyv1alpha1.ReasonSecretKeyNotFound)
		}).
			WithTimeout(settle).Should(HaveLen(1))

		By("rejecting a token with ':' and naming the rule, never the value")
		const bad = "agent:Sup3rSecretValue"
		setUserSecretData(user, map[string]string{specs.AuthTokenKey: bad})
		cond = waitTokenNotReady(t, implyv1alpha1.ReasonInvalidToken)
		Expect(cond.Message).To(ContainSubstring("colon"))
		Expect(cond.Message).NotTo(ContainSubstring("Sup3rSecretValue"))
		Expect(cond.Message).NotTo(ContainSubstring(bad))
		var warnings []eventsv1.Event
		Eventually(func() []eventsv1.Event {
			warnings = tokenEvents(t, corev1.EventTypeWarning, implyv1alpha1.ReasonInvalidToken)
			return warnings
		}).WithTimeout(settle).Should(HaveLen(1))
		Expect(warnings[0].Note).To(ContainSubstring("colon"))
		Expect(warnings[0].Note).NotTo(ContainSubstring("Sup3rSecretValue"))

		By("rejecting a token with a trailing newline")
		setUserSecretData(user, map[string]string{specs.AuthTokenKey: "Sup3rSecretValue\n"})
		Eventually(func(g Gomega) {
			cond := tokenCondition(g, t, implyv1alpha1.ConditionReady)
			g.Expect(cond.Reason).To(Equal(implyv1alpha1.ReasonInvalidToken))
			g.Expect(cond.Message).To(ContainSubstring("whitespace"))
			g.Expect(cond.Message).NotTo(ContainSubstring("Sup3rSecretValue"))
		}).WithTimeout(settle).Should(Succeed())

		By("becoming Ready with a usable token, which it never copies nor touches")
		setUserSecretData(user, map[string]string{specs.AuthTokenKey: "Sup3rSecretValue"})
		waitTokenReady(t)
		Expect(t.Status.SecretName).To(Equal("corp-agent-token"))
		Expect(t.Status.RotatedAt).To(BeNil())
		Expect(t.Status.NextRotation).To(BeNil())
		Expect(meta.IsStatusConditionFalse(t.Status.Conditions, implyv1alpha1.ConditionDegraded)).To(BeTrue())
		s := getSecret(ns, "corp-agent-token")
		Expect(s.OwnerReferences).To(BeEmpty())
		Expect(s.Labels).To(BeEmpty())
		err = k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "agents-token"}, &corev1.Secret{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "no token is generated when secretRef is set")
	})

	It("reads a custom key", func() {
		ns := newNamespace("iat-user-key")
		createUserSecret(ns, "vault-sync", map[string]string{"IMPLY_AUTH_TOKEN": "f00-bar_baz"})
		t := agentToken("agents", ns, withSecretRef("vault-sync", "IMPLY_AUTH_TOKEN"))
		Expect(k8sClient.Create(testCtx, t)).To(Succeed())
		waitTokenReady(t)
		Expect(t.Status.SecretName).To(Equal("vault-sync"))
		Expect(meta.FindStatusCondition(t.Status.Conditions, implyv1alpha1.ConditionReady).Message).To(ContainSubstring(`key "IMPLY_AUTH_TOKEN"`))
	})
})

var _ = Describe("Agent token values", func() {
	It("never appear in the operator's events", func() {
		By("generating, rotating and rejecting tokens in a namespace of its own")
		ns := newNamespace("iat-leak")
		gen := agentToken("generated", ns, withRotation(time.Hour))
		Expect(k8sClient.Create(testCtx, gen)).To(Succeed())
		waitTokenReady(gen)
		rotatedAway := tokenValue(ns, "generated-token")
		s := getSecret(ns, "generated-token")
		patch := client.MergeFrom(s.DeepCopy())
		s.Annotations[specs.AnnotationGeneratedAt] = "2020-01-01T00:00:00Z"
		Expect(k8sClient.Patch(testCtx, s, patch)).To(Succeed())
		Eventually(func() []eventsv1.Event {
			return tokenEvents(gen, corev1.EventTypeNormal, implyv1alpha1.EventTokenRotated)
		}).
			WithTimeout(settle).ShouldNot(BeEmpty())

		createUserSecret(ns, "bad-user-token", map[string]string{specs.AuthTokenKey: "user:Xq9LeakCanary"})
		bad := agentToken("bad", ns, withSecretRef("bad-user-token", ""))
		Expect(k8sClient.Create(testCtx, bad)).To(Succeed())
		waitTokenNotReady(bad, implyv1alpha1.ReasonInvalidToken)
		Eventually(func() []eventsv1.Event {
			return tokenEvents(bad, corev1.EventTypeWarning, implyv1alpha1.ReasonInvalidToken)
		}).
			WithTimeout(settle).ShouldNot(BeEmpty())

		By("collecting every token the AuthTokens of every test namespace hold")
		values := map[string]bool{rotatedAway: true, "user:Xq9LeakCanary": true, "Xq9LeakCanary": true}
		var tokens implyv1alpha1.AuthTokenList
		Expect(k8sClient.List(testCtx, &tokens)).To(Succeed())
		for _, t := range tokens.Items {
			name, key := specs.AuthTokenSecretName(t.Name), specs.AuthTokenKey
			if ref := t.Spec.SecretRef; ref != nil {
				name, key = ref.Name, ref.KeyOrDefault(specs.AuthTokenKey)
			}
			var secret corev1.Secret
			if err := k8sClient.Get(testCtx, client.ObjectKey{Namespace: t.Namespace, Name: name}, &secret); err == nil {
				if v := strings.TrimSpace(string(secret.Data[key])); len(v) >= 8 {
					values[v] = true
				}
			}
		}
		Expect(len(values)).To(BeNumerically(">=", 4))

		By("searching every event of the operator for them")
		var list eventsv1.EventList
		Expect(k8sClient.List(testCtx, &list)).To(Succeed())
		operatorEvents := 0
		for _, e := range list.Items {
			if e.ReportingController != setup.EventSource {
				continue
			}
			operatorEvents++
			raw, err := json.Marshal(e)
			Expect(err).NotTo(HaveOccurred())
			for v := range values {
				Expect(string(raw)).NotTo(ContainSubstring(v), "event %s/%s (%s) shows a token", e.Namespace, e.Name, e.Reason)
			}
		}
		Expect(operatorEvents).To(BeNumerically(">=", 3))
	})
})
