package implycluster

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/druidconn"
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

// rotateAdminPassword rotates the generated Druid admin password (rotatePassword). Druid reads
// initialAdminPassword only when its metadata store is new, so the new password goes through the
// coordinator's API, in three durable steps: the new password is stored under
// admin-password-next, pushed to Druid as admin's credentials (authenticated with the current
// password, or found already pushed when the new one is accepted), then made current.
func (r *Reconciler) rotateAdminPassword(ctx context.Context, c *implyv1alpha1.ImplyCluster, live *corev1.Secret, policy *implyv1alpha1.PasswordPolicy) (adminRotation, error) {
	current, pending := string(live.Data[specs.DruidAdminPasswordKey]), string(live.Data[keyAdminPasswordNext])
	out, err := r.rotatePassword(ctx, c, live, policy, passwordRotation{
		what: "admin password", key: specs.DruidAdminPasswordKey,
		generatedAt: annotationAdminPasswordGeneratedAt, history: annotationAdminPasswordHistory,
		pending:     pending,
		stage:       func(s *corev1.Secret, next string) { s.Data[keyAdminPasswordNext] = []byte(next); pending = next },
		push:        func(ctx context.Context, next string) error { return r.pushAdminPassword(ctx, c, current, next) },
		commit:      func(s *corev1.Secret) { delete(s.Data, keyAdminPasswordNext) },
		eventReason: implyv1alpha1.EventAdminPasswordRotated,
		eventNote: func(why string) string {
			return fmt.Sprintf("Rotated the Druid admin password in Secret %q through the coordinator: %s", live.Name, why)
		},
	})
	if out.Rotated {
		pending = ""
	}
	return adminRotation{Current: out.Value, Pending: pending, NextDue: out.NextDue, Warning: out.Warning}, err
}

// pushAdminPassword sets admin's credentials in Druid to next, authenticating with current.
// When Druid no longer accepts current but accepts next, an earlier attempt already pushed it.
func (r *Reconciler) pushAdminPassword(ctx context.Context, c *implyv1alpha1.ImplyCluster, current, next string) error {
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
func (r *Reconciler) patchSecret(ctx context.Context, live *corev1.Secret, mutate func(*corev1.Secret)) error {
	patch := client.MergeFromWithOptions(live.DeepCopy(), client.MergeFromWithOptimisticLock{})
	if live.Data == nil {
		live.Data = map[string][]byte{}
	}
	mutate(live)
	return r.Patch(ctx, live, patch)
}
