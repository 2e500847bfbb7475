package controllers

import (
	"context"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// AuthTokenReconciler reconciles AuthToken objects.
type AuthTokenReconciler struct {
	client.Client
}

// +kubebuilder:rbac:groups=imply.operator.dev,resources=authtokens,verbs=get;list;watch
// +kubebuilder:rbac:groups=imply.operator.dev,resources=authtokens/status,verbs=get;patch

// Reconcile brings one AuthToken toward its spec.
func (r *AuthTokenReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var obj implyv1alpha1.AuthToken
	if err := r.Get(ctx, req.NamespacedName, &obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	return ctrl.Result{}, reportNotImplemented(ctx, r.Client, &obj, "the operator does not issue AuthTokens yet: agent tokens and Druid users land with their own issues")
}

// SetupWithManager registers the reconciler with the manager.
func (r *AuthTokenReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&implyv1alpha1.AuthToken{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("authtoken").
		Complete(r)
}
