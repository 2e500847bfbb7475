package druidrole

import (
	"context"
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
	"github.com/imply-operator/imply-operator/controllers/internal/apply"
	"github.com/imply-operator/imply-operator/controllers/internal/claim"
	"github.com/imply-operator/imply-operator/controllers/internal/druidconn"
	"github.com/imply-operator/imply-operator/controllers/internal/index"
	"github.com/imply-operator/imply-operator/controllers/internal/setup"
	"github.com/imply-operator/imply-operator/pkg/druid"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// druidRoleFinalizer holds a DruidRole until its role is deleted from Druid (deletionPolicy
// Delete) or let go (Retain).
const druidRoleFinalizer = "imply.operator.dev/druid-role"

// Reconciler reconciles DruidRole objects: it converges the role in the cluster's Druid
// (basic-security authorizer) to the spec: the role exists, its permissions are the spec's, it is
// assigned to exactly spec.users, and the group mappings of spec.groupMappings exist with their
// patterns and carry the role. Group mappings the operator created for the role and no longer
// listed are removed (their names are recorded in an annotation). Every ResyncPeriod the role is
// compared with Druid again, so changes made by hand are reverted; when nothing differs, only
// GETs are sent.
type Reconciler struct {
	client.Client
	// APIReader reads the admin password Secret without the cache.
	APIReader client.Reader
	Recorder  events.EventRecorder
	// ResyncPeriod is how often a role is compared with Druid again.
	ResyncPeriod time.Duration
	// NewAPI builds the Druid client for a config.
	NewAPI func(druid.Config) (druid.API, error)
}

// +kubebuilder:rbac:groups=imply.operator.dev,resources=druidroles,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=imply.operator.dev,resources=druidroles/status,verbs=get;patch
// +kubebuilder:rbac:groups=imply.operator.dev,resources=druidroles/finalizers,verbs=update
// +kubebuilder:rbac:groups=imply.operator.dev,resources=authtokens,verbs=get;list;watch
// +kubebuilder:rbac:groups=imply.operator.dev,resources=implyclusters,verbs=get;list;watch
// +kubebuilder:rbac:groups=core,resources=configmaps,verbs=get;list;watch
// +kubebuilder:rbac:groups=core,resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one DruidRole toward its spec.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var role implyv1alpha1.DruidRole
	if err := r.Get(ctx, req.NamespacedName, &role); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := role.DeepCopy()
	role.Status.RoleName = specs.DruidRoleName(&role)

	api, authz, problem, err := r.druidAPI(ctx, &role)
	if err != nil {
		return ctrl.Result{}, err
	}
	others, err := sameRoleName(ctx, r.Client, &role)
	if err != nil {
		return ctrl.Result{}, err
	}
	if owner := claim.Owner(append(others, &role)); owner.Name != role.Name && problem == nil {
		problem = claim.Conflict("Druid role", role.Status.RoleName, role.Spec.ClusterRef.Name, "DruidRole", owner.Name)
	}
	if !role.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, before, &role, api, authz, problem)
	}
	if problem != nil {
		return ctrl.Result{}, r.report(ctx, before, &role, problem)
	}
	if !controllerutil.ContainsFinalizer(&role, druidRoleFinalizer) {
		if err := apply.PatchMetadata(ctx, r.Client, before, &role, func() { controllerutil.AddFinalizer(&role, druidRoleFinalizer) }); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
	}

	if err := r.converge(ctx, before, &role, api, authz); err != nil {
		p := druidconn.ProblemOf(err)
		if reportErr := r.report(ctx, before, &role, p); reportErr != nil {
			return ctrl.Result{}, reportErr
		}
		if !druidconn.IsDomainError(err) {
			return ctrl.Result{}, err // transport errors and 5xx: retry with backoff
		}
		return ctrl.Result{RequeueAfter: r.ResyncPeriod}, nil
	}
	if err := r.reportSynced(ctx, before, &role, authz); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: r.ResyncPeriod}, nil
}

// druidAPI connects to the coordinator of the role's cluster. A problem is returned when the
// cluster cannot be talked to; err only for errors reading the apiserver.
func (r *Reconciler) druidAPI(ctx context.Context, role *implyv1alpha1.DruidRole) (druid.API, string, *apply.Problem, error) {
	conn, problem, err := druidconn.Connector{Cached: r.Client, APIReader: r.APIReader, NewAPI: r.NewAPI}.Connect(ctx, role.Namespace, role.Spec.ClusterRef.Name)
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
func (r *Reconciler) finalize(ctx context.Context, before, role *implyv1alpha1.DruidRole, api druid.API, authz string, problem *apply.Problem) error {
	if !controllerutil.ContainsFinalizer(role, druidRoleFinalizer) {
		return nil
	}
	if problem == nil && role.Spec.DeletionPolicy != implyv1alpha1.DeletionPolicyRetain {
		if err := r.deleteFromDruid(ctx, role, api, authz); err != nil {
			if reportErr := r.report(ctx, before, role, druidconn.ProblemOf(err)); reportErr != nil {
				return reportErr
			}
			return err
		}
	}
	return client.IgnoreNotFound(apply.PatchMetadata(ctx, r.Client, before, role, func() { controllerutil.RemoveFinalizer(role, druidRoleFinalizer) }))
}

// deleteFromDruid deletes the role (Druid unassigns it everywhere) and the group mappings the
// operator created for it that carry no other role.
func (r *Reconciler) deleteFromDruid(ctx context.Context, role *implyv1alpha1.DruidRole, api druid.API, authz string) error {
	name := specs.DruidRoleName(role)
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

// report writes the status of a role that is not in sync, with a Warning event when the
// problem is new.
func (r *Reconciler) report(ctx context.Context, before, role *implyv1alpha1.DruidRole, p *apply.Problem) error {
	role.Status.ObservedGeneration = role.Generation
	apply.SetCondition(role, implyv1alpha1.ConditionSynced, metav1.ConditionFalse, p.Reason, p.Message)
	apply.SetCondition(role, implyv1alpha1.ConditionReady, metav1.ConditionFalse, p.Reason, p.Message)
	if druidconn.Waiting(p) {
		apply.SetCondition(role, implyv1alpha1.ConditionDegraded, metav1.ConditionFalse, implyv1alpha1.ReasonAsExpected, "")
		apply.SetCondition(role, implyv1alpha1.ConditionProgressing, metav1.ConditionTrue, p.Reason, p.Message)
	} else {
		apply.WarnOnce(r.Recorder, before, role, implyv1alpha1.ConditionSynced, "Sync", p)
		apply.SetCondition(role, implyv1alpha1.ConditionDegraded, metav1.ConditionTrue, p.Reason, p.Message)
		apply.SetCondition(role, implyv1alpha1.ConditionProgressing, metav1.ConditionFalse, p.Reason, "Waiting for the problem to be fixed")
	}
	return client.IgnoreNotFound(apply.PatchStatusIfChanged(ctx, r.Client, before, role))
}

// reportSynced writes the status of a role in sync with Druid's authorizer authz.
func (r *Reconciler) reportSynced(ctx context.Context, before, role *implyv1alpha1.DruidRole, authz string) error {
	role.Status.ObservedGeneration = role.Generation
	msg := fmt.Sprintf("Role %q is in sync with Druid authorizer %q", role.Status.RoleName, authz)
	apply.SetCondition(role, implyv1alpha1.ConditionSynced, metav1.ConditionTrue, implyv1alpha1.ReasonSynced, msg)
	apply.SetCondition(role, implyv1alpha1.ConditionReady, metav1.ConditionTrue, implyv1alpha1.ReasonSynced, msg)
	apply.SetCondition(role, implyv1alpha1.ConditionDegraded, metav1.ConditionFalse, implyv1alpha1.ReasonAsExpected, "")
	apply.SetCondition(role, implyv1alpha1.ConditionProgressing, metav1.ConditionFalse, implyv1alpha1.ReasonReconciled, "")
	return client.IgnoreNotFound(apply.PatchStatusIfChanged(ctx, r.Client, before, role))
}

// Setup registers the DruidRole reconciler with mgr: it watches DruidRoles and wakes the roles of an
// ImplyCluster whose spec changes (auth turned on, another coordinator URL), and the roles that
// name a Druid user of an AuthToken (the user may appear in Druid after the role listing it).
func Setup(mgr ctrl.Manager, opts setup.Options) error {
	r := &Reconciler{
		Client:       apply.WithOwnStatusWrites(mgr.GetClient(), mgr.GetAPIReader()),
		APIReader:    mgr.GetAPIReader(),
		Recorder:     mgr.GetEventRecorder(setup.EventSource),
		ResyncPeriod: opts.DruidResyncPeriod,
		NewAPI:       opts.NewDruidAPI,
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&implyv1alpha1.DruidRole{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&implyv1alpha1.ImplyCluster{}, handler.EnqueueRequestsFromMapFunc(druidRolesOfCluster(mgr.GetClient())),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&implyv1alpha1.AuthToken{}, handler.EnqueueRequestsFromMapFunc(druidRolesOfUser(mgr.GetClient()))).
		Watches(&implyv1alpha1.DruidRole{}, handler.EnqueueRequestsFromMapFunc(otherClaimants(mgr.GetClient()))).
		Watches(&corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(druidRolesOfDependency(mgr.GetClient()))).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(druidRolesOfDependency(mgr.GetClient()))).
		Named("druidrole").
		Complete(r)
}

// druidRolesOfCluster maps an ImplyCluster to the DruidRoles of its namespace that name it.
func druidRolesOfCluster(c client.Client) func(context.Context, client.Object) []reconcile.Request {
	return func(ctx context.Context, cluster client.Object) []reconcile.Request {
		return rolesOf(ctx, c, cluster.GetNamespace(), cluster.GetName())
	}
}

// druidRolesOfDependency maps the CA bundle or generated credentials of a cluster, which the
// roles need to reach its coordinator, to the DruidRoles of that cluster.
func druidRolesOfDependency(c client.Client) func(context.Context, client.Object) []reconcile.Request {
	return func(ctx context.Context, obj client.Object) []reconcile.Request {
		if cluster := druidconn.ClusterOfDependency(obj); cluster != "" {
			return rolesOf(ctx, c, obj.GetNamespace(), cluster)
		}
		return nil
	}
}

// otherClaimants maps a DruidRole to the others of its cluster that claim the same role name, so
// the next claimant takes the role over when its owner goes.
func otherClaimants(c client.Client) func(context.Context, client.Object) []reconcile.Request {
	return func(ctx context.Context, obj client.Object) []reconcile.Request {
		role, ok := obj.(*implyv1alpha1.DruidRole)
		if !ok {
			return nil
		}
		others, _ := sameRoleName(ctx, c, role)
		out := make([]reconcile.Request, 0, len(others))
		for _, o := range others {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(o)})
		}
		return out
	}
}

// sameRoleName lists the other DruidRoles of role's cluster that claim its Druid role name.
func sameRoleName(ctx context.Context, c client.Reader, role *implyv1alpha1.DruidRole) ([]*implyv1alpha1.DruidRole, error) {
	var list implyv1alpha1.DruidRoleList
	if err := index.List(ctx, c, &list, role.Namespace, index.RoleName, index.ClusterScoped(role.Spec.ClusterRef.Name, specs.DruidRoleName(role))); err != nil {
		return nil, fmt.Errorf("while listing DruidRoles: %w", err)
	}
	var out []*implyv1alpha1.DruidRole
	for i := range list.Items {
		o := &list.Items[i]
		if o.Name != role.Name && o.Spec.ClusterRef.Name == role.Spec.ClusterRef.Name && specs.DruidRoleName(o) == specs.DruidRoleName(role) {
			out = append(out, o)
		}
	}
	return out, nil
}

// rolesOf lists, as requests, the DruidRoles of cluster.
func rolesOf(ctx context.Context, c client.Client, namespace, cluster string) []reconcile.Request {
	var roles implyv1alpha1.DruidRoleList
	if err := index.List(ctx, c, &roles, namespace, index.RoleCluster, cluster); err != nil {
		return nil
	}
	var requests []reconcile.Request
	for i := range roles.Items {
		if roles.Items[i].Spec.ClusterRef.Name == cluster {
			requests = append(requests, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&roles.Items[i])})
		}
	}
	return requests
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
		if err := index.List(ctx, c, &roles, token.Namespace, index.RoleCluster, token.Spec.ClusterRef.Name); err != nil {
			return nil
		}
		var requests []reconcile.Request
		for i := range roles.Items {
			role := &roles.Items[i]
			if role.Spec.ClusterRef.Name == token.Spec.ClusterRef.Name &&
				(slices.Contains(role.Spec.Users, token.Spec.Username) || slices.Contains(token.Spec.Roles, specs.DruidRoleName(role))) {
				requests = append(requests, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(role)})
			}
		}
		return requests
	}
}
