package controllers

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// reportNotImplemented marks obj Ready=Unknown with reason NotImplemented, so an object whose
// reconciliation has not landed yet says so instead of pretending to work. It writes status only
// when that changes it.
func reportNotImplemented(ctx context.Context, c client.Client, obj statusObject, message string) error {
	before, ok := obj.DeepCopyObject().(statusObject)
	if !ok {
		panic("DeepCopyObject of a status object returned another type")
	}
	setCondition(obj, implyv1alpha1.ConditionReady, metav1.ConditionUnknown, implyv1alpha1.ReasonNotImplemented, message)
	obj.SetObservedGeneration(obj.GetGeneration())
	return client.IgnoreNotFound(patchStatusIfChanged(ctx, c, before, obj))
}
