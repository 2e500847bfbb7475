package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/test/simcluster"
	"github.com/imply-operator/imply-operator/test/testenv"
)

// leaseName is the operator's leader-election Lease (LeaderElectionID in main.go).
const leaseName = "imply-operator.imply.operator.dev"

// jitterFactor is client-go's leaderelection.JitterFactor: a standby tries to take the Lease
// every retry period to (1 + jitterFactor) retry periods.
const jitterFactor = 1.2

// leaseTimings are the leader-election flags of a pair of replicas.
type leaseTimings struct{ lease, renew, retry time.Duration }

func (t leaseTimings) args() []string {
	return []string{
		"--leader-elect-lease-duration=" + t.lease.String(),
		"--leader-elect-renew-deadline=" + t.renew.String(),
		"--leader-elect-retry-period=" + t.retry.String(),
	}
}

// maxTry is the longest a standby waits between two tries.
func (t leaseTimings) maxTry() time.Duration {
	return time.Duration((1 + jitterFactor) * float64(t.retry))
}

// replica is one operator process of an HA pair, with a plain-HTTP metrics endpoint.
type replica struct {
	*operator
	name, metricsURL string
}

// startReplicas starts two operator processes electing a leader through the Lease in ns, each
// with its own log; they are stopped with SIGTERM when the spec ends.
func startReplicas(ns string, timings leaseTimings) []*replica {
	var pair []*replica
	for _, name := range []string{"a", "b"} {
		port, err := simcluster.FreePort()
		Expect(err).NotTo(HaveOccurred())
		r := &replica{name: name, metricsURL: fmt.Sprintf("http://127.0.0.1:%d/metrics", port), operator: &operator{
			binary: op.binary, kubeconfig: op.kubeconfig,
			logPath: filepath.Join(filepath.Dir(op.logPath), fmt.Sprintf("operator-ha-%s-%d.log", name, time.Now().UnixNano())),
			args: append([]string{"--leader-elect", "--leader-election-namespace=" + ns,
				fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", port), "--metrics-secure=false"}, timings.args()...),
		}}
		Expect(r.start()).To(Succeed())
		pair = append(pair, r)
	}
	DeferCleanup(func() {
		for _, r := range pair {
			if CurrentSpecReport().Failed() {
				GinkgoWriter.Printf("replica %s log (last lines):\n%s\n", r.name, r.logTail(60))
			}
			_ = r.stop(syscall.SIGTERM)
		}
	})
	return pair
}

// metric sums the samples of name whose labels contain label in the replica's metrics; ok is
// false when the replica did not answer.
func (r *replica) metric(name, label string) (float64, bool) {
	code, body, err := testenv.HTTPGet(r.metricsURL)
	if err != nil || code != 200 {
		return 0, false
	}
	var sum float64
	for _, line := range strings.Split(body, "\n") {
		series, value, found := strings.Cut(line, " ")
		if !found || !strings.HasPrefix(series, name) || !strings.Contains(series, label) {
			continue
		}
		if rest := strings.TrimPrefix(series, name); rest != "" && rest[0] != '{' {
			continue
		}
		var v float64
		if _, err := fmt.Sscan(value, &v); err == nil {
			sum += v
		}
	}
	return sum, true
}

// leading reports whether the replica says it holds the Lease.
func (r *replica) leading() bool {
	v, ok := r.metric("leader_election_master_status", `name="`+leaseName+`"`)
	return ok && v == 1
}

// ready reports whether the replica's readiness probe passes.
func (r *replica) ready() bool {
	code, _, err := testenv.HTTPGet(r.probeURL + "/readyz")
	return err == nil && code == 200
}

// getLease reads the Lease in ns.
func getLease(g Gomega, ns string) *coordinationv1.Lease {
	var lease coordinationv1.Lease
	g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: leaseName}, &lease)).To(Succeed())
	return &lease
}

// electedPair waits until one replica of pair holds the Lease and the other stands by, Ready,
// reconciling nothing; it returns the leader, the standby and the Lease's holder.
func electedPair(ns string, pair []*replica) (leader, standby *replica, holder string) {
	EventuallyWithOffset(1, func(g Gomega) {
		lease := getLease(g, ns)
		holder = ptr.Deref(lease.Spec.HolderIdentity, "")
		g.Expect(holder).NotTo(BeEmpty())
		a, b := pair[0].leading(), pair[1].leading()
		g.Expect(a != b).To(BeTrue(), "exactly one replica leads (a %v, b %v)", a, b)
		leader, standby = pair[0], pair[1]
		if b {
			leader, standby = pair[1], pair[0]
		}
		g.Expect(standby.ready()).To(BeTrue(), "the standby is Ready")
		reconciles, ok := standby.metric("controller_runtime_reconcile_total", "")
		g.Expect(ok).To(BeTrue())
		g.Expect(reconciles).To(BeZero(), "the standby reconciles nothing")
	}).WithTimeout(time.Minute).WithPolling(200 * time.Millisecond).Should(Succeed())
	return leader, standby, holder
}

// waitTakeover waits until another holder than old has the Lease in ns and returns the Lease.
func waitTakeover(ns, old string, within time.Duration) *coordinationv1.Lease {
	var lease *coordinationv1.Lease
	EventuallyWithOffset(1, func(g Gomega) {
		lease = getLease(g, ns)
		g.Expect(ptr.Deref(lease.Spec.HolderIdentity, "")).NotTo(BeElementOf(old, ""))
	}).WithTimeout(within).WithPolling(100*time.Millisecond).Should(Succeed(), "no replica took the Lease from %s", old)
	return lease
}

// restartCluster asks for a rolling restart of every group.
func restartCluster(c *implyv1alpha1.ImplyCluster, value string) {
	patch := client.MergeFrom(c.DeepCopy())
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[implyv1alpha1.AnnotationRestart] = value
	ExpectWithOffset(1, k8sClient.Patch(testCtx, c, patch)).To(Succeed())
}

// waitSettled waits until the cluster is Ready and Idle, every workload has observed its spec
// with no rollout under way, and every pod runs Ready.
func waitSettled(c *implyv1alpha1.ImplyCluster) {
	waitReadyAndIdle(c, "")
	EventuallyWithOffset(1, func(g Gomega) {
		var sets appsv1.StatefulSetList
		g.Expect(k8sClient.List(testCtx, &sets, client.InNamespace(c.Namespace))).To(Succeed())
		var deploys appsv1.DeploymentList
		g.Expect(k8sClient.List(testCtx, &deploys, client.InNamespace(c.Namespace))).To(Succeed())
		var objs []client.Object
		for i := range sets.Items {
			s := &sets.Items[i]
			g.Expect(s.Status.ObservedGeneration).To(Equal(s.Generation), s.Name)
			g.Expect(s.Status.UpdateRevision).To(Equal(s.Status.CurrentRevision), s.Name)
			objs = append(objs, s)
		}
		for i := range deploys.Items {
			d := &deploys.Items[i]
			g.Expect(d.Status.ObservedGeneration).To(Equal(d.Generation), d.Name)
			objs = append(objs, d)
		}
		for _, o := range objs {
			g.Expect(o.GetAnnotations()["imply.operator.dev/rollout-started"]).To(BeEmpty(), o.GetName())
		}
		var pods corev1.PodList
		g.Expect(k8sClient.List(testCtx, &pods, client.InNamespace(c.Namespace))).To(Succeed())
		g.Expect(pods.Items).To(HaveLen(5))
		for i := range pods.Items {
			g.Expect(podReady(&pods.Items[i]) && pods.Items[i].DeletionTimestamp == nil).To(BeTrue(), pods.Items[i].Name)
		}
	}).WithTimeout(time.Minute).WithPolling(250 * time.Millisecond).Should(Succeed())
}

// versions maps every object the operator writes in ns (and the ImplyCluster) to its
// resourceVersion.
func versions(g Gomega, ns string) map[string]string {
	out := map[string]string{}
	lists := map[string]client.ObjectList{
		"ImplyCluster": &implyv1alpha1.ImplyClusterList{}, "Secret": &corev1.SecretList{}, "ConfigMap": &corev1.ConfigMapList{},
		"Service": &corev1.ServiceList{}, "StatefulSet": &appsv1.StatefulSetList{}, "Deployment": &appsv1.DeploymentList{},
		"PodDisruptionBudget": &policyv1.PodDisruptionBudgetList{},
	}
	for kind, list := range lists {
		g.Expect(k8sClient.List(testCtx, list, client.InNamespace(ns))).To(Succeed())
		items, err := meta.ExtractList(list)
		g.Expect(err).NotTo(HaveOccurred())
		for _, item := range items {
			o, err := meta.Accessor(item)
			g.Expect(err).NotTo(HaveOccurred())
			out[kind+"/"+o.GetName()] = o.GetResourceVersion()
		}
	}
	return out
}

// changed lists the keys whose versions differ between before and after.
func changed(before, after map[string]string) []string {
	var out []string
	for k, v := range after {
		if before[k] != v {
			out = append(out, k)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			out = append(out, k+" (deleted)")
		}
	}
	sort.Strings(out)
	return out
}

var _ = Describe("Two operator replicas with leader election", func() {
	var leaseNS string

	BeforeEach(func() {
		// The suite's operator runs without leader election: it steps aside for the pair.
		Expect(op.stop(syscall.SIGTERM)).To(Succeed())
		DeferCleanup(func() { Expect(op.start()).To(Succeed()) })
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "e2e-ha-lease-"}}
		Expect(k8sClient.Create(testCtx, ns)).To(Succeed())
		leaseNS = ns.Name
	})

	It("hands over to the standby within the lease duration when the leader is SIGKILLed mid-rollout; "+
		"the rollout finishes restarting each pod once, and the new leader then writes nothing", func() {
		timings := leaseTimings{lease: 4 * time.Second, renew: 3 * time.Second, retry: time.Second}
		leader, standby, holder := electedPair(leaseNS, startReplicas(leaseNS, timings))
		transitions := ptr.Deref(getLease(Default, leaseNS).Spec.LeaseTransitions, 0)

		c := readyTLSCluster()
		ctx, cancel := context.WithCancel(testCtx)
		defer cancel()
		type kill struct {
			sequence []string
			at       time.Time
		}
		killed := make(chan kill, 1)
		var once sync.Once
		rec := recordPods(ctx, c.Namespace, replicasOfDefault, func(sequence []string) {
			// data has rolled and query has just started: two groups are left after it.
			if len(sequence) == 2 {
				once.Do(func() {
					defer GinkgoRecover()
					at := time.Now()
					Expect(leader.stop(syscall.SIGKILL)).To(Succeed())
					killed <- kill{sequence, at}
				})
			}
		})

		restartCluster(c, "e2e-ha")
		var k kill
		Eventually(killed).WithTimeout(3 * time.Minute).Should(Receive(&k))
		Expect(k.sequence).To(Equal([]string{"data", "query"}))

		By("the standby takes the Lease once it expires")
		bound := timings.lease + 2*timings.maxTry() + time.Second
		lease := waitTakeover(leaseNS, holder, bound+5*time.Second)
		Expect(lease.Spec.AcquireTime).NotTo(BeNil())
		takeover := lease.Spec.AcquireTime.Sub(k.at)
		GinkgoWriter.Printf("SIGKILL -> standby holds the Lease: %s (bound %s)\n", takeover.Round(time.Millisecond), bound)
		// Not before the killed leader's last renewal (at most a retry period before the kill)
		// expired: a SIGKILLed process releases nothing.
		Expect(takeover).To(BeNumerically(">=", timings.lease-timings.retry-time.Second))
		// The standby saw that renewal at most one try late, and tries again at most one try
		// after the lease ran out.
		Expect(takeover).To(BeNumerically("<=", bound))
		Expect(ptr.Deref(lease.Spec.LeaseTransitions, 0)).To(Equal(transitions + 1))
		Eventually(standby.leading).WithTimeout(5 * time.Second).Should(BeTrue())

		By("the new leader finishes the rollout, restarting each pod once")
		waitSettled(c)
		Eventually(func() []string { s, _, _ := rec.result(); return s }).WithTimeout(30 * time.Second).
			Should(Equal([]string{"data", "query", "master", "manager"}))
		_, overlaps, started := rec.result()
		Expect(overlaps).To(BeEmpty(), "two groups were disrupted at once")
		Expect(started).To(Equal(map[string]int{"c-data-0": 1, "c-data-1": 1, "c-query-0": 1, "c-master-0": 1, "manager": 1}),
			"every pod restarted once; pods created:\n%s\nevents:\n%s", strings.Join(rec.created, "\n"), workloadEvents(c.Namespace))

		By("the new leader serves the cluster's series at /metrics, after the registry's")
		Eventually(func() float64 {
			v, _ := standby.metric("imply_operator_cluster_condition",
				fmt.Sprintf(`{cluster=%q,namespace=%q,status="True",type="Ready"}`, c.Name, c.Namespace))
			return v
		}).WithTimeout(10 * time.Second).Should(Equal(1.0))
		phase, _ := standby.metric("imply_operator_rollout_phase", fmt.Sprintf(`{cluster=%q,namespace=%q,phase="Idle"}`, c.Name, c.Namespace))
		Expect(phase).To(Equal(1.0))

		By("the converged cluster is left alone")
		before := versions(Default, c.Namespace)
		Consistently(func(g Gomega) {
			g.Expect(changed(before, versions(g, c.Namespace))).To(BeEmpty(), "written after convergence")
		}).WithTimeout(10 * time.Second).WithPolling(500 * time.Millisecond).Should(Succeed())
		Expect(standby.leading()).To(BeTrue(), "the new leader kept the Lease")
	})

	It("releases the Lease on SIGTERM, so the standby takes over at its next try rather than after the lease duration", func() {
		timings := leaseTimings{lease: 15 * time.Second, renew: 10 * time.Second, retry: time.Second}
		leader, standby, holder := electedPair(leaseNS, startReplicas(leaseNS, timings))

		signalled := time.Now()
		Expect(leader.stop(syscall.SIGTERM)).To(Succeed())
		exited := time.Now()
		lease := waitTakeover(leaseNS, holder, timings.lease+2*timings.maxTry()+5*time.Second)
		Expect(lease.Spec.AcquireTime).NotTo(BeNil())
		GinkgoWriter.Printf("SIGTERM -> leader exited: %s; -> standby holds the Lease: %s\n", exited.Sub(signalled).Round(time.Millisecond),
			lease.Spec.AcquireTime.Sub(signalled).Round(time.Millisecond))
		// Without the release the standby would wait the lease duration after the last renewal,
		// at most a retry period before the signal.
		Expect(lease.Spec.AcquireTime.Sub(signalled)).To(BeNumerically("<", timings.lease-timings.retry-time.Second))
		// With it, the standby takes the released Lease at its next try.
		Expect(lease.Spec.AcquireTime.Sub(exited)).To(BeNumerically("<=", timings.maxTry()+time.Second))
		Eventually(standby.leading).WithTimeout(5 * time.Second).Should(BeTrue())
	})
})
