package apply

import (
	"context"
	"reflect"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// PatchMetadata patches what mutate changes in obj's metadata (finalizers, annotations). The
// status being computed in obj is kept, and before's metadata moves along with obj's, so the
// status patch written later carries no metadata change. obj and before are pointers to API
// structs with ObjectMeta and Status fields, as every kind of this API is.
func PatchMetadata(ctx context.Context, c client.Client, before, obj client.Object, mutate func()) error {
	kept := field(obj.DeepCopyObject(), "Status")
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	mutate()
	err := c.Patch(ctx, obj, patch)
	field(obj, "Status").Set(kept)
	if err != nil {
		return err
	}
	field(before, "ObjectMeta").Set(field(obj.DeepCopyObject(), "ObjectMeta"))
	return nil
}

// field is the named field of the struct obj points to.
func field(obj any, name string) reflect.Value {
	return reflect.ValueOf(obj).Elem().FieldByName(name)
}
