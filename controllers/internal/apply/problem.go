package apply

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/tools/events"
)

// Problem is why an object cannot reach its spec now: a condition reason (an exported constant
// of api/v1alpha1) and a message for users that names what is wrong, never a secret value.
type Problem struct {
	Reason  string
	Message string
}

// WarnOnce records p as a Warning event on obj unless before's condition condType already
// carries the same reason and message, so a persisting problem does not repeat its event on
// every reconcile. action is the event's action (Reconcile, Sync, ...).
func WarnOnce(recorder events.EventRecorder, before, obj StatusObject, condType, action string, p *Problem) {
	if recorder == nil || p == nil {
		return
	}
	if cond := meta.FindStatusCondition(before.GetConditions(), condType); cond != nil && cond.Reason == p.Reason && cond.Message == p.Message {
		return
	}
	recorder.Eventf(obj, nil, corev1.EventTypeWarning, p.Reason, action, "%s", p.Message)
}
