package securitypolicy

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

func TestCheckSecurityPolicy(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		spec                 implyv1alpha1.SecurityPolicySpec
		wantErr, wantSummary string
	}{
		{"defaults", implyv1alpha1.SecurityPolicySpec{}, "",
			"Passwords of 12 to 128 characters; never expire; reuse allowed; no login throttling"},
		{"short and exact", implyv1alpha1.SecurityPolicySpec{Password: implyv1alpha1.PasswordPolicy{MinLength: 8, MaxLength: 8, History: 1}}, "",
			"Passwords of 8 to 8 characters; never expire; the last 1 may not be reused; no login throttling"},
		{"lockout without a duration, expiry with minutes", implyv1alpha1.SecurityPolicySpec{
			Password:        implyv1alpha1.PasswordPolicy{Lifetime: durationOf(90 * time.Minute)},
			LoginThrottling: &implyv1alpha1.LoginThrottlingPolicy{LockoutTries: 3},
		}, "",
			"Passwords of 12 to 128 characters; expire after 1h30m; reuse allowed; locked out after 3 failed logins"},
		{"minLength above maxLength", implyv1alpha1.SecurityPolicySpec{Password: implyv1alpha1.PasswordPolicy{MinLength: 200}},
			"password.minLength 200 exceeds password.maxLength 128", ""},
		{"minPassphraseLength above maxLength", implyv1alpha1.SecurityPolicySpec{Password: implyv1alpha1.PasswordPolicy{MaxLength: 16, MinPassphraseLength: 20}},
			"password.minPassphraseLength 20 exceeds password.maxLength 16", ""},
		{"negative history", implyv1alpha1.SecurityPolicySpec{Password: implyv1alpha1.PasswordPolicy{History: -1}},
			"must not be negative", ""},
		{"negative lockout duration", implyv1alpha1.SecurityPolicySpec{LoginThrottling: &implyv1alpha1.LoginThrottlingPolicy{LockoutDuration: durationOf(-time.Minute)}},
			"loginThrottling.lockoutDuration must not be negative", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			summary, err := checkSecurityPolicy(tc.spec)
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
				g.Expect(summary).To(BeEmpty())
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(summary).To(Equal(tc.wantSummary))
		})
	}
}

// TestInvalidPolicyIsReportedWithOneWarning: reports an invalid policy as InvalidPolicy with one Warning event.
func TestInvalidPolicyIsReportedWithOneWarning(t *testing.T) {
	g := NewWithT(t)
	recorder := &captureEvents{}
	r := &Reconciler{Recorder: recorder}
	p := &implyv1alpha1.SecurityPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", Generation: 3},
		Spec:       implyv1alpha1.SecurityPolicySpec{Password: implyv1alpha1.PasswordPolicy{MinLength: 200}},
	}
	before := p.DeepCopy()
	r.evaluate(before, p)
	g.Expect(p.Status.ObservedGeneration).To(Equal(int64(3)))
	ready := meta.FindStatusCondition(p.Status.Conditions, implyv1alpha1.ConditionReady)
	g.Expect(ready).NotTo(BeNil())
	g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
	g.Expect(ready.Reason).To(Equal(implyv1alpha1.ReasonInvalidPolicy))
	g.Expect(ready.Message).To(ContainSubstring("password.minLength 200 exceeds password.maxLength 128"))
	g.Expect(ready.ObservedGeneration).To(Equal(int64(3)))
	g.Expect(meta.IsStatusConditionTrue(p.Status.Conditions, implyv1alpha1.ConditionDegraded)).To(BeTrue())
	g.Expect(meta.IsStatusConditionFalse(p.Status.Conditions, implyv1alpha1.ConditionProgressing)).To(BeTrue())
	g.Expect(recorder.List()).To(ConsistOf(capturedEvent{
		Type: corev1.EventTypeWarning, Reason: implyv1alpha1.ReasonInvalidPolicy, Note: ready.Message,
	}))

	t.Log("not repeating the event while the problem persists")
	again := p.DeepCopy()
	r.evaluate(p.DeepCopy(), again)
	g.Expect(recorder.List()).To(HaveLen(1))

	t.Log("recovering when the spec is fixed")
	fixed := again.DeepCopy()
	fixed.Spec.Password.MinLength = 16
	r.evaluate(again, fixed)
	g.Expect(meta.IsStatusConditionTrue(fixed.Status.Conditions, implyv1alpha1.ConditionReady)).To(BeTrue())
	g.Expect(meta.IsStatusConditionFalse(fixed.Status.Conditions, implyv1alpha1.ConditionDegraded)).To(BeTrue())
	g.Expect(recorder.List()).To(HaveLen(1))
}
