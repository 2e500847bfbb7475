package auth

import (
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NeedsRotation decides whether a generated password or token made at generatedAt must be
// regenerated at now. It is due when the SecurityPolicy's password lifetime or the AuthToken's
// rotation period has passed since generatedAt, whichever comes first; nil or non-positive
// durations set no limit. next is that due time (the earlier of the two), for the caller's
// RequeueAfter, and is zero when there is no limit. A zero generatedAt (unknown age) with a
// limit is due at once, and next is now.
func NeedsRotation(generatedAt, now time.Time, lifetime, rotationPeriod *metav1.Duration) (bool, time.Time) {
	var limit time.Duration
	for _, d := range []*metav1.Duration{lifetime, rotationPeriod} {
		if d != nil && d.Duration > 0 && (limit == 0 || d.Duration < limit) {
			limit = d.Duration
		}
	}
	if limit == 0 {
		return false, time.Time{}
	}
	if generatedAt.IsZero() {
		return true, now
	}
	next := generatedAt.Add(limit)
	return !now.Before(next), next
}

// Cause is why a generated password or token is (re)generated.
type Cause string

const (
	// CauseNone says the value in effect stays.
	CauseNone Cause = ""
	// CauseMissing says there is no usable value.
	CauseMissing Cause = "Missing"
	// CauseNonCompliant says the value no longer satisfies the SecurityPolicy.
	CauseNonCompliant Cause = "NonCompliant"
	// CauseExpired says the value is older than the policy's lifetime or the rotation period.
	CauseExpired Cause = "Expired"
)

// RotationInput is what DecideRotation decides from: the generated value in effect, its age and
// the limits on it.
type RotationInput struct {
	// Usable says a value exists and can be used; false means one is generated at once.
	Usable bool
	// Violations are the SecurityPolicy rules the value breaks (CheckPassword); none for tokens.
	Violations []Violation
	// GeneratedAt is when the value was generated; zero when unknown.
	GeneratedAt, Now time.Time
	// Lifetime is the SecurityPolicy's password lifetime, Period an AuthToken's rotation period;
	// nil sets no limit.
	Lifetime, Period *metav1.Duration
}

// Rotation is DecideRotation's verdict.
type Rotation struct {
	// Due says to generate a new value now; Cause and Why say why ("it was older than ...").
	Due   bool
	Cause Cause
	Why   string
	// Next is when the value in effect is due, zero when it never is. When Due, it is when a
	// value generated now will be due (GeneratedAt of now truncated to seconds, as stored).
	Next time.Time
}

// DecideRotation is the one rotation decision of every generated secret (agent tokens, Druid
// users' passwords, the cluster's admin and internal-client passwords): a new value is due when
// there is none, when the one in effect breaks the SecurityPolicy, and when it is older than the
// lifetime or rotation period, whichever is shorter.
func DecideRotation(in RotationInput) Rotation {
	due, next := NeedsRotation(in.GeneratedAt, in.Now, in.Lifetime, in.Period)
	out := Rotation{Due: true, Next: next}
	switch {
	case !in.Usable:
		out.Cause, out.Why = CauseMissing, "there was no usable one"
	case len(in.Violations) > 0:
		out.Cause, out.Why = CauseNonCompliant, fmt.Sprintf("it no longer satisfied the SecurityPolicy (%s)", FormatViolations(in.Violations))
	case due:
		out.Cause, out.Why = CauseExpired, "it was older than "+limitName(in.Lifetime, in.Period)
	default:
		return Rotation{Next: next}
	}
	_, out.Next = NeedsRotation(in.Now.UTC().Truncate(time.Second), in.Now, in.Lifetime, in.Period)
	return out
}

// limitName names the shorter of the two limits, for DecideRotation's Why.
func limitName(lifetime, period *metav1.Duration) string {
	switch {
	case period == nil || period.Duration <= 0:
		return "the SecurityPolicy's lifetime of " + ShortDuration(lifetime.Duration)
	case lifetime == nil || lifetime.Duration <= 0 || period.Duration < lifetime.Duration:
		return "the rotation period of " + ShortDuration(period.Duration)
	default:
		return "the SecurityPolicy's lifetime of " + ShortDuration(lifetime.Duration)
	}
}

// ShortDuration formats d as Go does without trailing zero units: 2160h, 15m, 1h30m.
func ShortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
