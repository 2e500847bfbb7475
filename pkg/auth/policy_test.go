package auth

import (
	"encoding/json"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

func dur(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

func TestRenderPolicyJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec implyv1alpha1.SecurityPolicySpec
		want string
	}{
		{
			name: "empty spec: the API defaults, nothing else",
			want: `{
  "password": {
    "minLength": 12,
    "maxLength": 128,
    "minPassphraseLength": 0,
    "history": 0
  }
}
`,
		},
		{
			name: "everything set",
			spec: implyv1alpha1.SecurityPolicySpec{
				Password: implyv1alpha1.PasswordPolicy{
					MinLength: 14, MaxLength: 64, MinPassphraseLength: 20, Lifetime: dur(2160 * time.Hour), History: 5,
				},
				LoginThrottling: &implyv1alpha1.LoginThrottlingPolicy{
					LockoutTries: 5, LockoutDuration: dur(15 * time.Minute), DisableTries: 20, DisableDuration: dur(90 * time.Second),
				},
			},
			want: `{
  "password": {
    "minLength": 14,
    "maxLength": 64,
    "minPassphraseLength": 20,
    "lifetime": "2160h0m0s",
    "lifetimeSeconds": 7776000,
    "history": 5
  },
  "loginThrottling": {
    "lockoutTries": 5,
    "lockoutDuration": "15m0s",
    "lockoutDurationSeconds": 900,
    "disableTries": 20,
    "disableDuration": "1m30s",
    "disableDurationSeconds": 90
  }
}
`,
		},
		{
			name: "throttling without durations; a zero duration is kept",
			spec: implyv1alpha1.SecurityPolicySpec{
				LoginThrottling: &implyv1alpha1.LoginThrottlingPolicy{LockoutTries: 3, DisableDuration: dur(0)},
			},
			want: `{
  "password": {
    "minLength": 12,
    "maxLength": 128,
    "minPassphraseLength": 0,
    "history": 0
  },
  "loginThrottling": {
    "lockoutTries": 3,
    "disableTries": 0,
    "disableDuration": "0s",
    "disableDurationSeconds": 0
  }
}
`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := RenderPolicyJSON(tc.spec)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(string(got)).To(Equal(tc.want))
			again, err := RenderPolicyJSON(*tc.spec.DeepCopy())
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(again).To(Equal(got), "stable")
			g.Expect(json.Valid(got)).To(BeTrue())
		})
	}
}

func TestRenderPolicyJSONRejectsWhatTheAPIRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec implyv1alpha1.SecurityPolicySpec
		want string
	}{
		{"min above max", implyv1alpha1.SecurityPolicySpec{Password: implyv1alpha1.PasswordPolicy{MinLength: 30, MaxLength: 20}},
			"password.minLength 30 exceeds password.maxLength 20"},
		{"min above the default max", implyv1alpha1.SecurityPolicySpec{Password: implyv1alpha1.PasswordPolicy{MinLength: 200}},
			"password.minLength 200 exceeds password.maxLength 128"},
		{"passphrase above max", implyv1alpha1.SecurityPolicySpec{Password: implyv1alpha1.PasswordPolicy{MinPassphraseLength: 129}},
			"password.minPassphraseLength 129 exceeds password.maxLength 128"},
		{"negative history", implyv1alpha1.SecurityPolicySpec{Password: implyv1alpha1.PasswordPolicy{History: -1}},
			"must not be negative"},
		{"negative lifetime", implyv1alpha1.SecurityPolicySpec{Password: implyv1alpha1.PasswordPolicy{Lifetime: dur(-time.Hour)}},
			"password.lifetime must not be negative"},
		{"negative tries", implyv1alpha1.SecurityPolicySpec{LoginThrottling: &implyv1alpha1.LoginThrottlingPolicy{LockoutTries: -1}},
			"loginThrottling: lockoutTries and disableTries must not be negative"},
		{"negative lockout", implyv1alpha1.SecurityPolicySpec{LoginThrottling: &implyv1alpha1.LoginThrottlingPolicy{LockoutDuration: dur(-time.Second)}},
			"loginThrottling.lockoutDuration must not be negative"},
		{"negative disable", implyv1alpha1.SecurityPolicySpec{LoginThrottling: &implyv1alpha1.LoginThrottlingPolicy{DisableDuration: dur(-time.Second)}},
			"loginThrottling.disableDuration must not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := RenderPolicyJSON(tc.spec)
			g.Expect(err).To(MatchError(ContainSubstring(tc.want)))
			g.Expect(err.Error()).To(HavePrefix("invalid security policy: "))
			g.Expect(got).To(BeNil())
		})
	}
}
