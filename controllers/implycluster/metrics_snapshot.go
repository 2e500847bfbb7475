package implycluster

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
)

// clusterSnapshot is what the metrics of one cluster are built from at scrape time: the few
// fields of its status they show, with times as Unix seconds. It is replaced whole, never changed.
type clusterSnapshot struct {
	conditions  []conditionPoint
	certExpiry  []namedTime // by Secret name
	certRenewal []namedTime // by Secret name
	caExpiry    []namedTime // by serial, in hex
	phase       implyv1alpha1.RolloutPhase
	halted      bool
	// hasNextWindow is whether a pending rollout waits for the window at nextWindow.
	hasNextWindow bool
	nextWindow    int64
}

// conditionPoint is one condition of a cluster: its type, status and last transition.
type conditionPoint struct {
	conditionType string
	status        metav1.ConditionStatus
	since         int64
}

// namedTime is a Unix time under a label value (a Secret name or a CA serial).
type namedTime struct {
	name string
	unix int64
}

// conditionStatuses are the statuses a condition has a series for.
var conditionStatuses = []metav1.ConditionStatus{metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionUnknown}

// rolloutPhases are the phases a rollout has a series for.
var rolloutPhases = []implyv1alpha1.RolloutPhase{implyv1alpha1.RolloutIdle, implyv1alpha1.RolloutPending, implyv1alpha1.RolloutRolling}

// snapshotClusterStatus is the snapshot of c's status, without CAs (they come from the TLS material).
func snapshotClusterStatus(c *implyv1alpha1.ImplyCluster) clusterSnapshot {
	snap := clusterSnapshot{
		conditions: conditionPoints(c.Status.Conditions),
		phase:      implyv1alpha1.RolloutIdle,
	}
	snap.certExpiry, snap.certRenewal = certificateTimes(c.Status.Certificates)
	if r := c.Status.Rollout; r != nil {
		snap.phase = r.Phase
		snap.halted = r.Reason == implyv1alpha1.ReasonProgressDeadlineExceeded
		if r.Phase == implyv1alpha1.RolloutPending && r.NextWindow != nil {
			snap.hasNextWindow, snap.nextWindow = true, r.NextWindow.Unix()
		}
	}
	return snap
}

// conditionPoints are the conditions' types, statuses and transitions; of two conditions of one
// type the last counts.
func conditionPoints(conditions []metav1.Condition) []conditionPoint {
	out := make([]conditionPoint, 0, len(conditions))
	for _, cond := range conditions {
		out = append(out, conditionPoint{conditionType: cond.Type, status: cond.Status, since: cond.LastTransitionTime.Unix()})
	}
	return lastOfEach(out, func(p conditionPoint) string { return p.conditionType })
}

// certificateTimes are the expiry and renewal times the certificates have, by Secret name.
func certificateTimes(certs []implyv1alpha1.CertificateStatus) (expiry, renewal []namedTime) {
	for _, cert := range certs {
		if cert.NotAfter != nil {
			expiry = append(expiry, namedTime{name: cert.SecretName, unix: cert.NotAfter.Unix()})
		}
		if cert.RenewalTime != nil {
			renewal = append(renewal, namedTime{name: cert.SecretName, unix: cert.RenewalTime.Unix()})
		}
	}
	byName := func(t namedTime) string { return t.name }
	return compact(lastOfEach(expiry, byName)), compact(lastOfEach(renewal, byName))
}

// caExpiries are the expiry times of the CAs in a trust bundle by serial; none when it does not parse.
func caExpiries(bundlePEM []byte) []namedTime {
	cas, err := pki.ParseBundle(bundlePEM)
	if err != nil || len(cas) == 0 {
		return nil
	}
	out := make([]namedTime, 0, len(cas))
	for _, ca := range cas {
		out = append(out, namedTime{name: ca.SerialNumber.Text(16), unix: ca.NotAfter.Unix()})
	}
	return lastOfEach(out, func(t namedTime) string { return t.name })
}

// lastOfEach keeps, of items with the same key, the last (a series has one value); items
// without two of a key are returned as they are.
func lastOfEach[T any](items []T, key func(T) string) []T {
	dup := func(i int) bool {
		for _, later := range items[i+1:] {
			if key(later) == key(items[i]) {
				return true
			}
		}
		return false
	}
	var out []T
	for i := range items {
		switch {
		case out == nil && !dup(i):
		case out == nil:
			out = append(make([]T, 0, len(items)-1), items[:i]...)
		case !dup(i):
			out = append(out, items[i])
		}
	}
	if out == nil {
		return items
	}
	return out
}

// compact drops the spare capacity append left, as a snapshot is kept until the next reconcile.
func compact[T any](items []T) []T {
	if len(items) == cap(items) {
		return items
	}
	return append(make([]T, 0, len(items)), items...)
}
