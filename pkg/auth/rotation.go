package auth

import (
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
