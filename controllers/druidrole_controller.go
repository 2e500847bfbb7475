package controllers

import (
	"context"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// DruidRoleReconciler reconciles DruidRole objects.
type DruidRoleReconciler struct {
	client.Client
}

// +kubebuilder:rbac:groups=imply.operator.dev,resources=druidroles,verbs=get;list;watch
// +kubebuilder:rbac:groups=imply.operator.dev,resources=druidroles/status,verbs=get;patch

// Reconcile brings one DruidRole toward its spec.
func (r *DruidRoleReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var obj implyv1alpha1.DruidRole
	if err := r.Get(ctx, req.NamespacedName, &obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	return ctrl.Result{}, reportNotImplemented(ctx, r.Client, &obj, "the operator does not sync DruidRoles to Druid yet")
}

// SetupWithManager registers the reconciler with the manager.
func (r *DruidRoleReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&implyv1alpha1.DruidRole{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("druidrole").
		Complete(r)
}
