package rollout

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// scheduleParser parses maintenance-window schedules: 5 fields, no seconds, no descriptors.
var scheduleParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// neverFiresProbe is where ParseWindows looks for a first activation; a schedule with none in the
// five years after it (robfig/cron's search limit), such as "0 0 30 2 *", never fires. 2000 is a
// leap year, so "0 0 29 2 *" passes.
var neverFiresProbe = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)

// maxMerges bounds how many back-to-back or overlapping openings InWindow merges into one open
// period when it computes the period's end.
const maxMerges = 64

// Window is a parsed maintenance window: open for Duration from each activation of Schedule, in
// UTC. Build Windows with ParseWindows; the zero Window never opens.
type Window struct {
	// Schedule is the cron expression as written in the spec.
	Schedule string
	// Duration is how long the window stays open after each activation.
	Duration time.Duration

	sched cron.Schedule
}

// ParseWindows parses the maintenance windows of a RolloutSpec. It checks every window and returns
// all problems joined, each naming the window's index and field, such as
// "maintenanceWindows[1].schedule: beginning of range (5) beyond end of range (3)". On error it
// returns no windows: callers must then hold restarts driven by security material rather than roll
// them at once (Decide does so when the spec lists windows but Input.Windows is empty).
//
// A schedule is rejected when robfig/cron cannot parse it as 5 fields, when it names a time zone
// (TZ= or CRON_TZ=; windows are in UTC), or when it never fires (such as "0 0 30 2 *"). A
// duration must be positive.
func ParseWindows(windows []implyv1alpha1.MaintenanceWindow) ([]Window, error) {
	if len(windows) == 0 {
		return nil, nil
	}
	out := make([]Window, 0, len(windows))
	var errs []error
	for i, mw := range windows {
		w, err := parseWindow(mw)
		if err != nil {
			errs = append(errs, fmt.Errorf("maintenanceWindows[%d].%w", i, err))
			continue
		}
		out = append(out, w)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// parseWindow parses one window; its errors start with the field name.
func parseWindow(mw implyv1alpha1.MaintenanceWindow) (Window, error) {
	spec := strings.TrimSpace(mw.Schedule)
	if spec == "" {
		return Window{}, errors.New("schedule: must not be empty")
	}
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		// Besides, robfig/cron v3.0.1 panics on "TZ=UTC" without a following field.
		return Window{}, fmt.Errorf("schedule: must not name a time zone, windows are in UTC: %q", mw.Schedule)
	}
	sched, err := parseSchedule(spec)
	if err != nil {
		return Window{}, fmt.Errorf("schedule: %w", err)
	}
	if sched.Next(neverFiresProbe).IsZero() {
		return Window{}, fmt.Errorf("schedule: %q never fires", mw.Schedule)
	}
	if mw.Duration.Duration <= 0 {
		return Window{}, fmt.Errorf("duration: must be positive, such as 4h, got %s", mw.Duration.Duration)
	}
	return Window{Schedule: mw.Schedule, Duration: mw.Duration.Duration, sched: sched}, nil
}

// parseSchedule parses a 5-field schedule pinned to UTC, turning a parser panic into an error.
func parseSchedule(spec string) (sched cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, fmt.Errorf("cannot parse %q", spec)
		}
	}()
	sched, err = scheduleParser.Parse(spec)
	if err != nil {
		return nil, err
	}
	if s, ok := sched.(*cron.SpecSchedule); ok {
		// Without a TZ= prefix robfig/cron uses the location of the time it is given; pin UTC so a
		// caller passing local times still gets UTC windows.
		s.Location = time.UTC
	}
	return sched, nil
}

// lastOpening returns the latest activation a of w with at-d < a <= at, that is the opening of
// w that is still open at the instant at, if there is one.
//
// robfig/cron only searches forwards (Next returns the first activation strictly after a time),
// so this bisects [at-d, at] for the last instant whose Next is still <= at: about log2(d/1s)
// calls to Next, however often the schedule fires.
func (w Window) lastOpening(at time.Time) (time.Time, bool) {
	if w.sched == nil || w.Duration <= 0 {
		return time.Time{}, false
	}
	lo := at.Add(-w.Duration)
	a := w.sched.Next(lo)
	if a.IsZero() || a.After(at) {
		return time.Time{}, false
	}
	// Invariant: Next(lo) == a <= at, and Next(hi) > at. Activations fall on whole seconds, so once
	// hi-lo <= 1s no activation lies between a and at.
	hi := at
	for hi.Sub(lo) > time.Second {
		mid := lo.Add(hi.Sub(lo) / 2)
		if n := w.sched.Next(mid); !n.IsZero() && !n.After(at) {
			lo, a = mid, n
		} else {
			hi = mid
		}
	}
	return a.UTC(), true
}

// InWindow reports whether a maintenance window is open at now, and if so when the open period
// ends. A window is open from each activation of its schedule, inclusive, for its duration,
// exclusive: "0 2 * * *" for 4h is open from 02:00:00 to 03:59:59.999 UTC every day, including
// across midnight for windows that start late.
//
// end merges openings that overlap or touch, of the same window or of others, up to 64 of them:
// for a schedule that keeps the window open for longer, end is the end of the 64th and the window
// may still be open then. Callers re-evaluate at end.
func InWindow(ws []Window, now time.Time) (open bool, end time.Time) {
	now = now.UTC()
	for _, w := range ws {
		if a, ok := w.lastOpening(now); ok {
			open = true
			if e := a.Add(w.Duration); e.After(end) {
				end = e
			}
		}
	}
	if !open {
		return false, time.Time{}
	}
	for range maxMerges {
		next := end
		for _, w := range ws {
			// An opening at or before end that lasts past it extends the open period.
			if a, ok := w.lastOpening(end); ok {
				if e := a.Add(w.Duration); e.After(next) {
					next = e
				}
			}
		}
		if !next.After(end) {
			break
		}
		end = next
	}
	return true, end
}

// NextWindow returns the earliest opening of any window strictly after now, in UTC, or the zero
// time when there is none: no windows, or none that fires within five years (robfig/cron's search
// limit). A window open at now does not count; its next opening does.
func NextWindow(ws []Window, now time.Time) time.Time {
	now = now.UTC()
	var next time.Time
	for _, w := range ws {
		if w.sched == nil || w.Duration <= 0 {
			continue
		}
		n := w.sched.Next(now)
		if !n.IsZero() && (next.IsZero() || n.Before(next)) {
			next = n
		}
	}
	if next.IsZero() {
		return next
	}
	return next.UTC()
}
