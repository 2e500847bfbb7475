package implycluster

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/druidconn"
	"github.com/imply-operator/imply-operator/pkg/auth"
	"github.com/imply-operator/imply-operator/pkg/druid"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// Keys and annotations of <cluster>-druid-credentials for rotating the generated admin password.
const (
	// keyAdminPasswordNext holds a new admin password while it is being pushed to Druid, so a
	// crash between the push and the switch never loses the password Druid has.
	keyAdminPasswordNext = "admin-password-next"
	// annotationAdminPasswordGeneratedAt is when the admin password in effect was generated.
	annotationAdminPasswordGeneratedAt = "imply.operator.dev/admin-password-generated-at"
	// annotationAdminPasswordHistory holds salted hashes of earlier admin passwords, newest first.
	annotationAdminPasswordHistory = "imply.operator.dev/admin-password-history"
)

// adminRotation is the outcome of rotateAdminPassword.
type adminRotation struct {
	// Current is the admin password in effect after the call.
	Current string
	// Pending is a new password not yet confirmed in Druid, kept in keyAdminPasswordNext.
	Pending string
	// NextDue is when the password in effect is due for rotation; zero without a lifetime.
	NextDue time.Time
	// Warning says why a due rotation could not finish; empty otherwise.
	Warning string
}

// rotateAdminPassword rotates the generated Druid admin password when it is older than the
// SecurityPolicy's lifetime or no longer satisfies the policy. Druid reads initialAdminPassword
// only when its metadata store is new, so the new password goes through the coordinator's API,
// in three durable steps: the new password is stored under admin-password-next, pushed to Druid
// as admin's credentials (authenticated with the current password, or found already pushed when
// the new one is accepted), then made current, with the old one's salted hash pushed onto the
// history. A Druid that cannot be reached leaves the rotation pending, reported as a warning and
// retried; nothing is lost.
func (r *ImplyClusterReconciler) rotateAdminPassword(ctx context.Context, c *implyv1alpha1.ImplyCluster, live *corev1.Secret, policy *implyv1alpha1.PasswordPolicy) (adminRotation, error) {
	out := adminRotation{Current: string(live.Data[specs.DruidAdminPasswordKey]), Pending: string(live.Data[keyAdminPasswordNext])}
	now := r.Clock.Now()
	due, next := false, time.Time{}
	if policy != nil {
		due, next = auth.NeedsRotation(specs.GeneratedAt(live, annotationAdminPasswordGeneratedAt), now, policy.Lifetime, nil)
	}
	out.NextDue = next
	violations := auth.CheckPassword(out.Current, policy)
	nonCompliant := len(violations) > 0
	if out.Pending == "" && !due && !nonCompliant {
		return out, nil
	}
	why := "it was older than the SecurityPolicy's lifetime"
	switch {
	case nonCompliant:
		why = fmt.Sprintf("it no longer satisfied the SecurityPolicy (%s)", auth.FormatViolations(violations))
	case !due:
		why = "a rotation was under way"
	}

	history := auth.ParseHistory(live.Annotations[annotationAdminPasswordHistory])
	if out.Pending == "" {
		pending, err := auth.GenerateUnused(nil, policy, out.Current, history)
		if err != nil {
			out.Warning = fmt.Sprintf("the admin password is due for rotation (%s), but %v", why, err)
			return out, nil
		}
		if err := r.patchSecret(ctx, live, func(s *corev1.Secret) { s.Data[keyAdminPasswordNext] = []byte(pending) }); err != nil {
			return out, err
		}
		out.Pending = pending
	}

	if err := r.pushAdminPassword(ctx, c, out.Current, out.Pending); err != nil {
		out.Warning = fmt.Sprintf("the admin password is due for rotation (%s); the new one waits in Secret %q until Druid accepts it: %s",
			why, live.Name, druidconn.ProblemOf(err).Message)
		log.FromContext(ctx).Info("Admin password rotation pending", "cause", druidconn.ProblemOf(err).Message)
		return out, nil
	}

	keep := 0
	if policy != nil {
		keep = int(policy.History)
	}
	history, err := pushHashedHistory(history, out.Current, keep)
	if err != nil {
		return out, err
	}
	encoded, err := json.Marshal(history)
	if err != nil {
		return out, err
	}
	at := now.UTC().Truncate(time.Second)
	if err := r.patchSecret(ctx, live, func(s *corev1.Secret) {
		s.Data[specs.DruidAdminPasswordKey] = []byte(out.Pending)
		delete(s.Data, keyAdminPasswordNext)
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[annotationAdminPasswordGeneratedAt] = at.Format(time.RFC3339)
		s.Annotations[annotationAdminPasswordHistory] = string(encoded)
	}); err != nil {
		return out, err
	}
	r.Recorder.Eventf(c, nil, corev1.EventTypeNormal, implyv1alpha1.EventAdminPasswordRotated, "RotatePassword",
		"Rotated the Druid admin password in Secret %q through the coordinator: %s", live.Name, why)
	out.Current, out.Pending = out.Pending, ""
	if policy != nil {
		_, out.NextDue = auth.NeedsRotation(at, now, policy.Lifetime, nil)
	}
	return out, nil
}

// pushAdminPassword sets admin's credentials in Druid to next, authenticating with current.
// When Druid no longer accepts current but accepts next, an earlier attempt already pushed it.
func (r *ImplyClusterReconciler) pushAdminPassword(ctx context.Context, c *implyv1alpha1.ImplyCluster, current, next string) error {
	cfg, err := r.druidConfig(ctx, c)
	if err != nil {
		return err
	}
	authn := specs.DruidAuthenticatorName(c)
	cfg.Password = current
	api, err := r.NewAPI(cfg)
	if err != nil {
		return err
	}
	err = api.SetCredentials(ctx, authn, druidconn.AdminUsername, next)
	if !druid.IsUnauthorized(err) {
		return err
	}
	cfg.Password = next
	withNext, nerr := r.NewAPI(cfg)
	if nerr != nil {
		return err
	}
	if _, nerr := withNext.GetAuthenticatorUser(ctx, authn, druidconn.AdminUsername); nerr != nil {
		return err
	}
	return nil
}

// patchSecret patches what mutate changes in the operator's own Secret, with optimistic locking,
// and keeps live up to date.
func (r *ImplyClusterReconciler) patchSecret(ctx context.Context, live *corev1.Secret, mutate func(*corev1.Secret)) error {
	patch := client.MergeFromWithOptions(live.DeepCopy(), client.MergeFromWithOptimisticLock{})
	if live.Data == nil {
		live.Data = map[string][]byte{}
	}
	mutate(live)
	return r.Patch(ctx, live, patch)
}
