package implycluster

import (
	"context"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/apply"
	"github.com/imply-operator/imply-operator/pkg/rollout"
)

// setRolloutStatus reports the rollout plan in the status: status.rollout, the RestartPending
// condition, and Degraded (with Progressing=False) when a group missed its progress deadline.
// It is pure, as computeStatus is.
func setRolloutStatus(c *implyv1alpha1.ImplyCluster, plan *rolloutPlan) {
	d := plan.Decision
	c.Status.Rollout = d.Status()
	message := d.Message
	if plan.WindowsError != nil {
		message += "; spec.rollout." + plan.WindowsError.Error()
	}
	if d.RestartPending {
		apply.SetCondition(c, implyv1alpha1.ConditionRestartPending, metav1.ConditionTrue, d.Reason, message)
	} else {
		apply.SetCondition(c, implyv1alpha1.ConditionRestartPending, metav1.ConditionFalse, implyv1alpha1.ReasonNoRestartPending, message)
	}
	if d.Degraded {
		apply.SetCondition(c, implyv1alpha1.ConditionDegraded, metav1.ConditionTrue, d.DegradedReason, d.DegradedMessage)
		apply.SetCondition(c, implyv1alpha1.ConditionProgressing, metav1.ConditionFalse, d.DegradedReason, d.DegradedMessage)
	}
}

// confirmRolloutEvent re-decides the plan's event from the cluster's status as stored: the event
// was chosen from status.rollout as cached, and a reconcile that read the cluster before its
// previous status write reached the cache would repeat it (it is dropped), or call the next
// group of a rollout under way a new rollout (RolloutStarted becomes RolloutGroupStarted). A
// template change itself stands: it was just made, with optimistic locking.
func (r *Reconciler) confirmRolloutEvent(ctx context.Context, c *implyv1alpha1.ImplyCluster, plan *rolloutPlan) {
	if plan.Decision.Event == "" || r.APIReader == nil {
		return
	}
	var stored implyv1alpha1.ImplyCluster
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(c), &stored); err != nil {
		return // best effort: a repeated event is better than a lost one
	}
	in := plan.Input
	in.Previous = stored.Status.Rollout
	again := rollout.Decide(in)
	if len(plan.Decision.Apply) > 0 {
		if again.Event != "" && slices.Equal(again.Apply, plan.Decision.Apply) {
			plan.Decision.Event = again.Event
		}
		return
	}
	if again.Event == "" {
		plan.Decision.Event = ""
	}
}

// recordRollout emits the rollout's event, if any, and counts the groups it started.
func (r *Reconciler) recordRollout(c *implyv1alpha1.ImplyCluster, plan *rolloutPlan) {
	d := plan.Decision
	for _, group := range d.Apply {
		rolloutGroupStarts.WithLabelValues(c.Namespace, c.Name, group, d.Reason).Inc()
	}
	if d.Event == implyv1alpha1.EventRolloutStarted {
		rolloutsStarted.WithLabelValues(c.Namespace, c.Name, d.Reason).Inc()
	}
	pending := 0.0
	if d.RestartPending {
		pending = 1
	}
	rolloutPending.WithLabelValues(c.Namespace, c.Name).Set(pending)
	if d.Event == "" {
		return
	}
	eventType := corev1.EventTypeNormal
	message := d.Message
	if d.Event == implyv1alpha1.EventRolloutHalted {
		eventType, message = corev1.EventTypeWarning, d.DegradedMessage
	}
	r.Recorder.Eventf(c, nil, eventType, d.Event, "Rollout", "%s", message)
}
