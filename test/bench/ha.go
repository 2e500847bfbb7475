package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testenv"
)

// The HA scenario: two operator replicas with leader election, the leader SIGKILLed in the
// middle of a rolling restart of every cluster.
const (
	haLeaseName      = "imply-operator.imply.operator.dev"
	haLeaseNamespace = "imply-operator-system"
	// haJitterFactor is client-go's leaderelection.JitterFactor: a standby tries every retry
	// period to (1 + factor) retry periods.
	haJitterFactor = 1.2
	// haGroupRestart is how long the simulated StatefulSet and Deployment controllers take to
	// restart a group's pods after its template changed.
	haGroupRestart  = 2 * time.Second
	haShortClusters = 5
)

// haClusters is the -ha flag; main.go reads it through haClusterCount.
var haClusters = flag.Int("ha", 100, "(HA) clusters rolled by two operator replicas whose leader is SIGKILLed mid-rollout; 0 skips it (-short: 5).")

// leaseTimings are the replicas' leader-election flags.
type leaseTimings struct{ lease, renew, retry time.Duration }

// haTimings are controller-runtime's defaults, which the Helm chart keeps; a short run uses
// shorter ones to stay quick.
var haTimings = leaseTimings{lease: 15 * time.Second, renew: 10 * time.Second, retry: 2 * time.Second}

// haClusterCount is -ha, or haShortClusters in a short run unless -ha was given; a short run
// also shortens haTimings to 4s/3s/1s.
func haClusterCount(short bool) int {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "ha" })
	if short {
		haTimings = leaseTimings{lease: 4 * time.Second, renew: 3 * time.Second, retry: time.Second}
	}
	if short && !given {
		return haShortClusters
	}
	return *haClusters
}

// takeoverBound is the longest a standby can take to hold the Lease after the leader dies
// without releasing it: it may have seen the leader's last renewal one try late, waits the lease
// duration, then tries again at most one try later.
func (t leaseTimings) takeoverBound() time.Duration {
	return t.lease + 2*time.Duration((1+haJitterFactor)*float64(t.retry))
}

// haResult is what the HA scenario measured.
type haResult struct {
	Clusters      int           `json:"clusters"`
	LeaseDuration time.Duration `json:"leaseDurationNanoseconds"`
	RenewDeadline time.Duration `json:"renewDeadlineNanoseconds"`
	RetryPeriod   time.Duration `json:"retryPeriodNanoseconds"`
	// GroupRestart is how long the simulated workload controllers take to roll a group.
	GroupRestart time.Duration `json:"groupRestartNanoseconds"`
	// AtKill is, per group (data, query, master, manager), in how many clusters its template had
	// changed when the leader was killed.
	AtKill map[string]int `json:"atKill"`
	// Takeover is SIGKILL -> the acquireTime the standby wrote on the Lease.
	Takeover time.Duration `json:"takeoverNanoseconds"`
	// TakeoverBound is the longest Takeover the lease timings allow.
	TakeoverBound time.Duration `json:"takeoverBoundNanoseconds"`
	// Completion is SIGKILL -> every cluster rolled, Ready and Idle; Rollout is the restart
	// asked -> the same moment.
	Completion time.Duration `json:"completionNanoseconds"`
	Rollout    time.Duration `json:"rolloutNanoseconds"`
	// Workloads is how many StatefulSets and Deployments rolled; ChangedOnce how many of them had
	// their pod template changed exactly once; Other lists the others with their counts.
	Workloads   int      `json:"workloads"`
	ChangedOnce int      `json:"changedOnce"`
	Other       []string `json:"other"`
	// LeaderWrites are the new leader's writes from the kill to convergence, QuietWrites its
	// writes in the Quiet stretch after it (Lease renewals left out of both).
	LeaderWrites map[string]int `json:"leaderWrites"`
	QuietWrites  map[string]int `json:"quietWrites"`
	Quiet        time.Duration  `json:"quietNanoseconds"`
}

// haRolloutResources are what a rolling restart writes: templates, their rollout annotation,
// the cluster's status and events. Anything else after the takeover is a write a converged
// cluster did not need.
var haRolloutResources = map[string]bool{"statefulsets": true, "deployments": true, "implyclusters/status": true, "events": true}

// runHA creates n clusters with two operator replicas running, makes them Ready, restarts them
// all (imply.operator.dev/restart), SIGKILLs the leader once every cluster's first group has
// started to roll, and measures the standby's takeover, the rest of the rollout and the new
// leader's writes. Both replicas are the operator user: after the kill only the standby is alive,
// so every write the audit log has from then on is the new leader's.
func runHA(ctx context.Context, e env, n int) (haResult, error) {
	res := haResult{
		Clusters: n, LeaseDuration: haTimings.lease, RenewDeadline: haTimings.renew, RetryPeriod: haTimings.retry,
		GroupRestart: haGroupRestart, TakeoverBound: haTimings.takeoverBound(), Quiet: 10 * time.Second,
	}
	if n <= haShortClusters {
		res.Quiet = 5 * time.Second
	}
	ctx, cancel := context.WithCancel(ctx)
	dir := filepath.Join(e.dir, "ha")
	cp, err := startControlPlane(dir)
	if err != nil {
		cancel()
		return res, err
	}
	// End the watches first, or the apiserver waits for them as it stops.
	defer func() { cancel(); _ = cp.stop() }()
	if err := cp.createNamespace(ctx, haLeaseNamespace); err != nil {
		return res, err
	}
	pair, err := startPair(ctx, e, cp, dir)
	for _, p := range pair {
		defer func() { _ = p.stop() }()
	}
	if err != nil {
		return res, err
	}
	leader, standby, err := electedPair(ctx, pair)
	if err != nil {
		return res, err
	}
	holder, err := leaseHolder(ctx, cp)
	if err != nil {
		return res, err
	}
	_, keys, err := readyClusters(ctx, e, cp, leader, "ha", n)
	if err != nil {
		return res, err
	}
	e.log("  %d clusters Ready; restarting them all, SIGKILLing the leader once every data group has started", n)

	rw, err := startRollWatch(ctx, cp, n)
	if err != nil {
		return res, err
	}
	const value = "bench-ha"
	patch := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"annotations":{"`+implyv1alpha1.AnnotationRestart+`":"`+value+`"}}}`))
	asked := time.Now()
	if err := runParallel(len(keys), e.workers, func(i int) error {
		c := &implyv1alpha1.ImplyCluster{}
		c.Namespace, c.Name = keys[i].Namespace, keys[i].Name
		return cp.c.Patch(ctx, c, patch)
	}); err != nil {
		return res, err
	}
	select {
	case <-rw.firstGroupStarted:
	case <-time.After(5 * time.Minute):
		return res, errors.New("timed out waiting for every data group to start rolling")
	case <-ctx.Done():
		return res, ctx.Err()
	}
	killed := time.Now()
	if err := leader.kill(); err != nil {
		return res, err
	}
	res.AtKill = rw.started()
	mark, err := auditSize(cp.auditLog)
	if err != nil {
		return res, err
	}
	e.log("  leader SIGKILLed; groups started: %v", res.AtKill)

	if res.Takeover, err = waitTakeover(ctx, cp, holder, killed); err != nil {
		return res, err
	}
	e.log("  standby holds the Lease %s after the kill", res.Takeover.Round(time.Millisecond))
	done, err := rw.waitRolled(ctx, keys, value, 15*time.Minute)
	if err != nil {
		return res, err
	}
	res.Completion, res.Rollout = done.Sub(killed), done.Sub(asked)
	if err := rw.failed(); err != nil {
		return res, err
	}
	if err := settledLeader(ctx, standby); err != nil {
		return res, err
	}
	converged, err := auditSize(cp.auditLog)
	if err != nil {
		return res, err
	}
	if res.LeaderWrites, err = operatorWritesBetween(cp.auditLog, mark, converged); err != nil {
		return res, err
	}
	select {
	case <-time.After(res.Quiet):
	case <-ctx.Done():
		return res, ctx.Err()
	}
	if res.QuietWrites, err = operatorWrites(cp.auditLog, converged); err != nil {
		return res, err
	}
	res.LeaderWrites, res.QuietWrites = withoutLeases(res.LeaderWrites), withoutLeases(res.QuietWrites)
	res.Workloads, res.ChangedOnce, res.Other = rw.changeCounts(keys)
	return res, nil
}

// startPair starts two operator replicas electing a leader; startOperator waits for each
// one's readiness probe, so the standby is Ready too.
func startPair(ctx context.Context, e env, cp *controlPlane, dir string) ([]*operatorProcess, error) {
	args := append(append([]string(nil), e.operatorArgs...), "--leader-elect", "--leader-election-namespace="+haLeaseNamespace,
		"--leader-elect-lease-duration="+haTimings.lease.String(), "--leader-elect-renew-deadline="+haTimings.renew.String(),
		"--leader-elect-retry-period="+haTimings.retry.String())
	var pair []*operatorProcess
	for _, name := range []string{"a", "b"} {
		p, err := startOperator(ctx, e.binary, cp.kubeconfig, filepath.Join(dir, "operator-"+name+".log"), false, args...)
		if err != nil {
			return pair, err
		}
		pair = append(pair, p)
	}
	return pair, nil
}

// readyClusters creates n clusters (namespaces named after prefix), makes them Ready and waits
// until the operator (the leader, with two replicas) is quiet. It returns the namespaces and
// the clusters.
func readyClusters(ctx context.Context, e env, cp *controlPlane, op *operatorProcess, prefix string, n int) ([]string, []types.NamespacedName, error) {
	tr, err := startTracker(ctx, cp)
	if err != nil {
		return nil, nil, err
	}
	namespaces, keys, err := applyClusters(ctx, e, cp, prefix, n)
	if err != nil {
		return nil, nil, err
	}
	if _, err := tr.waitReconciled(ctx, keys, 10*time.Minute); err != nil {
		return nil, nil, err
	}
	for _, k := range keys {
		if err := testenv.MarkWorkloadsReady(ctx, cp.c, k.Namespace, k.Name); err != nil {
			return nil, nil, err
		}
	}
	if _, err := tr.waitReady(ctx, keys, 10*time.Minute); err != nil {
		return nil, nil, err
	}
	_, err = op.waitQuiet(ctx, n, 2*time.Second, 10*time.Minute)
	return namespaces, keys, err
}

// settledLeader waits until the new leader says it leads and has nothing left to reconcile.
func settledLeader(ctx context.Context, leader *operatorProcess) error {
	if err := poll(ctx, 100*time.Millisecond, 10*time.Second, "the standby to report itself leader", func() (bool, error) {
		return leads(ctx, leader), nil
	}); err != nil {
		return err
	}
	_, err := leader.waitQuiet(ctx, 0, 2*time.Second, 5*time.Minute)
	return err
}

// kill sends SIGKILL and waits for the process to exit.
func (p *operatorProcess) kill() error {
	if err := p.cmd.Process.Kill(); err != nil {
		return err
	}
	<-p.exited
	return nil
}

// leads reports whether the operator's metrics say it holds the Lease.
func leads(ctx context.Context, p *operatorProcess) bool {
	m, err := p.scrape(ctx)
	return err == nil && sumMetric(m, "leader_election_master_status", `name="`+haLeaseName+`"`) == 1
}

// electedPair waits until exactly one of pair leads, the other standing by with no reconcile.
func electedPair(ctx context.Context, pair []*operatorProcess) (leader, standby *operatorProcess, err error) {
	err = poll(ctx, 100*time.Millisecond, 2*time.Minute, "one replica to lead", func() (bool, error) {
		a, b := leads(ctx, pair[0]), leads(ctx, pair[1])
		if a == b {
			return false, nil
		}
		leader, standby = pair[0], pair[1]
		if b {
			leader, standby = pair[1], pair[0]
		}
		m, err := standby.scrape(ctx)
		if err != nil {
			return false, err
		}
		if r := sumMetric(m, "controller_runtime_reconcile_total"); r != 0 {
			return false, fmt.Errorf("the standby reconciled %v times", r)
		}
		return true, nil
	})
	return leader, standby, err
}

// getLease reads the operator's Lease.
func getLease(ctx context.Context, cp *controlPlane) (*coordinationv1.Lease, error) {
	var lease coordinationv1.Lease
	err := cp.c.Get(ctx, client.ObjectKey{Namespace: haLeaseNamespace, Name: haLeaseName}, &lease)
	return &lease, err
}

// leaseHolder is the Lease's holderIdentity.
func leaseHolder(ctx context.Context, cp *controlPlane) (string, error) {
	lease, err := getLease(ctx, cp)
	if err != nil {
		return "", err
	}
	if h := ptr.Deref(lease.Spec.HolderIdentity, ""); h != "" {
		return h, nil
	}
	return "", errors.New("the Lease has no holder")
}

// waitTakeover waits until another holder than old has the Lease and returns its acquireTime
// less killed.
func waitTakeover(ctx context.Context, cp *controlPlane, old string, killed time.Time) (time.Duration, error) {
	var took time.Duration
	err := poll(ctx, 50*time.Millisecond, haTimings.takeoverBound()+time.Minute, "the standby to take the Lease", func() (bool, error) {
		lease, err := getLease(ctx, cp)
		if err != nil {
			return false, err
		}
		if h := ptr.Deref(lease.Spec.HolderIdentity, ""); h == "" || h == old || lease.Spec.AcquireTime == nil {
			return false, nil
		}
		took = lease.Spec.AcquireTime.Sub(killed)
		return true, nil
	})
	return took, err
}

// operatorWritesBetween counts the operator user's writes between two audit-log offsets.
func operatorWritesBetween(path string, from, to int64) (map[string]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return countOperatorWrites(bufio.NewReader(io.NewSectionReader(f, from, to-from)))
}

// withoutLeases drops the Lease renewals from counts.
func withoutLeases(counts map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range counts {
		if !strings.HasSuffix(k, " leases") {
			out[k] = v
		}
	}
	return out
}

// rollWatch plays the StatefulSet and Deployment controllers for a rollout on envtest: a group's
// template changed, haGroupRestart later its pods count as restarted and ready
// (testenv.MarkWorkloadsReady). It counts every template change per workload.
type rollWatch struct {
	ctx      context.Context
	cp       *controlPlane
	ca       cache.Cache
	clusters int
	mu       sync.Mutex
	// changes counts the template changes by "namespace/name" of the workload.
	changes map[string]int
	// groups holds, per group, the clusters ("namespace/cluster") whose workload changed.
	groups            map[string]map[string]bool
	firstGroupStarted chan struct{}
	err               error
}

// startRollWatch starts the informers on StatefulSets, Deployments and ImplyClusters.
func startRollWatch(ctx context.Context, cp *controlPlane, clusters int) (*rollWatch, error) {
	ca, err := cache.New(cp.cfg, cache.Options{Scheme: scheme})
	if err != nil {
		return nil, err
	}
	w := &rollWatch{
		ctx: ctx, cp: cp, ca: ca, clusters: clusters, changes: map[string]int{},
		groups: map[string]map[string]bool{}, firstGroupStarted: make(chan struct{}),
	}
	for _, obj := range []client.Object{&appsv1.StatefulSet{}, &appsv1.Deployment{}} {
		inf, err := ca.GetInformer(ctx, obj)
		if err != nil {
			return nil, err
		}
		if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{UpdateFunc: w.onUpdate}); err != nil {
			return nil, err
		}
	}
	if _, err := ca.GetInformer(ctx, &implyv1alpha1.ImplyCluster{}); err != nil {
		return nil, err
	}
	go func() { _ = ca.Start(ctx) }()
	if !ca.WaitForCacheSync(ctx) {
		return nil, errors.New("the HA scenario's informers did not sync")
	}
	return w, nil
}

// onUpdate counts a template change and schedules the group's simulated restart.
func (w *rollWatch) onUpdate(oldObj, newObj any) {
	var before, after *corev1.PodTemplateSpec
	var obj client.Object
	switch n := newObj.(type) {
	case *appsv1.StatefulSet:
		o, _ := oldObj.(*appsv1.StatefulSet)
		before, after, obj = &o.Spec.Template, &n.Spec.Template, n
	case *appsv1.Deployment:
		o, _ := oldObj.(*appsv1.Deployment)
		before, after, obj = &o.Spec.Template, &n.Spec.Template, n
	default:
		return
	}
	cluster, group := obj.GetLabels()[specs.LabelCluster], obj.GetLabels()[specs.LabelNodeGroup]
	if equality.Semantic.DeepEqual(before, after) {
		// A Deployment counts annotation changes (the operator emptying rollout-started) as
		// generations too; its controller observes them at once, restarting nothing.
		if old, ok := oldObj.(client.Object); ok && obj.GetGeneration() != old.GetGeneration() {
			go w.markReady(obj.GetNamespace(), cluster)
		}
		return
	}
	w.mu.Lock()
	w.changes[obj.GetNamespace()+"/"+obj.GetName()]++
	if w.groups[group] == nil {
		w.groups[group] = map[string]bool{}
	}
	w.groups[group][obj.GetNamespace()+"/"+cluster] = true
	if group == "data" && len(w.groups[group]) == w.clusters {
		select {
		case <-w.firstGroupStarted:
		default:
			close(w.firstGroupStarted)
		}
	}
	w.mu.Unlock()
	time.AfterFunc(haGroupRestart, func() { w.markReady(obj.GetNamespace(), cluster) })
}

// markReady marks the cluster's workloads rolled and ready, again on a conflict with the operator.
func (w *rollWatch) markReady(ns, cluster string) {
	var err error
	for try := 0; try < 20 && w.ctx.Err() == nil; try++ {
		if err = testenv.MarkWorkloadsReady(w.ctx, w.cp.c, ns, cluster); !apierrors.IsConflict(err) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil && w.ctx.Err() == nil {
		w.mu.Lock()
		if w.err == nil {
			w.err = fmt.Errorf("while marking %s/%s ready: %w", ns, cluster, err)
		}
		w.mu.Unlock()
	}
}

// failed is the first error of a simulated restart.
func (w *rollWatch) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// started is, per group, how many clusters' workload of it changed so far.
func (w *rollWatch) started() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]int{}
	for g, clusters := range w.groups {
		out[g] = len(clusters)
	}
	return out
}

// waitRolled waits until every cluster of keys is Ready and Idle with every workload on the
// restart value, observed and settled, and returns when it first saw that.
func (w *rollWatch) waitRolled(ctx context.Context, keys []types.NamespacedName, value string, timeout time.Duration) (time.Time, error) {
	var (
		at      time.Time
		pending []string // the clusters not done at the last look, for the error
	)
	err := poll(ctx, 100*time.Millisecond, timeout, fmt.Sprintf("%d clusters to finish their rollout", len(keys)), func() (bool, error) {
		pending = pending[:0]
		var clusters implyv1alpha1.ImplyClusterList
		var sets appsv1.StatefulSetList
		var deploys appsv1.DeploymentList
		for _, l := range []client.ObjectList{&clusters, &sets, &deploys} {
			if err := w.ca.List(ctx, l); err != nil {
				return false, err
			}
		}
		settled := map[string]int{}
		count := func(o client.Object, generation, observed int64, template *corev1.PodTemplateSpec) {
			if template.Annotations[specs.AnnotationRestart] == value && observed == generation &&
				o.GetAnnotations()["imply.operator.dev/rollout-started"] == "" {
				settled[o.GetNamespace()+"/"+o.GetLabels()[specs.LabelCluster]]++
			}
		}
		for i := range sets.Items {
			s := &sets.Items[i]
			count(s, s.Generation, s.Status.ObservedGeneration, &s.Spec.Template)
		}
		for i := range deploys.Items {
			d := &deploys.Items[i]
			count(d, d.Generation, d.Status.ObservedGeneration, &d.Spec.Template)
		}
		for i := range clusters.Items {
			c := &clusters.Items[i]
			idle := c.Status.Rollout != nil && c.Status.Rollout.Phase == implyv1alpha1.RolloutIdle
			if !idle || !meta.IsStatusConditionTrue(c.Status.Conditions, implyv1alpha1.ConditionReady) ||
				settled[c.Namespace+"/"+c.Name] != len(c.Spec.NodeGroups)+1 {
				pending = append(pending, pendingRollout(c, settled[c.Namespace+"/"+c.Name]))
			}
		}
		if len(pending) > 0 {
			return false, nil
		}
		at = time.Now()
		return len(clusters.Items) == len(keys), nil
	})
	if err != nil && len(pending) > 0 {
		err = fmt.Errorf("%w; %d not done, such as %s", err, len(pending), strings.Join(pending[:min(5, len(pending))], "; "))
	}
	return at, err
}

// pendingRollout says where a cluster's rollout is, for an error: its phase, Ready condition and
// how many of its workloads have settled on the restart.
func pendingRollout(c *implyv1alpha1.ImplyCluster, settled int) string {
	phase := "none"
	if r := c.Status.Rollout; r != nil {
		phase = fmt.Sprintf("%s (%s)", r.Phase, r.Reason)
	}
	ready := "absent"
	if cond := meta.FindStatusCondition(c.Status.Conditions, implyv1alpha1.ConditionReady); cond != nil {
		ready = fmt.Sprintf("%s %s: %s", cond.Status, cond.Reason, cond.Message)
	}
	return fmt.Sprintf("%s/%s: rollout %s, Ready %s, %d of %d workloads settled", c.Namespace, c.Name, phase, ready,
		settled, len(c.Spec.NodeGroups)+1)
}

// changeCounts returns how many workloads keys have, how many had their template changed exactly
// once, and the others as "namespace/name: changes".
func (w *rollWatch) changeCounts(keys []types.NamespacedName) (int, int, []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	workloads, once := 0, 0
	var other []string
	for _, k := range keys {
		names := []string{specs.ManagerName(k.Name)}
		for _, g := range []string{"data", "query", "master"} {
			names = append(names, k.Name+"-"+g)
		}
		for _, name := range names {
			workloads++
			key := k.Namespace + "/" + name
			if w.changes[key] == 1 {
				once++
			} else {
				other = append(other, fmt.Sprintf("%s: %d", key, w.changes[key]))
			}
		}
	}
	sort.Strings(other)
	return workloads, once, other
}

// reportHA prints the HA scenario's line.
func reportHA(w io.Writer, h *haResult, verdict func(bool) string) {
	if h == nil {
		return
	}
	ms := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	unneeded := 0
	for k, v := range h.LeaderWrites {
		if _, resource, _ := strings.Cut(k, " "); !haRolloutResources[resource] {
			unneeded += v
		}
	}
	fmt.Fprintf(w, "(HA) %d clusters, leader SIGKILLed mid-rollout (groups started %v; lease %s/%s/%s): standby holds the Lease after %s; target <= %s: %s\n",
		h.Clusters, h.AtKill, h.LeaseDuration, h.RenewDeadline, h.RetryPeriod, ms(h.Takeover), h.TakeoverBound, verdict(h.Takeover <= h.TakeoverBound))
	fmt.Fprintf(w, "(HA) rollout finished %s after the kill (%s after the restart was asked, %s per group simulated); %d of %d workloads' templates changed exactly once%s; target all: %s\n",
		ms(h.Completion), ms(h.Rollout), h.GroupRestart, h.ChangedOnce, h.Workloads, describeOther(h.Other), verdict(h.ChangedOnce == h.Workloads))
	fmt.Fprintf(w, "(HA) new leader's writes kill -> converged: %d (%s), %d outside the rollout's kinds; in %s after convergence: %d (%s); target 0 and 0: %s\n",
		total(h.LeaderWrites), describeCounts(h.LeaderWrites), unneeded, h.Quiet, total(h.QuietWrites), describeCounts(h.QuietWrites),
		verdict(unneeded == 0 && total(h.QuietWrites) == 0))
}

// describeOther prints the first workloads not changed exactly once.
func describeOther(other []string) string {
	if len(other) == 0 {
		return ""
	}
	if len(other) > 5 {
		other = append(other[:5:5], "...")
	}
	return " (others: " + strings.Join(other, ", ") + ")"
}
