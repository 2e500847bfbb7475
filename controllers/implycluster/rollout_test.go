package implycluster

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/rollout"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// templateAnnotations reads a pod-template annotation of every step of cluster "c".
func templateAnnotations(ns, key string) map[string]string {
	out := map[string]string{}
	for _, step := range rolloutOrder {
		out[step] = podTemplate(workload(ns, step)).Annotations[key]
	}
	return out
}

// markStepReady marks one step's workload (a group's StatefulSet, or the manager's Deployment)
// updated and ready at its current generation, as its controller would once its pods rolled.
func markStepReady(c *implyv1alpha1.ImplyCluster, step string) {
	EventuallyWithOffset(1, func() error {
		obj := workload(c.Namespace, step)
		switch w := obj.(type) {
		case *appsv1.StatefulSet:
			n := ptr.Deref(w.Spec.Replicas, 1)
			rev := fmt.Sprintf("%s-%d", w.Name, w.Generation)
			w.Status = appsv1.StatefulSetStatus{ObservedGeneration: w.Generation, Replicas: n, ReadyReplicas: n, CurrentReplicas: n,
				UpdatedReplicas: n, AvailableReplicas: n, CurrentRevision: rev, UpdateRevision: rev}
		case *appsv1.Deployment:
			n := ptr.Deref(w.Spec.Replicas, 1)
			w.Status = appsv1.DeploymentStatus{ObservedGeneration: w.Generation, Replicas: n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n}
		}
		return k8sClient.Status().Update(testCtx, obj)
	}).WithTimeout(settle).Should(Succeed())
}

// expectRollInOrder expects the pod-template annotation key of every step to change from before,
// one step at a time in Druid's order: each step changes only after the previous was marked
// ready, and no later step has changed when it does. during runs once each step has changed,
// before it is marked ready. It returns the new values.
func expectRollInOrder(c *implyv1alpha1.ImplyCluster, key string, before map[string]string, during func(step string)) map[string]string {
	return expectStepsInOrder(c, func() map[string]string { return templateAnnotations(c.Namespace, key) }, before, during)
}

// expectStepsInOrder is expectRollInOrder for any value read from the steps' pod templates.
func expectStepsInOrder(c *implyv1alpha1.ImplyCluster, read func() map[string]string, before map[string]string, during func(step string)) map[string]string {
	now := map[string]string{}
	for i, step := range rolloutOrder {
		EventuallyWithOffset(2, func() string { return read()[step] }).
			WithTimeout(settle).ShouldNot(Equal(before[step]), "%s did not roll", step)
		current := read()
		for _, later := range rolloutOrder[i+1:] {
			ExpectWithOffset(2, current[later]).To(Equal(before[later]), "%s rolled together with %s", later, step)
		}
		now[step] = current[step]
		if during != nil {
			during(step)
		}
		markStepReady(c, step)
	}
	// Once the manager has settled the operator empties its rollout-started annotation, which
	// bumps the Deployment's generation (Deployments count annotation changes); its controller
	// would observe that generation at once.
	EventuallyWithOffset(2, func() string {
		return workload(c.Namespace, "manager").GetAnnotations()[annotationRolloutStarted]
	}).WithTimeout(settle).Should(BeEmpty())
	markStepReady(c, "manager")
	return now
}

// rolloutStatus re-reads the cluster's status.rollout.
func rolloutStatus(g Gomega, c *implyv1alpha1.ImplyCluster) implyv1alpha1.RolloutStatus {
	g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(c), c)).To(Succeed())
	g.Expect(c.Status.Rollout).NotTo(BeNil())
	return *c.Status.Rollout
}

// poke changes an unrelated annotation, so the operator reconciles after the test moved its clock.
func poke(c *implyv1alpha1.ImplyCluster) {
	EventuallyWithOffset(1, func() error {
		var live implyv1alpha1.ImplyCluster
		if err := k8sClient.Get(testCtx, client.ObjectKeyFromObject(c), &live); err != nil {
			return err
		}
		patch := client.MergeFrom(live.DeepCopy())
		if live.Annotations == nil {
			live.Annotations = map[string]string{}
		}
		live.Annotations["test/poke"] = fmt.Sprint(time.Now().UnixNano())
		return k8sClient.Patch(testCtx, &live, patch)
	}).WithTimeout(settle).Should(Succeed())
}

// annotate sets an annotation of the cluster.
func annotate(c *implyv1alpha1.ImplyCluster, key, value string) {
	var live implyv1alpha1.ImplyCluster
	ExpectWithOffset(1, k8sClient.Get(testCtx, client.ObjectKeyFromObject(c), &live)).To(Succeed())
	patch := client.MergeFrom(live.DeepCopy())
	if live.Annotations == nil {
		live.Annotations = map[string]string{}
	}
	live.Annotations[key] = value
	ExpectWithOffset(1, k8sClient.Patch(testCtx, &live, patch)).To(Succeed())
}

// withWindow adds a maintenance window to the cluster's spec.rollout.
func withWindow(schedule string, duration time.Duration) testobj.ClusterOption {
	return func(c *implyv1alpha1.ImplyCluster) {
		if c.Spec.Rollout == nil {
			c.Spec.Rollout = &implyv1alpha1.RolloutSpec{}
		}
		c.Spec.Rollout.MaintenanceWindows = append(c.Spec.Rollout.MaintenanceWindows,
			implyv1alpha1.MaintenanceWindow{Schedule: schedule, Duration: metav1.Duration{Duration: duration}})
	}
}

// rolloutEventNotes lists the rollout events about c as "reason: note", for failure messages.
func rolloutEventNotes(c *implyv1alpha1.ImplyCluster) []string {
	var list eventsv1.EventList
	Expect(k8sClient.List(testCtx, &list, client.InNamespace(c.Namespace))).To(Succeed())
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Kind == "ImplyCluster" && e.Regarding.Name == c.Name && len(e.Reason) > 7 && e.Reason[:7] == "Rollout" {
			out = append(out, e.Reason+": "+e.Note)
		}
	}
	return out
}

// rolloutEvents lists the reasons of the rollout events about c (Rollout*).
func rolloutEvents(c *implyv1alpha1.ImplyCluster) []string {
	var list eventsv1.EventList
	Expect(k8sClient.List(testCtx, &list, client.InNamespace(c.Namespace))).To(Succeed())
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Kind == "ImplyCluster" && e.Regarding.Name == c.Name && len(e.Reason) > 7 && e.Reason[:7] == "Rollout" {
			out = append(out, e.Reason)
		}
	}
	return out
}

var _ = Describe("ImplyCluster rollouts", func() {
	It("rolls a restart group by group in Druid's order, each once the previous is ready, and reports it", func() {
		c := readyCluster("roll-restart")
		ns := c.Namespace
		before := templateAnnotations(ns, specs.AnnotationRestart)

		annotate(c, implyv1alpha1.AnnotationRestart, "2026-11-23")
		expectRollInOrder(c, specs.AnnotationRestart, before, func(step string) {
			Eventually(func(g Gomega) {
				st := rolloutStatus(g, c)
				g.Expect(st.Phase).To(Equal(implyv1alpha1.RolloutRolling))
				g.Expect(st.CurrentGroup).To(Equal(step))
				g.Expect(st.Reason).To(Equal(implyv1alpha1.ReasonRestartRequested))
				cond := meta.FindStatusCondition(c.Status.Conditions, implyv1alpha1.ConditionProgressing)
				g.Expect(cond.Status).To(Equal(metav1.ConditionTrue))
			}).WithTimeout(settle).Should(Succeed())
			Expect(workload(ns, step).GetAnnotations()).To(HaveKeyWithValue(annotationRolloutStarted, Not(BeEmpty())))
		})
		// Emptying rollout-started on the manager's Deployment bumps its generation (Deployments
		// count annotation changes), which its controller would observe.
		Eventually(func(g Gomega) {
			markWorkloadsReady(c)
			st := rolloutStatus(g, c)
			g.Expect(st.Phase).To(Equal(implyv1alpha1.RolloutIdle))
			ready := meta.FindStatusCondition(c.Status.Conditions, implyv1alpha1.ConditionReady)
			g.Expect(ready.Status).To(Equal(metav1.ConditionTrue), ready.Message)
			g.Expect(meta.IsStatusConditionFalse(c.Status.Conditions, implyv1alpha1.ConditionRestartPending)).To(BeTrue())
		}).WithTimeout(settle).Should(Succeed())
		Eventually(func() []string { return rolloutEvents(c) }).WithTimeout(settle).Should(ConsistOf(implyv1alpha1.EventRolloutStarted,
			implyv1alpha1.EventRolloutGroupStarted, implyv1alpha1.EventRolloutGroupStarted, implyv1alpha1.EventRolloutGroupStarted, implyv1alpha1.EventRolloutFinished))
		waitQuiet(ns)
		for _, step := range rolloutOrder {
			Expect(workload(ns, step).GetAnnotations()).To(HaveKeyWithValue(annotationRolloutStarted, ""), "%s settled", step)
		}

		By("not rolling again for the same value, nor when the annotation is removed")
		patch := client.MergeFrom(c.DeepCopy())
		delete(c.Annotations, implyv1alpha1.AnnotationRestart)
		Expect(k8sClient.Patch(testCtx, c, patch)).To(Succeed())
		waitQuiet(ns)
		Expect(templateAnnotations(ns, specs.AnnotationRestart)).To(HaveEach("2026-11-23"))
	})

	It("holds a security change for the maintenance window, writing the material at once, until the window opens or a certificate is urgent", func() {
		now := suiteClock.Now().UTC()
		// A window three days from now, so neither creating the cluster nor the steps below
		// fall in it.
		windowStart := time.Date(now.Year(), now.Month(), now.Day(), 4, 0, 0, 0, time.UTC).AddDate(0, 0, 3)
		schedule := fmt.Sprintf("0 4 * * %d", int(windowStart.Weekday()))
		c := readyCluster("roll-window", withWindow(schedule, 10*time.Minute))
		ns := c.Namespace
		before := templateAnnotations(ns, specs.AnnotationTLSRevision)
		trustBefore := map[string][]string{}
		for _, s := range leafSecretNames {
			trustBefore[s] = trustedSerials(ns, s)
		}

		By("rotating the CA: the bundle and truststores change at once, the pods wait")
		annotate(c, implyv1alpha1.AnnotationRotateCA, "window")
		Eventually(func(g Gomega) {
			st := rolloutStatus(g, c)
			g.Expect(st.Phase).To(Equal(implyv1alpha1.RolloutPending))
			g.Expect(st.Reason).To(Equal(implyv1alpha1.ReasonAwaitingMaintenanceWindow))
			g.Expect(st.NextWindow).NotTo(BeNil())
			g.Expect(st.NextWindow.Time).To(BeTemporally("==", windowStart))
			cond := meta.FindStatusCondition(c.Status.Conditions, implyv1alpha1.ConditionRestartPending)
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(cond.Message).To(ContainSubstring("waiting for the maintenance window at " + windowStart.Format(time.RFC3339)))
			g.Expect(meta.IsStatusConditionTrue(c.Status.Conditions, implyv1alpha1.ConditionReady)).To(BeTrue(), "the cluster runs while it waits")
		}).WithTimeout(settle).Should(Succeed())
		Eventually(func() []string { return rolloutEvents(c) }).WithTimeout(settle).Should(ConsistOf(implyv1alpha1.EventRolloutDeferred))
		waitQuiet(ns)
		Expect(templateAnnotations(ns, specs.AnnotationTLSRevision)).To(Equal(before))
		for _, s := range leafSecretNames {
			Expect(len(trustedSerials(ns, s))).To(Equal(len(trustBefore[s])+1), "%s trusts the new CA already", s)
		}

		By("rolling once the window opens, and holding phase 2 once it has closed")
		back := suiteClock.Now()
		defer suiteClock.SetTime(back)
		suiteClock.SetTime(windowStart.Add(time.Minute))
		poke(c)
		phase1 := expectRollInOrder(c, specs.AnnotationTLSRevision, before, func(step string) {
			Eventually(func(g Gomega) {
				st := rolloutStatus(g, c)
				g.Expect(st.CurrentGroup).To(Equal(step))
				g.Expect(st.Reason).To(Equal(implyv1alpha1.ReasonMaintenanceWindowOpen))
			}).WithTimeout(settle).Should(Succeed())
			if step == "manager" {
				// The window closes while the manager rolls (within its progress deadline).
				suiteClock.SetTime(windowStart.Add(10 * time.Minute))
			}
		})
		Eventually(caPhase).WithArguments(ns).WithTimeout(settle).Should(Equal("SignWithNew"))
		Eventually(func(g Gomega) {
			st := rolloutStatus(g, c)
			g.Expect(st.Phase).To(Equal(implyv1alpha1.RolloutPending))
			g.Expect(st.NextWindow.Time).To(BeTemporally("==", windowStart.AddDate(0, 0, 7)))
		}).WithTimeout(settle).Should(Succeed())
		waitQuiet(ns)
		Expect(templateAnnotations(ns, specs.AnnotationTLSRevision)).To(Equal(phase1))
		Expect(rolloutEvents(c)).To(ConsistOf(implyv1alpha1.EventRolloutDeferred, implyv1alpha1.EventRolloutStarted,
			implyv1alpha1.EventRolloutGroupStarted, implyv1alpha1.EventRolloutGroupStarted, implyv1alpha1.EventRolloutGroupStarted,
			implyv1alpha1.EventRolloutDeferred), "%q", rolloutEventNotes(c))
	})

	It("rolls a renewal outside the window when the certificate the pods run expires within urgentBefore", func() {
		// The only window opens on 29 February 2028.
		c := readyCluster("roll-urgent", withWindow("0 4 29 2 *", time.Hour))
		ns := c.Namespace
		before := templateAnnotations(ns, specs.AnnotationTLSRevision)
		leaf := parseCert(getSecret(ns, "c-data-tls").Data["tls.crt"])
		Expect(workload(ns, "data").GetAnnotations()).To(HaveKeyWithValue(annotationCertificateNotAfter, leaf.NotAfter.UTC().Format(time.RFC3339)))
		back := suiteClock.Now()
		defer suiteClock.SetTime(back)

		By("renewing 29 days ahead: new leaves in the Secrets, the pods wait for the window")
		suiteClock.SetTime(leaf.NotAfter.Add(-29 * 24 * time.Hour))
		poke(c)
		Eventually(func() string {
			return parseCert(getSecret(ns, "c-data-tls").Data["tls.crt"]).SerialNumber.String()
		}).WithTimeout(settle).ShouldNot(Equal(leaf.SerialNumber.String()))
		Eventually(func(g Gomega) {
			st := rolloutStatus(g, c)
			g.Expect(st.Phase).To(Equal(implyv1alpha1.RolloutPending))
			g.Expect(st.Reason).To(Equal(implyv1alpha1.ReasonAwaitingMaintenanceWindow))
			g.Expect(st.NextWindow.Time).To(BeTemporally("==", time.Date(2028, time.February, 29, 4, 0, 0, 0, time.UTC)))
		}).WithTimeout(settle).Should(Succeed())
		waitQuiet(ns)
		Expect(templateAnnotations(ns, specs.AnnotationTLSRevision)).To(Equal(before))
		Expect(workload(ns, "data").GetAnnotations()).To(HaveKeyWithValue(annotationCertificateNotAfter, leaf.NotAfter.UTC().Format(time.RFC3339)),
			"the pods still run the old certificate")

		By("rolling in order once the old certificate expires within 72h")
		suiteClock.SetTime(leaf.NotAfter.Add(-71 * time.Hour))
		poke(c)
		expectRollInOrder(c, specs.AnnotationTLSRevision, before, func(step string) {
			Eventually(func(g Gomega) {
				st := rolloutStatus(g, c)
				g.Expect(st.CurrentGroup).To(Equal(step))
				g.Expect(st.Reason).To(Equal(implyv1alpha1.ReasonCertificateExpiring))
			}).WithTimeout(settle).Should(Succeed())
		})
		Eventually(func(g Gomega) {
			g.Expect(rolloutStatus(g, c).Phase).To(Equal(implyv1alpha1.RolloutIdle))
		}).WithTimeout(settle).Should(Succeed())
		renewed := parseCert(getSecret(ns, "c-data-tls").Data["tls.crt"])
		Expect(workload(ns, "data").GetAnnotations()).To(HaveKeyWithValue(annotationCertificateNotAfter, renewed.NotAfter.UTC().Format(time.RFC3339)))
	})

	It("rolls a spec change at once, outside any window, unless paused", func() {
		c := readyCluster("roll-paused", withWindow("0 4 29 2 *", time.Hour), func(c *implyv1alpha1.ImplyCluster) {
			c.Spec.Rollout.Paused = true
		})
		ns := c.Namespace
		images := func() map[string]string {
			out := map[string]string{}
			for _, step := range rolloutOrder {
				out[step] = podTemplate(workload(ns, step)).Spec.Containers[0].Image
			}
			return out
		}
		before := images()

		By("holding a new version (and agent image, which has its own tag) while paused, and still scaling")
		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.Version = "2025.07"
		c.Spec.Images = &implyv1alpha1.ImagesSpec{Agent: "imply/agent:v8"}
		c.Spec.NodeGroups[2].Replicas = ptr.To[int32](3)
		Expect(k8sClient.Patch(testCtx, c, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			st := rolloutStatus(g, c)
			g.Expect(st.Phase).To(Equal(implyv1alpha1.RolloutPending))
			g.Expect(st.Reason).To(Equal(implyv1alpha1.ReasonPaused))
			g.Expect(meta.IsStatusConditionTrue(c.Status.Conditions, implyv1alpha1.ConditionRestartPending)).To(BeTrue())
		}).WithTimeout(settle).Should(Succeed())
		Eventually(func() int32 { return *workload(ns, "data").(*appsv1.StatefulSet).Spec.Replicas }).WithTimeout(settle).Should(Equal(int32(3)))
		waitQuiet(ns)
		Expect(images()).To(Equal(before))

		By("rolling in order once unpaused, though no window is open")
		patch = client.MergeFrom(c.DeepCopy())
		c.Spec.Rollout.Paused = false
		Expect(k8sClient.Patch(testCtx, c, patch)).To(Succeed())
		expectStepsInOrder(c, images, before, func(string) {
			Eventually(func(g Gomega) {
				g.Expect(rolloutStatus(g, c).Reason).To(Equal(implyv1alpha1.ReasonSpecChanged))
			}).WithTimeout(settle).Should(Succeed())
		})
	})

	It("halts with Degraded=True when a group misses its progress deadline, touching nothing further, and resumes once it is ready", func() {
		c := readyCluster("roll-stuck")
		ns := c.Namespace
		before := templateAnnotations(ns, specs.AnnotationRestart)
		back := suiteClock.Now()
		defer suiteClock.SetTime(back)

		annotate(c, implyv1alpha1.AnnotationRestart, "stuck")
		Eventually(func() string { return templateAnnotations(ns, specs.AnnotationRestart)["data"] }).WithTimeout(settle).Should(Equal("stuck"))
		suiteClock.Step(rollout.DefaultProgressDeadline + time.Second)
		poke(c)
		Eventually(func(g Gomega) {
			cond := condition(g, c, implyv1alpha1.ConditionDegraded)
			g.Expect(cond.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(cond.Reason).To(Equal(implyv1alpha1.ReasonProgressDeadlineExceeded))
			g.Expect(cond.Message).To(ContainSubstring("group data is not complete 10m0s after its rollout started"))
			g.Expect(c.Status.Rollout.CurrentGroup).To(Equal("data"))
		}).WithTimeout(settle).Should(Succeed())
		Eventually(func() []eventsv1.Event { return warningEvents(c, implyv1alpha1.EventRolloutHalted) }).WithTimeout(settle).Should(HaveLen(1))
		waitQuiet(ns)
		now := templateAnnotations(ns, specs.AnnotationRestart)
		for _, step := range rolloutOrder[1:] {
			Expect(now[step]).To(Equal(before[step]), "%s was touched", step)
		}

		By("resuming once the group is ready")
		markStepReady(c, "data")
		Eventually(func() string { return templateAnnotations(ns, specs.AnnotationRestart)["query"] }).WithTimeout(settle).Should(Equal("stuck"))
		Eventually(func(g Gomega) {
			g.Expect(condition(g, c, implyv1alpha1.ConditionDegraded).Status).To(Equal(metav1.ConditionFalse))
		}).WithTimeout(settle).Should(Succeed())
	})
})
