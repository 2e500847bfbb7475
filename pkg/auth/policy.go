package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// PolicyDocument is the policy.json the Imply Manager reads: the SecurityPolicy's spec with
// defaults applied, each duration both as a Go duration string and in whole seconds.
type PolicyDocument struct {
	Password        PasswordDocument         `json:"password"`
	LoginThrottling *LoginThrottlingDocument `json:"loginThrottling,omitempty"`
}

// PasswordDocument is the "password" object of policy.json.
type PasswordDocument struct {
	MinLength           int32  `json:"minLength"`
	MaxLength           int32  `json:"maxLength"`
	MinPassphraseLength int32  `json:"minPassphraseLength"`
	Lifetime            string `json:"lifetime,omitempty"`
	LifetimeSeconds     *int64 `json:"lifetimeSeconds,omitempty"`
	History             int32  `json:"history"`
}

// LoginThrottlingDocument is the "loginThrottling" object of policy.json.
type LoginThrottlingDocument struct {
	LockoutTries           int32  `json:"lockoutTries"`
	LockoutDuration        string `json:"lockoutDuration,omitempty"`
	LockoutDurationSeconds *int64 `json:"lockoutDurationSeconds,omitempty"`
	DisableTries           int32  `json:"disableTries"`
	DisableDuration        string `json:"disableDuration,omitempty"`
	DisableDurationSeconds *int64 `json:"disableDurationSeconds,omitempty"`
}

// PolicyFor returns the policy.json document of spec: minLength and maxLength defaulted as the
// API server would (see LengthLimits), unset durations left out. It rejects what the API's
// validation rejects (negative numbers or durations, minLength above maxLength,
// minPassphraseLength above maxLength), naming the field.
func PolicyFor(spec implyv1alpha1.SecurityPolicySpec) (PolicyDocument, error) {
	p := spec.Password
	minLength, maxLength := LengthLimits(&p)
	var errs []error
	if p.MinLength < 0 || p.MaxLength < 0 || p.MinPassphraseLength < 0 || p.History < 0 {
		errs = append(errs, errors.New("password: minLength, maxLength, minPassphraseLength and history must not be negative"))
	}
	if minLength > maxLength {
		errs = append(errs, fmt.Errorf("password.minLength %d exceeds password.maxLength %d", minLength, maxLength))
	}
	if int(p.MinPassphraseLength) > maxLength {
		errs = append(errs, fmt.Errorf("password.minPassphraseLength %d exceeds password.maxLength %d", p.MinPassphraseLength, maxLength))
	}
	doc := PolicyDocument{Password: PasswordDocument{
		MinLength:           int32(minLength),
		MaxLength:           int32(maxLength),
		MinPassphraseLength: p.MinPassphraseLength,
		History:             p.History,
	}}
	var err error
	if doc.Password.Lifetime, doc.Password.LifetimeSeconds, err = duration("password.lifetime", p.Lifetime); err != nil {
		errs = append(errs, err)
	}
	if lt := spec.LoginThrottling; lt != nil {
		if lt.LockoutTries < 0 || lt.DisableTries < 0 {
			errs = append(errs, errors.New("loginThrottling: lockoutTries and disableTries must not be negative"))
		}
		d := &LoginThrottlingDocument{LockoutTries: lt.LockoutTries, DisableTries: lt.DisableTries}
		if d.LockoutDuration, d.LockoutDurationSeconds, err = duration("loginThrottling.lockoutDuration", lt.LockoutDuration); err != nil {
			errs = append(errs, err)
		}
		if d.DisableDuration, d.DisableDurationSeconds, err = duration("loginThrottling.disableDuration", lt.DisableDuration); err != nil {
			errs = append(errs, err)
		}
		doc.LoginThrottling = d
	}
	return doc, errors.Join(errs...)
}

// duration renders d as a Go duration string and whole seconds; nil is "" and nil, so both
// keys are left out.
func duration(field string, d *metav1.Duration) (string, *int64, error) {
	if d == nil {
		return "", nil, nil
	}
	if d.Duration < 0 {
		return "", nil, fmt.Errorf("%s must not be negative", field)
	}
	seconds := int64(d.Duration / time.Second)
	return d.Duration.String(), &seconds, nil
}

// RenderPolicyJSON renders spec as the Imply Manager's policy.json (see PolicyFor): indented
// with two spaces, keys in a fixed order, a trailing newline, so equal specs render to equal
// bytes. For example, a lifetime of 2160h becomes "lifetime": "2160h0m0s" and
// "lifetimeSeconds": 7776000.
func RenderPolicyJSON(spec implyv1alpha1.SecurityPolicySpec) ([]byte, error) {
	doc, err := PolicyFor(spec)
	if err != nil {
		return nil, fmt.Errorf("invalid security policy: %w", err)
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("while rendering policy.json: %w", err)
	}
	return append(b, '\n'), nil
}
