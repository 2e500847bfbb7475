package testsuite

import (
	"strings"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/test/testenv"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// Settle is how long the suite waits for the operator to act.
const Settle = 30 * time.Second

// NewNamespace creates a namespace for one spec.
func NewNamespace(prefix string) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}
	Expect(K8sClient.Create(Ctx, ns)).To(Succeed())
	return ns.Name
}

// CreateSecrets creates the Secrets a default test cluster references.
func CreateSecrets(ns string) {
	for _, s := range testobj.Secrets(ns) {
		Expect(K8sClient.Create(Ctx, s)).To(Succeed())
	}
}

// Condition returns the cluster's Condition of the given type, re-read from the apiserver;
// g fails while the cluster has no such condition yet.
func Condition(g Gomega, c *implyv1alpha1.ImplyCluster, condType string) *metav1.Condition {
	g.Expect(K8sClient.Get(Ctx, client.ObjectKeyFromObject(c), c)).To(Succeed())
	cond := meta.FindStatusCondition(c.Status.Conditions, condType)
	g.Expect(cond).NotTo(BeNil(), "the cluster has no %s condition yet", condType)
	return cond
}

// WarningEvents lists the Warning events about the cluster with the given reason.
func WarningEvents(c *implyv1alpha1.ImplyCluster, reason string) []eventsv1.Event {
	return EventsOf(c, corev1.EventTypeWarning, reason)
}

// NormalEvents lists the Normal events about the cluster with the given reason.
func NormalEvents(c *implyv1alpha1.ImplyCluster, reason string) []eventsv1.Event {
	return EventsOf(c, corev1.EventTypeNormal, reason)
}

// EventsOf lists the events of a type and reason about the cluster.
func EventsOf(c *implyv1alpha1.ImplyCluster, eventType, reason string) []eventsv1.Event {
	var list eventsv1.EventList
	Expect(K8sClient.List(Ctx, &list, client.InNamespace(c.Namespace))).To(Succeed())
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Name == c.Name && e.Regarding.Kind == "ImplyCluster" && e.Type == eventType && e.Reason == reason {
			out = append(out, e)
		}
	}
	return out
}

// WaitQuiet waits until the operator has made no write to namespace ns for a second.
func WaitQuiet(ns string) {
	Eventually(func() []string {
		m := OperatorWrites.Mark()
		time.Sleep(time.Second)
		return NonEventWrites(OperatorWrites.Since(m), ns)
	}).WithTimeout(Settle).Should(BeEmpty())
}

// NonEventWrites keeps the writes to objects of namespace ns other than Events.
func NonEventWrites(writes []string, ns string) []string {
	var out []string
	for _, w := range writes {
		if strings.Contains(w, "/namespaces/"+ns+"/") && !strings.Contains(w, "/events") {
			out = append(out, w)
		}
	}
	return out
}

// MarkWorkloadsReady writes the status the StatefulSet and Deployment controllers would write
// once every pod of c is updated and ready.
// The operator writes to them too (rollout annotations), so a conflict is retried.
func MarkWorkloadsReady(c *implyv1alpha1.ImplyCluster) {
	EventuallyWithOffset(1, func() error {
		return testenv.MarkWorkloadsReady(Ctx, K8sClient, c.Namespace, c.Name)
	}).WithTimeout(Settle).Should(Succeed())
}

// GetSecret reads a Secret of namespace ns from the apiserver.
func GetSecret(ns, name string) *corev1.Secret {
	var s corev1.Secret
	ExpectWithOffset(1, K8sClient.Get(Ctx, client.ObjectKey{Namespace: ns, Name: name}, &s)).To(Succeed())
	return &s
}

// RolloutOrder is the order in which the default test cluster rolls: Druid's upgrade order.
var RolloutOrder = []string{"data", "query", "master", "manager"}

// Workload reads the StatefulSet of a group of cluster "c", or its manager Deployment.
func Workload(ns, step string) client.Object {
	var obj client.Object = &appsv1.StatefulSet{}
	if step == "manager" {
		obj = &appsv1.Deployment{}
	}
	ExpectWithOffset(2, K8sClient.Get(Ctx, client.ObjectKey{Namespace: ns, Name: "c-" + step}, obj)).To(Succeed())
	return obj
}

// ReadyCluster creates cluster "c" in a new namespace with opts, marks its workloads ready and
// waits until the operator is quiet.
func ReadyCluster(prefix string, opts ...testobj.ClusterOption) *implyv1alpha1.ImplyCluster {
	ns := NewNamespace(prefix)
	CreateSecrets(ns)
	c := testobj.ImplyCluster("c", ns, opts...)
	ExpectWithOffset(1, K8sClient.Create(Ctx, c)).To(Succeed())
	EventuallyWithOffset(1, func(g Gomega) {
		for _, step := range RolloutOrder {
			var obj client.Object = &appsv1.StatefulSet{}
			if step == "manager" {
				obj = &appsv1.Deployment{}
			}
			g.Expect(K8sClient.Get(Ctx, client.ObjectKey{Namespace: ns, Name: "c-" + step}, obj)).To(Succeed())
		}
	}).WithTimeout(Settle).Should(Succeed())
	MarkWorkloadsReady(c)
	EventuallyWithOffset(1, func(g Gomega) {
		g.Expect(Condition(g, c, implyv1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
	}).WithTimeout(Settle).Should(Succeed())
	WaitQuiet(ns)
	return c
}
