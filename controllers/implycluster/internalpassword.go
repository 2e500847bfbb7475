package implycluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/druidconn"
	"github.com/imply-operator/imply-operator/pkg/auth"
	"github.com/imply-operator/imply-operator/pkg/druid"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// Annotations of <cluster>-druid-credentials for rotating the generated internal-client password.
const (
	// annotationInternalClientUser is the user Druid services call each other as; empty means
	// druid_system.
	annotationInternalClientUser = "imply.operator.dev/internal-client-user"
	// annotationInternalClientRetiring is the previous internal user, still valid until every
	// pod has restarted onto the new one.
	annotationInternalClientRetiring = "imply.operator.dev/internal-client-retiring"
	// annotationInternalPasswordGeneratedAt is when the internal password in effect was generated.
	annotationInternalPasswordGeneratedAt = "imply.operator.dev/internal-client-password-generated-at"
	// annotationInternalPasswordHistory holds salted hashes of earlier internal passwords.
	annotationInternalPasswordHistory = "imply.operator.dev/internal-client-password-history"
	// keyInternalPasswordNext holds a new internal-client password while it is being given to
	// the other internal user in Druid, so every attempt pushes the same value: a push Druid
	// applies late (its answer lost, the operator killed, a timeout) can never leave Druid with
	// a password the Secret and the pods do not hold.
	keyInternalPasswordNext = "internal-client-password-next"
)

// generatedAtAnnotation is, per key of <cluster>-druid-credentials, the annotation recording
// when the operator generated the password under it.
var generatedAtAnnotation = map[string]string{
	specs.DruidAdminPasswordKey:          annotationAdminPasswordGeneratedAt,
	specs.DruidInternalClientPasswordKey: annotationInternalPasswordGeneratedAt,
}

// druidSystemRole is the role Druid creates for druid_system with every permission.
const druidSystemRole = "druid_system"

// internalRotation is the outcome of rotateInternalClientPassword.
type internalRotation struct {
	// Password and User are the internal credentials pods should start with.
	Password, User string
	// Pending is a new password not yet confirmed in Druid, kept in keyInternalPasswordNext.
	Pending string
	// NextDue is when the password is due for rotation; zero without a lifetime.
	NextDue time.Time
	// Warning says why a due rotation could not start; empty otherwise.
	Warning string
}

// otherInternalUser is the internal user a rotation moves to.
func otherInternalUser(user string) string {
	if user == specs.DruidAlternateInternalClientUsername {
		return specs.DruidInternalClientUsername
	}
	return specs.DruidAlternateInternalClientUsername
}

// rotateInternalClientPassword rotates the generated internal-client password (rotatePassword).
// Every Druid process authenticates to the others with the user and password it read at start,
// and Druid holds one credential per user, so the password of the user in use cannot change
// under running processes. Instead the rotation moves to the other internal user (druid_system
// <-> druid_system_2): the new password is stored under internal-client-password-next, that user
// is given it and the druid_system role in Druid, then the Secret and the escalator's user change, which rolls the pods; processes on
// either side of the roll are accepted. Once every workload runs the new material,
// retireInternalClientUser scrambles the old user's password. A rotation does not start while
// the previous user is still retiring.
func (r *Reconciler) rotateInternalClientPassword(ctx context.Context, c *implyv1alpha1.ImplyCluster, live *corev1.Secret, policy *implyv1alpha1.PasswordPolicy) (internalRotation, error) {
	user := internalClientUser(live)
	nextUser := otherInternalUser(user)
	pending := string(live.Data[keyInternalPasswordNext])
	out, err := r.rotatePassword(ctx, c, live, policy, passwordRotation{
		what: "internal-client password", key: specs.DruidInternalClientPasswordKey,
		generatedAt: annotationInternalPasswordGeneratedAt, history: annotationInternalPasswordHistory,
		pending: pending,
		blocked: live.Annotations[annotationInternalClientRetiring] != "",
		stage:   func(s *corev1.Secret, next string) { s.Data[keyInternalPasswordNext] = []byte(next); pending = next },
		push:    func(ctx context.Context, next string) error { return r.prepareInternalUser(ctx, c, nextUser, next) },
		commit: func(s *corev1.Secret) {
			delete(s.Data, keyInternalPasswordNext)
			s.Annotations[annotationInternalClientUser] = nextUser
			s.Annotations[annotationInternalClientRetiring] = user
		},
		eventReason: implyv1alpha1.EventInternalClientPasswordRotated,
		eventNote: func(string) string {
			return fmt.Sprintf("Druid services move from user %s to %s with a new password as their pods restart; %s stays valid until every pod has", user, nextUser, user)
		},
	})
	if out.Rotated {
		user, pending = nextUser, ""
	}
	return internalRotation{Password: out.Value, User: user, Pending: pending, NextDue: out.NextDue, Warning: out.Warning}, err
}

// internalClientUser is the internal user the Secret records, druid_system by default.
func internalClientUser(s *corev1.Secret) string {
	if u := s.Annotations[annotationInternalClientUser]; u == specs.DruidAlternateInternalClientUsername {
		return u
	}
	return specs.DruidInternalClientUsername
}

// prepareInternalUser makes user exist in Druid's authenticator with password and in its
// authorizer with the druid_system role, as the cluster's admin.
func (r *Reconciler) prepareInternalUser(ctx context.Context, c *implyv1alpha1.ImplyCluster, user, password string) error {
	api, err := r.adminAPI(ctx, c)
	if err != nil {
		return err
	}
	authn, authz := specs.DruidAuthenticatorName(c), specs.DruidAuthorizerName(c)
	if err := api.CreateAuthenticatorUser(ctx, authn, user); err != nil && !druid.IsAlreadyExists(err) {
		return err
	}
	if err := api.SetCredentials(ctx, authn, user, password); err != nil {
		return err
	}
	if err := api.CreateAuthorizerUser(ctx, authz, user); err != nil && !druid.IsAlreadyExists(err) {
		return err
	}
	if err := api.AssignRole(ctx, authz, user, druidSystemRole); err != nil && !druid.IsAlreadyAssigned(err) {
		return err
	}
	return nil
}

// retireInternalClientUser finishes an internal-client rotation once every workload runs a pod
// template with the current auth revision and is ready: the retiring user's password is
// replaced by a random one nobody holds, and the Secret forgets it. It returns a warning when
// Druid cannot be reached (retried on the next reconcile).
func (r *Reconciler) retireInternalClientUser(ctx context.Context, c *implyv1alpha1.ImplyCluster, live *corev1.Secret, revision string) (string, error) {
	retiring := live.Annotations[annotationInternalClientRetiring]
	if retiring == "" {
		return "", nil
	}
	done, err := r.rolledOut(ctx, c, func(_ string, annotations map[string]string) bool {
		return annotations[specs.AnnotationAuthRevision] == revision
	})
	if err != nil || !done {
		return "", err
	}
	api, err := r.adminAPI(ctx, c)
	if err == nil {
		var scrambled string
		if scrambled, err = auth.GenerateToken(nil); err == nil {
			err = api.SetCredentials(ctx, specs.DruidAuthenticatorName(c), retiring, scrambled)
			if druid.IsNotFound(err) {
				err = nil
			}
		}
	}
	if err != nil {
		return fmt.Sprintf("every pod now uses %s, but the password of %s is not yet revoked in Druid: %s",
			internalClientUser(live), retiring, druidconn.ProblemOf(err).Message), nil
	}
	if err := r.patchSecret(ctx, live, func(s *corev1.Secret) { delete(s.Annotations, annotationInternalClientRetiring) }); err != nil {
		return "", err
	}
	r.Recorder.Eventf(c, nil, corev1.EventTypeNormal, implyv1alpha1.EventInternalClientUserRetired, "RotatePassword",
		"Every pod runs as %s: the password of %s is revoked in Druid", internalClientUser(live), retiring)
	return "", nil
}

// adminAPI is a client of the cluster's coordinator as admin.
func (r *Reconciler) adminAPI(ctx context.Context, c *implyv1alpha1.ImplyCluster) (druid.API, error) {
	cfg, err := r.druidConfig(ctx, c)
	if err != nil {
		return nil, err
	}
	return r.NewAPI(cfg)
}

// druidConfig is the client configuration of the cluster's coordinator as admin; what keeps it
// from being built (no CA bundle or admin Secret yet) is an error.
func (r *Reconciler) druidConfig(ctx context.Context, c *implyv1alpha1.ImplyCluster) (druid.Config, error) {
	cfg, problem, err := druidconn.Connector{Cached: r.Client, APIReader: r.APIReader}.AdminConfig(ctx, c)
	if err == nil && problem != nil {
		err = errors.New(problem.Message)
	}
	return cfg, err
}

// untilPasswordRotation is how long until a generated Druid password of auth is due, at least a
// second, or zero when none ever is; a pending rotation is retried within passwordRetryInterval.
func (r *Reconciler) untilPasswordRotation(m *authMaterial) time.Duration {
	if m == nil {
		return 0
	}
	var next time.Duration
	for _, due := range []time.Time{m.AdminPasswordDue, m.InternalPasswordDue} {
		if due.IsZero() {
			continue
		}
		d := max(due.Sub(r.Clock.Now()), time.Second)
		if next == 0 || d < next {
			next = d
		}
	}
	if len(m.Warnings) > 0 && (next == 0 || next > passwordRetryInterval) {
		next = passwordRetryInterval
	}
	return next
}

// passwordRetryInterval is how soon a password rotation that could not reach Druid is retried.
const passwordRetryInterval = 30 * time.Second
