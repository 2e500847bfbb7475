package authtoken

import (
	"fmt"
	"io"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/auth"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// storedCredentials is what a Druid user's credentials Secret holds.
type storedCredentials struct {
	Password    string
	GeneratedAt time.Time
	History     []string
}

// readStoredCredentials reads the credentials Secret; nil gives the zero value.
func readStoredCredentials(secret *corev1.Secret) storedCredentials {
	if secret == nil {
		return storedCredentials{}
	}
	out := storedCredentials{Password: string(secret.Data[corev1.BasicAuthPasswordKey]),
		History: auth.ParseHistory(secret.Annotations[specs.AnnotationPasswordHistory])}
	if at, err := time.Parse(time.RFC3339, secret.Annotations[specs.AnnotationGeneratedAt]); err == nil {
		out.GeneratedAt = at // no creation fallback: a user's password has no age
	}
	return out
}

// passwordPlan is the password a Druid user should have after this reconcile, and why.
type passwordPlan struct {
	// Password is the value to store and push to Druid; empty when there is none to use.
	Password string
	// GeneratedAt and NextRotation are the generated password's age and due time.
	GeneratedAt, NextRotation time.Time
	// EventReason and Note describe a change of password for a Normal event; empty when the
	// password did not change.
	EventReason, Note string
	// History is the password history to store.
	History []string
	// Violation names the SecurityPolicy rules a password breaks, for PolicyCompliant=False.
	Violation string
}

// passwordInput is what planDruidPassword decides from.
type passwordInput struct {
	Stored storedCredentials
	// UserPassword is the value of spec.passwordSecretRef; nil when the password is generated.
	UserPassword *string
	// UserSource names the user's Secret and key for messages.
	UserSource string
	Policy     *implyv1alpha1.PasswordPolicy
	Rotation   *implyv1alpha1.RotationSpec
	Now        time.Time
	// Random is the source of randomness for passwords and salts; nil means crypto/rand.
	Random io.Reader
}

// planDruidPassword decides the Druid user's password. A user's password is taken when it
// satisfies the SecurityPolicy and is not one of the last history passwords; otherwise the
// stored one stays and Violation says why. A generated password is made when auth.DecideRotation
// says so (none yet, no longer compliant, older than the lifetime or rotation period); it is
// never one of the history. The password replaced is pushed, as a salted hash, onto the history.
func planDruidPassword(in passwordInput) (passwordPlan, error) {
	plan := passwordPlan{Password: in.Stored.Password, History: in.Stored.History}
	keep := 0
	var lifetime *metav1.Duration
	if in.Policy != nil {
		keep, lifetime = int(in.Policy.History), in.Policy.Lifetime
	}
	replace := func(next string) error {
		history, err := auth.PushHashed(in.Random, in.Stored.History, in.Stored.Password, keep)
		if err != nil {
			return err
		}
		plan.Password, plan.History = next, history
		return nil
	}

	if in.UserPassword != nil {
		value := *in.UserPassword
		if value == in.Stored.Password {
			if vs := auth.CheckPassword(value, in.Policy); len(vs) > 0 {
				plan.Violation = fmt.Sprintf("The password in %s no longer satisfies the SecurityPolicy: %s", in.UserSource, auth.FormatViolations(vs))
			}
			return plan, nil
		}
		vs := append(auth.CheckPassword(value, in.Policy), auth.CheckReuse(value, in.Stored.History, in.Policy)...)
		if len(vs) > 0 {
			plan.Violation = fmt.Sprintf("The password in %s is not applied: %s", in.UserSource, auth.FormatViolations(vs))
			return plan, nil
		}
		plan.EventReason, plan.Note = implyv1alpha1.EventPasswordChanged, "Applied the new password of "+in.UserSource
		return plan, replace(value)
	}

	var period *metav1.Duration
	if in.Rotation != nil {
		period = &in.Rotation.Period
	}
	decision := auth.DecideRotation(auth.RotationInput{
		Usable:      in.Stored.Password != "",
		Violations:  auth.CheckPassword(in.Stored.Password, in.Policy),
		GeneratedAt: in.Stored.GeneratedAt, Now: in.Now, Lifetime: lifetime, Period: period,
	})
	plan.NextRotation = decision.Next
	switch decision.Cause {
	case auth.CauseNone:
		plan.GeneratedAt = in.Stored.GeneratedAt
		return plan, nil
	case auth.CauseMissing:
		plan.EventReason, plan.Note = implyv1alpha1.EventPasswordGenerated, "Generated the Druid user's password"
	default:
		plan.EventReason, plan.Note = implyv1alpha1.EventPasswordRotated, "Rotated the Druid user's password: "+decision.Why
	}
	value, err := auth.GenerateUnused(in.Random, in.Policy, in.Stored.Password, in.Stored.History)
	if err != nil {
		return plan, err
	}
	plan.GeneratedAt = in.Now.UTC().Truncate(time.Second)
	return plan, replace(value)
}
