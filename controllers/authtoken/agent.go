package authtoken

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/log"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/apply"
	"github.com/imply-operator/imply-operator/pkg/auth"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// Rules an agent token must satisfy, named by checkAgentToken.
const (
	tokenRuleEmpty      = "empty"
	tokenRuleColon      = "colon"
	tokenRuleWhitespace = "whitespace"
)

// agentTokenObservation is what reconciling an Agent token found, for its status.
type agentTokenObservation struct {
	// SecretName and Key locate the token.
	SecretName string
	Key        string
	// GeneratedAt is when the operator generated the token in effect; zero for a user's token.
	GeneratedAt time.Time
	// NextRotation is when the generated token is due; zero without rotation.
	NextRotation time.Time
	// Problem is why there is no usable token, nil when there is one.
	Problem *apply.Problem
}

// checkAgentToken returns the rules value breaks, each as a message naming the rule and never
// the value: it must not be empty, must not contain ':' (the agents send it in HTTP basic
// credentials, which split at the first ':'), and must not contain whitespace or control
// characters (it travels in headers, environment variables and properties files).
func checkAgentToken(value []byte) []string {
	var broken []string
	if len(value) == 0 {
		broken = append(broken, tokenRuleEmpty+": the token is empty")
	}
	s := string(value)
	if strings.Contains(s, ":") {
		broken = append(broken, tokenRuleColon+": the token contains ':', which basic credentials split on")
	}
	if strings.IndexFunc(s, func(c rune) bool { return unicode.IsSpace(c) || unicode.IsControl(c) }) >= 0 {
		broken = append(broken, tokenRuleWhitespace+": the token contains whitespace or a control character (a trailing newline counts)")
	}
	return broken
}

// reconcileAgentToken makes sure an Agent token exists: the user's (spec.secretRef), which is
// only read, or the generated one, which is created, rotated and repaired.
func (r *Reconciler) reconcileAgentToken(ctx context.Context, token *implyv1alpha1.AuthToken) (agentTokenObservation, error) {
	if ref := token.Spec.SecretRef; ref != nil {
		return r.observeUserToken(ctx, token, *ref)
	}
	return r.reconcileGeneratedToken(ctx, token)
}

// observeUserToken checks the user's Secret, read uncached: it must exist and hold a usable
// token under the key (auth-token by default). A Secret of <name>-token generated before
// secretRef was set is left in place, so pods that still read it keep starting until they roll
// to the user's token; it goes with the AuthToken.
func (r *Reconciler) observeUserToken(ctx context.Context, token *implyv1alpha1.AuthToken, ref implyv1alpha1.SecretKeySelector) (agentTokenObservation, error) {
	obs := agentTokenObservation{SecretName: ref.Name, Key: ref.KeyOrDefault(specs.AuthTokenKey)}
	var secret corev1.Secret
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: token.Namespace, Name: ref.Name}, &secret)
	if apierrors.IsNotFound(err) {
		obs.Problem = &apply.Problem{Reason: implyv1alpha1.ReasonSecretNotFound, Message: fmt.Sprintf("Secret %q named by spec.secretRef does not exist", ref.Name)}
		return obs, nil
	}
	if err != nil {
		return obs, fmt.Errorf("while reading Secret %s: %w", ref.Name, err)
	}
	value, ok := secret.Data[obs.Key]
	if !ok {
		obs.Problem = &apply.Problem{Reason: implyv1alpha1.ReasonSecretKeyNotFound, Message: fmt.Sprintf("Secret %q named by spec.secretRef has no key %q", ref.Name, obs.Key)}
		return obs, nil
	}
	if broken := checkAgentToken(value); len(broken) > 0 {
		obs.Problem = &apply.Problem{Reason: implyv1alpha1.ReasonInvalidToken, Message: fmt.Sprintf("The token in Secret %q key %q is not usable: %s", ref.Name, obs.Key, strings.Join(broken, "; "))}
	}
	return obs, nil
}

// storedToken is what a generated token's Secret says about the token in it.
type storedToken struct {
	// Usable is whether the Secret holds a token that passes checkAgentToken.
	Usable bool
	// GeneratedAt is the generated-at annotation, or the Secret's creation when that is missing.
	GeneratedAt time.Time
}

// readStoredToken reads the token and its age from the operator's own Secret.
func readStoredToken(secret *corev1.Secret) (*storedToken, string) {
	value := secret.Data[specs.AuthTokenKey]
	return &storedToken{Usable: len(checkAgentToken(value)) == 0, GeneratedAt: specs.GeneratedAt(secret, specs.AnnotationGeneratedAt)}, string(value)
}

// tokenPlan is what to do with a generated token.
type tokenPlan struct {
	// Generate says to write a new token; EventReason and Why say why, for the event.
	Generate    bool
	EventReason string
	Why         string
	// GeneratedAt is when the token in effect after the plan was generated.
	GeneratedAt time.Time
	// NextRotation is when that token is due, zero without rotation.
	NextRotation time.Time
}

// planGeneratedToken decides whether to generate a token at now (auth.DecideRotation): when
// there is none or the stored one is unusable (edited by hand), and when it is older than the
// rotation period. A token generated now is stamped in whole seconds, as the annotation stores it.
func planGeneratedToken(stored *storedToken, now time.Time, rotation *implyv1alpha1.RotationSpec) tokenPlan {
	var period *metav1.Duration
	if rotation != nil {
		period = &rotation.Period
	}
	in := auth.RotationInput{Now: now, Period: period}
	if stored != nil {
		in.Usable, in.GeneratedAt = stored.Usable, stored.GeneratedAt
	}
	decision := auth.DecideRotation(in)
	plan := tokenPlan{Generate: decision.Due, Why: decision.Why, NextRotation: decision.Next}
	switch decision.Cause {
	case auth.CauseNone:
		plan.GeneratedAt = stored.GeneratedAt
	case auth.CauseMissing:
		plan.EventReason, plan.GeneratedAt = implyv1alpha1.EventTokenGenerated, now.UTC().Truncate(time.Second)
		if stored == nil {
			plan.Why = ""
		}
	default:
		plan.EventReason, plan.GeneratedAt = implyv1alpha1.EventTokenRotated, now.UTC().Truncate(time.Second)
	}
	return plan
}

// reconcileGeneratedToken keeps the operator's token in <name>-token: generated once, kept
// across reconciles, regenerated when rotation is due or the stored token became unusable. A
// Secret of that name that is not the AuthToken's is never taken over.
func (r *Reconciler) reconcileGeneratedToken(ctx context.Context, token *implyv1alpha1.AuthToken) (agentTokenObservation, error) {
	name := specs.AuthTokenSecretName(token.Name)
	obs := agentTokenObservation{SecretName: name, Key: specs.AuthTokenKey}
	live, err := r.getOwnSecret(ctx, token.Namespace, name)
	if err != nil {
		return obs, err
	}
	if live != nil {
		if err := apply.CheckOwner(r.Scheme, token, live); err != nil {
			obs.Problem = apply.AsConflict(err).Problem()
			obs.Problem.Message += ", or name it in spec.secretRef to use its token"
			return obs, nil
		}
	}
	var stored *storedToken
	var value string
	if live != nil {
		stored, value = readStoredToken(live)
	}
	plan := planGeneratedToken(stored, r.Clock.Now(), token.Spec.Rotation)
	if plan.Generate {
		if value, err = auth.GenerateToken(nil); err != nil {
			return obs, err
		}
	}
	result, err := apply.Apply(ctx, r.Client, r.APIReader, r.Scheme, token, agentTokenSecret(token, value, plan.GeneratedAt))
	if conflict := apply.AsConflict(err); conflict != nil {
		obs.Problem = conflict.Problem()
		return obs, nil
	}
	if err != nil {
		return obs, fmt.Errorf("while applying Secret %s: %w", name, err)
	}
	if result != apply.Unchanged {
		log.FromContext(ctx).V(1).Info("Applied the agent token Secret", "secret", name, "result", result, "generated", plan.Generate)
	}
	if plan.Generate {
		note := fmt.Sprintf("Generated the agent token in Secret %q", name)
		if plan.EventReason == implyv1alpha1.EventTokenRotated {
			note = fmt.Sprintf("Rotated the agent token in Secret %q", name)
		}
		if plan.Why != "" {
			note += ": " + plan.Why
		}
		r.Recorder.Eventf(token, nil, corev1.EventTypeNormal, plan.EventReason, "GenerateToken", "%s", note)
	}
	obs.GeneratedAt, obs.NextRotation = plan.GeneratedAt, plan.NextRotation
	return obs, nil
}

// getOwnSecret reads a Secret the operator writes, nil when it does not exist. The cache holds
// the values of Secrets labelled as the operator's; a copy without that label (edited by hand)
// or missing from the cache is read from the apiserver.
func (r *Reconciler) getOwnSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	key := types.NamespacedName{Namespace: namespace, Name: name}
	var secret corev1.Secret
	err := r.Get(ctx, key, &secret)
	if err == nil && secret.Labels[specs.LabelManagedBy] == specs.ManagedBy {
		return &secret, nil
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("while reading Secret %s: %w", name, err)
	}
	if err := r.APIReader.Get(ctx, key, &secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("while reading Secret %s: %w", name, err)
	}
	return &secret, nil
}

// agentTokenSecret is the Secret of a generated agent token (specs.BuildAgentTokenSecret): key
// auth-token, labelled as the operator's (so its value stays in the cache), with the time the
// token was generated and the token's secretTemplate.
func agentTokenSecret(token *implyv1alpha1.AuthToken, value string, generatedAt time.Time) *corev1.Secret {
	return specs.BuildAgentTokenSecret(token, value, generatedAt)
}
