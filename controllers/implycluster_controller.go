package controllers

import (
	"context"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// ImplyClusterReconciler reconciles ImplyCluster objects.
type ImplyClusterReconciler struct {
	client.Client
}

// +kubebuilder:rbac:groups=imply.operator.dev,resources=implyclusters,verbs=get;list;watch
// +kubebuilder:rbac:groups=imply.operator.dev,resources=implyclusters/status,verbs=get;patch

// Reconcile brings one ImplyCluster toward its spec.
func (r *ImplyClusterReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var obj implyv1alpha1.ImplyCluster
	if err := r.Get(ctx, req.NamespacedName, &obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	return ctrl.Result{}, reportNotImplemented(ctx, r.Client, &obj, "the operator does not deploy ImplyClusters yet: workloads, certificates, credentials and rollouts land with their own issues")
}

// SetupWithManager registers the reconciler with the manager.
func (r *ImplyClusterReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&implyv1alpha1.ImplyCluster{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("implycluster").
		Complete(r)
}
