package chaos

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/imply-operator/imply-operator/pkg/specs"
)

// SecretVersion is one version of a Secret as the apiserver served it.
type SecretVersion struct {
	RV          int64
	At          time.Time
	Stage       string
	Data        map[string][]byte
	Annotations map[string]string
	Labels      map[string]string
	Deleted     bool
}

// PodRecord is what the recorder knows of one pod. kwok pods run no container, so what a pod
// "runs" is derived: the Secrets it references (volumes, env), each at the version that was
// current when the pod was created — what a kubelet mounts when it starts the pod, and what the
// JVM reads once at start (Secret volumes refreshed later do not reload a running keystore).
type PodRecord struct {
	UID     types.UID
	Name    string
	Group   string
	Key     string // the pod name, or "manager" for the manager Deployment's pods
	Created time.Time
	// CreatedRV is the pod's resourceVersion at creation (its ADDED event); etcd revisions are
	// one sequence, so the Secret versions it mounts are the last ones at or before it. Exact is
	// false when the pod was first seen in a re-list after a watch gap (its first seen RV then).
	CreatedRV int64
	Exact     bool
	Revision  string
	Secrets   []string
	Stage     string
	New       bool // created after the recorder started

	running, ready, terminating bool
}

// Recorder watches the Secrets and pods of one namespace and keeps their history; watches are
// resumed from the last resourceVersion after an apiserver restart, and re-listed when too old.
type Recorder struct {
	ns       string
	cs       kubernetes.Interface
	journal  *Journal
	replicas map[string]int
	started  time.Time

	mu      sync.Mutex
	secrets map[string][]*SecretVersion
	pods    map[types.UID]*PodRecord
	// rolls: stage -> pod key -> revisions created in that stage -> when the first pod of that
	// revision was created and how the recorder learnt of it.
	rolls map[string]map[string]map[string]rollDetail
	// sequence: stage -> groups in the order they were disrupted (repeats folded).
	sequence  map[string][]string
	disrupted string
	// OnSecret is told of every new version (prev nil for the first), outside the lock.
	OnSecret func(name string, prev, cur *SecretVersion)
}

// NewRecorder records namespace ns; replicas are the pods each group (and "manager") runs.
func NewRecorder(cs kubernetes.Interface, ns string, replicas map[string]int, journal *Journal) *Recorder {
	return &Recorder{ns: ns, cs: cs, journal: journal, replicas: replicas, started: time.Now(),
		secrets: map[string][]*SecretVersion{}, pods: map[types.UID]*PodRecord{},
		rolls: map[string]map[string]map[string]rollDetail{}, sequence: map[string][]string{}}
}

// Start watches until ctx ends. It returns once the first lists are in.
func (r *Recorder) Start(ctx context.Context) error {
	rvSecrets, err := r.listSecrets(ctx)
	if err != nil {
		return err
	}
	rvPods, err := r.listPods(ctx, false)
	if err != nil {
		return err
	}
	go r.loop(ctx, rvSecrets, r.listSecrets, func(ctx context.Context, rv string) (watch.Interface, error) {
		return r.cs.CoreV1().Secrets(r.ns).Watch(ctx, metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true})
	}, r.secretEvent)
	go r.loop(ctx, rvPods, func(ctx context.Context) (string, error) { return r.listPods(ctx, true) },
		func(ctx context.Context, rv string) (watch.Interface, error) {
			return r.cs.CoreV1().Pods(r.ns).Watch(ctx, metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true})
		}, r.podEvent)
	return nil
}

// loop watches from rv, resuming after errors (apiserver down) and re-listing when rv is gone.
func (r *Recorder) loop(ctx context.Context, rv string, relist func(context.Context) (string, error),
	open func(context.Context, string) (watch.Interface, error), handle func(watch.EventType, any) string) {
	for ctx.Err() == nil {
		w, err := open(ctx, rv)
		if err != nil {
			if apierrors.IsGone(err) || apierrors.IsResourceExpired(err) {
				if nrv, err := relist(ctx); err == nil {
					rv = nrv
				}
			}
			sleep(ctx, 200*time.Millisecond)
			continue
		}
		for ev := range w.ResultChan() {
			if ev.Type == watch.Error {
				if status, ok := ev.Object.(*metav1.Status); ok && status.Code == 410 {
					if nrv, err := relist(ctx); err == nil {
						rv = nrv
					}
				}
				break
			}
			if nrv := handle(ev.Type, ev.Object); nrv != "" {
				rv = nrv
			}
		}
		w.Stop()
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func parseRV(rv string) int64 {
	n, _ := strconv.ParseInt(rv, 10, 64)
	return n
}

func (r *Recorder) listSecrets(ctx context.Context) (string, error) {
	list, err := r.cs.CoreV1().Secrets(r.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", err
	}
	for i := range list.Items {
		r.secretEvent(watch.Modified, &list.Items[i])
	}
	return list.ResourceVersion, nil
}

func (r *Recorder) secretEvent(t watch.EventType, obj any) string {
	s, ok := obj.(*corev1.Secret)
	if !ok {
		return ""
	}
	if t == watch.Bookmark {
		return s.ResourceVersion
	}
	v := &SecretVersion{RV: parseRV(s.ResourceVersion), At: time.Now(), Stage: r.journal.Stage(), Data: s.Data,
		Annotations: s.Annotations, Labels: s.Labels, Deleted: t == watch.Deleted}
	r.mu.Lock()
	history := r.secrets[s.Name]
	var prev *SecretVersion
	if len(history) > 0 {
		prev = history[len(history)-1]
		if prev.RV >= v.RV && !v.Deleted {
			r.mu.Unlock()
			return s.ResourceVersion
		}
	}
	r.secrets[s.Name] = append(history, v)
	hook := r.OnSecret
	r.mu.Unlock()
	if hook != nil {
		hook(s.Name, prev, v)
	}
	return s.ResourceVersion
}

func (r *Recorder) listPods(ctx context.Context, relist bool) (string, error) {
	list, err := r.cs.CoreV1().Pods(r.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", err
	}
	seen := map[types.UID]bool{}
	for i := range list.Items {
		seen[list.Items[i].UID] = true
		r.observePod(watch.Modified, &list.Items[i], relist, false)
	}
	r.mu.Lock()
	for uid := range r.pods {
		if !seen[uid] {
			delete(r.pods, uid)
		}
	}
	r.mu.Unlock()
	return list.ResourceVersion, nil
}

func (r *Recorder) podEvent(t watch.EventType, obj any) string {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return ""
	}
	if t != watch.Bookmark {
		r.observePod(t, pod, true, t == watch.Added)
	}
	return pod.ResourceVersion
}

// mountedSecrets are the Secrets a pod references through volumes and its containers' env.
func mountedSecrets(pod *corev1.Pod) []string {
	set := map[string]bool{}
	for _, v := range pod.Spec.Volumes {
		if v.Secret != nil {
			set[v.Secret.SecretName] = true
		}
		if v.Projected != nil {
			for _, s := range v.Projected.Sources {
				if s.Secret != nil {
					set[s.Secret.Name] = true
				}
			}
		}
	}
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				set[e.ValueFrom.SecretKeyRef.Name] = true
			}
		}
		for _, e := range c.EnvFrom {
			if e.SecretRef != nil {
				set[e.SecretRef.Name] = true
			}
		}
	}
	var out []string
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// observePod records one pod change and, after live changes, judges which groups are
// disrupted: a group is disrupted while one of its pods is not ready or terminating, or it has
// fewer or more pods than replicas. Two at once is a violation; the order is kept per stage.
func (r *Recorder) observePod(t watch.EventType, pod *corev1.Pod, live, added bool) {
	group := pod.Labels[specs.LabelNodeGroup]
	if _, ok := r.replicas[group]; !ok {
		return
	}
	stage := r.journal.Stage()
	r.mu.Lock()
	defer r.mu.Unlock()
	rec, known := r.pods[pod.UID]
	if t == watch.Deleted {
		delete(r.pods, pod.UID)
	} else {
		if !known {
			key := pod.Name
			if group == specs.ComponentManager {
				key = specs.ComponentManager
			}
			rec = &PodRecord{UID: pod.UID, Name: pod.Name, Group: group, Key: key, Created: pod.CreationTimestamp.Time,
				CreatedRV: parseRV(pod.ResourceVersion), Exact: added, Secrets: mountedSecrets(pod), Stage: stage,
				Revision: pod.Labels["controller-revision-hash"] + pod.Labels["pod-template-hash"],
				New:      added || pod.CreationTimestamp.After(r.started)}
			r.pods[pod.UID] = rec
			if rec.New {
				if r.rolls[stage] == nil {
					r.rolls[stage] = map[string]map[string]rollDetail{}
				}
				if r.rolls[stage][key] == nil {
					r.rolls[stage][key] = map[string]rollDetail{}
				}
				if _, seen := r.rolls[stage][key][rec.Revision]; !seen {
					how := "listed"
					if added {
						how = "added"
					}
					r.rolls[stage][key][rec.Revision] = rollDetail{rv: rec.CreatedRV, text: fmt.Sprintf("%s created %s (%s, %s, rv %d)",
						rec.Revision, pod.CreationTimestamp.UTC().Format("15:04:05"), pod.Name, how, rec.CreatedRV)}
				}
			}
		}
		rec.running = pod.Status.Phase == corev1.PodRunning
		rec.ready = podReady(pod)
		rec.terminating = pod.DeletionTimestamp != nil
	}
	if !live {
		return
	}
	var now []string
	for g, want := range r.replicas {
		count, calm := 0, true
		for _, p := range r.pods {
			if p.Group != g {
				continue
			}
			count++
			if !p.ready || p.terminating {
				calm = false
			}
		}
		if !calm || count != want {
			now = append(now, g)
		}
	}
	sort.Strings(now)
	if len(now) > 1 && stage != StageBaseline {
		r.journal.Violation("overlap-"+stage+"-"+pod.Name+string(t),
			"groups %v disrupted at once (after %s of pod %s)", now, t, pod.Name)
	}
	if seq := r.sequence[stage]; len(now) == 1 && (len(seq) == 0 || now[0] != r.disrupted) {
		// A stage's first disruption always counts, even when it is the group the previous
		// stage disrupted last (the baseline's pods become ready in any order).
		r.sequence[stage] = append(seq, now[0])
	}
	if len(now) == 1 {
		r.disrupted = now[0] // kept while calm: a group whose pods roll one by one counts once
	}
}

// Pod returns the record of a pod, nil when unknown.
func (r *Recorder) Pod(uid types.UID) *PodRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p := r.pods[uid]; p != nil {
		cp := *p
		return &cp
	}
	return nil
}

// VersionAt is the version of Secret name a pod created at rv mounts: the last one at or before
// rv; nil when there is none (or it was deleted then).
func (r *Recorder) VersionAt(name string, rv int64) *SecretVersion {
	r.mu.Lock()
	defer r.mu.Unlock()
	var found *SecretVersion
	for _, v := range r.secrets[name] {
		if v.RV > rv {
			break
		}
		found = v
	}
	if found == nil || found.Deleted {
		return nil
	}
	return found
}

// Latest is the last recorded version of Secret name, nil when none.
func (r *Recorder) Latest(name string) *SecretVersion {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.secrets[name]
	if len(h) == 0 {
		return nil
	}
	return h[len(h)-1]
}

// History is every version of every Secret, by name.
func (r *Recorder) History() map[string][]*SecretVersion {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string][]*SecretVersion{}
	for k, v := range r.secrets {
		out[k] = append([]*SecretVersion(nil), v...)
	}
	return out
}

// Rolls are, per pod key, the revisions its pods were created with during stage.
func (r *Recorder) Rolls(stage string) map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for k, v := range r.rolls[stage] {
		out[k] = len(v)
	}
	return out
}

// RollDetails are the revisions pods of key were created with during stage, each with the
// creation time, name and resourceVersion of its first pod, in creation order.
func (r *Recorder) RollDetails(stage, key string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	details := slices.SortedFunc(maps.Values(r.rolls[stage][key]), func(a, b rollDetail) int { return cmp.Compare(a.rv, b.rv) })
	out := make([]string, 0, len(details))
	for _, d := range details {
		out = append(out, d.text)
	}
	return out
}

// rollDetail is the first pod of a revision a pod key ran in a stage.
type rollDetail struct {
	rv   int64
	text string
}

// Sequence is the order in which groups were disrupted during stage.
func (r *Recorder) Sequence(stage string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.sequence[stage]...)
}
