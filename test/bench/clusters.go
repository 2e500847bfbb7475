package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// Inputs every benchmark namespace holds before its clusters are applied.
const (
	tokenName        = "agent"
	tokenSecretName  = "agent-token-value"
	tokenSecretKey   = "auth-token"
	policyName       = "strict"
	policyMinLength  = 24
	policyMaxLength  = 64
	benchClusterName = "c"
)

// inputs are the objects a namespace needs before its TLS + auth clusters: the Secrets the
// default test cluster references, a SecurityPolicy and an Agent AuthToken with the user's token.
func inputs(ns string) []client.Object {
	var objs []client.Object
	for _, s := range testobj.Secrets(ns) {
		objs = append(objs, s)
	}
	return append(objs,
		&implyv1alpha1.SecurityPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: policyName, Namespace: ns},
			Spec:       implyv1alpha1.SecurityPolicySpec{Password: implyv1alpha1.PasswordPolicy{MinLength: policyMinLength, MaxLength: policyMaxLength}},
		},
		&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: tokenSecretName, Namespace: ns},
			StringData: map[string]string{tokenSecretKey: "bench-agent-token-0000000000000000"},
		},
		&implyv1alpha1.AuthToken{
			ObjectMeta: metav1.ObjectMeta{Name: tokenName, Namespace: ns},
			Spec:       implyv1alpha1.AuthTokenSpec{Type: implyv1alpha1.AuthTokenAgent, SecretRef: &implyv1alpha1.SecretKeySelector{Name: tokenSecretName}},
		})
}

// benchCluster is the measured shape: TLS with a generated CA, Druid auth with the namespace's
// AuthToken and SecurityPolicy, and three node groups (master, query, data) besides the manager.
func benchCluster(name, ns string) *implyv1alpha1.ImplyCluster {
	return testobj.ImplyCluster(name, ns, testobj.WithAuth(tokenName, policyName))
}

// createNamespaceWithInputs creates ns and its inputs.
func createNamespaceWithInputs(ctx context.Context, cp *controlPlane, ns string) error {
	if err := cp.createNamespace(ctx, ns); err != nil {
		return fmt.Errorf("while creating namespace %s: %w", ns, err)
	}
	for _, obj := range inputs(ns) {
		if err := cp.c.Create(ctx, obj); err != nil {
			return fmt.Errorf("while creating %T %s/%s: %w", obj, ns, obj.GetName(), err)
		}
	}
	return nil
}

// waitTokensReady waits until the AuthToken of every namespace is Ready, as it would be long
// before a user applies a cluster that uses it.
func waitTokensReady(ctx context.Context, cp *controlPlane, namespaces []string, timeout time.Duration) error {
	return poll(ctx, 100*time.Millisecond, timeout, "the AuthTokens to be Ready", func() (bool, error) {
		var tokens implyv1alpha1.AuthTokenList
		if err := cp.c.List(ctx, &tokens); err != nil {
			return false, err
		}
		ready := map[string]bool{}
		for i := range tokens.Items {
			if meta.IsStatusConditionTrue(tokens.Items[i].Status.Conditions, implyv1alpha1.ConditionReady) {
				ready[tokens.Items[i].Namespace] = true
			}
		}
		for _, ns := range namespaces {
			if !ready[ns] {
				return false, nil
			}
		}
		return true, nil
	})
}

// reconciled reports whether the operator has reconciled c's current generation completely: every
// owned object applied (Degraded=False), certificates issued and auth configured.
func reconciled(c *implyv1alpha1.ImplyCluster) bool {
	conds := c.Status.Conditions
	degraded := meta.FindStatusCondition(conds, implyv1alpha1.ConditionDegraded)
	return c.Status.ObservedGeneration == c.Generation && c.Generation > 0 &&
		degraded != nil && degraded.Status == metav1.ConditionFalse &&
		meta.IsStatusConditionTrue(conds, implyv1alpha1.ConditionCertificatesReady) &&
		meta.IsStatusConditionTrue(conds, implyv1alpha1.ConditionAuthReady) &&
		len(c.Status.NodeGroups) == len(c.Spec.NodeGroups)
}

// tracker watches ImplyClusters through an informer and records when each cluster was first
// seen reconciled and Ready; once a namespace is armed it also watches StatefulSets and records
// when one of an armed namespace first had its spec changed. Times are taken as the watch events
// arrive.
type tracker struct {
	mu           sync.Mutex
	reconciledAt map[types.NamespacedName]time.Time
	readyAt      map[types.NamespacedName]time.Time
	// armed namespaces wait for their first StatefulSet spec change; patchedAt records it.
	armed     map[string]bool
	patchedAt map[string]time.Time
	// cache holds the informers; watchingSets says the StatefulSet informer was started (on the
	// first arm: only the scenarios that arm need it, and its watch events would load the shared
	// cores in every run the operator is timed in, the bare client's having none).
	cache        cache.Cache
	watchingSets bool
}

// startTracker starts the ImplyCluster informer and waits for its first sync.
func startTracker(ctx context.Context, cp *controlPlane) (*tracker, error) {
	t := &tracker{
		reconciledAt: map[types.NamespacedName]time.Time{}, readyAt: map[types.NamespacedName]time.Time{},
		armed: map[string]bool{}, patchedAt: map[string]time.Time{},
	}
	ca, err := cache.New(cp.cfg, cache.Options{Scheme: scheme})
	if err != nil {
		return nil, err
	}
	t.cache = ca
	clusters, err := ca.GetInformer(ctx, &implyv1alpha1.ImplyCluster{})
	if err != nil {
		return nil, err
	}
	onCluster := func(obj any) {
		if c, ok := obj.(*implyv1alpha1.ImplyCluster); ok {
			t.observeCluster(c, time.Now())
		}
	}
	if _, err := clusters.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: onCluster, UpdateFunc: func(_, obj any) { onCluster(obj) },
	}); err != nil {
		return nil, err
	}
	go func() { _ = ca.Start(ctx) }()
	if !ca.WaitForCacheSync(ctx) {
		return nil, fmt.Errorf("the benchmark's informers did not sync")
	}
	return t, nil
}

// watchStatefulSets starts the StatefulSet informer, once, and waits for its first sync: spec
// changes after it returns are recorded.
func (t *tracker) watchStatefulSets(ctx context.Context) error {
	if t.watchingSets {
		return nil
	}
	sets, err := t.cache.GetInformer(ctx, &appsv1.StatefulSet{})
	if err != nil {
		return err
	}
	if _, err := sets.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		UpdateFunc: func(oldObj, newObj any) {
			o, ok1 := oldObj.(*appsv1.StatefulSet)
			n, ok2 := newObj.(*appsv1.StatefulSet)
			if ok1 && ok2 && n.Generation > o.Generation {
				t.observePatch(n.Namespace, time.Now())
			}
		},
	}); err != nil {
		return err
	}
	if !toolscache.WaitForCacheSync(ctx.Done(), sets.HasSynced) {
		return fmt.Errorf("the benchmark's StatefulSet informer did not sync")
	}
	t.watchingSets = true
	return nil
}

func (t *tracker) observeCluster(c *implyv1alpha1.ImplyCluster, at time.Time) {
	key := client.ObjectKeyFromObject(c)
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, seen := t.reconciledAt[key]; !seen && reconciled(c) {
		t.reconciledAt[key] = at
	}
	if _, seen := t.readyAt[key]; !seen && reconciled(c) && meta.IsStatusConditionTrue(c.Status.Conditions, implyv1alpha1.ConditionReady) {
		t.readyAt[key] = at
	}
}

func (t *tracker) observePatch(ns string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, seen := t.patchedAt[ns]; t.armed[ns] && !seen {
		t.patchedAt[ns] = at
	}
}

// reconciledCount is how many clusters have been seen reconciled.
func (t *tracker) reconciledCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.reconciledAt)
}

// firstReconciled is when the first of keys was seen reconciled (zero when none was).
func (t *tracker) firstReconciled(keys []types.NamespacedName) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	var first time.Time
	for _, k := range keys {
		if at, ok := t.reconciledAt[k]; ok && (first.IsZero() || at.Before(first)) {
			first = at
		}
	}
	return first
}

// arm starts waiting for the first StatefulSet spec change in ns.
func (t *tracker) arm(ctx context.Context, ns string) error {
	if err := t.watchStatefulSets(ctx); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.armed[ns] = true
	delete(t.patchedAt, ns)
	return nil
}

// waitFor polls the recorded times until every key has one (the times themselves come from the
// watch events, not from this loop) and returns the latest.
func (t *tracker) waitFor(ctx context.Context, what string, timeout time.Duration, times func() map[types.NamespacedName]time.Time, keys []types.NamespacedName) (time.Time, error) {
	var last time.Time
	err := poll(ctx, 20*time.Millisecond, timeout, what, func() (bool, error) {
		t.mu.Lock()
		defer t.mu.Unlock()
		m := times()
		last = time.Time{}
		for _, k := range keys {
			at, ok := m[k]
			if !ok {
				return false, nil
			}
			if at.After(last) {
				last = at
			}
		}
		return true, nil
	})
	return last, err
}

// waitReconciled waits until every cluster of keys was seen reconciled; it returns the time the
// last one was.
func (t *tracker) waitReconciled(ctx context.Context, keys []types.NamespacedName, timeout time.Duration) (time.Time, error) {
	return t.waitFor(ctx, fmt.Sprintf("%d clusters to be reconciled", len(keys)), timeout, func() map[types.NamespacedName]time.Time { return t.reconciledAt }, keys)
}

// waitReady waits until every cluster of keys was seen reconciled and Ready.
func (t *tracker) waitReady(ctx context.Context, keys []types.NamespacedName, timeout time.Duration) (time.Time, error) {
	return t.waitFor(ctx, fmt.Sprintf("%d clusters to be Ready", len(keys)), timeout, func() map[types.NamespacedName]time.Time { return t.readyAt }, keys)
}

// waitPatched waits for the first StatefulSet spec change in the armed namespace ns.
func (t *tracker) waitPatched(ctx context.Context, ns string, timeout time.Duration) (time.Time, error) {
	key := types.NamespacedName{Namespace: ns}
	return t.waitFor(ctx, "a StatefulSet patch in "+ns, timeout, func() map[types.NamespacedName]time.Time {
		m := map[types.NamespacedName]time.Time{}
		if at, ok := t.patchedAt[ns]; ok {
			m[key] = at
		}
		return m
	}, []types.NamespacedName{key})
}

// runParallel calls f for each of n items on workers goroutines and returns the first error.
func runParallel(n, workers int, f func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan int)
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}
