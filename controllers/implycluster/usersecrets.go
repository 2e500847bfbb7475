package implycluster

import (
	"context"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// userSecretSnapshot reads each Secret a cluster's spec references once per reconcile, uncached
// (the cache keeps no values of the user's Secrets): every phase then judges the same version
// of it, and a reconcile costs one request a Secret rather than one a phase. The operator never
// writes a Secret its spec references (applyWorkloads refuses to), so no copy goes stale by the
// reconcile's own doing. Any other object passes through to the uncached reader.
type userSecretSnapshot struct {
	uncached  client.Reader
	namespace string
	// names are the Secrets the spec references, each with the field naming it (userSecretFields).
	names map[string]string
	mu    sync.Mutex
	seen  map[string]userSecretEntry
}

type userSecretEntry struct {
	secret *corev1.Secret
	err    error
}

// newUserSecretSnapshot is an empty snapshot of the Secrets c's spec references.
func newUserSecretSnapshot(uncached client.Reader, c *implyv1alpha1.ImplyCluster) *userSecretSnapshot {
	return &userSecretSnapshot{uncached: uncached, namespace: c.Namespace, names: userSecretFields(c), seen: map[string]userSecretEntry{}}
}

// Get returns a referenced Secret as first read in this reconcile (a missing one stays missing).
func (s *userSecretSnapshot) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	secret, ok := obj.(*corev1.Secret)
	if _, referenced := s.names[key.Name]; !ok || key.Namespace != s.namespace || !referenced {
		return s.uncached.Get(ctx, key, obj, opts...)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.seen[key.Name]
	if !ok {
		err := s.uncached.Get(ctx, key, secret, opts...)
		e = userSecretEntry{err: err}
		if err == nil {
			e.secret = secret.DeepCopy()
		}
		s.seen[key.Name] = e
		return err
	}
	if e.err != nil {
		return e.err
	}
	e.secret.DeepCopyInto(secret)
	return nil
}

// List passes through: the reconcile lists no user Secrets.
func (s *userSecretSnapshot) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	return s.uncached.List(ctx, list, opts...)
}

// userSecretsKeyType is the context key of the reconcile's user-Secret snapshot.
type userSecretsKeyType struct{}

// withUserSecrets makes the reconcile's reads of c's referenced Secrets through userSecrets(ctx)
// one read each.
func withUserSecrets(ctx context.Context, uncached client.Reader, c *implyv1alpha1.ImplyCluster) context.Context {
	return context.WithValue(ctx, userSecretsKeyType{}, newUserSecretSnapshot(uncached, c))
}

// userSecrets is the reconcile's user-Secret snapshot, or uncached outside a reconcile.
func userSecrets(ctx context.Context, uncached client.Reader) client.Reader {
	if s, ok := ctx.Value(userSecretsKeyType{}).(*userSecretSnapshot); ok {
		return s
	}
	return uncached
}
