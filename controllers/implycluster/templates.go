package implycluster

import (
	"context"
	"fmt"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/imply-operator/imply-operator/controllers/internal/apply"
	"github.com/imply-operator/imply-operator/controllers/internal/cache"
)

// templateMemo remembers, per workload, a live spec (by its digest, as the cache keeps it) whose
// pod template was found to derive from a wanted template (by its digest). The cache holds
// workloads without their pod spec; with the memo a converged cluster's reconcile knows its
// templates are applied without reading them, and reads a workload from the apiserver only
// when its spec or the wanted template changed since (and once after a restart).
type templateMemo struct {
	mu      sync.Mutex
	matches map[types.NamespacedName]templateMatch
}

// templateMatch is one workload's live spec found to derive from a wanted template.
type templateMatch struct {
	uid          types.UID
	liveSpec     string
	wantedDigest string
}

// derives says whether the workload key, with uid and the cached spec digest, is known to run a
// template that derives from the one of wantedDigest.
func (m *templateMemo) derives(key types.NamespacedName, uid types.UID, liveSpec, wantedDigest string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	got, ok := m.matches[key]
	return ok && got == templateMatch{uid: uid, liveSpec: liveSpec, wantedDigest: wantedDigest}
}

// record remembers that key's live spec derives from the wanted template.
func (m *templateMemo) record(key types.NamespacedName, match templateMatch) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.matches == nil {
		m.matches = map[types.NamespacedName]templateMatch{}
	}
	m.matches[key] = match
}

// forgetCluster drops what is remembered of the workloads of a deleted cluster (every workload
// of the namespace whose name starts with the cluster's; forgetting another's costs one read).
func (m *templateMemo) forgetCluster(namespace, cluster string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for key := range m.matches {
		if key.Namespace == namespace && strings.HasPrefix(key.Name, cluster+"-") {
			delete(m.matches, key)
		}
	}
}

// withTemplate returns live (a workload read through the cache, maybe without its pod spec)
// with its pod template as comparable with wanted's: the cached copy when it has its template;
// wanted's template when the memo knows live's spec derives from it; otherwise the workload read
// from the apiserver, remembered when its template derives from wanted's. The reconcile's
// snapshot then hands the result to every later read of the workload.
func (r *Reconciler) withTemplate(ctx context.Context, wanted, live client.Object) (client.Object, error) {
	liveSpec, stripped := cache.StrippedSpecDigest(live)
	if !stripped {
		return live, nil
	}
	key := client.ObjectKeyFromObject(live)
	wantedTemplate := podTemplate(wanted)
	wantedDigest := cache.TemplateDigest(&wantedTemplate)
	if r.templates.derives(key, live.GetUID(), liveSpec, wantedDigest) {
		setPodTemplate(live, wantedTemplate)
		cache.MarkTemplateRestored(live)
		return live, nil
	}
	full := emptyWorkload(live)
	if full == nil {
		return nil, fmt.Errorf("%T is not a workload", live)
	}
	if err := r.APIReader.Get(ctx, key, full); err != nil {
		return nil, fmt.Errorf("while reading %s with its pod template: %w", key.Name, err)
	}
	cache.MarkTemplateRestored(full)
	if apply.PodTemplateDerives(wantedTemplate, podTemplate(full)) {
		r.templates.record(key, templateMatch{uid: full.GetUID(), liveSpec: cache.SpecDigest(full), wantedDigest: wantedDigest})
	}
	return full, nil
}

// workloadClient is the client apply writes the cluster's objects with: it reads StatefulSets
// and Deployments from the reconcile's snapshot, where their templates were restored
// (withTemplate), and one still without its pod spec from the apiserver, so a patch is never
// computed against a template the cache dropped.
type workloadClient struct {
	client.Client
	uncached client.Reader
}

// Get reads workloads as the reconcile's snapshot has them, everything else through the client.
func (w workloadClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	switch obj.(type) {
	case *appsv1.StatefulSet, *appsv1.Deployment:
	default:
		return w.Client.Get(ctx, key, obj, opts...)
	}
	if err := workloads(ctx, w.Client).Get(ctx, key, obj, opts...); err != nil {
		return err
	}
	if _, stripped := cache.StrippedSpecDigest(obj); stripped {
		full := emptyWorkload(obj)
		if err := w.uncached.Get(ctx, key, full, opts...); err != nil {
			return err
		}
		switch o := obj.(type) {
		case *appsv1.StatefulSet:
			*o = *full.(*appsv1.StatefulSet)
		case *appsv1.Deployment:
			*o = *full.(*appsv1.Deployment)
		}
	}
	return nil
}

// emptyWorkload is a new, empty object of the workload's kind; nil for any other kind.
func emptyWorkload(obj client.Object) client.Object {
	switch obj.(type) {
	case *appsv1.StatefulSet:
		return &appsv1.StatefulSet{}
	case *appsv1.Deployment:
		return &appsv1.Deployment{}
	}
	return nil
}
