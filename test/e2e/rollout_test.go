package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// podState is what the recorder knows of one pod.
type podState struct {
	name, group string
	ready       bool
	terminating bool
}

// podRecorder watches the pods of one cluster and keeps, from every change, the order in which
// node groups (and the manager) were disrupted: a group is disrupted while one of its pods is
// not ready or terminating, or it has fewer pods than replicas.
type podRecorder struct {
	ns       string
	mu       sync.Mutex
	replicas map[string]int
	pods     map[string]podState // by UID
	// started holds the revisions (controller-revision-hash, pod-template-hash) of the pods
	// created per pod name after the recorder started; the manager's pods count under "manager".
	started map[string]map[string]bool
	// created lists every pod created after the recorder started: name, revision, time.
	created []string
	// sequence lists the groups in the order they became disrupted.
	sequence []string
	// overlaps records every moment two groups were disrupted at once.
	overlaps []string
	// disrupted is the group disrupted now, if any.
	disrupted string
	onGroup   func(sequence []string)
}

// recordPods lists the cluster's pods, then watches them until ctx ends.
func recordPods(ctx context.Context, ns string, replicas map[string]int, onGroup func([]string)) *podRecorder {
	r := &podRecorder{ns: ns, replicas: replicas, pods: map[string]podState{}, started: map[string]map[string]bool{}, onGroup: onGroup}
	wc, err := client.NewWithWatch(sim.Config, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	var pods corev1.PodList
	Expect(wc.List(ctx, &pods, client.InNamespace(ns))).To(Succeed())
	for i := range pods.Items {
		r.observe(watch.Added, &pods.Items[i], false)
	}
	rv := pods.ResourceVersion
	go func() {
		defer GinkgoRecover()
		for ctx.Err() == nil {
			w, err := wc.Watch(ctx, &corev1.PodList{}, client.InNamespace(ns), &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv}})
			if err != nil {
				return
			}
			for ev := range w.ResultChan() {
				pod, ok := ev.Object.(*corev1.Pod)
				if !ok {
					continue
				}
				rv = pod.ResourceVersion
				r.observe(ev.Type, pod, true)
			}
			w.Stop()
		}
	}()
	return r
}

// observe applies one pod change.
func (r *podRecorder) observe(t watch.EventType, pod *corev1.Pod, live bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	group := pod.Labels[specs.LabelNodeGroup]
	if _, ok := r.replicas[group]; !ok {
		return
	}
	uid := string(pod.UID)
	if _, seen := r.pods[uid]; !seen && live && t != watch.Deleted {
		key := pod.Name
		if group == specs.ComponentManager {
			key = specs.ComponentManager
		}
		if r.started[key] == nil {
			r.started[key] = map[string]bool{}
		}
		r.started[key][pod.Labels["controller-revision-hash"]+pod.Labels["pod-template-hash"]] = true
		r.created = append(r.created, fmt.Sprintf("%s %s %s", time.Now().Format("15:04:05.000"), pod.Name,
			pod.Labels["controller-revision-hash"]+pod.Labels["pod-template-hash"]))
	}
	if t == watch.Deleted {
		delete(r.pods, uid)
	} else {
		r.pods[uid] = podState{name: pod.Name, group: group, ready: podReady(pod), terminating: pod.DeletionTimestamp != nil}
	}
	if !live {
		return // the initial list: judge the cluster from the first change on
	}
	var now []string
	for g, want := range r.replicas {
		count, calm := 0, true
		for _, p := range r.pods {
			if p.group != g {
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
	if len(now) > 1 {
		r.overlaps = append(r.overlaps, fmt.Sprintf("%v after %s %s", now, t, pod.Name))
	}
	if len(now) == 1 && now[0] != r.disrupted {
		r.sequence = append(r.sequence, now[0])
		if r.onGroup != nil {
			go r.onGroup(append([]string(nil), r.sequence...))
		}
	}
	if len(now) == 1 {
		r.disrupted = now[0]
	}
}

// result returns the sequence of disrupted groups (consecutive repeats folded), the overlaps,
// and how many revisions the pods of each pod name were created with.
func (r *podRecorder) result() ([]string, []string, map[string]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	started := map[string]int{}
	for k, v := range r.started {
		started[k] = len(v)
	}
	return append([]string(nil), r.sequence...), append([]string(nil), r.overlaps...), started
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// createDefaultCluster creates a namespace named from prefix, the Secrets a cluster references,
// and the default 3-group TLS cluster "c" in it.
func createDefaultCluster(prefix string) *implyv1alpha1.ImplyCluster {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix}}
	ExpectWithOffset(1, k8sClient.Create(testCtx, ns)).To(Succeed())
	for _, s := range testobj.Secrets(ns.Name) {
		ExpectWithOffset(1, k8sClient.Create(testCtx, s)).To(Succeed())
	}
	c := testobj.ImplyCluster("c", ns.Name)
	ExpectWithOffset(1, k8sClient.Create(testCtx, c)).To(Succeed())
	return c
}

// readyTLSCluster creates the default 3-group TLS cluster in a new namespace and waits until it
// is Ready with every pod Running and Ready.
func readyTLSCluster() *implyv1alpha1.ImplyCluster {
	c := createDefaultCluster("e2e-roll-")
	waitReadyAndIdle(c, "")
	var pods corev1.PodList
	Expect(k8sClient.List(testCtx, &pods, client.InNamespace(c.Namespace), client.MatchingLabels{specs.LabelCluster: "c"})).To(Succeed())
	Expect(pods.Items).To(HaveLen(5))
	for _, p := range pods.Items {
		Expect(p.Status.Phase).To(Equal(corev1.PodRunning), p.Name)
		Expect(podReady(&p)).To(BeTrue(), p.Name)
		// kwok marks a running pod Ready without running its probes: the rollouts below are
		// gated by the Druid-aware probes the pods carry, as simulated passes.
		component := p.Labels[specs.LabelComponent]
		if component == specs.ComponentManager {
			continue
		}
		agent := p.Spec.Containers[0]
		Expect(agent.ReadinessProbe.HTTPGet).NotTo(BeNil(), p.Name)
		Expect(agent.ReadinessProbe.HTTPGet.Scheme).To(Equal(corev1.URISchemeHTTPS), p.Name)
		Expect(agent.ReadinessProbe.HTTPGet.Path).To(Equal(specs.ReadinessPath(implyv1alpha1.NodeGroupType(component))), p.Name)
		Expect(agent.StartupProbe.HTTPGet.Path).To(Equal(specs.HealthPath), p.Name)
	}
	Expect(specs.TLSEnabled(c)).To(BeTrue(), "TLS is on by default")
	return c
}

// waitReadyAndIdle waits until the cluster is Ready, its rollout Idle, and the CA rotation asked
// for with the rotate-ca value requested ("" for none) has started and completed.
func waitReadyAndIdle(c *implyv1alpha1.ImplyCluster, requested string) {
	EventuallyWithOffset(1, func(g Gomega) {
		g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(c), c)).To(Succeed())
		ready := meta.FindStatusCondition(c.Status.Conditions, implyv1alpha1.ConditionReady)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Status).To(Equal(metav1.ConditionTrue), ready.Message)
		g.Expect(c.Status.Rollout).NotTo(BeNil())
		g.Expect(c.Status.Rollout.Phase).To(Equal(implyv1alpha1.RolloutIdle))
		var ca corev1.Secret
		g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: c.Namespace, Name: specs.CASecretName(c.Name)}, &ca)).To(Succeed())
		g.Expect(ca.Annotations["imply.operator.dev/ca-rotation-requested"]).To(Equal(requested))
		var bundle corev1.ConfigMap
		g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: c.Namespace, Name: specs.CABundleName(c.Name)}, &bundle)).To(Succeed())
		g.Expect(bundle.Annotations["imply.operator.dev/ca-rotation-phase"]).To(BeEmpty())
	}).WithTimeout(3 * time.Minute).WithPolling(250 * time.Millisecond).Should(Succeed())
}

// rotateCA asks for a CA rotation.
func rotateCA(c *implyv1alpha1.ImplyCluster, value string) {
	patch := client.MergeFrom(c.DeepCopy())
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[implyv1alpha1.AnnotationRotateCA] = value
	ExpectWithOffset(1, k8sClient.Patch(testCtx, c, patch)).To(Succeed())
}

// threePhases is the order in which a CA rotation disrupts the groups: each of its three phases
// rolls data, query, master, then the manager.
var threePhases = strings.Split(strings.Repeat("data query master manager ", 3), " ")[:12]

// expectRotationRolled checks what the recorder saw of a whole rotation.
func expectRotationRolled(rec *podRecorder) {
	sequence, overlaps, started := rec.result()
	ExpectWithOffset(1, overlaps).To(BeEmpty(), "two groups were disrupted at once")
	ExpectWithOffset(1, sequence).To(Equal(threePhases), "groups must roll in Druid's order, one at a time, phase after phase")
	ExpectWithOffset(1, started).To(Equal(map[string]int{
		"c-data-0": 3, "c-data-1": 3, "c-query-0": 3, "c-master-0": 3, "manager": 3,
	}), "every pod runs each phase's template once (a pod the StatefulSet controller recreates at the same revision is not "+
		"a restart the operator made); pods created:\n%s\nevents:\n%s", strings.Join(rec.created, "\n"), workloadEvents(rec.ns))
}

var replicasOfDefault = map[string]int{"data": 2, "query": 1, "master": 1, "manager": 1}

var _ = Describe("Rolling restarts on a simulated cluster", func() {
	It("rotates the CA in three phases, each rolling data, query, master, then the manager, one group at a time", func() {
		c := readyTLSCluster()
		ctx, cancel := context.WithCancel(testCtx)
		defer cancel()
		rec := recordPods(ctx, c.Namespace, replicasOfDefault, nil)

		rotateCA(c, "e2e-1")
		waitReadyAndIdle(c, "e2e-1")
		expectRotationRolled(rec)
	})

	It("finishes a rotation after the operator is killed mid-rollout, repeating and skipping no group", func() {
		c := readyTLSCluster()
		ctx, cancel := context.WithCancel(testCtx)
		defer cancel()
		killed := make(chan []string, 1)
		var once sync.Once
		rec := recordPods(ctx, c.Namespace, replicasOfDefault, func(sequence []string) {
			// The query group of phase 2 has just started to roll.
			if len(sequence) == 6 {
				once.Do(func() {
					defer GinkgoRecover()
					Expect(op.stop(syscall.SIGKILL)).To(Succeed())
					killed <- sequence
				})
			}
		})

		rotateCA(c, "e2e-kill")
		var atKill []string
		Eventually(killed).WithTimeout(3 * time.Minute).Should(Receive(&atKill))
		Expect(atKill).To(Equal(threePhases[:6]))
		By("restarting the operator while query rolls")
		Expect(op.start()).To(Succeed())
		waitReadyAndIdle(c, "e2e-kill")
		expectRotationRolled(rec)
	})
})

// workloadEvents lists the events of the workload controllers in ns, for failure messages.
func workloadEvents(ns string) string {
	var list corev1.EventList
	if err := k8sClient.List(testCtx, &list, client.InNamespace(ns)); err != nil {
		return err.Error()
	}
	var out []string
	for _, e := range list.Items {
		if e.InvolvedObject.Kind == "ImplyCluster" {
			continue
		}
		out = append(out, fmt.Sprintf("%s %s/%s %s: %s (x%d)", e.LastTimestamp.Format("15:04:05"), e.InvolvedObject.Kind,
			e.InvolvedObject.Name, e.Reason, e.Message, e.Count))
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}
