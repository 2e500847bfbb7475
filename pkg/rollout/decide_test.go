package rollout

import (
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// t0 is a Monday morning, outside the test windows.
var t0 = time.Date(2026, time.November, 23, 8, 0, 0, 0, time.UTC)

// done is a complete step at revision "new".
func done(name string) StepState {
	return StepState{Name: name, DesiredRevision: "new", AppliedRevision: "new", Replicas: 3, ReadyReplicas: 3,
		UpdatedReplicas: 3, CurrentRevision: name + "-2", UpdateRevision: name + "-2", ObservedGeneration: 2, Generation: 2}
}

// stale is a healthy step whose template still carries the old revision.
func stale(name string) StepState {
	s := done(name)
	s.AppliedRevision = "old"
	return s
}

// rolling is a step whose template was changed at since and whose pods are being replaced.
func rolling(name string, since time.Time) StepState {
	s := done(name)
	s.Generation, s.UpdatedReplicas, s.ReadyReplicas, s.UpdateRevision = 3, 1, 2, name+"-3"
	s.NotReadySince = &since
	return s
}

// unready is a step carrying its template, fully updated, with a pod not ready.
func unready(name string, since *time.Time) StepState {
	s := done(name)
	s.ReadyReplicas = 2
	s.NotReadySince = since
	return s
}

func ptrTo[T any](v T) *T { return &v }

func TestDecide(t *testing.T) {
	saturday := mustWindows(t, "0 2 * * SAT", "4h") // next: 2026-11-28T02:00Z
	satSpec := implyv1alpha1.RolloutSpec{MaintenanceWindows: []implyv1alpha1.MaintenanceWindow{
		{Schedule: "0 2 * * SAT", Duration: metav1.Duration{Duration: 4 * time.Hour}}}}
	nextSat := time.Date(2026, time.November, 28, 2, 0, 0, 0, time.UTC)
	monday := mustWindows(t, "0 7 * * MON", "2h") // open at t0 until 09:00
	monSpec := implyv1alpha1.RolloutSpec{MaintenanceWindows: []implyv1alpha1.MaintenanceWindow{
		{Schedule: "0 7 * * MON", Duration: metav1.Duration{Duration: 2 * time.Hour}}}}
	prev := func(phase implyv1alpha1.RolloutPhase, reason string) *implyv1alpha1.RolloutStatus {
		return &implyv1alpha1.RolloutStatus{Phase: phase, Reason: reason}
	}
	all := func(ss ...StepState) []StepState { return ss }

	cases := []struct {
		name string
		in   Input
		want Decision // Message, DegradedMessage are checked separately
		msg  string   // substring of Message or DegradedMessage
	}{
		{
			name: "idle",
			in:   Input{Trigger: SpecChange, Steps: all(done("data"), done("query"), done("master"), done("manager"))},
			want: Decision{Phase: implyv1alpha1.RolloutIdle, Reason: implyv1alpha1.ReasonUpToDate},
		},
		{
			name: "finished after a rollout",
			in: Input{Steps: all(done("data"), done("manager")),
				Previous: prev(implyv1alpha1.RolloutRolling, implyv1alpha1.ReasonSpecChanged)},
			want: Decision{Phase: implyv1alpha1.RolloutIdle, Reason: implyv1alpha1.ReasonUpToDate, Event: implyv1alpha1.EventRolloutFinished},
		},
		{
			name: "spec change starts with the first group",
			in:   Input{Trigger: SpecChange, Spec: satSpec, Windows: saturday, Steps: all(stale("data"), stale("query"), stale("master"), stale("manager"))},
			want: Decision{Apply: []string{"data"}, Pending: []string{"data", "query", "master", "manager"},
				Phase: implyv1alpha1.RolloutRolling, Reason: implyv1alpha1.ReasonSpecChanged, CurrentGroup: "data", Event: implyv1alpha1.EventRolloutStarted},
			msg: "rolling data (spec changed)",
		},
		{
			name: "next group once the previous is complete",
			in: Input{Trigger: SpecChange, Steps: all(done("data"), stale("query"), stale("manager")),
				Previous: prev(implyv1alpha1.RolloutRolling, implyv1alpha1.ReasonSpecChanged)},
			want: Decision{Apply: []string{"query"}, Pending: []string{"query", "manager"},
				Phase: implyv1alpha1.RolloutRolling, Reason: implyv1alpha1.ReasonSpecChanged, CurrentGroup: "query", Event: implyv1alpha1.EventRolloutGroupStarted},
		},
		{
			name: "a group not in the change is skipped over, not rolled",
			in:   Input{Trigger: SpecChange, Steps: all(done("data"), done("query"), done("master"), stale("manager"))},
			want: Decision{Apply: []string{"manager"}, Pending: []string{"manager"},
				Phase: implyv1alpha1.RolloutRolling, Reason: implyv1alpha1.ReasonSpecChanged, CurrentGroup: "manager", Event: implyv1alpha1.EventRolloutStarted},
		},
		{
			name: "wait while the previous group rolls",
			in:   Input{Now: t0, Trigger: SpecChange, Steps: all(rolling("data", t0.Add(-4*time.Minute)), stale("query"))},
			want: Decision{Pending: []string{"query"}, Phase: implyv1alpha1.RolloutRolling, Reason: implyv1alpha1.ReasonSpecChanged,
				CurrentGroup: "data", RequeueAfter: 6 * time.Minute},
			msg: "waiting for data: 1/3 updated, 2/3 ready",
		},
		{
			name: "revision mismatch alone blocks",
			in: Input{Trigger: SpecChange, Steps: all(func() StepState {
				s := done("data")
				s.CurrentRevision = "data-1"
				return s
			}(), stale("query"))},
			want: Decision{Pending: []string{"query"}, Phase: implyv1alpha1.RolloutRolling, Reason: implyv1alpha1.ReasonSpecChanged, CurrentGroup: "data"},
		},
		{
			name: "unobserved generation alone blocks",
			in: Input{Trigger: SpecChange, Steps: all(func() StepState {
				s := done("data")
				s.ObservedGeneration = 1
				return s
			}(), stale("query"))},
			want: Decision{Pending: []string{"query"}, Phase: implyv1alpha1.RolloutRolling, Reason: implyv1alpha1.ReasonSpecChanged, CurrentGroup: "data"},
		},
		{
			name: "progress deadline halts the rollout",
			in: Input{Now: t0, Trigger: SpecChange, ProgressDeadline: 5 * time.Minute,
				Steps: all(done("data"), rolling("query", t0.Add(-5*time.Minute)), stale("master"), stale("manager"))},
			want: Decision{Pending: []string{"master", "manager"}, Phase: implyv1alpha1.RolloutRolling,
				Reason: implyv1alpha1.ReasonProgressDeadlineExceeded, CurrentGroup: "query", Degraded: true,
				DegradedReason: implyv1alpha1.ReasonProgressDeadlineExceeded, Event: implyv1alpha1.EventRolloutHalted},
			msg: "group query is not complete 5m0s after its rollout started at 2026-11-23T07:55:00Z (1/3 updated, 2/3 ready)",
		},
		{
			name: "progress deadline, a nanosecond early",
			in: Input{Now: t0.Add(-time.Nanosecond), Trigger: SpecChange, ProgressDeadline: 5 * time.Minute,
				Steps: all(rolling("query", t0.Add(-5*time.Minute)), stale("master"))},
			want: Decision{Pending: []string{"master"}, Phase: implyv1alpha1.RolloutRolling, Reason: implyv1alpha1.ReasonSpecChanged,
				CurrentGroup: "query", RequeueAfter: time.Nanosecond},
		},
		{
			name: "halted: no repeated event",
			in: Input{Now: t0, Trigger: SpecChange, Steps: all(rolling("data", t0.Add(-time.Hour)), stale("query")),
				Previous: prev(implyv1alpha1.RolloutRolling, implyv1alpha1.ReasonProgressDeadlineExceeded)},
			want: Decision{Pending: []string{"query"}, Phase: implyv1alpha1.RolloutRolling, Reason: implyv1alpha1.ReasonProgressDeadlineExceeded,
				CurrentGroup: "data", Degraded: true, DegradedReason: implyv1alpha1.ReasonProgressDeadlineExceeded},
			msg: "group data",
		},
		{
			name: "default progress deadline is 10m",
			in:   Input{Now: t0, Trigger: SpecChange, Steps: all(rolling("data", t0.Add(-10*time.Minute)))},
			want: Decision{Phase: implyv1alpha1.RolloutRolling, Reason: implyv1alpha1.ReasonProgressDeadlineExceeded, CurrentGroup: "data",
				Degraded: true, DegradedReason: implyv1alpha1.ReasonProgressDeadlineExceeded, Event: implyv1alpha1.EventRolloutHalted},
		},
		{
			name: "the last group stays Rolling until ready",
			in: Input{Now: t0, Trigger: SpecChange, Steps: all(done("data"), unready("manager", ptrTo(t0.Add(-time.Minute)))),
				Previous: prev(implyv1alpha1.RolloutRolling, implyv1alpha1.ReasonSpecChanged)},
			want: Decision{Phase: implyv1alpha1.RolloutRolling, Reason: implyv1alpha1.ReasonSpecChanged, CurrentGroup: "manager", RequeueAfter: 9 * time.Minute},
		},
		{
			name: "the last group keeps the rollout's reason",
			in: Input{Now: t0, Steps: all(done("data"), rolling("manager", t0.Add(-time.Minute))),
				Previous: prev(implyv1alpha1.RolloutRolling, implyv1alpha1.ReasonRestartRequested)},
			want: Decision{Phase: implyv1alpha1.RolloutRolling, Reason: implyv1alpha1.ReasonRestartRequested, CurrentGroup: "manager", RequeueAfter: 9 * time.Minute},
		},
		{
			name: "the last group keeps the rollout's reason when a window is configured and closed",
			in: Input{Now: t0, Spec: satSpec, Windows: saturday, Steps: all(done("data"), rolling("manager", t0.Add(-time.Minute))),
				Previous: prev(implyv1alpha1.RolloutRolling, implyv1alpha1.ReasonSpecChanged)},
			want: Decision{Phase: implyv1alpha1.RolloutRolling, Reason: implyv1alpha1.ReasonSpecChanged, CurrentGroup: "manager", RequeueAfter: 9 * time.Minute},
		},
		{
			name: "an unready group with nothing to roll is no rollout",
			in:   Input{Now: t0, Steps: all(unready("data", ptrTo(t0.Add(-time.Hour))), done("manager"))},
			want: Decision{Phase: implyv1alpha1.RolloutIdle, Reason: implyv1alpha1.ReasonUpToDate},
			msg:  "nothing to roll; data is not ready (2/3 ready)",
		},
		{
			name: "a workload being created or scaled is no rollout",
			in: Input{Now: t0, Steps: all(func() StepState {
				s := done("data")
				s.ObservedGeneration, s.UpdatedReplicas, s.ReadyReplicas = 1, 0, 0
				return s
			}(), done("manager"))},
			want: Decision{Phase: implyv1alpha1.RolloutIdle, Reason: implyv1alpha1.ReasonUpToDate},
			msg:  "nothing to roll; data is not ready (0/3 ready)",
		},
		{
			name: "an unready group blocks later changes, then degrades",
			in:   Input{Now: t0, Trigger: SpecChange, Steps: all(unready("data", ptrTo(t0.Add(-time.Hour))), stale("query"))},
			want: Decision{Pending: []string{"query"}, Phase: implyv1alpha1.RolloutRolling, Reason: implyv1alpha1.ReasonProgressDeadlineExceeded,
				CurrentGroup: "data", Degraded: true, DegradedReason: implyv1alpha1.ReasonProgressDeadlineExceeded, Event: implyv1alpha1.EventRolloutHalted},
		},
		{
			name: "security change outside a window is deferred",
			in:   Input{Now: t0, Trigger: Security, Spec: satSpec, Windows: saturday, Steps: all(stale("data"), stale("manager"))},
			want: Decision{Pending: []string{"data", "manager"}, Phase: implyv1alpha1.RolloutPending,
				Reason: implyv1alpha1.ReasonAwaitingMaintenanceWindow, NextWindow: &nextSat, RestartPending: true,
				RequeueAfter: nextSat.Sub(t0), Event: implyv1alpha1.EventRolloutDeferred},
			msg: "waiting for the maintenance window at 2026-11-28T02:00:00Z; waiting to roll data, manager",
		},
		{
			name: "deferred: no repeated event",
			in: Input{Now: t0, Trigger: Security, Spec: satSpec, Windows: saturday, Steps: all(stale("data")),
				Previous: prev(implyv1alpha1.RolloutPending, implyv1alpha1.ReasonAwaitingMaintenanceWindow)},
			want: Decision{Pending: []string{"data"}, Phase: implyv1alpha1.RolloutPending,
				Reason: implyv1alpha1.ReasonAwaitingMaintenanceWindow, NextWindow: &nextSat, RestartPending: true, RequeueAfter: nextSat.Sub(t0)},
		},
		{
			name: "empty trigger counts as security",
			in:   Input{Now: t0, Spec: satSpec, Windows: saturday, Steps: all(stale("data"))},
			want: Decision{Pending: []string{"data"}, Phase: implyv1alpha1.RolloutPending,
				Reason: implyv1alpha1.ReasonAwaitingMaintenanceWindow, NextWindow: &nextSat, RestartPending: true,
				RequeueAfter: nextSat.Sub(t0), Event: implyv1alpha1.EventRolloutDeferred},
		},
		{
			name: "security change in a window rolls",
			in:   Input{Now: t0, Trigger: Security, Spec: monSpec, Windows: monday, Steps: all(stale("data"), stale("manager"))},
			want: Decision{Apply: []string{"data"}, Pending: []string{"data", "manager"}, Phase: implyv1alpha1.RolloutRolling,
				Reason: implyv1alpha1.ReasonMaintenanceWindowOpen, CurrentGroup: "data", Event: implyv1alpha1.EventRolloutStarted},
			msg: "maintenance window open until 2026-11-23T09:00:00Z",
		},
		{
			name: "security change without windows rolls at once",
			in:   Input{Now: t0, Trigger: Security, Steps: all(stale("data"))},
			want: Decision{Apply: []string{"data"}, Pending: []string{"data"}, Phase: implyv1alpha1.RolloutRolling,
				Reason: implyv1alpha1.ReasonSecurityMaterialChanged, CurrentGroup: "data", Event: implyv1alpha1.EventRolloutStarted},
		},
		{
			name: "windows that did not parse hold security changes",
			in:   Input{Now: t0, Trigger: Security, Spec: satSpec, Steps: all(stale("data"))},
			want: Decision{Pending: []string{"data"}, Phase: implyv1alpha1.RolloutPending, Reason: implyv1alpha1.ReasonNoMaintenanceWindow,
				RestartPending: true, Event: implyv1alpha1.EventRolloutDeferred},
		},
		{
			name: "certificate expiring exactly at urgentBefore forces the rollout",
			in: Input{Now: t0, Trigger: Security, Spec: satSpec, Windows: saturday, EarliestCertExpiry: ptrTo(t0.Add(72 * time.Hour)),
				Steps: all(stale("data"))},
			want: Decision{Apply: []string{"data"}, Pending: []string{"data"}, Phase: implyv1alpha1.RolloutRolling,
				Reason: implyv1alpha1.ReasonCertificateExpiring, CurrentGroup: "data", Event: implyv1alpha1.EventRolloutStarted},
			msg: "a certificate expires at 2026-11-26T08:00:00Z, within urgentBefore 72h0m0s",
		},
		{
			name: "certificate expiring a second after urgentBefore waits, and requeues then",
			in: Input{Now: t0, Trigger: Security, Spec: satSpec, Windows: saturday, EarliestCertExpiry: ptrTo(t0.Add(72*time.Hour + time.Second)),
				Steps: all(stale("data"))},
			want: Decision{Pending: []string{"data"}, Phase: implyv1alpha1.RolloutPending, Reason: implyv1alpha1.ReasonAwaitingMaintenanceWindow,
				NextWindow: &nextSat, RestartPending: true, RequeueAfter: time.Second, Event: implyv1alpha1.EventRolloutDeferred},
		},
		{
			name: "custom urgentBefore",
			in: Input{Now: t0, Trigger: Security, Windows: saturday,
				Spec:               implyv1alpha1.RolloutSpec{MaintenanceWindows: satSpec.MaintenanceWindows, UrgentBefore: &metav1.Duration{Duration: 200 * time.Hour}},
				EarliestCertExpiry: ptrTo(t0.Add(199 * time.Hour)), Steps: all(stale("data"))},
			want: Decision{Apply: []string{"data"}, Pending: []string{"data"}, Phase: implyv1alpha1.RolloutRolling,
				Reason: implyv1alpha1.ReasonCertificateExpiring, CurrentGroup: "data", Event: implyv1alpha1.EventRolloutStarted},
		},
		{
			name: "urgentBefore 0: only an expired certificate forces",
			in: Input{Now: t0, Trigger: Security, Windows: saturday,
				Spec:               implyv1alpha1.RolloutSpec{MaintenanceWindows: satSpec.MaintenanceWindows, UrgentBefore: &metav1.Duration{}},
				EarliestCertExpiry: ptrTo(t0), Steps: all(stale("data"))},
			want: Decision{Apply: []string{"data"}, Pending: []string{"data"}, Phase: implyv1alpha1.RolloutRolling,
				Reason: implyv1alpha1.ReasonCertificateExpiring, CurrentGroup: "data", Event: implyv1alpha1.EventRolloutStarted},
		},
		{
			name: "no window will open and no certificate urgent: requeue when it becomes urgent",
			in: Input{Now: t0, Trigger: Security, Spec: satSpec, EarliestCertExpiry: ptrTo(t0.Add(100 * time.Hour)),
				Steps: all(stale("data"))},
			want: Decision{Pending: []string{"data"}, Phase: implyv1alpha1.RolloutPending, Reason: implyv1alpha1.ReasonNoMaintenanceWindow,
				RestartPending: true, RequeueAfter: 28 * time.Hour, Event: implyv1alpha1.EventRolloutDeferred},
		},
		{
			name: "restart annotation rolls outside a window",
			in:   Input{Now: t0, Trigger: Restart | Security, Spec: satSpec, Windows: saturday, Steps: all(stale("data"))},
			want: Decision{Apply: []string{"data"}, Pending: []string{"data"}, Phase: implyv1alpha1.RolloutRolling,
				Reason: implyv1alpha1.ReasonRestartRequested, CurrentGroup: "data", Event: implyv1alpha1.EventRolloutStarted},
		},
		{
			name: "a spec change carries a security change along",
			in:   Input{Now: t0, Trigger: SpecChange | Security, Spec: satSpec, Windows: saturday, Steps: all(stale("data"))},
			want: Decision{Apply: []string{"data"}, Pending: []string{"data"}, Phase: implyv1alpha1.RolloutRolling,
				Reason: implyv1alpha1.ReasonSpecChanged, CurrentGroup: "data", Event: implyv1alpha1.EventRolloutStarted},
		},
		{
			name: "window closed mid-rollout: the group in progress finishes, the next waits",
			in: Input{Now: t0, Trigger: Security, Spec: satSpec, Windows: saturday,
				Steps: all(done("data"), rolling("query", t0.Add(-time.Minute)), stale("master"))},
			want: Decision{Pending: []string{"master"}, Phase: implyv1alpha1.RolloutRolling, Reason: implyv1alpha1.ReasonFinishingGroup,
				CurrentGroup: "query", RestartPending: true, NextWindow: &nextSat, RequeueAfter: 9 * time.Minute},
			msg: "waiting for query: 1/3 updated, 2/3 ready; then security material changed; waiting for the maintenance window",
		},
		{
			name: "window closed and the group finished: deferred",
			in: Input{Now: t0, Trigger: Security, Spec: satSpec, Windows: saturday,
				Steps: all(done("data"), done("query"), stale("master")), Previous: prev(implyv1alpha1.RolloutRolling, implyv1alpha1.ReasonFinishingGroup)},
			want: Decision{Pending: []string{"master"}, Phase: implyv1alpha1.RolloutPending, Reason: implyv1alpha1.ReasonAwaitingMaintenanceWindow,
				RestartPending: true, NextWindow: &nextSat, RequeueAfter: nextSat.Sub(t0), Event: implyv1alpha1.EventRolloutDeferred},
		},
		{
			name: "window closed with an unready group before pending ones: deferred, not degraded",
			in: Input{Now: t0, Trigger: Security, Spec: satSpec, Windows: saturday,
				Steps: all(unready("data", ptrTo(t0.Add(-time.Hour))), stale("query"))},
			want: Decision{Pending: []string{"query"}, Phase: implyv1alpha1.RolloutPending, Reason: implyv1alpha1.ReasonAwaitingMaintenanceWindow,
				RestartPending: true, NextWindow: &nextSat, RequeueAfter: nextSat.Sub(t0), Event: implyv1alpha1.EventRolloutDeferred},
		},
		{
			name: "paused beats a restart, a spec change, an urgent certificate and a missed deadline",
			in: Input{Now: t0, Trigger: Restart | SpecChange | Security, Spec: implyv1alpha1.RolloutSpec{Paused: true},
				EarliestCertExpiry: ptrTo(t0), Steps: all(rolling("data", t0.Add(-time.Hour)), stale("query"), stale("manager")),
				Previous: prev(implyv1alpha1.RolloutRolling, implyv1alpha1.ReasonSpecChanged)},
			want: Decision{Pending: []string{"query", "manager"}, Phase: implyv1alpha1.RolloutPending, Reason: implyv1alpha1.ReasonPaused, RestartPending: true},
			msg:  "rollouts are paused; waiting to roll query, manager",
		},
		{
			name: "paused with nothing to roll",
			in:   Input{Now: t0, Spec: implyv1alpha1.RolloutSpec{Paused: true}, Steps: all(done("data"))},
			want: Decision{Phase: implyv1alpha1.RolloutPending, Reason: implyv1alpha1.ReasonPaused},
		},
		{
			name: "missing workloads are created, not rolled",
			in: Input{Now: t0, Trigger: Security, Spec: satSpec, Windows: saturday,
				Steps: all(StepState{Name: "data", DesiredRevision: "new"}, StepState{Name: "manager", DesiredRevision: "new"})},
			want: Decision{Create: []string{"data", "manager"}, Phase: implyv1alpha1.RolloutIdle, Reason: implyv1alpha1.ReasonUpToDate},
		},
		{
			name: "missing workloads are created even when paused",
			in:   Input{Now: t0, Spec: implyv1alpha1.RolloutSpec{Paused: true}, Steps: all(StepState{Name: "data", DesiredRevision: "new"})},
			want: Decision{Create: []string{"data"}, Phase: implyv1alpha1.RolloutPending, Reason: implyv1alpha1.ReasonPaused},
		},
		{
			name: "a new group gates later changes until ready",
			in: Input{Now: t0, Trigger: SpecChange,
				Steps: all(StepState{Name: "data", DesiredRevision: "new"}, stale("query"))},
			want: Decision{Create: []string{"data"}, Pending: []string{"query"}, Phase: implyv1alpha1.RolloutRolling,
				Reason: implyv1alpha1.ReasonSpecChanged, CurrentGroup: "data"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Decide(tc.in)
			if tc.msg != "" && !strings.Contains(got.Message+"\n"+got.DegradedMessage, tc.msg) {
				t.Errorf("Message %q / DegradedMessage %q do not contain %q", got.Message, got.DegradedMessage, tc.msg)
			}
			if got.Degraded && !strings.Contains(got.DegradedMessage, "group "+got.CurrentGroup+" ") {
				t.Errorf("DegradedMessage %q does not name the group %q", got.DegradedMessage, got.CurrentGroup)
			}
			got.Message, got.DegradedMessage = "", ""
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Decide =\n %+v\nwant\n %+v", got, tc.want)
			}
			if len(got.Apply) > 1 {
				t.Errorf("more than one step applied: %v", got.Apply)
			}
		})
	}
}

func TestDecisionStatus(t *testing.T) {
	next := time.Date(2026, time.November, 28, 2, 0, 0, 0, time.UTC)
	d := Decision{Phase: implyv1alpha1.RolloutPending, Reason: implyv1alpha1.ReasonAwaitingMaintenanceWindow, NextWindow: &next}
	st := d.Status()
	if st.Phase != implyv1alpha1.RolloutPending || st.Reason != implyv1alpha1.ReasonAwaitingMaintenanceWindow || st.NextWindow == nil || !st.NextWindow.Time.Equal(next) {
		t.Fatalf("Status = %+v", st)
	}
	if st := (Decision{Phase: implyv1alpha1.RolloutRolling, CurrentGroup: "data"}).Status(); st.NextWindow != nil || st.CurrentGroup != "data" {
		t.Fatalf("Status = %+v", st)
	}
}

func TestTriggerString(t *testing.T) {
	for tr, want := range map[Trigger]string{0: "None", SpecChange: "SpecChange", Security | Restart: "Security|Restart",
		SpecChange | Security | Restart: "SpecChange|Security|Restart"} {
		if got := tr.String(); got != want {
			t.Errorf("%d: %q, want %q", tr, got, want)
		}
	}
}
