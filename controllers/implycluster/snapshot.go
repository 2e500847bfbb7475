package implycluster

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// workloadSnapshot reads each StatefulSet and Deployment once per reconcile: the CA rotation's
// "rolled out?" and the rollout plan then judge the same state. Reading the cache twice, an
// informer update landing in between (a pod becoming ready) could let the plan see a finished
// rollout that the rotation, read earlier, had not, and the rotation's next phase would start one
// reconcile late. Other kinds pass through.
type workloadSnapshot struct {
	client.Reader
	seen map[snapshotKey]snapshotEntry
}

type snapshotKey struct {
	kind string
	key  client.ObjectKey
}

type snapshotEntry struct {
	obj client.Object
	err error
}

// newWorkloadSnapshot is an empty snapshot reading through r.
func newWorkloadSnapshot(r client.Reader) *workloadSnapshot {
	return &workloadSnapshot{Reader: r, seen: map[snapshotKey]snapshotEntry{}}
}

// Get returns the workload as first read in this reconcile.
func (s *workloadSnapshot) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	kind, ok := snapshotKind(obj)
	if !ok {
		return s.Reader.Get(ctx, key, obj, opts...)
	}
	k := snapshotKey{kind: kind, key: key}
	e, ok := s.seen[k]
	if !ok {
		err := s.Reader.Get(ctx, key, obj, opts...)
		e = snapshotEntry{err: err}
		if err == nil {
			e.obj = obj.DeepCopyObject().(client.Object)
		}
		s.seen[k] = e
		return err
	}
	if e.err != nil {
		return e.err
	}
	switch o := obj.(type) {
	case *appsv1.StatefulSet:
		e.obj.(*appsv1.StatefulSet).DeepCopyInto(o)
	case *appsv1.Deployment:
		e.obj.(*appsv1.Deployment).DeepCopyInto(o)
	}
	return nil
}

// snapshotKind is the kind of a workload the snapshot holds; false for any other object.
func snapshotKind(obj client.Object) (string, bool) {
	switch obj.(type) {
	case *appsv1.StatefulSet:
		return "StatefulSet", true
	case *appsv1.Deployment:
		return "Deployment", true
	}
	return "", false
}

// replaceInSnapshot makes obj, a workload whose pod spec was restored (it is otherwise as the
// reconcile's snapshot first read it), what later reads of it in the reconcile return; nothing
// without a snapshot.
func replaceInSnapshot(ctx context.Context, obj client.Object) {
	s, ok := ctx.Value(snapshotKeyType{}).(*workloadSnapshot)
	kind, workload := snapshotKind(obj)
	if !ok || !workload {
		return
	}
	s.seen[snapshotKey{kind: kind, key: client.ObjectKeyFromObject(obj)}] = snapshotEntry{obj: obj.DeepCopyObject().(client.Object)}
}

// snapshotKeyType is the context key of the reconcile's snapshot.
type snapshotKeyType struct{}

// withSnapshot makes the reconcile's reads of workloads through workloads(ctx) consistent.
func withSnapshot(ctx context.Context, r client.Reader) context.Context {
	return context.WithValue(ctx, snapshotKeyType{}, newWorkloadSnapshot(r))
}

// workloads is the reconcile's workload snapshot, or fallback outside a reconcile.
func workloads(ctx context.Context, fallback client.Reader) client.Reader {
	if s, ok := ctx.Value(snapshotKeyType{}).(*workloadSnapshot); ok {
		return s
	}
	return fallback
}
