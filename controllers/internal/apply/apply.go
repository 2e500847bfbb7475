package apply

import (
	"context"
	"fmt"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/imply-operator/imply-operator/controllers/internal/cache"
)

// Result says what apply did to one object.
type Result string

const (
	Unchanged Result = "unchanged"
	Created   Result = "created"
	Patched   Result = "patched"
)

// Apply creates desired when it does not exist, and otherwise patches the live object only where
// it differs from desired in the fields the operator owns. An object that already matches causes
// no write. desired becomes controlled by owner.
//
// c reads from the cache, which holds only labelled objects of most kinds (CacheOptions): when
// the create finds an object of that name the cache does not hold (one without the labels, or
// one the cache has not seen yet), it is read through uncached and patched like any other.
func Apply(ctx context.Context, c client.Client, uncached client.Reader, scheme *runtime.Scheme, owner, desired client.Object) (Result, error) {
	if err := controllerutil.SetControllerReference(owner, desired, scheme); err != nil {
		return "", err
	}
	live, ok := desired.DeepCopyObject().(client.Object)
	if !ok {
		return "", fmt.Errorf("%T is not a client.Object", desired)
	}
	key := client.ObjectKeyFromObject(desired)
	if err := c.Get(ctx, key, live); err != nil {
		if !apierrors.IsNotFound(err) {
			return "", err
		}
		err := c.Create(ctx, desired)
		if err == nil {
			return Created, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return "", err
		}
		if err := uncached.Get(ctx, key, live); err != nil {
			return "", err
		}
	}
	patched, ok := live.DeepCopyObject().(client.Object)
	if !ok {
		return "", fmt.Errorf("%T is not a client.Object", live)
	}
	metaChanged := mergeOwnedMetadata(desired, patched)
	specChanged, err := mergeOwnedSpec(desired, patched)
	if err != nil {
		return "", err
	}
	result := Unchanged
	if metaChanged || specChanged {
		if err := c.Patch(ctx, patched, client.MergeFromWithOptions(live, client.MergeFromWithOptimisticLock{})); err != nil {
			return "", err
		}
		result = Patched
	}
	if drift := immutableDrift(desired, live); drift != "" {
		return result, &ImmutableFieldError{Message: drift}
	}
	return result, nil
}

// ImmutableFieldError says the spec asks for a change the apiserver does not allow in place.
// The mutable fields were still applied.
type ImmutableFieldError struct{ Message string }

func (e *ImmutableFieldError) Error() string { return e.Message }

// immutableDrift describes how desired differs from live in fields that cannot change in place:
// a StatefulSet's volume claim templates (storage size and class). Empty when nothing differs.
func immutableDrift(desired, live client.Object) string {
	d, ok := desired.(*appsv1.StatefulSet)
	if !ok {
		return ""
	}
	l := live.(*appsv1.StatefulSet)
	describe := func(claims []corev1.PersistentVolumeClaim) string {
		if len(claims) == 0 {
			return "no volume (emptyDir)"
		}
		size := claims[0].Spec.Resources.Requests[corev1.ResourceStorage]
		class := "the default class"
		if sc := claims[0].Spec.StorageClassName; sc != nil {
			class = "class " + *sc
		}
		return fmt.Sprintf("%s in %s", size.String(), class)
	}
	want, have := describe(d.Spec.VolumeClaimTemplates), describe(l.Spec.VolumeClaimTemplates)
	if want == have {
		return ""
	}
	return fmt.Sprintf("StatefulSet %s keeps its volumes (%s): the storage asked for (%s) cannot change in place; "+
		"resize the PersistentVolumeClaims or recreate the node group", l.Name, have, want)
}

// mergeOwnedMetadata copies desired's labels, annotations and controller reference into live and
// says whether that changed anything. Labels and annotations others add are kept.
func mergeOwnedMetadata(desired, live client.Object) bool {
	changed := false
	labels := live.GetLabels()
	for k, v := range desired.GetLabels() {
		if cur, ok := labels[k]; !ok || cur != v {
			if labels == nil {
				labels = map[string]string{}
			}
			labels[k] = v
			changed = true
		}
	}
	live.SetLabels(labels)
	annotations := live.GetAnnotations()
	for k, v := range desired.GetAnnotations() {
		if cur, ok := annotations[k]; !ok || cur != v {
			if annotations == nil {
				annotations = map[string]string{}
			}
			annotations[k] = v
			changed = true
		}
	}
	live.SetAnnotations(annotations)
	want := metav1.GetControllerOf(desired)
	if have := metav1.GetControllerOf(live); want != nil && (have == nil || have.UID != want.UID) {
		refs := []metav1.OwnerReference{*want}
		for _, ref := range live.GetOwnerReferences() {
			// A plain reference to the same owner (left by the cert-manager backend, see
			// ownWithoutControlling) gives way to the controller reference.
			if (ref.Controller == nil || !*ref.Controller) && ref.UID != want.UID {
				refs = append(refs, ref)
			}
		}
		live.SetOwnerReferences(refs)
		changed = true
	}
	return changed
}

// derives reports whether every field set in desired has the same value in live; fields desired
// leaves empty are left to apiserver defaults and other controllers.
func derives(desired, live any) bool {
	return equality.Semantic.DeepDerivative(desired, live)
}

// mergeOwnedSpec copies the fields the operator owns from desired into live, for each kind it
// manages, and says whether live differed. Immutable fields (selectors, claim templates) are not
// touched.
func mergeOwnedSpec(desired, live client.Object) (bool, error) {
	switch d := desired.(type) {
	case *corev1.ConfigMap:
		l := live.(*corev1.ConfigMap)
		if cache.ConfigDataMatches(d.Data, l.Data) && equality.Semantic.DeepEqual(d.BinaryData, l.BinaryData) {
			return false, nil
		}
		l.Data, l.BinaryData = d.Data, d.BinaryData
		return true, nil
	case *corev1.Secret:
		l := live.(*corev1.Secret)
		if equality.Semantic.DeepEqual(d.Data, l.Data) {
			return false, nil
		}
		l.Data, l.StringData = d.Data, nil
		return true, nil
	case *corev1.Service:
		l := live.(*corev1.Service)
		if derives(d.Spec.Ports, l.Spec.Ports) && len(d.Spec.Ports) == len(l.Spec.Ports) &&
			equality.Semantic.DeepEqual(d.Spec.Selector, l.Spec.Selector) &&
			d.Spec.PublishNotReadyAddresses == l.Spec.PublishNotReadyAddresses &&
			derives(d.Spec.Type, l.Spec.Type) {
			return false, nil
		}
		l.Spec.Ports, l.Spec.Selector = d.Spec.Ports, d.Spec.Selector
		l.Spec.PublishNotReadyAddresses = d.Spec.PublishNotReadyAddresses
		if d.Spec.Type != "" {
			l.Spec.Type = d.Spec.Type
		}
		return true, nil
	case *appsv1.StatefulSet:
		l := live.(*appsv1.StatefulSet)
		if derives(d.Spec.Replicas, l.Spec.Replicas) && PodTemplateDerives(d.Spec.Template, l.Spec.Template) &&
			derives(d.Spec.UpdateStrategy, l.Spec.UpdateStrategy) && d.Spec.MinReadySeconds == l.Spec.MinReadySeconds {
			return false, nil
		}
		l.Spec.Replicas, l.Spec.Template = d.Spec.Replicas, d.Spec.Template
		l.Spec.UpdateStrategy, l.Spec.MinReadySeconds = d.Spec.UpdateStrategy, d.Spec.MinReadySeconds
		return true, nil
	case *appsv1.Deployment:
		l := live.(*appsv1.Deployment)
		if derives(d.Spec.Replicas, l.Spec.Replicas) && PodTemplateDerives(d.Spec.Template, l.Spec.Template) &&
			derives(d.Spec.Strategy, l.Spec.Strategy) {
			return false, nil
		}
		l.Spec.Replicas, l.Spec.Template = d.Spec.Replicas, d.Spec.Template
		if d.Spec.Strategy.Type != "" {
			l.Spec.Strategy = d.Spec.Strategy
		}
		return true, nil
	case *policyv1.PodDisruptionBudget:
		l := live.(*policyv1.PodDisruptionBudget)
		if equality.Semantic.DeepEqual(d.Spec.MaxUnavailable, l.Spec.MaxUnavailable) &&
			equality.Semantic.DeepEqual(d.Spec.MinAvailable, l.Spec.MinAvailable) &&
			equality.Semantic.DeepEqual(d.Spec.Selector, l.Spec.Selector) {
			return false, nil
		}
		l.Spec.MaxUnavailable, l.Spec.MinAvailable, l.Spec.Selector = d.Spec.MaxUnavailable, d.Spec.MinAvailable, d.Spec.Selector
		return true, nil
	case *cmv1.Certificate:
		l := live.(*cmv1.Certificate)
		if derives(d.Spec, l.Spec) && len(d.Spec.DNSNames) == len(l.Spec.DNSNames) && len(d.Spec.Usages) == len(l.Spec.Usages) {
			return false, nil
		}
		l.Spec = d.Spec
		return true, nil
	default:
		return false, fmt.Errorf("apply does not know how to compare %T", desired)
	}
}

// PodTemplateDerives compares pod templates field by field as derives does, and also requires
// the same containers, env and volumes in number, so an entry added by hand is reverted too.
func PodTemplateDerives(desired, live corev1.PodTemplateSpec) bool {
	if !derives(desired, live) {
		return false
	}
	d, l := desired.Spec, live.Spec
	if len(d.Containers) != len(l.Containers) || len(d.InitContainers) != len(l.InitContainers) ||
		len(d.Volumes) != len(l.Volumes) || len(d.Tolerations) != len(l.Tolerations) {
		return false
	}
	for i := range d.Containers {
		if len(d.Containers[i].Env) != len(l.Containers[i].Env) ||
			len(d.Containers[i].EnvFrom) != len(l.Containers[i].EnvFrom) ||
			len(d.Containers[i].VolumeMounts) != len(l.Containers[i].VolumeMounts) ||
			len(d.Containers[i].Ports) != len(l.Containers[i].Ports) {
			return false
		}
	}
	return true
}
