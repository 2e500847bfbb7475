package securitypolicy

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/apply"
	"github.com/imply-operator/imply-operator/controllers/internal/setup"
	"github.com/imply-operator/imply-operator/pkg/auth"
)

// Reconciler reports the health of SecurityPolicy objects: Ready=True with reason
// Valid and a summary of the rules when the policy can be rendered as policy.json and admits a
// generated password, else Ready=False with reason InvalidPolicy and a Warning event. The
// ImplyClusters that name a policy render and enforce it; this reconciler writes nothing but
// the policy's status.
type Reconciler struct {
	client.Client
	Recorder events.EventRecorder
}

// +kubebuilder:rbac:groups=imply.operator.dev,resources=securitypolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=imply.operator.dev,resources=securitypolicies/status,verbs=get;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile checks one SecurityPolicy and reports the result in its status.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var policy implyv1alpha1.SecurityPolicy
	if err := r.Get(ctx, req.NamespacedName, &policy); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !policy.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	before := policy.DeepCopy()
	r.evaluate(before, &policy)
	return ctrl.Result{}, client.IgnoreNotFound(apply.PatchStatusIfChanged(ctx, r.Client, before, &policy))
}

// evaluate sets policy's status from its spec and records a Warning event when it becomes
// invalid in a way before did not already report.
func (r *Reconciler) evaluate(before, policy *implyv1alpha1.SecurityPolicy) {
	summary, err := checkSecurityPolicy(policy.Spec)
	computeSecurityPolicyStatus(policy, summary, err)
	if err == nil {
		return
	}
	ready := meta.FindStatusCondition(policy.Status.Conditions, implyv1alpha1.ConditionReady)
	apply.WarnOnce(r.Recorder, before, policy, implyv1alpha1.ConditionReady, "Validate", &apply.Problem{Reason: ready.Reason, Message: ready.Message})
}

// computeSecurityPolicyStatus sets observedGeneration and the Ready, Progressing and Degraded
// conditions from the result of checkSecurityPolicy.
func computeSecurityPolicyStatus(policy *implyv1alpha1.SecurityPolicy, summary string, invalid error) {
	policy.Status.ObservedGeneration = policy.Generation
	if invalid != nil {
		msg := fmt.Sprintf("The policy cannot be enforced: %v", invalid)
		apply.SetCondition(policy, implyv1alpha1.ConditionReady, metav1.ConditionFalse, implyv1alpha1.ReasonInvalidPolicy, msg)
		apply.SetCondition(policy, implyv1alpha1.ConditionDegraded, metav1.ConditionTrue, implyv1alpha1.ReasonInvalidPolicy, msg)
		apply.SetCondition(policy, implyv1alpha1.ConditionProgressing, metav1.ConditionFalse, implyv1alpha1.ReasonInvalidPolicy, "Waiting for a valid spec")
		return
	}
	apply.SetCondition(policy, implyv1alpha1.ConditionReady, metav1.ConditionTrue, implyv1alpha1.ReasonValid, summary)
	apply.SetCondition(policy, implyv1alpha1.ConditionDegraded, metav1.ConditionFalse, implyv1alpha1.ReasonAsExpected, "")
	apply.SetCondition(policy, implyv1alpha1.ConditionProgressing, metav1.ConditionFalse, implyv1alpha1.ReasonReconciled, "")
}

// checkSecurityPolicy decides whether spec can be enforced: it must render as policy.json and
// admit a password the operator generates. It returns a summary of the rules for the Ready
// condition, or why the policy is invalid (naming fields, never a password).
func checkSecurityPolicy(spec implyv1alpha1.SecurityPolicySpec) (string, error) {
	if _, err := auth.RenderPolicyJSON(spec); err != nil {
		return "", err
	}
	if _, err := auth.GeneratePassword(nil, &spec.Password); err != nil {
		return "", err
	}
	doc, err := auth.PolicyFor(spec)
	if err != nil {
		return "", err
	}
	return summarizePolicy(doc, spec), nil
}

// summarizePolicy describes the rules in one line, such as "Passwords of 16 to 128 characters,
// passphrases from 24; expire after 2160h; the last 5 may not be reused; locked out for 15m after
// 5 failed logins; disabled for 24h after 20 failed logins".
func summarizePolicy(doc auth.PolicyDocument, spec implyv1alpha1.SecurityPolicySpec) string {
	p := doc.Password
	length := fmt.Sprintf("Passwords of %d to %d characters", p.MinLength, p.MaxLength)
	if p.MinPassphraseLength > 0 {
		length += fmt.Sprintf(", passphrases from %d", p.MinPassphraseLength)
	}
	parts := []string{length}
	if lt := spec.Password.Lifetime; lt != nil && lt.Duration > 0 {
		parts = append(parts, "expire after "+auth.ShortDuration(lt.Duration))
	} else {
		parts = append(parts, "never expire")
	}
	if p.History > 0 {
		parts = append(parts, fmt.Sprintf("the last %d may not be reused", p.History))
	} else {
		parts = append(parts, "reuse allowed")
	}
	lt := spec.LoginThrottling
	switch {
	case lt == nil || (lt.LockoutTries == 0 && lt.DisableTries == 0):
		parts = append(parts, "no login throttling")
	default:
		if lt.LockoutTries > 0 {
			parts = append(parts, throttleRule("locked out", lt.LockoutDuration, lt.LockoutTries))
		}
		if lt.DisableTries > 0 {
			parts = append(parts, throttleRule("disabled", lt.DisableDuration, lt.DisableTries))
		}
	}
	return strings.Join(parts, "; ")
}

// throttleRule describes one login-throttling rule.
func throttleRule(what string, d *metav1.Duration, tries int32) string {
	if d != nil && d.Duration > 0 {
		return fmt.Sprintf("%s for %s after %d failed logins", what, auth.ShortDuration(d.Duration), tries)
	}
	return fmt.Sprintf("%s after %d failed logins", what, tries)
}

// Setup registers the SecurityPolicy reconciler with mgr.
func Setup(mgr ctrl.Manager, _ setup.Options) error {
	r := &Reconciler{Client: apply.WithOwnStatusWrites(mgr.GetClient(), mgr.GetAPIReader()), Recorder: mgr.GetEventRecorder(setup.EventSource)}
	return ctrl.NewControllerManagedBy(mgr).
		For(&implyv1alpha1.SecurityPolicy{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("securitypolicy").
		Complete(r)
}
