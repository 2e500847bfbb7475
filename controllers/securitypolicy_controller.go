package controllers

import (
	"context"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// SecurityPolicyReconciler reconciles SecurityPolicy objects.
type SecurityPolicyReconciler struct {
	client.Client
}

// +kubebuilder:rbac:groups=imply.operator.dev,resources=securitypolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=imply.operator.dev,resources=securitypolicies/status,verbs=get;patch

// Reconcile brings one SecurityPolicy toward its spec.
func (r *SecurityPolicyReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var obj implyv1alpha1.SecurityPolicy
	if err := r.Get(ctx, req.NamespacedName, &obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	return ctrl.Result{}, reportNotImplemented(ctx, r.Client, &obj, "the operator does not render or enforce SecurityPolicies yet")
}

// SetupWithManager registers the reconciler with the manager.
func (r *SecurityPolicyReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&implyv1alpha1.SecurityPolicy{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("securitypolicy").
		Complete(r)
}
