package rollout

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// sim is a simulated cluster: the steps' workloads and a record of what the operator did. The
// operator side keeps nothing: each reconcile builds its Input from the cluster alone.
type sim struct {
	steps   []StepState
	applied []string        // step names, in the order their templates were changed
	podsOut map[string]int  // pods replaced per step
	stuck   map[string]bool // steps whose last pod never becomes ready
	status  *implyv1alpha1.RolloutStatus
}

// newSim returns a cluster of healthy steps; the steps in changed want a new revision.
func newSim(names []string, replicas []int32, changed map[string]bool) *sim {
	s := &sim{podsOut: map[string]int{}, stuck: map[string]bool{}}
	for i, n := range names {
		st := StepState{Name: n, DesiredRevision: "r1", AppliedRevision: "r1", Replicas: replicas[i], ReadyReplicas: replicas[i],
			UpdatedReplicas: replicas[i], CurrentRevision: n + "-1", UpdateRevision: n + "-1", ObservedGeneration: 1, Generation: 1}
		if changed[n] {
			st.DesiredRevision = "r2"
		}
		s.steps = append(s.steps, st)
	}
	return s
}

// clone copies the cluster, as an operator restarted at this point would find it.
func (s *sim) clone() *sim {
	c := &sim{steps: slices.Clone(s.steps), applied: slices.Clone(s.applied), podsOut: map[string]int{}, stuck: s.stuck}
	for k, v := range s.podsOut {
		c.podsOut[k] = v
	}
	if s.status != nil {
		st := *s.status
		c.status = &st
	}
	return c
}

// apply changes a step's template, as the controller does for Decision.Apply.
func (s *sim) apply(name string, now time.Time) {
	for i := range s.steps {
		if s.steps[i].Name == name {
			st := &s.steps[i]
			st.AppliedRevision, st.Generation, st.NotReadySince = st.DesiredRevision, st.Generation+1, &now
			s.applied = append(s.applied, name)
			return
		}
	}
	panic("no step " + name)
}

// tick lets each StatefulSet controller make one move: see the new generation, replace one pod,
// or report the last pod ready and set currentRevision.
func (s *sim) tick() {
	for i := range s.steps {
		st := &s.steps[i]
		// The workload controller rolls what the template says, whatever the operator wants next.
		if !st.moving() && st.ReadyReplicas == st.Replicas {
			continue
		}
		switch {
		case st.ObservedGeneration < st.Generation:
			st.ObservedGeneration = st.Generation
			st.UpdateRevision = fmt.Sprintf("%s-%d", st.Name, st.Generation)
			st.UpdatedReplicas, st.ReadyReplicas = 0, st.Replicas-1
		case st.UpdatedReplicas < st.Replicas:
			st.UpdatedReplicas++
			s.podsOut[st.Name]++
		case !s.stuck[st.Name]:
			st.ReadyReplicas, st.CurrentRevision, st.NotReadySince = st.Replicas, st.UpdateRevision, nil
		}
	}
}

// rolling counts the steps whose pods are being replaced or are not all ready after a change.
func (s *sim) rolling() []string {
	var out []string
	for _, st := range s.steps {
		if st.AppliedRevision == st.DesiredRevision && !st.Complete() {
			out = append(out, st.Name)
		}
	}
	return out
}

// reconcile runs Decide on the cluster as it is and carries the decision out.
func (s *sim) reconcile(in Input) Decision {
	in.Steps = slices.Clone(s.steps)
	in.Previous = s.status
	d := Decide(in)
	for _, n := range d.Apply {
		s.apply(n, in.Now)
	}
	s.status = d.Status()
	return d
}

// TestRestartSafety is a property test: for every set of changed steps, every trigger that rolls
// at once, and every point of a rollout, an operator restarted there (with the status it left, or
// with none) finishes the rollout applying each changed step exactly once, in order, never two
// groups at once, replacing each pod once; and Decide's Apply at that point does not depend on
// Previous.
func TestRestartSafety(t *testing.T) {
	names := []string{"hot", "cold", "query", "master", ManagerStepName}
	replicas := []int32{3, 1, 2, 1, 1}
	clk := clocktesting.NewFakeClock(t0)
	previous := []*implyv1alpha1.RolloutStatus{nil, {Phase: implyv1alpha1.RolloutIdle}, {Phase: implyv1alpha1.RolloutPending, Reason: implyv1alpha1.ReasonPaused},
		{Phase: implyv1alpha1.RolloutRolling, Reason: implyv1alpha1.ReasonSpecChanged, CurrentGroup: "hot"}}

	for mask := 1; mask < 1<<len(names); mask++ {
		changed := map[string]bool{}
		var wantOrder []string
		for i, n := range names {
			if mask&(1<<i) != 0 {
				changed[n] = true
				wantOrder = append(wantOrder, n)
			}
		}
		for _, trig := range []Trigger{SpecChange, Restart, Security} {
			// The original run, recording the cluster before each reconcile.
			run := func(s *sim, limit int) ([]*sim, error) {
				var trace []*sim
				for range limit {
					trace = append(trace, s.clone())
					d := s.reconcile(Input{Now: clk.Now(), Trigger: trig})
					if r := s.rolling(); len(r) > 1 {
						return trace, fmt.Errorf("two groups rolling at once: %v", r)
					}
					if d.Phase == implyv1alpha1.RolloutIdle && len(d.Pending) == 0 && len(s.rolling()) == 0 {
						return trace, nil
					}
					s.tick()
				}
				return trace, fmt.Errorf("rollout did not finish in %d reconciles", limit)
			}
			check := func(s *sim, label string) {
				if !reflect.DeepEqual(s.applied, wantOrder) {
					t.Fatalf("%s: applied %v, want %v", label, s.applied, wantOrder)
				}
				for i, n := range names {
					want := 0
					if changed[n] {
						want = int(replicas[i])
					}
					if s.podsOut[n] != want {
						t.Fatalf("%s: %d pods of %s replaced, want %d", label, s.podsOut[n], n, want)
					}
				}
			}
			label := fmt.Sprintf("changed=%v trigger=%v", wantOrder, trig)
			orig := newSim(names, replicas, changed)
			trace, err := run(orig, 200)
			if err != nil {
				t.Fatalf("%s: %v", label, err)
			}
			check(orig, label)

			for k, snap := range trace {
				// Apply at this point is a function of the observed steps only.
				var apply0 []string
				for j, p := range previous {
					d := Decide(Input{Now: clk.Now(), Trigger: trig, Steps: snap.steps, Previous: p})
					for _, n := range d.Apply {
						for i, st := range snap.steps {
							if st.Name != n {
								continue
							}
							if st.AppliedRevision == st.DesiredRevision {
								t.Fatalf("%s, prefix %d: re-applies finished step %s", label, k, n)
							}
							for _, before := range snap.steps[:i] {
								if !before.Complete() {
									t.Fatalf("%s, prefix %d: applies %s before %s is complete", label, k, n, before.Name)
								}
							}
						}
					}
					if j == 0 {
						apply0 = d.Apply
					} else if !reflect.DeepEqual(d.Apply, apply0) {
						t.Fatalf("%s, prefix %d: Apply %v with Previous %+v, %v without", label, k, d.Apply, p, apply0)
					}
				}
				// A restarted operator finishes the rollout exactly once per step, with the
				// status left behind or with none.
				for _, keepStatus := range []bool{true, false} {
					s := snap.clone()
					if !keepStatus {
						s.status = nil
					}
					if _, err := run(s, 200); err != nil {
						t.Fatalf("%s, restarted at prefix %d: %v", label, k, err)
					}
					check(s, fmt.Sprintf("%s, restarted at prefix %d (status kept: %v)", label, k, keepStatus))
				}
			}
		}
	}
}

// TestStuckGroupHalts uses a fake clock: a group whose last pod never becomes ready halts the
// rollout after the progress deadline, and no later group is touched, before or after a restart.
func TestStuckGroupHalts(t *testing.T) {
	names := []string{"data", "query", "master", ManagerStepName}
	changed := map[string]bool{"data": true, "query": true, "master": true, ManagerStepName: true}
	s := newSim(names, []int32{2, 2, 1, 1}, changed)
	s.stuck["query"] = true
	clk := clocktesting.NewFakeClock(t0)
	var halted *Decision
	for range 60 {
		d := s.reconcile(Input{Now: clk.Now(), Trigger: SpecChange, ProgressDeadline: 15 * time.Minute})
		if d.Degraded && halted == nil {
			halted = &d
		}
		s.tick()
		clk.Step(time.Minute)
	}
	if !reflect.DeepEqual(s.applied, []string{"data", "query"}) {
		t.Fatalf("applied %v, want data then query only", s.applied)
	}
	if halted == nil {
		t.Fatal("never degraded")
	}
	if halted.CurrentGroup != "query" || halted.Event != implyv1alpha1.EventRolloutHalted || halted.DegradedReason != implyv1alpha1.ReasonProgressDeadlineExceeded {
		t.Fatalf("halt decision %+v", *halted)
	}
	// The query step changed at t0+3m (data took 3 reconciles): it degrades 15m later, exactly.
	if d := Decide(Input{Now: *s.steps[1].NotReadySince, Trigger: SpecChange, ProgressDeadline: 15 * time.Minute,
		Steps: s.steps}); d.Degraded || d.RequeueAfter != 15*time.Minute {
		t.Fatalf("at the change: %+v", d)
	}
	// A restarted operator, without the status, still touches nothing further.
	d := Decide(Input{Now: clk.Now(), Trigger: SpecChange, ProgressDeadline: 15 * time.Minute, Steps: s.steps})
	if len(d.Apply) != 0 || !d.Degraded || d.Event != implyv1alpha1.EventRolloutHalted {
		t.Fatalf("after a restart: %+v", d)
	}
}

// TestSecurityRolloutAcrossWindows drives a security rollout with a fake clock through a short
// weekly window that closes mid-rollout: it waits for the window, starts steps only inside it,
// finishes the step in progress after it closes, and resumes a week later.
func TestSecurityRolloutAcrossWindows(t *testing.T) {
	spec := implyv1alpha1.RolloutSpec{MaintenanceWindows: []implyv1alpha1.MaintenanceWindow{
		{Schedule: "0 2 * * SAT", Duration: metav1.Duration{Duration: 20 * time.Minute}}}}
	ws, err := ParseWindows(spec.MaintenanceWindows)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"data", "query", "master", ManagerStepName}
	s := newSim(names, []int32{4, 3, 3, 1}, map[string]bool{"data": true, "query": true, "master": true, ManagerStepName: true})
	clk := clocktesting.NewFakeClock(t0) // Monday
	type start struct {
		name string
		at   time.Time
	}
	var starts []start
	var events []string
	for range 2000 {
		now := clk.Now()
		d := s.reconcile(Input{Now: now, Spec: spec, Windows: ws, Trigger: Security, ProgressDeadline: 30 * time.Minute})
		if d.Event != "" {
			events = append(events, d.Event)
		}
		for _, n := range d.Apply {
			starts = append(starts, start{n, now})
			if open, _ := InWindow(ws, now); !open {
				t.Fatalf("%s started at %v, outside the window", n, now)
			}
		}
		if d.Phase == implyv1alpha1.RolloutPending {
			if !d.RestartPending || d.NextWindow == nil || !d.NextWindow.After(now) {
				t.Fatalf("pending decision %+v", d)
			}
			if open, _ := InWindow(ws, now); open {
				t.Fatalf("deferred at %v inside the window", now)
			}
		}
		if d.Phase == implyv1alpha1.RolloutIdle && len(d.Pending) == 0 {
			break
		}
		s.tick()
		step := 2 * time.Minute
		if d.Phase == implyv1alpha1.RolloutPending {
			step = d.RequeueAfter // nothing moves while deferred: sleep until the window
		}
		clk.Step(step)
	}
	if !reflect.DeepEqual(s.applied, names) {
		t.Fatalf("applied %v, want %v", s.applied, names)
	}
	sat1 := time.Date(2026, time.November, 28, 2, 0, 0, 0, time.UTC)
	sat2 := sat1.Add(7 * 24 * time.Hour)
	// data: 4 pods, about 12 minutes; query starts before 02:20 and finishes after it; master and
	// the manager wait a week.
	if starts[0].at != sat1 || starts[1].at.After(sat1.Add(20*time.Minute)) || starts[2].at != sat2 {
		t.Fatalf("starts %v", starts)
	}
	want := []string{implyv1alpha1.EventRolloutDeferred, implyv1alpha1.EventRolloutStarted, implyv1alpha1.EventRolloutGroupStarted, implyv1alpha1.EventRolloutDeferred,
		implyv1alpha1.EventRolloutStarted, implyv1alpha1.EventRolloutGroupStarted, implyv1alpha1.EventRolloutFinished}
	if !reflect.DeepEqual(events, want) {
		t.Fatalf("events %v, want %v", events, want)
	}
}

// TestChangeMidRollout is a property test: when the wanted templates change again at any point
// of a rollout (new material arrives), no two steps are ever in progress at once, the rollout
// ends with every step on the newest revision, and no step is applied more than twice.
func TestChangeMidRollout(t *testing.T) {
	names := []string{"data", "query", "master", ManagerStepName}
	replicas := []int32{3, 2, 2, 1}
	clk := clocktesting.NewFakeClock(t0)
	all := map[string]bool{"data": true, "query": true, "master": true, ManagerStepName: true}
	inProgress := func(s *sim) []string {
		var out []string
		for _, st := range s.steps {
			if st.moving() || st.ReadyReplicas != st.Replicas {
				out = append(out, st.Name)
			}
		}
		return out
	}
	for at := 0; at < 40; at++ {
		s := newSim(names, replicas, all)
		for n := 0; n < 400; n++ {
			if n == at {
				for i := range s.steps {
					s.steps[i].DesiredRevision = "r3"
				}
			}
			d := s.reconcile(Input{Now: clk.Now(), Trigger: SpecChange})
			if p := inProgress(s); len(p) > 1 {
				t.Fatalf("change at reconcile %d: %v in progress at once after reconcile %d", at, p, n)
			}
			if n > at && d.Phase == implyv1alpha1.RolloutIdle && len(d.Pending) == 0 {
				break
			}
			s.tick()
		}
		count := map[string]int{}
		for _, n := range s.applied {
			count[n]++
		}
		for i, st := range s.steps {
			if !st.Complete() || st.AppliedRevision != "r3" {
				t.Fatalf("change at reconcile %d: step %s ends at %+v", at, names[i], st)
			}
			if count[st.Name] < 1 || count[st.Name] > 2 {
				t.Fatalf("change at reconcile %d: %s applied %d times (%v)", at, st.Name, count[st.Name], s.applied)
			}
		}
	}
}
