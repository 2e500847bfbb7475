package auth

import (
	"crypto/rand"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// Defaults of the password rules, the same the API server writes into a SecurityPolicy whose
// spec leaves them out. A zero MinLength or MaxLength in a PasswordPolicy means these.
const (
	DefaultMinLength = 12
	DefaultMaxLength = 128
)

// GeneratedPasswordLength is the length of a generated password when the policy allows it:
// 24 characters of a 64-symbol alphabet, 144 bits.
const GeneratedPasswordLength = 24

// passwordAlphabet is the URL-safe base64 alphabet: 64 symbols, none of them ':' (Druid
// splits basic credentials on it) nor a shell, URL or properties metacharacter.
const passwordAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// Rules a Violation names.
const (
	// RuleEmpty: the password is empty. Checked with or without a policy.
	RuleEmpty = "empty"
	// RuleColon: the password contains ':'. Checked with or without a policy, because Druid
	// splits HTTP basic credentials at the first ':' and such a password could never log in.
	RuleColon = "colon"
	// RuleMinLength: the password is shorter than the policy's minLength.
	RuleMinLength = "minLength"
	// RuleMaxLength: the password is longer than the policy's maxLength.
	RuleMaxLength = "maxLength"
	// RuleHistory: the password is one of the last history passwords.
	RuleHistory = "history"
)

// Violation is a password rule a password breaks. Rule is one of the Rule constants; Message
// names the rule and its limit for a user and never contains the password.
type Violation struct {
	Rule    string
	Message string
}

// String returns the message.
func (v Violation) String() string { return v.Message }

// FormatViolations joins the messages of vs with "; ", for a condition or event message.
func FormatViolations(vs []Violation) string {
	msgs := make([]string, len(vs))
	for i, v := range vs {
		msgs[i] = v.Message
	}
	return strings.Join(msgs, "; ")
}

// LengthLimits returns the shortest and longest password the policy accepts, with
// DefaultMinLength and DefaultMaxLength for unset (zero) fields. A nil policy has no length
// rules: 0 and 0 (no limit).
func LengthLimits(policy *implyv1alpha1.PasswordPolicy) (minLength, maxLength int) {
	if policy == nil {
		return 0, 0
	}
	minLength, maxLength = int(policy.MinLength), int(policy.MaxLength)
	if minLength <= 0 {
		minLength = DefaultMinLength
	}
	if maxLength <= 0 {
		maxLength = DefaultMaxLength
	}
	return minLength, maxLength
}

// CheckPassword returns the rules password breaks, nil when it breaks none: always "empty" and
// "colon", and with a policy "minLength" and "maxLength" (see LengthLimits; lengths count
// Unicode code points). History is checked separately, by CheckReuse. The messages never
// contain the password, nor its length.
func CheckPassword(password string, policy *implyv1alpha1.PasswordPolicy) []Violation {
	var vs []Violation
	if password == "" {
		vs = append(vs, Violation{Rule: RuleEmpty, Message: "empty: the password is empty"})
	}
	if strings.Contains(password, ":") {
		vs = append(vs, Violation{Rule: RuleColon,
			Message: "colon: the password contains ':', which Druid's basic authentication splits user and password on"})
	}
	if policy == nil {
		return vs
	}
	minLength, maxLength := LengthLimits(policy)
	n := utf8.RuneCountInString(password)
	if password != "" && n < minLength {
		vs = append(vs, Violation{Rule: RuleMinLength,
			Message: fmt.Sprintf("minLength: the password is shorter than the minimum of %d characters", minLength)})
	}
	if n > maxLength {
		vs = append(vs, Violation{Rule: RuleMaxLength,
			Message: fmt.Sprintf("maxLength: the password is longer than the maximum of %d characters", maxLength)})
	}
	return vs
}

// CheckReuse returns a "history" violation when password matches one of the first
// policy.history hashes of history (newest first, see PushHistory), else nil. A nil policy or
// a history of zero allows reuse.
func CheckReuse(password string, history []string, policy *implyv1alpha1.PasswordPolicy) []Violation {
	if policy == nil || policy.History <= 0 {
		return nil
	}
	keep := min(int(policy.History), len(history))
	if !MatchesHistory(password, history[:keep]) {
		return nil
	}
	return []Violation{{Rule: RuleHistory,
		Message: fmt.Sprintf("history: the password is one of the last %d passwords and may not be reused", policy.History)}}
}

// GeneratedLength is the length of a password GeneratePassword makes under policy:
// GeneratedPasswordLength, raised to the policy's minimum and capped at its maximum.
func GeneratedLength(policy *implyv1alpha1.PasswordPolicy) int {
	if policy == nil {
		return GeneratedPasswordLength
	}
	minLength, maxLength := LengthLimits(policy)
	return min(max(minLength, GeneratedPasswordLength), maxLength)
}

// GeneratePassword returns a random password of GeneratedLength(policy) characters from the
// URL-safe base64 alphabet (A-Z a-z 0-9 - _), so it never contains ':'. r is the source of
// randomness; nil means crypto/rand. The password passes CheckPassword under policy; a policy
// no password can pass (minLength above maxLength) is an error.
func GeneratePassword(r io.Reader, policy *implyv1alpha1.PasswordPolicy) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	buf := make([]byte, GeneratedLength(policy))
	if _, err := io.ReadFull(r, buf); err != nil {
		return "", fmt.Errorf("while reading randomness for a password: %w", err)
	}
	// 64 symbols: the low six bits of a uniform byte pick one without bias.
	for i, b := range buf {
		buf[i] = passwordAlphabet[b&63]
	}
	password := string(buf)
	if vs := CheckPassword(password, policy); len(vs) > 0 {
		return "", fmt.Errorf("the password policy admits no generated password: %s", FormatViolations(vs))
	}
	return password, nil
}

// GenerateUnused generates a password under policy that is neither current nor one of the
// history. With random passwords a repeat is practically impossible; the loop makes the rule
// hold regardless. r is the source of randomness; nil means crypto/rand.
func GenerateUnused(r io.Reader, policy *implyv1alpha1.PasswordPolicy, current string, history []string) (string, error) {
	for range 8 {
		value, err := GeneratePassword(r, policy)
		if err != nil {
			return "", fmt.Errorf("no password can be generated under the SecurityPolicy: %w", err)
		}
		if value != current && len(CheckReuse(value, history, policy)) == 0 {
			return value, nil
		}
	}
	return "", fmt.Errorf("every generated password repeated an earlier one")
}
