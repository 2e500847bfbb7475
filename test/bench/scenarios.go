package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/test/testenv"
)

// clustersPerNamespace is how many clusters share a namespace (and its inputs) at scale.
const clustersPerNamespace = 10

// env is what every scenario needs.
type env struct {
	// dir holds the control planes' files and the operator's logs.
	dir string
	// binary is the operator binary.
	binary string
	// workers is how many requests the benchmark's own client has in flight at once, when it
	// creates clusters and when it plays the bare client.
	workers int
	// operatorArgs are extra flags for the operator.
	operatorArgs []string
	// profileDir, when set, receives CPU and heap profiles of the operator at scale.
	profileDir string
	// bare runs the bare client after the operator at each scale point (for the ratio of (c)).
	bare bool
	// bareObjectsOnly has the bare client skip the clusters' status and the Events.
	bareObjectsOnly bool
	log             func(format string, args ...any)
}

// latencyResult is (a) and (e).
type latencyResult struct {
	// Apply is ImplyCluster created -> every owned object applied and the status reporting it.
	Apply summary `json:"apply"`
	// Objects is how many objects one cluster owns.
	Objects int `json:"objects"`
	// SecretToPatch is user token Secret updated -> first StatefulSet spec change.
	SecretToPatch summary `json:"secretToPatch"`
}

// runLatency applies one TLS + auth cluster at a time, each in its own namespace, and measures
// how long the operator takes to create everything and report it; then, on as many of them made
// Ready, how long a change to the agent token's Secret takes to reach a StatefulSet.
func runLatency(ctx context.Context, e env, runs, rotations int) (latencyResult, error) {
	var res latencyResult
	ctx, cancel := context.WithCancel(ctx)
	cp, err := startControlPlane(filepath.Join(e.dir, "latency"))
	if err != nil {
		cancel()
		return res, err
	}
	// End the watches first, or the apiserver waits for them as it stops.
	defer func() { cancel(); _ = cp.stop() }()
	op, err := startOperator(ctx, e.binary, cp.kubeconfig, filepath.Join(e.dir, "latency", "operator.log"), false, e.operatorArgs...)
	if err != nil {
		return res, err
	}
	defer func() { _ = op.stop() }()
	tr, err := startTracker(ctx, cp)
	if err != nil {
		return res, err
	}
	var applies, patches []time.Duration
	var namespaces []string
	for i := 0; i < runs; i++ {
		ns := fmt.Sprintf("latency-%02d", i)
		namespaces = append(namespaces, ns)
		if err := createNamespaceWithInputs(ctx, cp, ns); err != nil {
			return res, err
		}
		if err := waitTokensReady(ctx, cp, []string{ns}, time.Minute); err != nil {
			return res, err
		}
		c := benchCluster(benchClusterName, ns)
		start := time.Now()
		if err := cp.c.Create(ctx, c); err != nil {
			return res, err
		}
		at, err := tr.waitReconciled(ctx, []types.NamespacedName{client.ObjectKeyFromObject(c)}, 2*time.Minute)
		if err != nil {
			return res, err
		}
		applies = append(applies, at.Sub(start))
		owned, err := ownedObjects(ctx, cp.c, ns)
		if err != nil {
			return res, err
		}
		res.Objects = len(owned)
		e.log("  apply %2d: %s (%d objects)", i+1, at.Sub(start).Round(time.Millisecond), len(owned))
	}
	res.Apply = summarize(applies)

	for i, ns := range namespaces[:min(rotations, len(namespaces))] {
		key := types.NamespacedName{Namespace: ns, Name: benchClusterName}
		if err := testenv.MarkWorkloadsReady(ctx, cp.c, ns, benchClusterName); err != nil {
			return res, err
		}
		if _, err := tr.waitReady(ctx, []types.NamespacedName{key}, time.Minute); err != nil {
			return res, err
		}
		if _, err := op.waitQuiet(ctx, 0, 500*time.Millisecond, time.Minute); err != nil {
			return res, err
		}
		var secret corev1.Secret
		if err := cp.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: tokenSecretName}, &secret); err != nil {
			return res, err
		}
		secret.StringData = map[string]string{tokenSecretKey: fmt.Sprintf("bench-agent-token-rotated-%04d-000000000", i)}
		if err := tr.arm(ctx, ns); err != nil {
			return res, err
		}
		start := time.Now()
		if err := cp.c.Update(ctx, &secret); err != nil {
			return res, err
		}
		at, err := tr.waitPatched(ctx, ns, time.Minute)
		if err != nil {
			return res, err
		}
		patches = append(patches, at.Sub(start))
		e.log("  token Secret -> StatefulSet patch %2d: %s", i+1, at.Sub(start).Round(time.Millisecond))
	}
	res.SecretToPatch = summarize(patches)
	return res, nil
}

// resyncResult is (b).
type resyncResult struct {
	Clusters int `json:"clusters"`
	// CreateWrites are the operator's writes while it created the clusters, for scale.
	CreateWrites int `json:"createWrites"`
	// Writes are the restarted operator's writes, by verb and resource.
	Writes map[string]int `json:"writes"`
	// Reconciles is how many ImplyCluster reconciles the restarted operator ran.
	Reconciles float64 `json:"reconciles"`
	// Duration is restart -> every cluster reconciled and the operator quiet.
	Duration time.Duration `json:"durationNanoseconds"`
}

// runResync creates clusters, marks their workloads ready, restarts the operator and counts
// what the new process writes while it reconciles every unchanged cluster again.
func runResync(ctx context.Context, e env, clusters int) (resyncResult, error) {
	res := resyncResult{Clusters: clusters}
	ctx, cancel := context.WithCancel(ctx)
	dir := filepath.Join(e.dir, "resync")
	cp, err := startControlPlane(dir)
	if err != nil {
		cancel()
		return res, err
	}
	// End the watches first, or the apiserver waits for them as it stops.
	defer func() { cancel(); _ = cp.stop() }()
	op, err := startOperator(ctx, e.binary, cp.kubeconfig, filepath.Join(dir, "operator-1.log"), false, e.operatorArgs...)
	if err != nil {
		return res, err
	}
	defer func() { _ = op.stop() }()
	namespaces, _, err := readyClusters(ctx, e, cp, op, "resync", clusters)
	if err != nil {
		return res, err
	}
	created, err := operatorWrites(cp.auditLog, 0)
	if err != nil {
		return res, err
	}
	res.CreateWrites = total(created)
	if err := op.stop(); err != nil {
		return res, err
	}
	mark, err := auditSize(cp.auditLog)
	if err != nil {
		return res, err
	}
	e.log("  %d clusters in %d namespaces Ready (%d operator writes); restarting the operator", clusters, len(namespaces), res.CreateWrites)
	start := time.Now()
	op2, err := startOperator(ctx, e.binary, cp.kubeconfig, filepath.Join(dir, "operator-2.log"), false, e.operatorArgs...)
	if err != nil {
		return res, err
	}
	defer func() { _ = op2.stop() }()
	quiet := 3 * time.Second
	if res.Reconciles, err = op2.waitQuiet(ctx, clusters, quiet, 10*time.Minute); err != nil {
		return res, err
	}
	res.Duration = time.Since(start) - quiet
	if res.Writes, err = operatorWrites(cp.auditLog, mark); err != nil {
		return res, err
	}
	return res, nil
}

// applyClusters creates namespaces of clustersPerNamespace clusters each, with their inputs,
// waits for the AuthTokens, then creates the clusters on e.workers goroutines.
func applyClusters(ctx context.Context, e env, cp *controlPlane, prefix string, clusters int) ([]string, []types.NamespacedName, error) {
	namespaces, keys := clusterKeys(prefix, clusters)
	if err := runParallel(len(namespaces), e.workers, func(i int) error { return createNamespaceWithInputs(ctx, cp, namespaces[i]) }); err != nil {
		return nil, nil, err
	}
	if err := waitTokensReady(ctx, cp, namespaces, 10*time.Minute); err != nil {
		return nil, nil, err
	}
	err := runParallel(len(keys), e.workers, func(i int) error {
		return cp.c.Create(ctx, benchCluster(keys[i].Name, keys[i].Namespace))
	})
	return namespaces, keys, err
}

// operatorRun is (d) and the operator's side of (c): one operator process reconciling n clusters
// on a fresh control plane.
type operatorRun struct {
	// Operator is the first cluster created -> the last one reconciled.
	Operator time.Duration `json:"operatorNanoseconds"`
	// Usage is the operator process once every cluster is reconciled and it is quiet again.
	Usage procUsage `json:"usage"`
	// CPU is the operator's CPU time from the first cluster created to the last reconciled.
	CPU time.Duration `json:"cpuNanoseconds"`
	// Writes is what the operator wrote to reconcile every cluster.
	Writes int `json:"writes"`
	// Reconciles and ReconcileErrors are the ImplyCluster controller's, from its metrics.
	Reconciles      int `json:"reconciles"`
	ReconcileErrors int `json:"reconcileErrors"`
	// PeakRSSReconciled is the peak RSS when the last cluster was seen reconciled, before the
	// harness polls the metrics endpoint (every 200 ms, each scrape tens of MB at 1,000 clusters)
	// to see the operator settle.
	PeakRSSReconciled uint64 `json:"peakRSSReconciledBytes"`
	// HeapGoal and GCCycles are the operator's Go runtime at the end (go_memstats_next_gc_bytes,
	// go_gc_duration_seconds_count). The goal is the live heap of the last collection times
	// 1 + GOGC/100: the heap grows to it before the next one, and it explains most of the RSS.
	HeapGoal uint64 `json:"heapGoalBytes"`
	GCCycles int    `json:"gcCycles"`
}

// scaleState is a converged operator run, handed to a scenario that reuses its control plane.
type scaleState struct {
	cp         *controlPlane
	op         *operatorProcess
	tr         *tracker
	namespaces []string
	keys       []types.NamespacedName
	// dir holds the control plane's files.
	dir string
}

// runOperatorAt times the operator reconciling n clusters on a fresh control plane in e.dir/name.
// It returns the objects of the first namespace (the clusters and what they own) as templates for
// the bare client. then, when set, runs on the converged state before the control plane stops.
func runOperatorAt(ctx context.Context, e env, n int, name string, profile bool, then func(*scaleState) error) (operatorRun, []*unstructured.Unstructured, error) {
	var res operatorRun
	ctx, cancel := context.WithCancel(ctx)
	dir := filepath.Join(e.dir, name)
	cp, err := startControlPlane(dir)
	if err != nil {
		cancel()
		return res, nil, err
	}
	// End the watches first, or the apiserver waits for them as it stops.
	defer func() { cancel(); _ = cp.stop() }()
	op, err := startOperator(ctx, e.binary, cp.kubeconfig, filepath.Join(dir, "operator.log"), profile, e.operatorArgs...)
	if err != nil {
		return res, nil, err
	}
	defer func() { _ = op.stop() }()
	tr, err := startTracker(ctx, cp)
	if err != nil {
		return res, nil, err
	}
	namespaces, keys := clusterKeys("scale", n)
	if err := runParallel(len(namespaces), e.workers, func(i int) error { return createNamespaceWithInputs(ctx, cp, namespaces[i]) }); err != nil {
		return res, nil, err
	}
	if err := waitTokensReady(ctx, cp, namespaces, 10*time.Minute); err != nil {
		return res, nil, err
	}
	before, err := op.usage()
	if err != nil {
		return res, nil, err
	}
	mark, err := auditSize(cp.auditLog)
	if err != nil {
		return res, nil, err
	}
	profiled := make(chan error, 2)
	firstMinute := make(chan struct{})
	go func() {
		// CPU while the clusters are reconciled (at most a minute of it).
		defer close(firstMinute)
		profiled <- op.saveProfile(ctx, "profile?seconds=60", filepath.Join(e.profileDir, fmt.Sprintf("cpu-%d.pprof", n)))
	}()
	go func() {
		// The operator's and the apiserver's CPU from when half the clusters are reconciled (the
		// operator's not before its first minute's profile is done): the operator shares the
		// cores with the apiserver, and what grows with the number of clusters shows there.
		if e.profileDir == "" {
			profiled <- nil
			return
		}
		if err := poll(ctx, time.Second, 60*time.Minute, "half the clusters reconciled", func() (bool, error) { return tr.reconciledCount() >= n/2, nil }); err != nil {
			profiled <- err
			return
		}
		operator := make(chan error, 1)
		go func() {
			<-firstMinute // the operator serves one CPU profile at a time
			operator <- op.saveProfile(ctx, fmt.Sprintf("profile?seconds=%d", halfwayProfileSeconds), filepath.Join(e.profileDir, fmt.Sprintf("cpu-halfway-%d.pprof", n)))
		}()
		err := cp.saveProfile(ctx, halfwayProfileSeconds, filepath.Join(e.profileDir, fmt.Sprintf("apiserver-cpu-halfway-%d.pprof", n)))
		profiled <- errors.Join(err, <-operator)
	}()
	progress := time.NewTicker(30 * time.Second)
	defer progress.Stop()
	go func() {
		for range progress.C {
			e.log("    %d of %d reconciled", tr.reconciledCount(), n)
		}
	}()
	start := time.Now()
	if err := runParallel(n, e.workers, func(i int) error {
		return cp.c.Create(ctx, benchCluster(keys[i].Name, keys[i].Namespace))
	}); err != nil {
		return res, nil, err
	}
	last, err := tr.waitReconciled(ctx, keys, 60*time.Minute)
	if err != nil {
		return res, nil, err
	}
	progress.Stop()
	res.Operator = last.Sub(start)
	after, err := op.usage()
	if err != nil {
		return res, nil, err
	}
	res.CPU = after.CPU - before.CPU
	res.PeakRSSReconciled = after.PeakRSS
	if _, err := op.waitQuiet(ctx, n, 2*time.Second, 30*time.Minute); err != nil {
		return res, nil, err
	}
	if res.Usage, err = op.usage(); err != nil {
		return res, nil, err
	}
	for range 2 {
		if err := <-profiled; err != nil {
			return res, nil, err
		}
	}
	if err := op.saveProfile(ctx, "heap", filepath.Join(e.profileDir, fmt.Sprintf("heap-%d.pprof", n))); err != nil {
		return res, nil, err
	}
	metrics, err := op.scrape(ctx)
	if err != nil {
		return res, nil, err
	}
	res.ReconcileErrors = int(sumMetric(metrics, "controller_runtime_reconcile_total", `controller="implycluster"`, `result="error"`))
	res.Reconciles = int(sumMetric(metrics, "controller_runtime_reconcile_total", `controller="implycluster"`))
	res.HeapGoal = uint64(sumMetric(metrics, "go_memstats_next_gc_bytes"))
	res.GCCycles = int(sumMetric(metrics, "go_gc_duration_seconds_count"))
	writes, err := operatorWrites(cp.auditLog, mark)
	if err != nil {
		return res, nil, err
	}
	res.Writes = total(writes)
	e.log("  operator: %d clusters in %s, CPU %s, peak RSS %d MiB, heap goal %d MiB after %d GCs, %d writes, %d reconciles (%d failed)",
		n, res.Operator.Round(time.Millisecond), res.CPU.Round(time.Millisecond), res.Usage.PeakRSS>>20, res.HeapGoal>>20, res.GCCycles,
		res.Writes, res.Reconciles, res.ReconcileErrors)
	e.log("    peak RSS when the last cluster was reconciled %.1f MiB; writes: %s", mib(res.PeakRSSReconciled), describeCounts(writes))
	e.log("    RSS now %.1f MiB: anonymous %.1f, files %.1f; Go runtime: %s", mib(res.Usage.RSS), mib(res.Usage.RSSAnon), mib(res.Usage.RSSFile),
		describeRuntimeMemory(metrics))
	templates, err := exportTemplates(ctx, cp.c, namespaces[0])
	if err != nil {
		return res, nil, err
	}
	if err := templatesCoverCreates(templates, writes); err != nil {
		return res, nil, err
	}
	if then != nil {
		if err := then(&scaleState{cp: cp, op: op, tr: tr, namespaces: namespaces, keys: keys, dir: dir}); err != nil {
			return res, nil, err
		}
	}
	return res, templates, op.stop()
}

// ownedKinds are the kinds an ImplyCluster owns without cert-manager (the controller's Owns).
var ownedKinds = []schema.GroupVersionKind{
	{Version: "v1", Kind: "Secret"},
	{Version: "v1", Kind: "ConfigMap"},
	{Version: "v1", Kind: "Service"},
	{Group: "apps", Version: "v1", Kind: "StatefulSet"},
	{Group: "apps", Version: "v1", Kind: "Deployment"},
	{Group: "policy", Version: "v1", Kind: "PodDisruptionBudget"},
	{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"},
	{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress"},
}

// ownedObjects lists the objects in ns that an ImplyCluster controls or keeps (retainOnDelete).
func ownedObjects(ctx context.Context, c client.Client, ns string) ([]*unstructured.Unstructured, error) {
	var owned []*unstructured.Unstructured
	for _, gvk := range ownedKinds {
		objs, err := listKind(ctx, c, gvk, ns)
		if err != nil {
			return nil, err
		}
		for _, obj := range objs {
			if strings.HasPrefix(obj.GetAnnotations()[implyv1alpha1.AnnotationRetainedFor], "ImplyCluster/") {
				owned = append(owned, obj) // kept after the cluster's deletion (retainOnDelete)
				continue
			}
			for _, ref := range obj.GetOwnerReferences() {
				if ref.Kind == clusterKind && ref.Controller != nil && *ref.Controller {
					owned = append(owned, obj)
					break
				}
			}
		}
	}
	return owned, nil
}

// listKind lists the objects of one kind in ns.
func listKind(ctx context.Context, c client.Client, gvk schema.GroupVersionKind, ns string) ([]*unstructured.Unstructured, error) {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err := c.List(ctx, list, client.InNamespace(ns)); err != nil {
		return nil, fmt.Errorf("while listing %s in %s: %w", gvk.Kind, ns, err)
	}
	out := make([]*unstructured.Unstructured, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, &list.Items[i])
	}
	return out, nil
}

// clusterIndex is i of the cluster "c<i>" that obj is or belongs to.
func clusterIndex(obj *unstructured.Unstructured) int {
	name := obj.GetName()
	if retainedFor := obj.GetAnnotations()[implyv1alpha1.AnnotationRetainedFor]; retainedFor != "" {
		name = retainedFor[strings.LastIndex(retainedFor, "/")+1:]
	} else if obj.GetKind() == "Event" {
		name, _, _ = unstructured.NestedString(obj.Object, "regarding", "name")
	} else if obj.GetKind() != clusterKind {
		for _, ref := range obj.GetOwnerReferences() {
			if ref.Kind == clusterKind {
				name = ref.Name
			}
		}
	}
	var i int
	if _, err := fmt.Sscanf(name, "c%d", &i); err != nil {
		return -1
	}
	return i
}

// copyInto returns obj as a new object in ns: what the apiserver set (identity, versions,
// status, allocated cluster IPs) and the owner references are dropped, and an Event regards
// the object of the same name in ns.
func copyInto(obj *unstructured.Unstructured, ns string) *unstructured.Unstructured {
	out := obj.DeepCopy()
	out.SetNamespace(ns)
	out.SetResourceVersion("")
	out.SetUID("")
	out.SetCreationTimestamp(metav1.Time{})
	out.SetGeneration(0)
	out.SetManagedFields(nil)
	out.SetOwnerReferences(nil)
	unstructured.RemoveNestedField(out.Object, "status")
	if out.GetKind() == "Event" {
		_ = unstructured.SetNestedField(out.Object, ns, "regarding", "namespace")
		unstructured.RemoveNestedField(out.Object, "regarding", "uid")
		unstructured.RemoveNestedField(out.Object, "regarding", "resourceVersion")
		for _, f := range []string{"deprecatedSource", "deprecatedFirstTimestamp", "deprecatedLastTimestamp", "deprecatedCount"} {
			unstructured.RemoveNestedField(out.Object, f)
		}
	}
	if out.GetKind() == "Service" {
		if ip, _, _ := unstructured.NestedString(out.Object, "spec", "clusterIP"); ip != "None" {
			unstructured.RemoveNestedField(out.Object, "spec", "clusterIP")
			unstructured.RemoveNestedField(out.Object, "spec", "clusterIPs")
		}
	}
	return out
}
