package controllers

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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/druid"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// druidUserFinalizer holds an AuthToken of type Druid until its user is deleted from Druid.
const druidUserFinalizer = "imply.operator.dev/druid-user"

// Reasons of a Druid user's conditions.
const (
	reasonCompliant = "Compliant"
)

// druidUserObservation is what reconciling a Druid user found, for its status.
type druidUserObservation struct {
	SecretName                string
	GeneratedAt, NextRotation time.Time
	// Roles are the roles the user holds in Druid, sorted.
	Roles []string
	// Violation is why PolicyCompliant is False; empty when it is True.
	Violation string
	// Problem is why Ready is False; nil when the user is in sync.
	Problem *syncProblem
}

// reconcileDruidUser converges an AuthToken of type Druid: the password (generated under the
// cluster's SecurityPolicy, or the user's, checked against it) is stored in <name>-credentials,
// then the user is made to exist in Druid's authenticator with exactly that password and in its
// authorizer with its roles. The credentials Secret is written first: it is what Druid is
// converged to, so a failed push is retried and never loses a password.
func (r *AuthTokenReconciler) reconcileDruidUser(ctx context.Context, token *implyv1alpha1.AuthToken) (ctrl.Result, error) {
	before := token.DeepCopy()
	conn, problem, err := r.druidConnector().connect(ctx, token.Namespace, token.Spec.ClusterRef.Name)
	if err != nil {
		return ctrl.Result{}, err
	}
	if !token.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalizeDruidUser(ctx, before, token, conn, problem)
	}
	obs := druidUserObservation{}
	if problem != nil {
		obs.Problem = problem
		return ctrl.Result{}, r.reportDruidUser(ctx, before, token, obs)
	}
	if !controllerutil.ContainsFinalizer(token, druidUserFinalizer) {
		if err := r.patchTokenMeta(ctx, before, token, func() { controllerutil.AddFinalizer(token, druidUserFinalizer) }); err != nil {
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
			problem = &syncProblem{Reason: reasonPolicyViolation, Message: plan.Violation}
		}
		obs.Problem = problem
		return ctrl.Result{RequeueAfter: r.untilDue(obs.NextRotation)}, r.reportDruidUser(ctx, before, token, obs)
	}

	roles, err := r.syncDruidUser(ctx, conn, token, plan.Password)
	obs.Roles = roles
	if err != nil {
		obs.Problem = druidProblem(err)
		if reportErr := r.reportDruidUser(ctx, before, token, obs); reportErr != nil {
			return ctrl.Result{}, reportErr
		}
		if !isDruidDomainError(err) {
			return ctrl.Result{}, err // transport errors and 5xx: retry with backoff
		}
		return ctrl.Result{RequeueAfter: r.resyncPeriod()}, nil
	}
	if plan.Violation != "" {
		obs.Problem = &syncProblem{Reason: reasonPolicyViolation, Message: plan.Violation}
	}
	if err := r.reportDruidUser(ctx, before, token, obs); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: min(r.resyncPeriod(), r.untilDue(obs.NextRotation))}, nil
}

// untilDue is how long until t, at least a second; a long time for a zero t.
func (r *AuthTokenReconciler) untilDue(t time.Time) time.Duration {
	if t.IsZero() {
		return r.resyncPeriod()
	}
	return max(t.Sub(r.clock().Now()), time.Second)
}

// resyncPeriod is how often a Druid user is compared with Druid again.
func (r *AuthTokenReconciler) resyncPeriod() time.Duration {
	if r.ResyncPeriod <= 0 {
		return DefaultDruidRoleResyncPeriod
	}
	return r.ResyncPeriod
}

func (r *AuthTokenReconciler) druidConnector() druidConnector {
	return druidConnector{Cached: r.Client, APIReader: r.APIReader, NewAPI: r.NewAPI}
}

// reconcileDruidCredentials decides the user's password and stores it, with token.json, in
// <name>-credentials. A problem (a missing Secret or SecurityPolicy, a Secret that is not the
// AuthToken's) stops the reconcile; a policy violation of the user's password keeps the stored
// password and is reported in the plan.
func (r *AuthTokenReconciler) reconcileDruidCredentials(ctx context.Context, token *implyv1alpha1.AuthToken, cluster *implyv1alpha1.ImplyCluster) (passwordPlan, *syncProblem, error) {
	policy, problem, err := r.passwordPolicy(ctx, cluster)
	if err != nil || problem != nil {
		return passwordPlan{}, problem, err
	}
	name := specs.DruidUserCredentialsName(token.Name)
	live, err := r.getOwnSecret(ctx, token.Namespace, name)
	if err != nil {
		return passwordPlan{}, nil, err
	}
	if live != nil && !metav1.IsControlledBy(live, token) {
		return passwordPlan{}, &syncProblem{Reason: implyv1alpha1.ReasonSecretNotOwned,
			Message: fmt.Sprintf("Secret %q exists and does not belong to this AuthToken: delete it or rename the AuthToken", name)}, nil
	}
	in := passwordInput{Stored: readStoredCredentials(live), Policy: policy, Rotation: token.Spec.Rotation, Now: r.clock().Now()}
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
		return plan, &syncProblem{Reason: reasonSecurityPolicyInvalid, Message: err.Error()}, nil
	}
	if plan.Password == "" {
		return plan, nil, nil // the user's first password violates the policy: nothing to store
	}
	desired, err := druidCredentialsSecret(token, plan)
	if err != nil {
		return plan, nil, err
	}
	if _, err := apply(ctx, r.Client, r.APIReader, r.Scheme, token, desired); err != nil {
		return plan, nil, fmt.Errorf("while applying Secret %s: %w", name, err)
	}
	if plan.EventReason != "" {
		log.FromContext(ctx).Info("Stored a new Druid user password", "secret", name, "reason", plan.EventReason)
		r.Recorder.Eventf(token, nil, corev1.EventTypeNormal, plan.EventReason, "SetPassword", "%s (Secret %q)", plan.Note, name)
	}
	return plan, nil, nil
}

// passwordPolicy is the password policy of the cluster's SecurityPolicy, nil without one.
func (r *AuthTokenReconciler) passwordPolicy(ctx context.Context, cluster *implyv1alpha1.ImplyCluster) (*implyv1alpha1.PasswordPolicy, *syncProblem, error) {
	ref := cluster.Spec.Security.SecurityPolicyRef
	if ref == nil {
		return nil, nil, nil
	}
	var policy implyv1alpha1.SecurityPolicy
	if err := r.Get(ctx, types.NamespacedName{Namespace: cluster.Namespace, Name: ref.Name}, &policy); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &syncProblem{Reason: reasonSecurityPolicyNotFound,
				Message: fmt.Sprintf("SecurityPolicy %q of ImplyCluster %q does not exist", ref.Name, cluster.Name)}, nil
		}
		return nil, nil, err
	}
	return &policy.Spec.Password, nil, nil
}

// readUserPassword reads the password of spec.passwordSecretRef, uncached.
func (r *AuthTokenReconciler) readUserPassword(ctx context.Context, namespace, name, key string) (string, *syncProblem, error) {
	var secret corev1.Secret
	if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &secret); err != nil {
		if apierrors.IsNotFound(err) {
			return "", &syncProblem{Reason: implyv1alpha1.ReasonSecretNotFound,
				Message: fmt.Sprintf("Secret %q named by spec.passwordSecretRef does not exist", name)}, nil
		}
		return "", nil, fmt.Errorf("while reading Secret %s: %w", name, err)
	}
	value, ok := secret.Data[key]
	if !ok || len(value) == 0 {
		return "", &syncProblem{Reason: implyv1alpha1.ReasonSecretKeyNotFound,
			Message: fmt.Sprintf("Secret %q named by spec.passwordSecretRef has no key %q", name, key)}, nil
	}
	return string(value), nil, nil
}

// syncDruidUser makes the user exist in the authenticator with password and in the authorizer
// with its roles: spec.roles are assigned; roles it holds and neither spec.roles nor a DruidRole
// listing the user in spec.users asks for are unassigned. It reads first and writes only what
// differs (the stored credentials are compared by hashing password with their salt). It returns
// the roles the user holds afterwards.
func (r *AuthTokenReconciler) syncDruidUser(ctx context.Context, conn *druidConnection, token *implyv1alpha1.AuthToken, password string) ([]string, error) {
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
		roles = without(roles, role)
	}
	sort.Strings(roles)
	return slices.Compact(roles), errors.Join(errs...)
}

// rolesClaimingUser is the Druid role names of the DruidRoles of cluster that list user in
// spec.users: those assignments are the DruidRole's to make and undo.
func (r *AuthTokenReconciler) rolesClaimingUser(ctx context.Context, namespace, cluster, user string) (map[string]bool, error) {
	var list implyv1alpha1.DruidRoleList
	if err := r.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		return nil, err
	}
	claimed := map[string]bool{}
	for i := range list.Items {
		role := &list.Items[i]
		if role.Spec.ClusterRef.Name == cluster && role.DeletionTimestamp.IsZero() && slices.Contains(role.Spec.Users, user) {
			claimed[druidRoleName(role)] = true
		}
	}
	return claimed, nil
}

// finalizeDruidUser deletes the user from Druid's authenticator and authorizer, then releases
// the AuthToken. A cluster that is gone or cannot be reached because it is misconfigured does
// not hold the object forever.
func (r *AuthTokenReconciler) finalizeDruidUser(ctx context.Context, before, token *implyv1alpha1.AuthToken, conn *druidConnection, problem *syncProblem) error {
	if !controllerutil.ContainsFinalizer(token, druidUserFinalizer) {
		return nil
	}
	if problem == nil {
		user := token.Spec.Username
		err := errors.Join(
			ignoreDruidNotFound(conn.API.DeleteAuthenticatorUser(ctx, conn.Authenticator, user)),
			ignoreDruidNotFound(conn.API.DeleteAuthorizerUser(ctx, conn.Authorizer, user)))
		if err != nil {
			if reportErr := r.reportDruidUser(ctx, before, token, druidUserObservation{Problem: druidProblem(err)}); reportErr != nil {
				return reportErr
			}
			return err
		}
		r.Recorder.Eventf(token, nil, corev1.EventTypeNormal, "UserDeleted", "Delete", "Deleted Druid user %q", user)
	}
	return client.IgnoreNotFound(r.patchTokenMeta(ctx, before, token, func() { controllerutil.RemoveFinalizer(token, druidUserFinalizer) }))
}

func ignoreDruidNotFound(err error) error {
	if druid.IsNotFound(err) {
		return nil
	}
	return err
}

// patchTokenMeta patches what mutate changes in token's metadata, keeping the status being
// computed and moving before's metadata along, so the later status patch carries none.
func (r *AuthTokenReconciler) patchTokenMeta(ctx context.Context, before, token *implyv1alpha1.AuthToken, mutate func()) error {
	status := token.Status.DeepCopy()
	patch := client.MergeFrom(token.DeepCopy())
	mutate()
	err := r.Patch(ctx, token, patch)
	token.Status = *status
	if err != nil {
		return err
	}
	before.ObjectMeta = *token.ObjectMeta.DeepCopy()
	return nil
}

// reportDruidUser writes the status of a Druid user, with a Warning event when a problem or a
// policy violation is new.
func (r *AuthTokenReconciler) reportDruidUser(ctx context.Context, before, token *implyv1alpha1.AuthToken, obs druidUserObservation) error {
	computeDruidUserStatus(token, obs)
	for _, t := range []string{implyv1alpha1.ConditionPolicyCompliant, implyv1alpha1.ConditionReady} {
		now := findCondition(token.Status.Conditions, t)
		if now == nil || now.Status == metav1.ConditionTrue {
			continue
		}
		if was := findCondition(before.Status.Conditions, t); was != nil && was.Reason == now.Reason && was.Message == now.Message {
			continue
		}
		if t == implyv1alpha1.ConditionReady && now.Reason == reasonPolicyViolation {
			continue // the PolicyCompliant warning says it
		}
		r.Recorder.Eventf(token, nil, corev1.EventTypeWarning, now.Reason, "Reconcile", "%s", now.Message)
	}
	return client.IgnoreNotFound(patchStatusIfChanged(ctx, r.Client, before, token))
}

// findCondition is the condition of type t, nil when absent.
func findCondition(conds []metav1.Condition, t string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == t {
			return &conds[i]
		}
	}
	return nil
}

// computeDruidUserStatus derives a Druid user's status from what was observed. It is pure.
func computeDruidUserStatus(token *implyv1alpha1.AuthToken, obs druidUserObservation) {
	token.Status.ObservedGeneration = token.Generation
	token.Status.SecretName = obs.SecretName
	token.Status.RotatedAt, token.Status.NextRotation = metaTime(obs.GeneratedAt), metaTime(obs.NextRotation)
	switch {
	case obs.Violation != "":
		setCondition(token, implyv1alpha1.ConditionPolicyCompliant, metav1.ConditionFalse, reasonPolicyViolation, obs.Violation)
	case obs.SecretName != "":
		setCondition(token, implyv1alpha1.ConditionPolicyCompliant, metav1.ConditionTrue, reasonCompliant,
			"The password satisfies the cluster's SecurityPolicy")
	}
	if p := obs.Problem; p != nil {
		setCondition(token, implyv1alpha1.ConditionReady, metav1.ConditionFalse, p.Reason, p.Message)
		setCondition(token, implyv1alpha1.ConditionDegraded, metav1.ConditionTrue, p.Reason, p.Message)
		setCondition(token, implyv1alpha1.ConditionProgressing, metav1.ConditionFalse, p.Reason, "Waiting for the problem to be fixed")
		return
	}
	roles := "no roles"
	if len(obs.Roles) > 0 {
		roles = "roles " + strings.Join(obs.Roles, ", ")
	}
	msg := fmt.Sprintf("Druid user %q has the password of Secret %q and %s", token.Spec.Username, obs.SecretName, roles)
	setCondition(token, implyv1alpha1.ConditionReady, metav1.ConditionTrue, reasonSynced, msg)
	setCondition(token, implyv1alpha1.ConditionDegraded, metav1.ConditionFalse, implyv1alpha1.ReasonAsExpected, "")
	setCondition(token, implyv1alpha1.ConditionProgressing, metav1.ConditionFalse, implyv1alpha1.ReasonReconciled, "")
}
