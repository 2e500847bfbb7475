package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/druid"
)

// DefaultDruidRoleResyncPeriod is how often a converged DruidRole is compared with Druid again,
// so changes made by hand in Druid are reverted.
const DefaultDruidRoleResyncPeriod = 5 * time.Minute

// druidRoleFinalizer holds a DruidRole until its role is deleted from Druid (deletionPolicy
// Delete) or let go (Retain).
const druidRoleFinalizer = "imply.operator.dev/druid-role"

// druidAdminUsername is Druid's built-in admin user, whose password the cluster holds.
const druidAdminUsername = "admin"

// Reasons of a DruidRole's conditions and events.
const (
	reasonSynced          = "Synced"
	reasonDruidError      = "DruidError"
	reasonAuthNotEnabled  = "AuthNotEnabled"
	reasonClusterNotFound = "ClusterNotFound"
	reasonInvalidConfig   = "InvalidDruidConfig"
)

// DruidRoleReconciler reconciles DruidRole objects: it converges the role in the cluster's Druid
// (basic-security authorizer) to the spec: the role exists, its permissions are the spec's, it is
// assigned to exactly spec.users, and the group mappings of spec.groupMappings exist with their
// patterns and carry the role. Group mappings the operator created for the role and no longer
// listed are removed (their names are recorded in an annotation). Every ResyncPeriod the role is
// compared with Druid again, so changes made by hand are reverted; when nothing differs, only
// GETs are sent.
type DruidRoleReconciler struct {
	client.Client
	// APIReader reads the admin password Secret without the cache.
	APIReader client.Reader
	Recorder  events.EventRecorder
	// ResyncPeriod is how often a role is compared with Druid again; zero means
	// DefaultDruidRoleResyncPeriod.
	ResyncPeriod time.Duration
	// NewAPI builds the Druid client for a config; nil means druid.New.
	NewAPI func(druid.Config) (druid.API, error)
}

// +kubebuilder:rbac:groups=imply.operator.dev,resources=druidroles,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=imply.operator.dev,resources=druidroles/status,verbs=get;patch
// +kubebuilder:rbac:groups=imply.operator.dev,resources=druidroles/finalizers,verbs=update
// +kubebuilder:rbac:groups=imply.operator.dev,resources=authtokens,verbs=get;list;watch
// +kubebuilder:rbac:groups=imply.operator.dev,resources=implyclusters,verbs=get;list;watch
// +kubebuilder:rbac:groups=core,resources=configmaps,verbs=get;list;watch
// +kubebuilder:rbac:groups=core,resources=secrets,verbs=get
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one DruidRole toward its spec.
func (r *DruidRoleReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var role implyv1alpha1.DruidRole
	if err := r.Get(ctx, req.NamespacedName, &role); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := role.DeepCopy()
	role.Status.RoleName = druidRoleName(&role)

	api, authz, problem, err := r.druidAPI(ctx, &role)
	if err != nil {
		return ctrl.Result{}, err
	}
	if !role.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, before, &role, api, authz, problem)
	}
	if problem != nil {
		return ctrl.Result{}, r.report(ctx, before, &role, problem)
	}
	if !controllerutil.ContainsFinalizer(&role, druidRoleFinalizer) {
		if err := r.patchMeta(ctx, before, &role, func() { controllerutil.AddFinalizer(&role, druidRoleFinalizer) }); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
	}

	if err := r.converge(ctx, before, &role, api, authz); err != nil {
		p := druidProblem(err)
		if reportErr := r.report(ctx, before, &role, p); reportErr != nil {
			return ctrl.Result{}, reportErr
		}
		if !isDruidDomainError(err) {
			return ctrl.Result{}, err // transport errors and 5xx: retry with backoff
		}
		return ctrl.Result{RequeueAfter: r.resyncPeriod()}, nil
	}
	msg := fmt.Sprintf("Role %q is in sync with Druid authorizer %q", role.Status.RoleName, authz)
	if err := r.report(ctx, before, &role, &syncProblem{ok: true, Message: msg}); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: r.resyncPeriod()}, nil
}

func (r *DruidRoleReconciler) resyncPeriod() time.Duration {
	if r.ResyncPeriod <= 0 {
		return DefaultDruidRoleResyncPeriod
	}
	return r.ResyncPeriod
}

// druidRoleName is the role's name in Druid: spec.roleName, or metadata.name.
func druidRoleName(role *implyv1alpha1.DruidRole) string {
	if role.Spec.RoleName != "" {
		return role.Spec.RoleName
	}
	return role.Name
}

// syncProblem is the outcome of a reconcile for the Synced condition: ok, or a reason and
// message.
type syncProblem struct {
	ok      bool
	Reason  string
	Message string
}

// druidAPI connects to the coordinator of the role's cluster. A problem is returned when the
// cluster cannot be talked to; err only for errors reading the apiserver.
func (r *DruidRoleReconciler) druidAPI(ctx context.Context, role *implyv1alpha1.DruidRole) (druid.API, string, *syncProblem, error) {
	conn, problem, err := druidConnector{Cached: r.Client, APIReader: r.APIReader, NewAPI: r.NewAPI}.connect(ctx, role.Namespace, role.Spec.ClusterRef.Name)
	if err != nil || problem != nil {
		authz := ""
		if conn != nil {
			authz = conn.Authorizer
		}
		return nil, authz, problem, err
	}
	return conn.API, conn.Authorizer, nil, nil
}

// finalize deletes the role from Druid when deletionPolicy is Delete (Retain leaves it), then
// releases the object. A cluster that is gone or cannot be reached because it is misconfigured
// (problem) does not hold the object forever: there is no Druid left to clean up.
func (r *DruidRoleReconciler) finalize(ctx context.Context, before, role *implyv1alpha1.DruidRole, api druid.API, authz string, problem *syncProblem) error {
	if !controllerutil.ContainsFinalizer(role, druidRoleFinalizer) {
		return nil
	}
	if problem == nil && role.Spec.DeletionPolicy != implyv1alpha1.DeletionPolicyRetain {
		if err := r.deleteFromDruid(ctx, role, api, authz); err != nil {
			if reportErr := r.report(ctx, before, role, druidProblem(err)); reportErr != nil {
				return reportErr
			}
			return err
		}
	}
	return client.IgnoreNotFound(r.patchMeta(ctx, before, role, func() { controllerutil.RemoveFinalizer(role, druidRoleFinalizer) }))
}

// patchMeta patches what mutate changes in role's metadata, keeping the status being computed
// (the apiserver's answer would overwrite it) and moving before's metadata along, so the later
// status patch carries no metadata.
func (r *DruidRoleReconciler) patchMeta(ctx context.Context, before, role *implyv1alpha1.DruidRole, mutate func()) error {
	status := role.Status.DeepCopy()
	patch := client.MergeFrom(role.DeepCopy())
	mutate()
	err := r.Patch(ctx, role, patch)
	role.Status = *status
	if err != nil {
		return err
	}
	before.ObjectMeta = *role.ObjectMeta.DeepCopy()
	return nil
}

// deleteFromDruid deletes the role (Druid unassigns it everywhere) and the group mappings the
// operator created for it that carry no other role.
func (r *DruidRoleReconciler) deleteFromDruid(ctx context.Context, role *implyv1alpha1.DruidRole, api druid.API, authz string) error {
	name := druidRoleName(role)
	if err := api.DeleteRole(ctx, authz, name); err != nil && !druid.IsNotFound(err) {
		return err
	}
	for _, gm := range ownedGroupMappings(role) {
		mapping, err := api.GetGroupMapping(ctx, authz, gm)
		if druid.IsNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		if len(without(mapping.Roles, name)) > 0 {
			continue
		}
		if err := api.DeleteGroupMapping(ctx, authz, gm); err != nil && !druid.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// report writes the status for an outcome, with a Warning event when a problem is new.
func (r *DruidRoleReconciler) report(ctx context.Context, before, role *implyv1alpha1.DruidRole, p *syncProblem) error {
	role.Status.ObservedGeneration = role.Generation
	if p.ok {
		setCondition(role, implyv1alpha1.ConditionSynced, metav1.ConditionTrue, reasonSynced, p.Message)
		setCondition(role, implyv1alpha1.ConditionReady, metav1.ConditionTrue, reasonSynced, p.Message)
		setCondition(role, implyv1alpha1.ConditionDegraded, metav1.ConditionFalse, implyv1alpha1.ReasonAsExpected, "")
		setCondition(role, implyv1alpha1.ConditionProgressing, metav1.ConditionFalse, implyv1alpha1.ReasonReconciled, "")
	} else {
		r.warnOnce(before, role, p)
		setCondition(role, implyv1alpha1.ConditionSynced, metav1.ConditionFalse, p.Reason, p.Message)
		setCondition(role, implyv1alpha1.ConditionReady, metav1.ConditionFalse, p.Reason, p.Message)
		setCondition(role, implyv1alpha1.ConditionDegraded, metav1.ConditionTrue, p.Reason, p.Message)
		setCondition(role, implyv1alpha1.ConditionProgressing, metav1.ConditionFalse, p.Reason, "Waiting for the problem to be fixed")
	}
	return client.IgnoreNotFound(patchStatusIfChanged(ctx, r.Client, before, role))
}

// warnOnce records a Warning event unless Synced already carries the same reason and message.
func (r *DruidRoleReconciler) warnOnce(before, role *implyv1alpha1.DruidRole, p *syncProblem) {
	for _, cond := range before.Status.Conditions {
		if cond.Type == implyv1alpha1.ConditionSynced && cond.Reason == p.Reason && cond.Message == p.Message {
			return
		}
	}
	if r.Recorder != nil {
		r.Recorder.Eventf(role, nil, corev1.EventTypeWarning, p.Reason, "Sync", "%s", p.Message)
	}
}

// druidProblem is the Synced problem of a Druid error: Druid's own text for its answers.
func druidProblem(err error) *syncProblem {
	var apiErr *druid.APIError
	if errors.As(err, &apiErr) && apiErr.Message != "" {
		return &syncProblem{Reason: reasonDruidError, Message: joinDruidMessages(err)}
	}
	return &syncProblem{Reason: reasonDruidError, Message: err.Error()}
}

// isDruidDomainError reports whether every error in err is a 4xx answer of Druid, which
// retrying soon does not fix.
func isDruidDomainError(err error) bool {
	for _, e := range flatten(err) {
		var apiErr *druid.APIError
		if !errors.As(e, &apiErr) || apiErr.StatusCode >= 500 {
			return false
		}
	}
	return true
}

// flatten returns the errors joined in err (err itself when it is not a join).
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// joinDruidMessages is Druid's texts of the errors in err, "; "-separated.
func joinDruidMessages(err error) string {
	var msg string
	for i, e := range flatten(err) {
		if i > 0 {
			msg += "; "
		}
		var apiErr *druid.APIError
		if errors.As(e, &apiErr) && apiErr.Message != "" {
			msg += apiErr.Message
		} else {
			msg += e.Error()
		}
	}
	return msg
}

// SetupWithManager registers the reconciler: it watches DruidRoles and wakes the roles of an
// ImplyCluster whose spec changes (auth turned on, another coordinator URL), and the roles that
// name a Druid user of an AuthToken (the user may appear in Druid after the role listing it).
func (r *DruidRoleReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&implyv1alpha1.DruidRole{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&implyv1alpha1.ImplyCluster{}, handler.EnqueueRequestsFromMapFunc(druidRolesOfCluster(mgr.GetClient())),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&implyv1alpha1.AuthToken{}, handler.EnqueueRequestsFromMapFunc(druidRolesOfUser(mgr.GetClient()))).
		Named("druidrole").
		Complete(r)
}

// druidRolesOfCluster maps an ImplyCluster to the DruidRoles of its namespace that name it.
func druidRolesOfCluster(c client.Client) func(context.Context, client.Object) []reconcile.Request {
	return func(ctx context.Context, cluster client.Object) []reconcile.Request {
		var roles implyv1alpha1.DruidRoleList
		if err := c.List(ctx, &roles, client.InNamespace(cluster.GetNamespace())); err != nil {
			return nil
		}
		var requests []reconcile.Request
		for i := range roles.Items {
			if roles.Items[i].Spec.ClusterRef.Name == cluster.GetName() {
				requests = append(requests, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&roles.Items[i])})
			}
		}
		return requests
	}
}

// druidRolesOfUser maps an AuthToken of type Druid to the DruidRoles of its cluster that list
// its username in spec.users or that it lists in spec.roles.
func druidRolesOfUser(c client.Client) func(context.Context, client.Object) []reconcile.Request {
	return func(ctx context.Context, obj client.Object) []reconcile.Request {
		token, ok := obj.(*implyv1alpha1.AuthToken)
		if !ok || token.Spec.Type != implyv1alpha1.AuthTokenDruid || token.Spec.ClusterRef == nil {
			return nil
		}
		var roles implyv1alpha1.DruidRoleList
		if err := c.List(ctx, &roles, client.InNamespace(token.Namespace)); err != nil {
			return nil
		}
		var requests []reconcile.Request
		for i := range roles.Items {
			role := &roles.Items[i]
			if role.Spec.ClusterRef.Name == token.Spec.ClusterRef.Name &&
				(slices.Contains(role.Spec.Users, token.Spec.Username) || slices.Contains(token.Spec.Roles, druidRoleName(role))) {
				requests = append(requests, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(role)})
			}
		}
		return requests
	}
}
