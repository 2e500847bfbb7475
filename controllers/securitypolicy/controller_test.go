package securitypolicy

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/test/testenv"
)

// policyReady re-reads the policy and returns its Ready condition.
func policyReady(g Gomega, p *implyv1alpha1.SecurityPolicy) *metav1.Condition {
	g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(p), p)).To(Succeed())
	return meta.FindStatusCondition(p.Status.Conditions, implyv1alpha1.ConditionReady)
}

// durationOf is a metav1.Duration for a spec.
func durationOf(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

var _ = Describe("SecurityPolicy", func() {
	It("reports the sample Valid with a summary of its rules, follows spec changes, and writes nothing on resync", func() {
		ns := newNamespace("isp")
		all, err := testenv.Samples()
		Expect(err).NotTo(HaveOccurred())
		var p *implyv1alpha1.SecurityPolicy
		for _, s := range all {
			if s.GetKind() == "SecurityPolicy" {
				s.SetNamespace(ns)
				Expect(k8sClient.Create(testCtx, s)).To(Succeed())
				p = &implyv1alpha1.SecurityPolicy{ObjectMeta: metav1.ObjectMeta{Name: s.GetName(), Namespace: ns}}
			}
		}
		Expect(p).NotTo(BeNil())
		Eventually(func(g Gomega) {
			cond := policyReady(g, p)
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(cond.Reason).To(Equal(implyv1alpha1.ReasonValid))
			g.Expect(cond.Message).To(Equal("Passwords of 16 to 128 characters, passphrases from 24; expire after 2160h; " +
				"the last 5 may not be reused; locked out for 15m after 5 failed logins; disabled for 24h after 20 failed logins"))
			g.Expect(p.Status.ObservedGeneration).To(Equal(p.Generation))
			g.Expect(meta.IsStatusConditionFalse(p.Status.Conditions, implyv1alpha1.ConditionDegraded)).To(BeTrue())
			g.Expect(meta.IsStatusConditionFalse(p.Status.Conditions, implyv1alpha1.ConditionProgressing)).To(BeTrue())
		}).WithTimeout(settle).Should(Succeed())

		By("stamping the new generation and summary after a spec change")
		patch := client.MergeFrom(p.DeepCopy())
		p.Spec.Password.MinLength = 20
		p.Spec.LoginThrottling = nil
		Expect(k8sClient.Patch(testCtx, p, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			cond := policyReady(g, p)
			g.Expect(p.Generation).To(Equal(int64(2)))
			g.Expect(p.Status.ObservedGeneration).To(Equal(int64(2)))
			g.Expect(cond.ObservedGeneration).To(Equal(int64(2)))
			g.Expect(cond.Message).To(HavePrefix("Passwords of 20 to 128 characters"))
			g.Expect(cond.Message).To(HaveSuffix("no login throttling"))
		}).WithTimeout(settle).Should(Succeed())

		counter := &writeCounter{}
		direct, err := client.New(counter.Wrap(cfg), client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())
		r := &SecurityPolicyReconciler{Client: direct, Recorder: &captureEvents{}}
		for range 3 {
			_, err := r.Reconcile(testCtx, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(p)})
			Expect(err).NotTo(HaveOccurred())
		}
		Expect(counter.Since(0)).To(BeEmpty())
	})

	It("is Valid with an empty spec, under the defaults", func() {
		ns := newNamespace("isp-empty")
		p := &implyv1alpha1.SecurityPolicy{ObjectMeta: metav1.ObjectMeta{Name: "defaults", Namespace: ns}}
		Expect(k8sClient.Create(testCtx, p)).To(Succeed())
		Eventually(func(g Gomega) {
			cond := policyReady(g, p)
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.Reason).To(Equal(implyv1alpha1.ReasonValid))
			g.Expect(cond.Message).To(Equal("Passwords of 12 to 128 characters; never expire; reuse allowed; no login throttling"))
		}).WithTimeout(settle).Should(Succeed())
	})

	It("cannot be created with rules no password passes: admission rejects them", func() {
		// Every invalid policy the operator knows of is rejected by the CRD's rules, so the
		// InvalidPolicy path is tested on the decision functions below.
		ns := newNamespace("isp-admission")
		for _, spec := range []implyv1alpha1.SecurityPolicySpec{
			{Password: implyv1alpha1.PasswordPolicy{MinLength: 200}},
			{Password: implyv1alpha1.PasswordPolicy{MinLength: 20, MaxLength: 16}},
			{Password: implyv1alpha1.PasswordPolicy{MinPassphraseLength: 300}},
			{Password: implyv1alpha1.PasswordPolicy{History: -1}},
			{LoginThrottling: &implyv1alpha1.LoginThrottlingPolicy{LockoutDuration: durationOf(-time.Minute)}},
		} {
			p := &implyv1alpha1.SecurityPolicy{ObjectMeta: metav1.ObjectMeta{GenerateName: "bad-", Namespace: ns}, Spec: spec}
			err := k8sClient.Create(testCtx, p)
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%+v was admitted: %v", spec, err)
		}
	})

	DescribeTable("checkSecurityPolicy",
		func(spec implyv1alpha1.SecurityPolicySpec, wantErr, wantSummary string) {
			summary, err := checkSecurityPolicy(spec)
			if wantErr != "" {
				Expect(err).To(MatchError(ContainSubstring(wantErr)))
				Expect(summary).To(BeEmpty())
				return
			}
			Expect(err).NotTo(HaveOccurred())
			Expect(summary).To(Equal(wantSummary))
		},
		Entry("defaults", implyv1alpha1.SecurityPolicySpec{}, "",
			"Passwords of 12 to 128 characters; never expire; reuse allowed; no login throttling"),
		Entry("short and exact", implyv1alpha1.SecurityPolicySpec{Password: implyv1alpha1.PasswordPolicy{MinLength: 8, MaxLength: 8, History: 1}}, "",
			"Passwords of 8 to 8 characters; never expire; the last 1 may not be reused; no login throttling"),
		Entry("lockout without a duration, expiry with minutes", implyv1alpha1.SecurityPolicySpec{
			Password:        implyv1alpha1.PasswordPolicy{Lifetime: durationOf(90 * time.Minute)},
			LoginThrottling: &implyv1alpha1.LoginThrottlingPolicy{LockoutTries: 3},
		}, "",
			"Passwords of 12 to 128 characters; expire after 1h30m; reuse allowed; locked out after 3 failed logins"),
		Entry("minLength above maxLength", implyv1alpha1.SecurityPolicySpec{Password: implyv1alpha1.PasswordPolicy{MinLength: 200}},
			"password.minLength 200 exceeds password.maxLength 128", ""),
		Entry("minPassphraseLength above maxLength", implyv1alpha1.SecurityPolicySpec{Password: implyv1alpha1.PasswordPolicy{MaxLength: 16, MinPassphraseLength: 20}},
			"password.minPassphraseLength 20 exceeds password.maxLength 16", ""),
		Entry("negative history", implyv1alpha1.SecurityPolicySpec{Password: implyv1alpha1.PasswordPolicy{History: -1}},
			"must not be negative", ""),
		Entry("negative lockout duration", implyv1alpha1.SecurityPolicySpec{LoginThrottling: &implyv1alpha1.LoginThrottlingPolicy{LockoutDuration: durationOf(-time.Minute)}},
			"loginThrottling.lockoutDuration must not be negative", ""),
	)

	It("reports an invalid policy as InvalidPolicy with one Warning event", func() {
		recorder := &captureEvents{}
		r := &SecurityPolicyReconciler{Recorder: recorder}
		p := &implyv1alpha1.SecurityPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", Generation: 3},
			Spec:       implyv1alpha1.SecurityPolicySpec{Password: implyv1alpha1.PasswordPolicy{MinLength: 200}},
		}
		before := p.DeepCopy()
		r.evaluate(before, p)
		Expect(p.Status.ObservedGeneration).To(Equal(int64(3)))
		ready := meta.FindStatusCondition(p.Status.Conditions, implyv1alpha1.ConditionReady)
		Expect(ready).NotTo(BeNil())
		Expect(ready.Status).To(Equal(metav1.ConditionFalse))
		Expect(ready.Reason).To(Equal(implyv1alpha1.ReasonInvalidPolicy))
		Expect(ready.Message).To(ContainSubstring("password.minLength 200 exceeds password.maxLength 128"))
		Expect(ready.ObservedGeneration).To(Equal(int64(3)))
		Expect(meta.IsStatusConditionTrue(p.Status.Conditions, implyv1alpha1.ConditionDegraded)).To(BeTrue())
		Expect(meta.IsStatusConditionFalse(p.Status.Conditions, implyv1alpha1.ConditionProgressing)).To(BeTrue())
		Expect(recorder.List()).To(ConsistOf(capturedEvent{
			Type: corev1.EventTypeWarning, Reason: implyv1alpha1.ReasonInvalidPolicy, Note: ready.Message,
		}))

		By("not repeating the event while the problem persists")
		again := p.DeepCopy()
		r.evaluate(p.DeepCopy(), again)
		Expect(recorder.List()).To(HaveLen(1))

		By("recovering when the spec is fixed")
		fixed := again.DeepCopy()
		fixed.Spec.Password.MinLength = 16
		r.evaluate(again, fixed)
		Expect(meta.IsStatusConditionTrue(fixed.Status.Conditions, implyv1alpha1.ConditionReady)).To(BeTrue())
		Expect(meta.IsStatusConditionFalse(fixed.Status.Conditions, implyv1alpha1.ConditionDegraded)).To(BeTrue())
		Expect(recorder.List()).To(HaveLen(1))
	})
})
