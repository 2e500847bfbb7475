package cache

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	ctrl "sigs.k8s.io/controller-runtime"
	crcache "sigs.k8s.io/controller-runtime/pkg/cache"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// ForeignSecrets is the cache of the Secrets the operator does not manage (no managed-by label):
// their metadata only, trimmed to what maps a change to the objects that reference the Secret
// (namespace, name, owner references and the retained-for annotation). Their values, labels and
// other annotations are never listed or kept: on a shared cluster they are thousands of Helm
// release Secrets of up to 1 MiB each. A referenced Secret's values are read from the apiserver
// when a reconciler needs them.
//
// It is its own cache because cache options are per kind: the manager's cache holds the
// operator's own Secrets, with their values, and nothing else (Options).
type ForeignSecrets struct{ crcache.Cache }

// GetCache makes the manager start ForeignSecrets with its own cache, before any controller,
// and wait until it has synced.
func (f *ForeignSecrets) GetCache() crcache.Cache { return f.Cache }

// NewForeignSecrets builds the cache of foreign Secrets in namespaces (nil: all) and adds it to
// mgr, which starts it.
func NewForeignSecrets(mgr ctrl.Manager, namespaces map[string]crcache.Config) (*ForeignSecrets, error) {
	c, err := crcache.New(mgr.GetConfig(), crcache.Options{
		HTTPClient:                  mgr.GetHTTPClient(),
		Scheme:                      mgr.GetScheme(),
		Mapper:                      mgr.GetRESTMapper(),
		DefaultNamespaces:           namespaces,
		DefaultLabelSelector:        notManagedBySelector,
		DefaultTransform:            trimForeignMetadata,
		ReaderFailOnMissingInformer: true,
	})
	if err != nil {
		return nil, fmt.Errorf("while creating the cache of foreign Secrets: %w", err)
	}
	f := &ForeignSecrets{Cache: c}
	if err := mgr.Add(f); err != nil {
		return nil, err
	}
	return f, nil
}

// SecretMetadata is the object to watch foreign Secrets with.
func SecretMetadata() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	return m
}

// notManagedBySelector selects the objects without the operator's managed-by label (or with
// another value): the complement of managedBySelector.
var notManagedBySelector = func() labels.Selector {
	req, err := labels.NewRequirement(specs.LabelManagedBy, selection.NotEquals, []string{specs.ManagedBy})
	if err != nil {
		panic(err)
	}
	return labels.NewSelector().Add(*req)
}()

// trimForeignMetadata keeps of a foreign Secret's metadata only what maps it to its referents:
// namespace, name, uid, resourceVersion, owner references and the retained-for annotation.
// Idempotent, like every transform.
func trimForeignMetadata(obj any) (any, error) {
	m, ok := obj.(*metav1.PartialObjectMetadata)
	if !ok {
		return obj, nil
	}
	kept := metav1.ObjectMeta{
		Name:              m.Name,
		Namespace:         m.Namespace,
		UID:               m.UID,
		ResourceVersion:   m.ResourceVersion,
		OwnerReferences:   m.OwnerReferences,
		DeletionTimestamp: m.DeletionTimestamp,
	}
	if v, ok := m.Annotations[implyv1alpha1.AnnotationRetainedFor]; ok {
		kept.Annotations = map[string]string{implyv1alpha1.AnnotationRetainedFor: v}
	}
	m.ObjectMeta = kept
	return m, nil
}
