package rollout

import (
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// DefaultUrgentBefore is RolloutSpec.UrgentBefore when unset, as the CRD defaults it.
const DefaultUrgentBefore = 72 * time.Hour

// DefaultProgressDeadline is Input.ProgressDeadline when zero or negative, as for Deployments.
const DefaultProgressDeadline = 10 * time.Minute

// Trigger says why the wanted pod templates differ from the live ones. It is a set: callers
// derive it from API state on every reconcile (which revision annotations differ, whether the
// restart annotation changed), never from memory.
type Trigger uint8

const (
	// SpecChange is an edit of the ImplyCluster's spec (config, images, resources...): it rolls at
	// once.
	SpecChange Trigger = 1 << iota
	// Security is a change of security material (certificates, trust bundle, keystore password,
	// agent token, Druid credentials): it waits for a maintenance window unless a live
	// certificate expires within urgentBefore.
	Security
	// Restart is a new value of the imply.operator.dev/restart annotation: it rolls every step in
	// order, at once.
	Restart
)

// String lists the triggers in the set, such as "SpecChange|Security", or "None".
func (t Trigger) String() string {
	var parts []string
	for _, x := range []struct {
		t    Trigger
		name string
	}{{SpecChange, "SpecChange"}, {Security, "Security"}, {Restart, "Restart"}} {
		if t&x.t != 0 {
			parts = append(parts, x.name)
		}
	}
	if len(parts) == 0 {
		return "None"
	}
	return strings.Join(parts, "|")
}

// StepState is the observed state of one step, read from the API on every reconcile.
type StepState struct {
	// Name is the step's name, from Order.
	Name string
	// DesiredRevision is the hash of the revision annotations the step's pod template should carry.
	DesiredRevision string
	// AppliedRevision is the same hash of the annotations the live pod template carries; empty
	// when the StatefulSet or Deployment does not exist yet.
	AppliedRevision string
	// Replicas wanted, ReadyReplicas and UpdatedReplicas, from the workload's status.
	Replicas, ReadyReplicas, UpdatedReplicas int32
	// CurrentRevision and UpdateRevision from the StatefulSet status. For the manager's
	// Deployment, callers set both to the same value once its newest ReplicaSet has every
	// replica (and to different values before).
	CurrentRevision, UpdateRevision string
	// ObservedGeneration (status) and Generation (metadata) of the workload.
	ObservedGeneration, Generation int64
	// NotReadySince is when the operator last changed the step's template, kept in the API (an
	// annotation on the workload) until the workload settles (every replica updated and ready,
	// currentRevision == updateRevision), so it survives restarts; nil when unknown or settled,
	// which never degrades.
	NotReadySince *time.Time
}

// Complete reports whether the step runs its wanted template everywhere and is ready: the
// template carries DesiredRevision, the controller has seen the latest generation, every replica
// is updated and ready, and currentRevision == updateRevision.
func (s StepState) Complete() bool {
	return s.AppliedRevision != "" && s.AppliedRevision == s.DesiredRevision &&
		s.ObservedGeneration >= s.Generation &&
		s.UpdatedReplicas == s.Replicas && s.ReadyReplicas == s.Replicas &&
		s.CurrentRevision == s.UpdateRevision
}

// moving reports whether the workload controller is still replacing pods: it has not seen the
// latest generation, or not every replica is updated, or the revisions differ.
func (s StepState) moving() bool {
	return s.ObservedGeneration < s.Generation || s.UpdatedReplicas != s.Replicas ||
		s.CurrentRevision != s.UpdateRevision
}

// Input is everything Decide looks at. Build it from API objects on every reconcile.
type Input struct {
	// Now is the current time (from a clock the caller can fake).
	Now time.Time
	// Spec is the cluster's spec.rollout (the zero value when unset).
	Spec implyv1alpha1.RolloutSpec
	// Windows are Spec.MaintenanceWindows parsed by ParseWindows (nil when they do not parse).
	Windows []Window
	// Trigger says why templates differ; an empty set counts as Security, the most cautious.
	Trigger Trigger
	// EarliestCertExpiry is the earliest notAfter of the live certificates, if known.
	EarliestCertExpiry *time.Time
	// Steps are the observed states, in the order Order returns.
	Steps []StepState
	// ProgressDeadline is how long a step may take to complete; DefaultProgressDeadline if <= 0.
	ProgressDeadline time.Duration
	// Previous is the current status.rollout, if any. Decide only uses it to choose Event and to
	// keep the phase Rolling while the last step becomes ready; Apply never depends on it.
	Previous *implyv1alpha1.RolloutStatus
}

// Decision is what Decide allows and how to report it.
type Decision struct {
	// Apply names the step whose pod template may be changed to its desired revision now: at most
	// one, the first step that differs, and only when every step before it is complete.
	Apply []string
	// Create names steps whose workload does not exist yet. Creating them restarts no pod, so
	// they are created whatever the window or pause; they still gate later steps until ready.
	Create []string
	// Pending names the existing steps whose template differs from the desired one, in order.
	Pending []string
	// Phase, Reason, CurrentGroup and NextWindow are status.rollout.
	Phase        implyv1alpha1.RolloutPhase
	Reason       string
	CurrentGroup string
	NextWindow   *time.Time
	// Message says the same for people, for the event and conditions.
	Message string
	// RestartPending is the RestartPending condition: changes wait (window or pause).
	RestartPending bool
	// Degraded is the Degraded condition: a step missed its progress deadline and the rollout is
	// halted. DegradedReason is the condition's reason, DegradedMessage names the group.
	Degraded        bool
	DegradedReason  string
	DegradedMessage string
	// RequeueAfter is when to look again even without a watch event (0: no need): the next
	// window, the moment a certificate becomes urgent, or a progress deadline.
	RequeueAfter time.Duration
	// Event is the reason of the event to emit, or "".
	Event string
}

// Status returns the Decision as status.rollout.
func (d Decision) Status() *implyv1alpha1.RolloutStatus {
	st := &implyv1alpha1.RolloutStatus{Phase: d.Phase, Reason: d.Reason, CurrentGroup: d.CurrentGroup}
	if d.NextWindow != nil {
		t := metav1.NewTime(*d.NextWindow)
		st.NextWindow = &t
	}
	return st
}

// gate is whether a step that is not yet rolled may start now.
type gate struct {
	open    bool
	reason  string
	next    *time.Time    // next window, when closed
	requeue time.Duration // when the gate may open by itself, when closed
	detail  string        // for messages
}

// gate decides whether a new step may start at now.
func (in Input) gate(now time.Time) gate {
	switch {
	case in.Trigger&Restart != 0:
		return gate{open: true, reason: implyv1alpha1.ReasonRestartRequested, detail: "restart requested"}
	case in.Trigger&SpecChange != 0:
		return gate{open: true, reason: implyv1alpha1.ReasonSpecChanged, detail: "spec changed"}
	}
	if len(in.Windows) == 0 && len(in.Spec.MaintenanceWindows) == 0 {
		return gate{open: true, reason: implyv1alpha1.ReasonSecurityMaterialChanged, detail: "security material changed"}
	}
	if open, end := InWindow(in.Windows, now); open {
		return gate{open: true, reason: implyv1alpha1.ReasonMaintenanceWindowOpen,
			detail: "security material changed, maintenance window open until " + end.Format(time.RFC3339)}
	}
	urgentBefore := DefaultUrgentBefore
	if in.Spec.UrgentBefore != nil {
		urgentBefore = in.Spec.UrgentBefore.Duration
	}
	var untilUrgent time.Duration
	if in.EarliestCertExpiry != nil {
		urgentAt := in.EarliestCertExpiry.Add(-urgentBefore)
		if !urgentAt.After(now) {
			return gate{open: true, reason: implyv1alpha1.ReasonCertificateExpiring,
				detail: "security material changed, a certificate expires at " +
					in.EarliestCertExpiry.UTC().Format(time.RFC3339) + ", within urgentBefore " + urgentBefore.String()}
		}
		untilUrgent = urgentAt.Sub(now)
	}
	g := gate{reason: implyv1alpha1.ReasonNoMaintenanceWindow, requeue: untilUrgent,
		detail: "security material changed; no maintenance window will open"}
	if next := NextWindow(in.Windows, now); !next.IsZero() {
		g.reason, g.next = implyv1alpha1.ReasonAwaitingMaintenanceWindow, &next
		g.detail = "security material changed; waiting for the maintenance window at " + next.Format(time.RFC3339)
		if d := next.Sub(now); g.requeue == 0 || d < g.requeue {
			g.requeue = d
		}
	}
	return g
}

// Decide is the rollout gate. It is a pure function of its Input, so an operator restarted at any
// point of a rollout takes the same decision again: a step whose template already carries its
// desired revision is never applied again, and a step is applied only when every step before it
// is complete, so none is skipped.
//
// The rules, first match wins:
//   - Spec.Paused: nothing applies; Phase Pending, Reason Paused (RestartPending when changes
//     wait). Paused beats a progress deadline too: a paused rollout is not degraded.
//   - Every step complete: Phase Idle (Event RolloutFinished after a rollout).
//   - The first incomplete step differs from its desired template: it is applied if the gate is
//     open, else the rollout is deferred (Phase Pending, RestartPending, NextWindow,
//     RequeueAfter, Event RolloutDeferred). The gate is open for SpecChange and Restart, for
//     Security when no window is configured, when a window is open at Now, or when
//     EarliestCertExpiry is at or before Now+urgentBefore.
//     But while a later step is still in flight (its template was changed and it has not
//     settled, such as when the wanted templates change again mid-rollout), that step finishes
//     first, as below: never two groups at once.
//   - Otherwise the first incomplete step carries its template but is still rolling or not ready.
//     Nothing further applies. If it is past ProgressDeadline since NotReadySince the rollout is
//     halted: Degraded, naming the group. A step still rolling finishes even when the gate has
//     closed, such as when a maintenance window ends mid-rollout; the next step then waits for the
//     next window.
//
// Steps the workload of which does not exist yet are listed in Create and otherwise count as
// incomplete steps carrying their template.
func Decide(in Input) Decision {
	now := in.Now.UTC()
	deadline := in.ProgressDeadline
	if deadline <= 0 {
		deadline = DefaultProgressDeadline
	}
	d := Decision{Phase: implyv1alpha1.RolloutIdle, Reason: implyv1alpha1.ReasonUpToDate}
	d.classify(in.Steps)
	prevRolling := in.Previous != nil && in.Previous.Phase == implyv1alpha1.RolloutRolling

	if in.Spec.Paused {
		d.pause()
		return d
	}

	first := slices.IndexFunc(in.Steps, func(s StepState) bool { return !s.Complete() })
	if first < 0 {
		d.Message = "every group runs its wanted pod template and is ready"
		if prevRolling {
			d.Event = implyv1alpha1.EventRolloutFinished
		}
		return d
	}
	s := in.Steps[first]
	g := in.gate(now)

	busy := false
	if s.AppliedRevision != "" && s.AppliedRevision != s.DesiredRevision {
		// A later step still rolling a template changed earlier (the wanted templates changed
		// again mid-rollout) finishes first: never two groups at once.
		if b := in.inFlightAfter(first); b >= 0 {
			s, busy = in.Steps[b], true
		}
	}
	if !busy && s.AppliedRevision != "" && s.AppliedRevision != s.DesiredRevision {
		if g.open {
			d.Apply = []string{s.Name}
			d.Phase, d.Reason, d.CurrentGroup = implyv1alpha1.RolloutRolling, g.reason, s.Name
			d.Message = fmt.Sprintf("rolling %s (%s)", s.Name, g.detail)
			d.Event = implyv1alpha1.EventRolloutGroupStarted
			if !prevRolling {
				d.Event = implyv1alpha1.EventRolloutStarted
			}
			return d
		}
		d.deferRollout(in, g)
		return d
	}

	// s carries its wanted template (or is being created) but is not complete yet, or s is a
	// later step still rolling while an earlier one waits to roll again.
	laterWork := len(d.Pending) > 0
	// A workload being created or scaled is not a rollout: only pods being replaced after a
	// template change the operator made (NotReadySince), or later work, is.
	rolling := busy || (s.moving() && s.NotReadySince != nil) || (laterWork && g.open) || (!laterWork && prevRolling)
	if !rolling {
		if laterWork {
			d.deferRollout(in, g)
			return d
		}
		// Nothing to roll: a group that is not ready for other reasons is not a rollout.
		d.Message = fmt.Sprintf("nothing to roll; %s is not ready (%d/%d ready)", s.Name, s.ReadyReplicas, s.Replicas)
		return d
	}
	d.Phase, d.CurrentGroup = implyv1alpha1.RolloutRolling, s.Name
	d.Reason = g.reason
	if in.Trigger == 0 && prevRolling && in.Previous.Reason != "" && in.Previous.Reason != implyv1alpha1.ReasonProgressDeadlineExceeded {
		// The last step rolls and nothing is pending any more, so nothing says why: keep the
		// reason the rollout started with.
		d.Reason = in.Previous.Reason
	}
	d.Message = fmt.Sprintf("waiting for %s: %d/%d updated, %d/%d ready", s.Name,
		s.UpdatedReplicas, s.Replicas, s.ReadyReplicas, s.Replicas)
	if !g.open && laterWork {
		// The window closed (or a security change waits) while s rolls: s finishes, nothing new
		// starts. With nothing after s, the gate does not matter.
		d.Reason = implyv1alpha1.ReasonFinishingGroup
		d.RestartPending, d.NextWindow = true, g.next
		d.Message += "; then " + g.detail
	}
	if s.NotReadySince != nil {
		d.checkDeadline(in, s, now, deadline)
	}
	return d
}

// classify lists the steps whose workload does not exist yet (Create) and those whose applied
// template is not the wanted one (Pending).
func (d *Decision) classify(steps []StepState) {
	for _, s := range steps {
		switch {
		case s.AppliedRevision == "":
			d.Create = append(d.Create, s.Name)
		case s.AppliedRevision != s.DesiredRevision:
			d.Pending = append(d.Pending, s.Name)
		}
	}
}

// pause holds every rollout: the decision is Pending, naming the steps that wait to roll.
func (d *Decision) pause() {
	d.Phase, d.Reason = implyv1alpha1.RolloutPending, implyv1alpha1.ReasonPaused
	d.RestartPending = len(d.Pending) > 0
	d.Message = "rollouts are paused"
	if d.RestartPending {
		d.Message += "; waiting to roll " + strings.Join(d.Pending, ", ")
	}
}

// checkDeadline halts the rollout, Degraded, when step s is not complete deadline after its
// template changed, and otherwise asks to be looked at again when the deadline passes.
func (d *Decision) checkDeadline(in Input, s StepState, now time.Time, deadline time.Duration) {
	due := s.NotReadySince.Add(deadline)
	if now.Before(due) {
		d.RequeueAfter = due.Sub(now)
		return
	}
	d.Reason = implyv1alpha1.ReasonProgressDeadlineExceeded
	d.Degraded, d.DegradedReason = true, implyv1alpha1.ReasonProgressDeadlineExceeded
	d.DegradedMessage = fmt.Sprintf("group %s is not complete %s after its rollout started at %s "+
		"(%d/%d updated, %d/%d ready); rollout halted, no further group is touched", s.Name, deadline,
		s.NotReadySince.UTC().Format(time.RFC3339), s.UpdatedReplicas, s.Replicas, s.ReadyReplicas, s.Replicas)
	d.Message = d.DegradedMessage
	if in.Previous == nil || in.Previous.Reason != implyv1alpha1.ReasonProgressDeadlineExceeded {
		d.Event = implyv1alpha1.EventRolloutHalted
	}
}

// inFlight reports whether the operator changed the step's template (NotReadySince is set) and
// its workload has not settled since: pods are still being replaced or are not all ready.
func (s StepState) inFlight() bool {
	return s.NotReadySince != nil && s.AppliedRevision != "" && (s.moving() || s.ReadyReplicas != s.Replicas)
}

// inFlightAfter returns the index of the first step after i that is in flight, or -1.
func (in Input) inFlightAfter(i int) int {
	for j := i + 1; j < len(in.Steps); j++ {
		if in.Steps[j].inFlight() {
			return j
		}
	}
	return -1
}

// deferRollout fills d for changes held by a closed gate.
func (d *Decision) deferRollout(in Input, g gate) {
	d.Phase, d.Reason = implyv1alpha1.RolloutPending, g.reason
	d.RestartPending, d.NextWindow, d.RequeueAfter = true, g.next, g.requeue
	d.Message = g.detail + "; waiting to roll " + strings.Join(d.Pending, ", ")
	if in.Previous == nil || in.Previous.Phase != implyv1alpha1.RolloutPending || in.Previous.Reason != g.reason {
		d.Event = implyv1alpha1.EventRolloutDeferred
	}
}
