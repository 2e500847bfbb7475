package securitypolicy

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
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
		r := &Reconciler{Client: direct, Recorder: &captureEvents{}}
		for range 3 {
			_, err := r.Reconcile(testCtx, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(p)})
			Expect(err).NotTo(HaveOccurred())
		}
		Expect(counter.Since(0)).To(BeEmpty(), "status writes: %v", counter.StatusBodies())
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
})
