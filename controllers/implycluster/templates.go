package implycluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/imply-operator/imply-operator/controllers/internal/apply"
	"github.com/imply-operator/imply-operator/controllers/internal/cache"
)

// templateMemo remembers, per workload, a generation whose pod template was found to derive
// from a wanted template (by its digest). The cache holds workloads without their pod spec; with
// the memo a converged cluster's reconcile knows its templates are applied without reading
// them, and reads a workload from the apiserver only when its spec or the wanted template
// changed since (and once after a restart).
type templateMemo struct {
	mu    sync.Mutex
	known map[types.NamespacedName]templateMatch
}

// templateMatch is one workload generation found to run a template derived from a wanted one.
type templateMatch struct {
	uid        types.UID
	generation int64
	wanted     string
}

// derives says whether the workload, at its uid and generation, is known to run a template
// derived from the one of digest wanted.
func (m *templateMemo) derives(key types.NamespacedName, match templateMatch) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	got, ok := m.known[key]
	return ok && got == match
}

// record remembers that the workload key runs a template derived from the wanted one.
func (m *templateMemo) record(key types.NamespacedName, match templateMatch) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.known == nil {
		m.known = map[types.NamespacedName]templateMatch{}
	}
	m.known[key] = match
}

// forgetCluster drops what is remembered of a deleted cluster's workloads (every workload of
// the namespace whose name starts with the cluster's; forgetting another's costs one read).
func (m *templateMemo) forgetCluster(namespace, cluster string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for key := range m.known {
		if key.Namespace == namespace && strings.HasPrefix(key.Name, cluster+"-") {
			delete(m.known, key)
		}
	}
}

// errCacheBehind says the cache holds an older generation of a workload than the apiserver: its
// update is on the way and wakes the cluster again; nothing is applied until then.
var errCacheBehind = errors.New("the cache is behind the apiserver")

// cacheBehindRetry is when a reconcile stopped by errCacheBehind looks again, should the
// workload's update not wake it first.
const cacheBehindRetry = 250 * time.Millisecond

// withPodSpec gives live, a workload read through the reconcile's snapshot, its pod spec when
// the cache dropped it: wanted's when the memo knows live's generation runs a template derived
// from wanted's; otherwise the one the apiserver has, taken only when the apiserver's copy is of
// the cached generation (else errCacheBehind), so the snapshot stays one consistent state. The
// snapshot hands the restored workload to every later read in the reconcile.
func (r *Reconciler) withPodSpec(ctx context.Context, wanted, live client.Object) error {
	if !cache.PodSpecDropped(live) {
		return nil
	}
	key := client.ObjectKeyFromObject(live)
	wantedTemplate := podTemplate(wanted)
	match := templateMatch{uid: live.GetUID(), generation: live.GetGeneration(), wanted: templateDigest(&wantedTemplate)}
	if r.templates.derives(key, match) {
		cache.RestorePodSpec(live, &wantedTemplate.Spec)
	} else {
		if err := restoreFromAPIServer(ctx, r.APIReader, live); err != nil {
			return err
		}
		if apply.PodTemplateDerives(wantedTemplate, podTemplate(live)) {
			r.templates.record(key, match)
		}
	}
	replaceInSnapshot(ctx, live)
	return nil
}

// sentTemplate is a copy of obj's pod template as about to be applied; nil for an object
// that is not a workload.
func sentTemplate(obj client.Object) *corev1.PodTemplateSpec {
	if _, workload := snapshotKind(obj); !workload {
		return nil
	}
	t := podTemplate(obj)
	return t.DeepCopy()
}

// rememberCreated records that created, a workload this reconcile created from the pod template
// sent (created holds the apiserver's answer), runs a template derived from it: the next
// reconcile (the workload's status changed, say) then reads no workload back.
func (r *Reconciler) rememberCreated(sent corev1.PodTemplateSpec, created client.Object) {
	if created.GetUID() == "" || !apply.PodTemplateDerives(sent, podTemplate(created)) {
		return
	}
	r.templates.record(client.ObjectKeyFromObject(created), templateMatch{
		uid: created.GetUID(), generation: created.GetGeneration(), wanted: templateDigest(&sent)})
}

// restoreFromAPIServer gives live, a cached workload without its pod spec, the pod spec the
// apiserver has for live's generation; errCacheBehind when the apiserver has another.
func restoreFromAPIServer(ctx context.Context, uncached client.Reader, live client.Object) error {
	full := emptyWorkload(live)
	if full == nil {
		return fmt.Errorf("%T is not a workload", live)
	}
	if err := uncached.Get(ctx, client.ObjectKeyFromObject(live), full); err != nil {
		return fmt.Errorf("while reading %s with its pod spec: %w", live.GetName(), err)
	}
	if full.GetUID() != live.GetUID() || full.GetGeneration() != live.GetGeneration() {
		return fmt.Errorf("%w: %s is at generation %d in the cache, %d in the apiserver", errCacheBehind,
			live.GetName(), live.GetGeneration(), full.GetGeneration())
	}
	spec := podTemplate(full).Spec
	cache.RestorePodSpec(live, &spec)
	return nil
}

// templateDigest is the SHA-256 of a pod template as JSON (encoding/json sorts map keys).
func templateDigest(t *corev1.PodTemplateSpec) string {
	data, err := json.Marshal(t)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// workloadClient is the client apply writes the cluster's objects with: it reads StatefulSets
// and Deployments from the reconcile's snapshot, where rolloutSteps restored their pod specs,
// and restores one still without its pod spec from the apiserver, so a patch is never computed
// against a pod spec the cache dropped.
type workloadClient struct {
	client.Client
	uncached client.Reader
}

// Get reads workloads as the reconcile's snapshot has them, everything else through the client.
func (w workloadClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if _, workload := snapshotKind(obj); !workload {
		return w.Client.Get(ctx, key, obj, opts...)
	}
	if err := workloads(ctx, w.Client).Get(ctx, key, obj, opts...); err != nil {
		return err
	}
	if !cache.PodSpecDropped(obj) {
		return nil
	}
	if err := restoreFromAPIServer(ctx, w.uncached, obj); err != nil {
		return err
	}
	replaceInSnapshot(ctx, obj)
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
