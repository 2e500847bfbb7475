package apply

import (
	"context"
	"reflect"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/resourceversion"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// WithOwnStatusWrites returns c reading, for every object whose status it wrote, the newer of
// the cache's copy and the version its own write returned. The cache sees a write only when the
// watch event arrives, and the reconcilers do not wake on status-only changes of their objects:
// a reconcile that ran in between judged the status against the version before the write. When
// what it computed equalled that older version it wrote nothing, and nothing woke it again (an
// ImplyCluster stayed Ready=False after its last group was ready, once the restarted leader's
// next reconcile raced its own status write); when it did write, the merge patch left out
// fields the stale copy already had. With the newer version both are decided against what the
// apiserver holds.
//
// A remembered version is dropped once the cache has it or a newer one (resourceVersions of one
// resource compare as integers: k8s.io/apimachinery's resourceversion package).
func WithOwnStatusWrites(c client.Client) client.Client {
	return ownStatusClient{Client: c, written: &writtenVersions{objects: map[writtenKey]client.Object{}}}
}

// ownStatusClient is the client WithOwnStatusWrites returns.
type ownStatusClient struct {
	client.Client
	written *writtenVersions
}

// Get reads obj and replaces it with the version of this client's last status write when that
// is newer. An object that is gone is forgotten.
func (c ownStatusClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if err := c.Client.Get(ctx, key, obj, opts...); err != nil {
		if apierrors.IsNotFound(err) {
			c.written.forget(writtenKey{kind: reflect.TypeOf(obj), name: key})
		}
		return err
	}
	c.written.newest(obj)
	return nil
}

// Status writes status and remembers the version each write returned.
func (c ownStatusClient) Status() client.SubResourceWriter {
	return ownStatusWriter{SubResourceWriter: c.Client.Status(), written: c.written}
}

// ownStatusWriter is the status writer of ownStatusClient.
type ownStatusWriter struct {
	client.SubResourceWriter
	written *writtenVersions
}

// Update writes obj's status and remembers the version the apiserver returned.
func (w ownStatusWriter) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	if err := w.SubResourceWriter.Update(ctx, obj, opts...); err != nil {
		return err
	}
	w.written.record(obj)
	return nil
}

// Patch writes obj's status and remembers the version the apiserver returned.
func (w ownStatusWriter) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	if err := w.SubResourceWriter.Patch(ctx, obj, patch, opts...); err != nil {
		return err
	}
	w.written.record(obj)
	return nil
}

// writtenKey names an object of one Go type.
type writtenKey struct {
	kind reflect.Type
	name types.NamespacedName
}

// writtenVersions holds the version of each object a status write returned, until the cache
// has caught up with it.
type writtenVersions struct {
	mu      sync.Mutex
	objects map[writtenKey]client.Object
}

func keyOf(obj client.Object) writtenKey {
	return writtenKey{kind: reflect.TypeOf(obj), name: client.ObjectKeyFromObject(obj)}
}

// record remembers a copy of obj, as a write returned it.
func (w *writtenVersions) record(obj client.Object) {
	if obj.GetResourceVersion() == "" {
		return
	}
	copied, ok := obj.DeepCopyObject().(client.Object)
	if !ok {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.objects[keyOf(obj)] = copied
}

// forget drops what is remembered of key.
func (w *writtenVersions) forget(key writtenKey) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.objects, key)
}

// newest replaces obj, just read, with the remembered version when that is newer, and forgets
// the remembered one otherwise.
func (w *writtenVersions) newest(obj client.Object) {
	key := keyOf(obj)
	w.mu.Lock()
	defer w.mu.Unlock()
	written, ok := w.objects[key]
	if !ok {
		return
	}
	cmp, err := resourceversion.CompareResourceVersion(written.GetResourceVersion(), obj.GetResourceVersion())
	if err != nil || cmp <= 0 || written.GetUID() != obj.GetUID() {
		delete(w.objects, key)
		return
	}
	reflect.ValueOf(obj).Elem().Set(reflect.ValueOf(written.DeepCopyObject()).Elem())
}
