package apply

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// StatusObject is an object of this API whose status carries conditions.
type StatusObject interface {
	client.Object
	implyv1alpha1.ConditionsAccessor
}

// PatchStatusIfChanged writes obj's status when it differs from before's, and does nothing
// otherwise, so an unchanged object causes no write. The status is wholly computed by the
// operator, so the patch is not tied to before's resourceVersion: a reconcile that read a stale
// copy still writes what it observed, and the next event corrects it. before must be at least
// as new as the reconciler's own last status write, which WithOwnStatusWrites sees to.
func PatchStatusIfChanged(ctx context.Context, c client.Client, before, obj StatusObject) error {
	if equality.Semantic.DeepEqual(before, obj) {
		return nil
	}
	if err := c.Status().Patch(ctx, obj, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("while patching status of %s: %w", client.ObjectKeyFromObject(obj), err)
	}
	return nil
}

// SetCondition sets one condition, stamped with the object's generation.
func SetCondition(obj StatusObject, condType string, status metav1.ConditionStatus, reason, message string) {
	conds := obj.GetConditions()
	meta.SetStatusCondition(&conds, metav1.Condition{
		Type:               condType,
		Status:             status,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: obj.GetGeneration(),
	})
	obj.SetConditions(conds)
}
