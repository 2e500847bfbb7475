package controllers

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/auth"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// annotationPasswordHistory records on a Druid user's credentials Secret, as a JSON array
// (newest first), salted hashes of the passwords it held before, as many as the SecurityPolicy's
// history: a password in it may not be used again.
const annotationPasswordHistory = "imply.operator.dev/password-history"

// TokenJSONKey is the key of a Druid user's credentials Secret holding what Pivot needs of the
// database auth token besides the credentials: its datasources and priority.
const TokenJSONKey = "token.json"

// Reasons of the Normal events about a Druid user's password.
const (
	eventPasswordGenerated = "PasswordGenerated"
	eventPasswordRotated   = "PasswordRotated"
	eventPasswordChanged   = "PasswordChanged"
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
	out := storedCredentials{Password: string(secret.Data[corev1.BasicAuthPasswordKey]), History: passwordHistory(secret, annotationPasswordHistory)}
	if at, err := time.Parse(time.RFC3339, secret.Annotations[annotationTokenGeneratedAt]); err == nil {
		out.GeneratedAt = at // no creation fallback: a user's password has no age
	}
	return out
}

// passwordHistory reads the salted hashes of earlier passwords from a JSON annotation; a
// missing or unreadable history is an empty one.
func passwordHistory(secret *corev1.Secret, annotation string) []string {
	var history []string
	if v := secret.Annotations[annotation]; v != "" {
		_ = json.Unmarshal([]byte(v), &history)
	}
	return history
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
// stored one stays and Violation says why. A generated password is made when there is none,
// when it is older than the policy's lifetime or the rotation period, and when it no longer
// satisfies the policy; it is never one of the history. The password replaced is pushed, as a
// salted hash, onto the history.
func planDruidPassword(in passwordInput) (passwordPlan, error) {
	plan := passwordPlan{Password: in.Stored.Password, History: in.Stored.History}
	keep := 0
	var lifetime *metav1.Duration
	if in.Policy != nil {
		keep, lifetime = int(in.Policy.History), in.Policy.Lifetime
	}
	replace := func(next string) error {
		if in.Stored.Password != "" && keep > 0 {
			hash, err := auth.HashPassword(in.Random, in.Stored.Password)
			if err != nil {
				return err
			}
			plan.History = auth.PushHistory(in.Stored.History, hash, keep)
		} else if keep == 0 {
			plan.History = nil
		}
		plan.Password = next
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
		plan.EventReason, plan.Note = eventPasswordChanged, "Applied the new password of "+in.UserSource
		return plan, replace(value)
	}

	var period *metav1.Duration
	if in.Rotation != nil {
		period = &in.Rotation.Period
	}
	due, next := auth.NeedsRotation(in.Stored.GeneratedAt, in.Now, lifetime, period)
	switch {
	case in.Stored.Password == "":
		plan.EventReason, plan.Note = eventPasswordGenerated, "Generated the Druid user's password"
	case len(auth.CheckPassword(in.Stored.Password, in.Policy)) > 0:
		plan.EventReason, plan.Note = eventPasswordRotated, "Rotated the Druid user's password: it no longer satisfied the SecurityPolicy"
	case due:
		plan.EventReason, plan.Note = eventPasswordRotated, "Rotated the Druid user's password: it was older than its lifetime or rotation period"
	default:
		plan.GeneratedAt, plan.NextRotation = in.Stored.GeneratedAt, next
		return plan, nil
	}
	value, err := generateUnusedPassword(in.Random, in.Policy, in.Stored)
	if err != nil {
		return plan, err
	}
	plan.GeneratedAt = in.Now.UTC().Truncate(time.Second)
	_, plan.NextRotation = auth.NeedsRotation(plan.GeneratedAt, in.Now, lifetime, period)
	return plan, replace(value)
}

// generateUnusedPassword generates a password under policy that is neither the stored one nor
// in its history. With random passwords a repeat is practically impossible; the loop makes the
// rule hold regardless.
func generateUnusedPassword(r io.Reader, policy *implyv1alpha1.PasswordPolicy, stored storedCredentials) (string, error) {
	for range 8 {
		value, err := auth.GeneratePassword(r, policy)
		if err != nil {
			return "", fmt.Errorf("no password can be generated under the SecurityPolicy: %w", err)
		}
		if value != stored.Password && len(auth.CheckReuse(value, stored.History, policy)) == 0 {
			return value, nil
		}
	}
	return "", fmt.Errorf("every generated password repeated an earlier one")
}

// pivotToken is token.json: what Pivot's database auth token needs besides the credentials.
type pivotToken struct {
	Datasources []string `json:"datasources"`
	Priority    int32    `json:"priority"`
}

// druidCredentialsSecret is a Druid user's credentials: a basic-auth Secret with the username
// and password, token.json for Pivot, labelled as the operator's (its values stay cached), the
// generated password's age and the password history.
func druidCredentialsSecret(token *implyv1alpha1.AuthToken, plan passwordPlan) (*corev1.Secret, error) {
	tj := pivotToken{Datasources: token.Spec.Datasources}
	if tj.Datasources == nil {
		tj.Datasources = []string{}
	}
	if token.Spec.Priority != nil {
		tj.Priority = *token.Spec.Priority
	}
	tokenJSON, err := json.Marshal(tj)
	if err != nil {
		return nil, err
	}
	// Both annotations are always written, empty when they do not apply: apply only adds and
	// changes annotations, so a value dropped from the map would linger.
	generatedAt := ""
	if !plan.GeneratedAt.IsZero() {
		generatedAt = plan.GeneratedAt.UTC().Format(time.RFC3339)
	}
	history, err := json.Marshal(append([]string{}, plan.History...))
	if err != nil {
		return nil, err
	}
	annotations := map[string]string{annotationTokenGeneratedAt: generatedAt, annotationPasswordHistory: string(history)}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:        specs.DruidUserCredentialsName(token.Name),
			Namespace:   token.Namespace,
			Labels:      map[string]string{specs.LabelName: specs.AppName, specs.LabelManagedBy: specs.ManagedBy},
			Annotations: annotations,
		},
		Type: corev1.SecretTypeBasicAuth,
		Data: map[string][]byte{
			corev1.BasicAuthUsernameKey: []byte(token.Spec.Username),
			corev1.BasicAuthPasswordKey: []byte(plan.Password),
			TokenJSONKey:                tokenJSON,
		},
	}, nil
}
