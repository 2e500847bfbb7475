package implycluster

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// rolledManager is the manager Deployment with its one new pod available, and terminating old
// pods still shutting down (nil: a status without the field).
func rolledManager(terminating *int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Generation: 2},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](1)},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1,
			AvailableReplicas: 1, TerminatingReplicas: terminating},
	}
}

// Found by the fault campaign (test/chaos, full form): the manager's old pod was still
// terminating, with its old certificate, when the operator took the manager as rolled out and
// moved on (a CA rotation's next phase, the next stage). status.replicas leaves terminating pods
// out, so only status.terminatingReplicas shows them.
func TestManagerWithTerminatingPodIsNotSettled(t *testing.T) {
	c := testobj.ImplyCluster("c", "ns")
	c.Spec.Manager = implyv1alpha1.ManagerSpec{Replicas: ptr.To[int32](1)}
	for _, tc := range []struct {
		terminating *int32
		settled     bool
	}{{nil, true}, {ptr.To[int32](0), true}, {ptr.To[int32](1), false}} {
		d := rolledManager(tc.terminating)
		if got := managerReady(c, d); got != tc.settled {
			t.Errorf("terminatingReplicas %v: managerReady = %v, want %v", ptr.Deref(tc.terminating, -1), got, tc.settled)
		}
		s := observeStep("manager", d, d)
		if got := s.CurrentRevision == s.UpdateRevision; got != tc.settled {
			t.Errorf("terminatingReplicas %v: the rollout step is on one revision = %v, want %v", ptr.Deref(tc.terminating, -1), got, tc.settled)
		}
	}
}
