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

// WithOwnStatusWrites returns c reading, for every object whose status it wrote, a version at
// least as new as the one its own write returned: the cache's copy once the cache has that
// version, the apiserver's (read through uncached) until then. The cache sees a write only when
// the watch event arrives, and the reconcilers do not wake on status-only changes of their
// objects: a reconcile that ran in between judged the status against the version before the
// write. When what it computed equalled that older version it wrote nothing, and nothing woke it
// again (an ImplyCluster stayed Ready=False after its last group was ready, once the restarted
// leader's next reconcile raced its own status write); when it did write, the merge patch left
// out fields the stale copy already had. With the newer version both are decided against what
// the apiserver holds.
//
// Only the uid and resourceVersion of each write are remembered, not the object: objects are
// often not read again for hours after their last status write, and a copy of each held until
// then was a second copy of every ImplyCluster at 1,000 clusters (docs/performance.md, step 22).
// A remembered version is dropped once the cache has it or a newer one (resourceVersions of one
// resource compare as integers: k8s.io/apimachinery's resourceversion package), or another
// object of the name.
func WithOwnStatusWrites(c client.Client, uncached client.Reader) client.Client {
	return ownStatusClient{Client: c, uncached: uncached, written: &writtenVersions{versions: map[writtenKey]writtenVersion{}}}
}

// ownStatusClient is the client WithOwnStatusWrites returns.
type ownStatusClient struct {
	client.Client
	uncached client.Reader
	written  *writtenVersions
}

// Get reads obj from the cache, or from the apiserver when the cache has not yet seen this
// client's last status write of it. An object that is gone is forgotten.
func (c ownStatusClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	err := c.Client.Get(ctx, key, obj, opts...)
	if err == nil && c.written.behind(obj) {
		err = c.uncached.Get(ctx, key, obj, opts...)
	}
	if apierrors.IsNotFound(err) {
		c.written.forget(writtenKey{kind: reflect.TypeOf(obj), name: key})
	}
	return err
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

// writtenVersion is the uid and resourceVersion a status write returned.
type writtenVersion struct {
	uid             types.UID
	resourceVersion string
}

// writtenVersions holds the version of each object a status write returned, until the cache
// has caught up with it.
type writtenVersions struct {
	mu       sync.Mutex
	versions map[writtenKey]writtenVersion
}

func keyOf(obj client.Object) writtenKey {
	return writtenKey{kind: reflect.TypeOf(obj), name: client.ObjectKeyFromObject(obj)}
}

// record remembers the uid and resourceVersion of obj, as a write returned it.
func (w *writtenVersions) record(obj client.Object) {
	if obj.GetResourceVersion() == "" {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.versions[keyOf(obj)] = writtenVersion{uid: obj.GetUID(), resourceVersion: obj.GetResourceVersion()}
}

// forget drops what is remembered of key.
func (w *writtenVersions) forget(key writtenKey) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.versions, key)
}

// behind says whether cached, a copy just read from the cache, is older than the version this
// client's last status write of it returned; when it is not, the remembered version is dropped.
func (w *writtenVersions) behind(cached client.Object) bool {
	key := keyOf(cached)
	w.mu.Lock()
	defer w.mu.Unlock()
	written, ok := w.versions[key]
	if !ok {
		return false
	}
	cmp, err := resourceversion.CompareResourceVersion(written.resourceVersion, cached.GetResourceVersion())
	if err != nil || cmp <= 0 || written.uid != cached.GetUID() {
		delete(w.versions, key)
		return false
	}
	return true
}
