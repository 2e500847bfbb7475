package auth

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

func rules(vs []Violation) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Rule)
	}
	return out
}

func TestCheckPassword(t *testing.T) {
	defaults := &implyv1alpha1.PasswordPolicy{} // as the API server defaults it: 12..128
	custom := &implyv1alpha1.PasswordPolicy{MinLength: 16, MaxLength: 20}
	for _, tc := range []struct {
		name      string
		password  string
		policy    *implyv1alpha1.PasswordPolicy
		want      []string
		wantLimit string // the limit the message must name
	}{
		{name: "no policy: anything without a colon", password: "x", policy: nil},
		{name: "no policy: empty", password: "", policy: nil, want: []string{RuleEmpty}},
		{name: "no policy: colon", password: "user:pass", policy: nil, want: []string{RuleColon}},
		{name: "default policy: 11 characters", password: strings.Repeat("a", 11), policy: defaults, want: []string{RuleMinLength}, wantLimit: "12"},
		{name: "default policy: 12 characters", password: strings.Repeat("a", 12), policy: defaults},
		{name: "default policy: 128 characters", password: strings.Repeat("a", 128), policy: defaults},
		{name: "default policy: 129 characters", password: strings.Repeat("a", 129), policy: defaults, want: []string{RuleMaxLength}, wantLimit: "128"},
		{name: "default policy: empty is only empty", password: "", policy: defaults, want: []string{RuleEmpty}},
		{name: "custom: 15 characters", password: strings.Repeat("b", 15), policy: custom, want: []string{RuleMinLength}, wantLimit: "16"},
		{name: "custom: 16 characters", password: strings.Repeat("b", 16), policy: custom},
		{name: "custom: 20 characters", password: strings.Repeat("b", 20), policy: custom},
		{name: "custom: 21 characters", password: strings.Repeat("b", 21), policy: custom, want: []string{RuleMaxLength}, wantLimit: "20"},
		{name: "custom: short with a colon", password: "ab:cd", policy: custom, want: []string{RuleColon, RuleMinLength}, wantLimit: "16"},
		{name: "lengths count code points, not bytes", password: strings.Repeat("ü", 16), policy: custom},
		{name: "multi-byte and too long", password: strings.Repeat("ü", 11), policy: &implyv1alpha1.PasswordPolicy{MinLength: 1, MaxLength: 10},
			want: []string{RuleMaxLength}, wantLimit: "10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			vs := CheckPassword(tc.password, tc.policy)
			g.Expect(rules(vs)).To(Equal(tc.want))
			for _, v := range vs {
				g.Expect(v.Message).To(HavePrefix(v.Rule+": "), "the message names the rule")
				g.Expect(v.String()).To(Equal(v.Message))
				if tc.password != "" {
					g.Expect(v.Message).NotTo(ContainSubstring(tc.password), "never the password")
				}
				if v.Rule == RuleMinLength || v.Rule == RuleMaxLength {
					g.Expect(v.Message).To(ContainSubstring(" " + tc.wantLimit + " "))
				}
			}
		})
	}
}

func TestViolationMessagesNeverContainThePassword(t *testing.T) {
	g := NewWithT(t)
	// A password made of the words the messages use: a leak would show up as a substring.
	const password = "the:password"
	policy := &implyv1alpha1.PasswordPolicy{MinLength: 100, MaxLength: 200, History: 3}
	hash, err := hashPassword(&countingReader{}, password, minHashIterations)
	g.Expect(err).NotTo(HaveOccurred())
	vs := append(CheckPassword(password, policy), CheckReuse(password, []string{hash}, policy)...)
	g.Expect(rules(vs)).To(Equal([]string{RuleColon, RuleMinLength, RuleHistory}))
	msg := FormatViolations(vs)
	g.Expect(msg).NotTo(ContainSubstring(password))
	g.Expect(msg).NotTo(ContainSubstring("12"), "nor its length")
	g.Expect(msg).To(Equal("colon: the password contains ':', which Druid's basic authentication splits user and password on; " +
		"minLength: the password is shorter than the minimum of 100 characters; " +
		"history: the password is one of the last 3 passwords and may not be reused"))
}

func TestLengthLimits(t *testing.T) {
	for _, tc := range []struct {
		name     string
		policy   *implyv1alpha1.PasswordPolicy
		min, max int
	}{
		{"nil policy: no limits", nil, 0, 0},
		{"unset fields: the API defaults", &implyv1alpha1.PasswordPolicy{}, 12, 128},
		{"set fields", &implyv1alpha1.PasswordPolicy{MinLength: 8, MaxLength: 64}, 8, 64},
		{"negative fields: the API defaults", &implyv1alpha1.PasswordPolicy{MinLength: -1, MaxLength: -1}, 12, 128},
	} {
		t.Run(tc.name, func(t *testing.T) {
			minLength, maxLength := LengthLimits(tc.policy)
			NewWithT(t).Expect([]int{minLength, maxLength}).To(Equal([]int{tc.min, tc.max}))
		})
	}
}

func TestGeneratePassword(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy *implyv1alpha1.PasswordPolicy
		length int
	}{
		{"nil policy: 24", nil, 24},
		{"default policy: 24", &implyv1alpha1.PasswordPolicy{}, 24},
		{"minimum below 24: 24", &implyv1alpha1.PasswordPolicy{MinLength: 8}, 24},
		{"minimum above 24: the minimum", &implyv1alpha1.PasswordPolicy{MinLength: 40}, 40},
		{"maximum below 24: the maximum", &implyv1alpha1.PasswordPolicy{MinLength: 8, MaxLength: 16}, 16},
		{"minimum equals maximum", &implyv1alpha1.PasswordPolicy{MinLength: 30, MaxLength: 30}, 30},
		{"long minimum", &implyv1alpha1.PasswordPolicy{MinLength: 1024, MaxLength: 1024}, 1024},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(GeneratedLength(tc.policy)).To(Equal(tc.length))
			p, err := GeneratePassword(&countingReader{}, tc.policy)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(p).To(HaveLen(tc.length))
			g.Expect(p).To(MatchRegexp(urlSafe.String()))
			g.Expect(p).NotTo(ContainSubstring(":"))
			g.Expect(CheckPassword(p, tc.policy)).To(BeEmpty())
			// Bytes 0, 1, 2, ... pick the alphabet in order.
			n := min(24, tc.length)
			g.Expect(p[:n]).To(Equal("ABCDEFGHIJKLMNOPQRSTUVWX"[:n]))
		})
	}

	t.Run("every byte maps into the alphabet, all 64 symbols reachable", func(t *testing.T) {
		g := NewWithT(t)
		p, err := GeneratePassword(&countingReader{}, &implyv1alpha1.PasswordPolicy{MinLength: 256, MaxLength: 256})
		g.Expect(err).NotTo(HaveOccurred())
		seen := map[rune]int{}
		for _, r := range p {
			seen[r]++
		}
		g.Expect(seen).To(HaveLen(64))
		for r, n := range seen {
			g.Expect(n).To(Equal(4), "symbol %q is picked by exactly 4 of 256 byte values", r)
		}
	})
	t.Run("crypto/rand when the reader is nil", func(t *testing.T) {
		g := NewWithT(t)
		a, err := GeneratePassword(nil, nil)
		g.Expect(err).NotTo(HaveOccurred())
		b, err := GeneratePassword(nil, nil)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(a).NotTo(Equal(b))
	})
	t.Run("never shorter than 16, whatever the policy says", func(t *testing.T) {
		g := NewWithT(t)
		for _, policy := range []*implyv1alpha1.PasswordPolicy{
			{MinLength: 1, MaxLength: 16}, {MinLength: 1}, {MinLength: -5, MaxLength: 16}, {MinLength: 16, MaxLength: 16},
		} {
			g.Expect(GeneratedLength(policy)).To(BeNumerically(">=", 16), "%+v", policy)
			p, err := GeneratePassword(&countingReader{}, policy)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(len(p)).To(BeNumerically(">=", 16), "%+v", policy)
		}
		for _, policy := range []*implyv1alpha1.PasswordPolicy{{MinLength: 1, MaxLength: 1}, {MinLength: 8, MaxLength: 8}, {MaxLength: 15}} {
			g.Expect(GeneratedLength(policy)).To(BeNumerically(">=", 16), "%+v", policy)
			p, err := GeneratePassword(&countingReader{}, policy)
			g.Expect(err).To(MatchError(ContainSubstring("is below the 16 characters every generated password has")), "%+v", policy)
			g.Expect(p).To(BeEmpty())
		}
	})
	t.Run("a policy no password can pass", func(t *testing.T) {
		g := NewWithT(t)
		p, err := GeneratePassword(&countingReader{}, &implyv1alpha1.PasswordPolicy{MinLength: 40, MaxLength: 30})
		g.Expect(err).To(MatchError(ContainSubstring("minLength: the password is shorter than the minimum of 40 characters")))
		g.Expect(p).To(BeEmpty())
	})
	t.Run("short randomness", func(t *testing.T) {
		g := NewWithT(t)
		_, err := GeneratePassword(&shortReader{n: 23}, nil)
		g.Expect(err).To(MatchError(ContainSubstring("while reading randomness for a password")))
		_, err = GeneratePassword(failingReader{}, nil)
		g.Expect(err).To(MatchError(ContainSubstring("entropy exhausted")))
	})
}

func TestCheckReuse(t *testing.T) {
	g := NewWithT(t)
	r := &countingReader{}
	var history []string
	for _, p := range []string{"oldest-password", "middle-password", "newest-password"} {
		h, err := hashPassword(r, p, minHashIterations)
		g.Expect(err).NotTo(HaveOccurred())
		history = PushHistory(history, h, 10)
	}
	for _, tc := range []struct {
		name     string
		password string
		policy   *implyv1alpha1.PasswordPolicy
		want     []string
	}{
		{"newest, history 1", "newest-password", &implyv1alpha1.PasswordPolicy{History: 1}, []string{RuleHistory}},
		{"middle, history 1: beyond the window", "middle-password", &implyv1alpha1.PasswordPolicy{History: 1}, nil},
		{"middle, history 2", "middle-password", &implyv1alpha1.PasswordPolicy{History: 2}, []string{RuleHistory}},
		{"oldest, history 64 (more than kept)", "oldest-password", &implyv1alpha1.PasswordPolicy{History: 64}, []string{RuleHistory}},
		{"a new password", "fresh-password", &implyv1alpha1.PasswordPolicy{History: 64}, nil},
		{"history 0 allows reuse", "newest-password", &implyv1alpha1.PasswordPolicy{}, nil},
		{"no policy allows reuse", "newest-password", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(rules(CheckReuse(tc.password, history, tc.policy))).To(Equal(tc.want))
		})
	}
	g.Expect(history).To(HaveLen(3))
}
