package authtoken

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/apply"
	"github.com/imply-operator/imply-operator/controllers/internal/claim"
	"github.com/imply-operator/imply-operator/controllers/internal/druidconn"
	"github.com/imply-operator/imply-operator/controllers/internal/index"
	"github.com/imply-operator/imply-operator/pkg/auth"
	"github.com/imply-operator/imply-operator/pkg/druid"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// druidUserFinalizer holds an AuthToken of type Druid until its user is deleted from Druid.
const druidUserFinalizer = "imply.operator.dev/druid-user"

// druidUserObservation is what reconciling a Druid user found, for its status.
type druidUserObservation struct {
	SecretName                string
	GeneratedAt, NextRotation time.Time
	// Roles are the roles the user holds in Druid, sorted.
	Roles []string
	// Violation is why PolicyCompliant is False; empty when it is True.
	Violation string
	// Problem is why Ready is False; nil when the user is in sync.
	Problem *apply.Problem
}

// reconcileDruidUser converges an AuthToken of type Druid: the password (generated under the
// cluster's SecurityPolicy, or the user's, checked against it) is stored in <name>-credentials,
// then the user is made to exist in Druid's authenticator with exactly that password and in its
// authorizer with its roles. The credentials Secret is written first: it is what Druid is
// converged to, so a failed push is retried and never loses a password.
func (r *Reconciler) reconcileDruidUser(ctx context.Context, token *implyv1alpha1.AuthToken) (ctrl.Result, error) {
	before := token.DeepCopy()
	conn, problem, err := druidconn.Connector{Cached: r.Client, APIReader: r.APIReader, NewAPI: r.NewAPI}.Connect(ctx, token.Namespace, token.Spec.ClusterRef.Name)
	if err != nil {
		return ctrl.Result{}, err
	}
	owner, err := r.usernameOwner(ctx, token)
	if err != nil {
		return ctrl.Result{}, err
	}
	if owner.Name != token.Name && problem == nil {
		problem = claim.Conflict("Druid user", token.Spec.Username, token.Spec.ClusterRef.Name, "AuthToken", owner.Name)
	}
	if !token.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalizeDruidUser(ctx, before, token, conn, problem) // a later claimant deletes nothing
	}
	obs := druidUserObservation{}
	if problem != nil {
		obs.Problem = problem
		if conn != nil {
			// Checks that need no Druid come first: a weak password is reported at once.
			if obs.Violation, err = r.userPasswordViolation(ctx, token, conn.Cluster); err != nil {
				return ctrl.Result{}, err
			}
		}
		return ctrl.Result{}, r.reportDruidUser(ctx, before, token, obs)
	}
	if !controllerutil.ContainsFinalizer(token, druidUserFinalizer) {
		if err := apply.PatchMetadata(ctx, r.Client, before, token, func() { controllerutil.AddFinalizer(token, druidUserFinalizer) }); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
	}

	plan, problem, err := r.reconcileDruidCredentials(ctx, token, conn.Cluster)
	if err != nil {
		return ctrl.Result{}, err
	}
	obs.SecretName = specs.DruidUserCredentialsName(token.Name)
	obs.GeneratedAt, obs.NextRotation, obs.Violation = plan.GeneratedAt, plan.NextRotation, plan.Violation
	if problem != nil || plan.Password == "" {
		if problem == nil {
			problem = &apply.Problem{Reason: implyv1alpha1.ReasonPolicyViolation, Message: plan.Violation}
		}
		obs.Problem = problem
		return ctrl.Result{RequeueAfter: r.untilDue(obs.NextRotation)}, r.reportDruidUser(ctx, before, token, obs)
	}

	roles, err := r.syncDruidUser(ctx, conn, token, plan.Password)
	obs.Roles = roles
	if err != nil {
		obs.Problem = druidconn.ProblemOf(err)
		if reportErr := r.reportDruidUser(ctx, before, token, obs); reportErr != nil {
			return ctrl.Result{}, reportErr
		}
		if !druidconn.IsDomainError(err) {
			return ctrl.Result{}, err // transport errors and 5xx: retry with backoff
		}
		return ctrl.Result{RequeueAfter: r.ResyncPeriod}, nil
	}
	if plan.Violation != "" {
		obs.Problem = &apply.Problem{Reason: implyv1alpha1.ReasonPolicyViolation, Message: plan.Violation}
	}
	if err := r.reportDruidUser(ctx, before, token, obs); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: min(r.ResyncPeriod, r.untilDue(obs.NextRotation))}, nil
}

// usernameOwner is the AuthToken of the cluster that owns token's Druid username: the first
// to claim it (claim.Owner), token itself when no other claims it.
func (r *Reconciler) usernameOwner(ctx context.Context, token *implyv1alpha1.AuthToken) (*implyv1alpha1.AuthToken, error) {
	others, err := sameUsername(ctx, r.Client, token)
	if err != nil {
		return nil, err
	}
	return claim.Owner(append(others, token)), nil
}

// untilDue is how long until t, at least a second; a long time for a zero t.
func (r *Reconciler) untilDue(t time.Time) time.Duration {
	if t.IsZero() {
		return r.ResyncPeriod
	}
	return max(t.Sub(r.Clock.Now()), time.Second)
}

// reconcileDruidCredentials decides the user's password and stores it, with token.json, in
// <name>-credentials. A problem (a missing Secret or SecurityPolicy, a Secret that is not the
// AuthToken's) stops the reconcile; a policy violation of the user's password keeps the stored
// password and is reported in the plan.
func (r *Reconciler) reconcileDruidCredentials(ctx context.Context, token *implyv1alpha1.AuthToken, cluster *implyv1alpha1.ImplyCluster) (passwordPlan, *apply.Problem, error) {
	policy, problem, err := r.passwordPolicy(ctx, cluster)
	if err != nil || problem != nil {
		return passwordPlan{}, problem, err
	}
	name := specs.DruidUserCredentialsName(token.Name)
	live, err := r.getOwnSecret(ctx, token.Namespace, name)
	if err != nil {
		return passwordPlan{}, nil, err
	}
	if live != nil {
		if err := apply.CheckOwner(r.Scheme, token, live); err != nil {
			return passwordPlan{}, apply.AsConflict(err).Problem(), nil
		}
	}
	in := passwordInput{Stored: readStoredCredentials(live), Policy: policy, Rotation: token.Spec.Rotation, Now: r.Clock.Now()}
	if ref := token.Spec.PasswordSecretRef; ref != nil {
		key := ref.KeyOrDefault(corev1.BasicAuthPasswordKey)
		value, problem, err := r.readUserPassword(ctx, token.Namespace, ref.Name, key)
		if err != nil || problem != nil {
			return passwordPlan{}, problem, err
		}
		in.UserPassword, in.UserSource = &value, fmt.Sprintf("Secret %q key %q", ref.Name, key)
	}
	plan, err := planDruidPassword(in)
	if err != nil {
		return plan, &apply.Problem{Reason: implyv1alpha1.ReasonSecurityPolicyInvalid, Message: err.Error()}, nil
	}
	if plan.Password == "" {
		return plan, nil, nil // the user's first password violates the policy: nothing to store
	}
	desired, err := specs.BuildDruidUserCredentialsSecret(token, plan.Password, plan.GeneratedAt, plan.History)
	if err != nil {
		return plan, nil, err
	}
	if token.Spec.DeletionPolicy == implyv1alpha1.DeletionPolicyRetain {
		// The user stays in Druid after the AuthToken: so does its password.
		specs.SetRetainedFor(desired, apply.RetainedForOwner(r.Scheme, token))
	}
	if _, err := apply.Apply(ctx, r.Client, r.APIReader, r.Scheme, token, desired); err != nil {
		if conflict := apply.AsConflict(err); conflict != nil {
			return plan, conflict.Problem(), nil
		}
		return plan, nil, fmt.Errorf("while applying Secret %s: %w", name, err)
	}
	if plan.EventReason != "" {
		log.FromContext(ctx).Info("Stored a new Druid user password", "secret", name, "reason", plan.EventReason)
		r.Recorder.Eventf(token, nil, corev1.EventTypeNormal, plan.EventReason, "SetPassword", "%s (Secret %q)", plan.Note, name)
	}
	return plan, nil, nil
}

// userPasswordViolation checks the user's password (spec.passwordSecretRef) against the
// cluster's SecurityPolicy while Druid cannot be reached yet: the rules it breaks, "" when it
// complies, is generated, or cannot be read yet (reported once Druid is reachable).
func (r *Reconciler) userPasswordViolation(ctx context.Context, token *implyv1alpha1.AuthToken, cluster *implyv1alpha1.ImplyCluster) (string, error) {
	ref := token.Spec.PasswordSecretRef
	if ref == nil || cluster == nil || cluster.Spec.Security == nil {
		return "", nil
	}
	policy, problem, err := r.passwordPolicy(ctx, cluster)
	if err != nil || problem != nil || policy == nil {
		return "", err
	}
	key := ref.KeyOrDefault(corev1.BasicAuthPasswordKey)
	value, problem, err := r.readUserPassword(ctx, token.Namespace, ref.Name, key)
	if err != nil || problem != nil {
		return "", err
	}
	if vs := auth.CheckPassword(value, policy); len(vs) > 0 {
		return fmt.Sprintf("The password in Secret %q key %q is not applied: %s", ref.Name, key, auth.FormatViolations(vs)), nil
	}
	return "", nil
}

// passwordPolicy is the password policy of the cluster's SecurityPolicy, nil without one.
func (r *Reconciler) passwordPolicy(ctx context.Context, cluster *implyv1alpha1.ImplyCluster) (*implyv1alpha1.PasswordPolicy, *apply.Problem, error) {
	ref := cluster.Spec.Security.SecurityPolicyRef
	if ref == nil {
		return nil, nil, nil
	}
	var policy implyv1alpha1.SecurityPolicy
	if err := r.Get(ctx, types.NamespacedName{Namespace: cluster.Namespace, Name: ref.Name}, &policy); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &apply.Problem{Reason: implyv1alpha1.ReasonSecurityPolicyNotFound,
				Message: fmt.Sprintf("SecurityPolicy %q of ImplyCluster %q does not exist", ref.Name, cluster.Name)}, nil
		}
		return nil, nil, err
	}
	return &policy.Spec.Password, nil, nil
}

// readUserPassword reads the password of spec.passwordSecretRef, uncached.
func (r *Reconciler) readUserPassword(ctx context.Context, namespace, name, key string) (string, *apply.Problem, error) {
	var secret corev1.Secret
	if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &secret); err != nil {
		if apierrors.IsNotFound(err) {
			return "", &apply.Problem{Reason: implyv1alpha1.ReasonSecretNotFound,
				Message: fmt.Sprintf("Secret %q named by spec.passwordSecretRef does not exist", name)}, nil
		}
		return "", nil, fmt.Errorf("while reading Secret %s: %w", name, err)
	}
	value, ok := secret.Data[key]
	if !ok || len(value) == 0 {
		return "", &apply.Problem{Reason: implyv1alpha1.ReasonSecretKeyNotFound,
			Message: fmt.Sprintf("Secret %q named by spec.passwordSecretRef has no key %q", name, key)}, nil
	}
	return string(value), nil, nil
}

// syncDruidUser makes the user exist in the authenticator with password and in the authorizer
// with its roles: spec.roles are assigned; roles it holds and neither spec.roles nor a DruidRole
// listing the user in spec.users asks for are unassigned. It reads first and writes only what
// differs (the stored credentials are compared by hashing password with their salt). It returns
// the roles the user holds afterwards.
func (r *Reconciler) syncDruidUser(ctx context.Context, conn *druidconn.Connection, token *implyv1alpha1.AuthToken, password string) ([]string, error) {
	api, authn, authz, user := conn.API, conn.Authenticator, conn.Authorizer, token.Spec.Username
	stored, err := api.GetAuthenticatorUser(ctx, authn, user)
	if druid.IsNotFound(err) {
		if err := api.CreateAuthenticatorUser(ctx, authn, user); err != nil && !druid.IsAlreadyExists(err) {
			return nil, err
		}
		stored, err = &druid.AuthenticatorUser{Name: user}, nil
	}
	if err != nil {
		return nil, err
	}
	if !stored.Credentials.Matches(password) {
		if err := api.SetCredentials(ctx, authn, user, password); err != nil {
			return nil, err
		}
	}

	held, err := api.GetAuthorizerUser(ctx, authz, user)
	if druid.IsNotFound(err) {
		if err := api.CreateAuthorizerUser(ctx, authz, user); err != nil && !druid.IsAlreadyExists(err) {
			return nil, err
		}
		held, err = &druid.AuthorizerUser{Name: user}, nil
	}
	if err != nil {
		return nil, err
	}
	claimed, err := r.rolesClaimingUser(ctx, token.Namespace, conn.Cluster.Name, user)
	if err != nil {
		return nil, err
	}
	roles := slices.Clone(held.Roles)
	var errs []error
	for _, role := range token.Spec.Roles {
		if slices.Contains(held.Roles, role) {
			continue
		}
		if err := api.AssignRole(ctx, authz, user, role); err != nil && !druid.IsAlreadyAssigned(err) {
			errs = append(errs, err)
			continue
		}
		roles = append(roles, role)
	}
	for _, role := range held.Roles {
		if slices.Contains(token.Spec.Roles, role) || claimed[role] {
			continue
		}
		if err := api.UnassignRole(ctx, authz, user, role); err != nil && !druid.IsNotAssigned(err) && !druid.IsNotFound(err) {
			errs = append(errs, err)
			continue
		}
		roles = slices.DeleteFunc(roles, func(r string) bool { return r == role })
	}
	sort.Strings(roles)
	return slices.Compact(roles), errors.Join(errs...)
}

// rolesClaimingUser is the Druid role names of the DruidRoles of cluster that list user in
// spec.users: those assignments are the DruidRole's to make and undo.
func (r *Reconciler) rolesClaimingUser(ctx context.Context, namespace, cluster, user string) (map[string]bool, error) {
	var list implyv1alpha1.DruidRoleList
	if err := index.List(ctx, r.Client, &list, namespace, index.RoleCluster, cluster); err != nil {
		return nil, err
	}
	return rolesClaiming(list.Items, cluster, user), nil
}

// rolesClaiming is the role names whose owning DruidRole (claim.Owner among those of cluster
// with that role name) is not being deleted and lists user. A DruidRole that lost the claim to
// its role name changes nothing in Druid, so it cannot keep an assignment either.
func rolesClaiming(roles []implyv1alpha1.DruidRole, cluster, user string) map[string]bool {
	var ofCluster []*implyv1alpha1.DruidRole
	for i := range roles {
		if roles[i].Spec.ClusterRef.Name == cluster {
			ofCluster = append(ofCluster, &roles[i])
		}
	}
	claimed := map[string]bool{}
	for name, owner := range claim.OwnersByName(ofCluster, specs.DruidRoleName) {
		if owner.DeletionTimestamp.IsZero() && slices.Contains(owner.Spec.Users, user) {
			claimed[name] = true
		}
	}
	return claimed
}

// finalizeDruidUser deletes the user from Druid's authenticator and authorizer, then releases
// the AuthToken. A cluster that is gone or cannot be reached because it is misconfigured does
// not hold the object forever.
func (r *Reconciler) finalizeDruidUser(ctx context.Context, before, token *implyv1alpha1.AuthToken, conn *druidconn.Connection, problem *apply.Problem) error {
	if !controllerutil.ContainsFinalizer(token, druidUserFinalizer) {
		return nil
	}
	if problem == nil && token.Spec.DeletionPolicy == implyv1alpha1.DeletionPolicyRetain {
		r.Recorder.Eventf(token, nil, corev1.EventTypeNormal, implyv1alpha1.EventUserRetained, "Delete",
			"Kept Druid user %q and Secret %q (deletionPolicy Retain)", token.Spec.Username, specs.DruidUserCredentialsName(token.Name))
	} else if problem == nil {
		user := token.Spec.Username
		err := errors.Join(
			druidconn.IgnoreNotFound(conn.API.DeleteAuthenticatorUser(ctx, conn.Authenticator, user)),
			druidconn.IgnoreNotFound(conn.API.DeleteAuthorizerUser(ctx, conn.Authorizer, user)))
		if err != nil {
			if reportErr := r.reportDruidUser(ctx, before, token, druidUserObservation{Problem: druidconn.ProblemOf(err)}); reportErr != nil {
				return reportErr
			}
			return err
		}
		r.Recorder.Eventf(token, nil, corev1.EventTypeNormal, implyv1alpha1.EventUserDeleted, "Delete", "Deleted Druid user %q", user)
	}
	return client.IgnoreNotFound(apply.PatchMetadata(ctx, r.Client, before, token, func() { controllerutil.RemoveFinalizer(token, druidUserFinalizer) }))
}

// reportDruidUser writes the status of a Druid user, with a Warning event when a problem or a
// policy violation is new.
func (r *Reconciler) reportDruidUser(ctx context.Context, before, token *implyv1alpha1.AuthToken, obs druidUserObservation) error {
	computeDruidUserStatus(token, obs)
	for _, t := range []string{implyv1alpha1.ConditionPolicyCompliant, implyv1alpha1.ConditionReady} {
		now := meta.FindStatusCondition(token.Status.Conditions, t)
		if now == nil || now.Status == metav1.ConditionTrue ||
			(t == implyv1alpha1.ConditionReady && now.Reason == implyv1alpha1.ReasonPolicyViolation) || // the PolicyCompliant warning says it
			(t == implyv1alpha1.ConditionReady && now.Reason == implyv1alpha1.ReasonWaitingForCluster) { // a wait, not a fault
			continue
		}
		apply.WarnOnce(r.Recorder, before, token, t, "Reconcile", &apply.Problem{Reason: now.Reason, Message: now.Message})
	}
	return client.IgnoreNotFound(apply.PatchStatusIfChanged(ctx, r.Client, before, token))
}

// computeDruidUserStatus derives a Druid user's status from what was observed. It is pure.
func computeDruidUserStatus(token *implyv1alpha1.AuthToken, obs druidUserObservation) {
	token.Status.ObservedGeneration = token.Generation
	token.Status.SecretName = obs.SecretName
	token.Status.RotatedAt, token.Status.NextRotation = metaTime(obs.GeneratedAt), metaTime(obs.NextRotation)
	switch {
	case obs.Violation != "":
		apply.SetCondition(token, implyv1alpha1.ConditionPolicyCompliant, metav1.ConditionFalse, implyv1alpha1.ReasonPolicyViolation, obs.Violation)
	case obs.SecretName != "":
		apply.SetCondition(token, implyv1alpha1.ConditionPolicyCompliant, metav1.ConditionTrue, implyv1alpha1.ReasonCompliant,
			"The password satisfies the cluster's SecurityPolicy")
	}
	if p := obs.Problem; p != nil {
		apply.SetCondition(token, implyv1alpha1.ConditionReady, metav1.ConditionFalse, p.Reason, p.Message)
		if druidconn.Waiting(p) {
			apply.SetCondition(token, implyv1alpha1.ConditionDegraded, metav1.ConditionFalse, implyv1alpha1.ReasonAsExpected, "")
			apply.SetCondition(token, implyv1alpha1.ConditionProgressing, metav1.ConditionTrue, p.Reason, p.Message)
			return
		}
		apply.SetCondition(token, implyv1alpha1.ConditionDegraded, metav1.ConditionTrue, p.Reason, p.Message)
		apply.SetCondition(token, implyv1alpha1.ConditionProgressing, metav1.ConditionFalse, p.Reason, "Waiting for the problem to be fixed")
		return
	}
	roles := "no roles"
	if len(obs.Roles) > 0 {
		roles = "roles " + strings.Join(obs.Roles, ", ")
	}
	msg := fmt.Sprintf("Druid user %q has the password of Secret %q and %s", token.Spec.Username, obs.SecretName, roles)
	apply.SetCondition(token, implyv1alpha1.ConditionReady, metav1.ConditionTrue, implyv1alpha1.ReasonSynced, msg)
	apply.SetCondition(token, implyv1alpha1.ConditionDegraded, metav1.ConditionFalse, implyv1alpha1.ReasonAsExpected, "")
	apply.SetCondition(token, implyv1alpha1.ConditionProgressing, metav1.ConditionFalse, implyv1alpha1.ReasonReconciled, "")
}
