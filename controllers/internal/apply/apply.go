package apply

import (
	"context"
	"fmt"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/imply-operator/imply-operator/controllers/internal/cache"
)

// Result says what Apply did to one object.
type Result string

// What Apply did.
const (
	Unchanged Result = "unchanged"
	Created   Result = "created"
	Patched   Result = "patched"
)

// Apply creates desired when it does not exist, and otherwise patches the live object only where
// it differs from desired in the fields the operator owns. An object that already matches causes
// no write. desired becomes controlled by owner, unless it carries the retained-for annotation
// naming owner (specs.RetainedFor): then it gets no owner reference (one to owner is removed), so
// it outlives owner.
//
// An existing object that is not owner's (CheckOwner) is left as it is: Apply returns a
// *ConflictError naming it.
//
// c reads from the cache, which holds only labelled objects of most kinds (CacheOptions): when
// the create finds an object of that name the cache does not hold (one without the labels, or
// one the cache has not seen yet), it is read through uncached and judged like any other. Of a
// kind the cache holds with only a digest of its spec (NetworkPolicies), an object whose digest
// is not the desired spec's is read through uncached too (withDigestedSpec).
//
// A desired object with a resourceVersion was derived from that version of the live object (its
// values computed from the live ones): it is applied only over that version (atBase). One derived
// from the absence of the live object (DerivedFrom) is only created: an object of its name that
// exists by now, whoever's it is, ends the Apply with a Conflict, and the reconcile starts over
// from it.
func Apply(ctx context.Context, c client.Client, uncached client.Reader, scheme *runtime.Scheme, owner, desired client.Object) (Result, error) {
	base := desired.GetResourceVersion()
	desired.SetResourceVersion("")
	retained := retainedFor(scheme, owner, desired)
	if !retained {
		if err := controllerutil.SetControllerReference(owner, desired, scheme); err != nil {
			return "", err
		}
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
	if base == absentBase {
		return "", existsAfterAll(ctx, c, scheme, owner, desired, live)
	}
	live, err := withDigestedSpec(ctx, uncached, desired, live)
	if err != nil {
		return "", err
	}
	if live, err = atBase(ctx, uncached, scheme, base, live); err != nil {
		return "", err
	}
	if err := CheckOwner(scheme, owner, live); err != nil {
		return "", err
	}
	patched, ok := live.DeepCopyObject().(client.Object)
	if !ok {
		return "", fmt.Errorf("%T is not a client.Object", live)
	}
	metaChanged := mergeOwnedMetadata(owner, desired, patched, retained)
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

// withDigestedSpec returns live with its spec when the cache holds only a digest of it: desired's
// spec when the digests are equal (nothing to compare then), otherwise the apiserver's copy of the
// object, which the patch is then computed against.
func withDigestedSpec(ctx context.Context, uncached client.Reader, desired, live client.Object) (client.Object, error) {
	if !cache.SpecDigested(live) {
		return live, nil
	}
	restored, err := cache.RestoreDigestedSpec(desired, live)
	if err != nil || restored {
		return live, err
	}
	return readUncached(ctx, uncached, live)
}

// readUncached reads obj's object from the apiserver into a new object of its type.
func readUncached(ctx context.Context, uncached client.Reader, obj client.Object) (client.Object, error) {
	fresh, ok := reflect.New(reflect.TypeOf(obj).Elem()).Interface().(client.Object)
	if !ok {
		return nil, fmt.Errorf("%T is not a client.Object", obj)
	}
	if err := uncached.Get(ctx, client.ObjectKeyFromObject(obj), fresh); err != nil {
		return nil, err
	}
	return fresh, nil
}

// atBase returns the version of live that desired was derived from, base (its resourceVersion;
// empty when desired was not derived from the live object). The cache may hold an older version
// (the reconcile wrote a newer one itself) or a newer one (someone wrote since the reconcile read
// it): the apiserver's copy is read, and when it is not at base either, Apply stops with a
// Conflict, so the reconcile starts over from what is there now rather than patch values derived
// from an older version over a newer one.
func atBase(ctx context.Context, uncached client.Reader, scheme *runtime.Scheme, base string, live client.Object) (client.Object, error) {
	if base == "" || live.GetResourceVersion() == base {
		return live, nil
	}
	fresh, err := readUncached(ctx, uncached, live)
	if err != nil {
		return nil, err
	}
	if fresh.GetResourceVersion() == base {
		return fresh, nil
	}
	gvk, err := apiutil.GVKForObject(live, scheme)
	if err != nil {
		return nil, err
	}
	return nil, apierrors.NewConflict(schema.GroupResource{Group: gvk.Group, Resource: gvk.Kind}, live.GetName(),
		fmt.Errorf("it changed since this reconcile read it (resourceVersion %s, now %s)", base, fresh.GetResourceVersion()))
}

// absentBase is the base of a desired object derived from the absence of the live one. It is
// never sent: Apply clears every desired object's resourceVersion before it writes.
const absentBase = "absent"

// existsAfterAll is Apply's Conflict for desired, made because the reconcile found no object of
// its name, and live, the object there is now: the reconcile starts over and judges live as it
// is, never writing over it values made for its absence. A live object of owner's without
// desired's labels gets them back first (its values untouched), so that the cache of the
// operator's objects, which the reconcile reads, holds it from then on.
func existsAfterAll(ctx context.Context, c client.Client, scheme *runtime.Scheme, owner, desired, live client.Object) error {
	gvk, err := apiutil.GVKForObject(live, scheme)
	if err != nil {
		return err
	}
	if CheckOwner(scheme, owner, live) == nil {
		relabelled, ok := live.DeepCopyObject().(client.Object)
		if !ok {
			return fmt.Errorf("%T is not a client.Object", live)
		}
		if mergeOwnedLabels(desired, relabelled) {
			if err := c.Patch(ctx, relabelled, client.MergeFromWithOptions(live, client.MergeFromWithOptimisticLock{})); err != nil {
				return err
			}
		}
	}
	return apierrors.NewConflict(schema.GroupResource{Group: gvk.Group, Resource: gvk.Kind}, live.GetName(),
		fmt.Errorf("it was created (resourceVersion %s) since this reconcile found none", live.GetResourceVersion()))
}

// DerivedFrom records in desired that its values were computed from live, the live object as
// the reconcile read it (an empty one when there was none): Apply writes desired only over that
// version of it, and only creates desired when live did not exist.
func DerivedFrom(desired, live client.Object) {
	base := live.GetResourceVersion()
	if base == "" {
		base = absentBase
	}
	desired.SetResourceVersion(base)
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
