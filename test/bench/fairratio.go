package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// clusterKind is the kind of an ImplyCluster.
const clusterKind = "ImplyCluster"

// eventKind is the Events the operator records (events.k8s.io/v1).
var eventKind = schema.GroupVersionKind{Group: "events.k8s.io", Version: "v1", Kind: "Event"}

// targetRatio is the most the operator may take over the bare client creating the same objects.
const targetRatio = 1.2

// scalePoint is (c) and (d) for one number of clusters. The embedded operatorRun is the first
// operator run (before any bare client); Bare and Ratio are of the operator-first order.
type scalePoint struct {
	Clusters int `json:"clusters"`
	operatorRun
	// Bare is how long the benchmark's own client takes to create the same objects on a fresh
	// control plane, right after the operator's run.
	Bare        time.Duration `json:"bareNanoseconds"`
	BareObjects int           `json:"bareObjects"`
	Ratio       float64       `json:"ratio"`
	// Orders are the operator and the bare client timed in both orders, each on its own fresh
	// control plane: operator first, then bare first, once a round.
	Orders []order `json:"orders,omitempty"`
	// PooledRatio is the operator's time over the bare client's summed over Orders (pooledRatio),
	// the ratio judged when both orders ran.
	PooledRatio float64 `json:"pooledRatio,omitempty"`
	// PerCluster and RSSPerCluster are Operator and Usage.PeakRSS divided by Clusters.
	PerCluster    time.Duration `json:"perClusterNanoseconds"`
	RSSPerCluster uint64        `json:"rssPerClusterBytes"`
}

// order is the operator and the bare client run one after the other, each on a fresh control
// plane.
type order struct {
	// First is "operator" or "bare".
	First string `json:"first"`
	// Round counts the rounds of both orders from 1.
	Round    int           `json:"round,omitempty"`
	Operator time.Duration `json:"operatorNanoseconds"`
	Bare     time.Duration `json:"bareNanoseconds"`
	Ratio    float64       `json:"ratio"`
}

// newOrder is the order first of round that timed operator against bare, with their ratio.
func newOrder(first string, round int, operator, bare time.Duration) order {
	return order{First: first, Round: round, Operator: operator, Bare: bare, Ratio: operator.Seconds() / bare.Seconds()}
}

// runScalePoint is (c) and (d) at n clusters: the operator on a fresh control plane; with bare,
// then the bare client on a fresh one, and with bothOrders the bare client again on another and
// the operator again on a last one. With rounds above 1 (and bothOrders), both orders run again
// rounds-1 times, operator first then bare first, so that the runs alternate operator, bare,
// bare, operator... and a drift of the machine's speed falls on both alike. then runs on the
// last operator run's converged control plane.
func runScalePoint(ctx context.Context, e env, n int, bare, bothOrders bool, rounds int, then func(*scaleState) error) (scalePoint, error) {
	res := scalePoint{Clusters: n}
	if rounds < 1 || !bare || !bothOrders {
		rounds = 1
	}
	firstThen := then
	if bare && bothOrders {
		firstThen = nil
	}
	run, templates, err := runOperatorAt(ctx, e, n, fmt.Sprintf("scale-%d-operator-first", n), e.profileDir != "", firstThen)
	if err != nil {
		return res, err
	}
	res.operatorRun = run
	res.PerCluster = run.Operator / time.Duration(n)
	res.RSSPerCluster = run.Usage.PeakRSS / uint64(n)
	if !bare {
		return res, nil
	}
	for round := 1; round <= rounds; round++ {
		suffix := ""
		if round > 1 {
			suffix = fmt.Sprintf("-round-%d", round)
			if run, _, err = runOperatorAt(ctx, e, n, fmt.Sprintf("scale-%d-operator-first%s", n, suffix), false, nil); err != nil {
				return res, err
			}
		}
		bareSecond, objects, err := runBare(ctx, e, n, templates, fmt.Sprintf("scale-%d-bare-second%s", n, suffix))
		if err != nil {
			return res, err
		}
		o := newOrder("operator", round, run.Operator, bareSecond)
		res.Orders = append(res.Orders, o)
		if round == 1 {
			res.Bare, res.BareObjects, res.Ratio = bareSecond, objects, o.Ratio
		}
		e.log("  operator first: operator %s, bare client %s (%d objects): ratio %.2f", run.Operator.Round(time.Millisecond),
			bareSecond.Round(time.Millisecond), objects, o.Ratio)
		if !bothOrders {
			return res, nil
		}
		bareFirst, _, err := runBare(ctx, e, n, templates, fmt.Sprintf("scale-%d-bare-first%s", n, suffix))
		if err != nil {
			return res, err
		}
		var lastThen func(*scaleState) error
		if round == rounds {
			lastThen = then
		}
		second, _, err := runOperatorAt(ctx, e, n, fmt.Sprintf("scale-%d-operator-second%s", n, suffix), false, lastThen)
		if err != nil {
			return res, err
		}
		o = newOrder("bare", round, second.Operator, bareFirst)
		res.Orders = append(res.Orders, o)
		e.log("  bare first: bare client %s, operator %s: ratio %.2f", bareFirst.Round(time.Millisecond), second.Operator.Round(time.Millisecond), o.Ratio)
	}
	res.PooledRatio = pooledRatio(res.Orders)
	return res, nil
}

// pooledRatio is the operator's time over the bare client's, each summed over orders: the
// ratio of several alternating runs, in which a run that met a slow or a fast machine weighs
// as much as its time. It is 0 without orders.
func pooledRatio(orders []order) float64 {
	var operator, bare time.Duration
	for _, o := range orders {
		operator += o.Operator
		bare += o.Bare
	}
	if bare == 0 {
		return 0
	}
	return operator.Seconds() / bare.Seconds()
}

// exportTemplates reads the clusters of ns (with their status), every object they own and the
// Events the operator reported about them: what the bare client writes. Every namespace holds
// clusters c0..c9, whose objects have the same names, so the first namespace's objects stand
// for all.
func exportTemplates(ctx context.Context, c client.Client, ns string) ([]*unstructured.Unstructured, error) {
	templates, err := listKind(ctx, c, implyv1alpha1.GroupVersion.WithKind(clusterKind), ns)
	if err != nil {
		return nil, err
	}
	owned, err := ownedObjects(ctx, c, ns)
	if err != nil {
		return nil, err
	}
	events, err := listKind(ctx, c, eventKind, ns)
	if err != nil {
		return nil, err
	}
	for _, ev := range events {
		if kind, _, _ := unstructured.NestedString(ev.Object, "regarding", "kind"); kind == clusterKind {
			owned = append(owned, ev)
		}
	}
	return append(templates, owned...), nil
}

// templatesCoverCreates fails when the operator created objects of a resource (writes, as
// countOperatorWrites counts them) that the bare client's templates hold none of: the bare client
// would then write less than the operator and the ratio would not compare like with like.
func templatesCoverCreates(templates []*unstructured.Unstructured, writes map[string]int) error {
	copied := map[string]bool{}
	for _, t := range templates {
		plural, _ := meta.UnsafeGuessKindToResource(t.GroupVersionKind())
		copied[plural.Resource] = true
	}
	var missing []string
	for what := range writes {
		resource, created := strings.CutPrefix(what, "create ")
		if created && !copied[resource] {
			missing = append(missing, resource)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("the operator created %s that the bare client would not: add their kinds to ownedKinds", strings.Join(missing, ", "))
	}
	return nil
}

// runBare starts a fresh control plane in e.dir/name, creates the namespaces of n clusters and
// times the benchmark's own unthrottled client writing what the operator's run wrote, copied
// from templates: the clusters, each followed by its status, every object they own and the
// Events about them, e.workers requests in flight. It returns the time and the objects created.
func runBare(ctx context.Context, e env, n int, templates []*unstructured.Unstructured, name string) (time.Duration, int, error) {
	ctx, cancel := context.WithCancel(ctx)
	cp, err := startControlPlane(filepath.Join(e.dir, name))
	if err != nil {
		cancel()
		return 0, 0, err
	}
	defer func() { cancel(); _ = cp.stop() }()
	namespaces, _ := clusterKeys("scale", n)
	var objs []*unstructured.Unstructured
	statuses := map[*unstructured.Unstructured]any{}
	for i, ns := range namespaces {
		clustersHere := min(clustersPerNamespace, n-i*clustersPerNamespace)
		for _, t := range templates {
			if clusterIndex(t) >= clustersHere || (e.bareObjectsOnly && t.GetKind() == eventKind.Kind) {
				continue
			}
			obj := copyInto(t, ns)
			objs = append(objs, obj)
			if status, found, _ := unstructured.NestedFieldNoCopy(t.Object, "status"); found && t.GetKind() == clusterKind && !e.bareObjectsOnly {
				statuses[obj] = status
			}
		}
	}
	if err := runParallel(len(namespaces), e.workers, func(i int) error { return cp.createNamespace(ctx, namespaces[i]) }); err != nil {
		return 0, 0, err
	}
	start := time.Now()
	if err := runParallel(len(objs), e.workers, func(i int) error { return createWithStatus(ctx, cp.c, objs[i], statuses[objs[i]]) }); err != nil {
		return 0, 0, fmt.Errorf("while creating the bare client's objects: %w", err)
	}
	return time.Since(start), len(objs), nil
}

// createWithStatus creates obj and, when status is not nil, then writes it as obj's status, as
// the operator does for a cluster.
func createWithStatus(ctx context.Context, c client.Client, obj *unstructured.Unstructured, status any) error {
	if err := c.Create(ctx, obj); err != nil {
		return err
	}
	if status == nil {
		return nil
	}
	obj.Object["status"] = runtime.DeepCopyJSONValue(status)
	return c.Status().Update(ctx, obj)
}
