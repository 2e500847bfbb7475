package auth

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestNeedsRotation(t *testing.T) {
	const day = 24 * time.Hour
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	d := func(x time.Duration) *metav1.Duration { return &metav1.Duration{Duration: x} }
	for _, tc := range []struct {
		name             string
		generatedAt, now time.Time
		lifetime, period *metav1.Duration
		wantDue          bool
		wantNext         time.Time
	}{
		{name: "no limits", generatedAt: t0, now: t0.Add(1000 * day)},
		{name: "zero and negative durations are no limits", generatedAt: t0, now: t0.Add(1000 * day), lifetime: d(0), period: d(-day)},
		{name: "lifetime not reached", generatedAt: t0, now: t0.Add(89 * day), lifetime: d(90 * day), wantNext: t0.Add(90 * day)},
		{name: "lifetime reached exactly", generatedAt: t0, now: t0.Add(90 * day), lifetime: d(90 * day), wantDue: true, wantNext: t0.Add(90 * day)},
		{name: "lifetime passed", generatedAt: t0, now: t0.Add(100 * day), lifetime: d(90 * day), wantDue: true, wantNext: t0.Add(90 * day)},
		{name: "period only", generatedAt: t0, now: t0.Add(29 * day), period: d(30 * day), wantNext: t0.Add(30 * day)},
		{name: "period sooner than lifetime", generatedAt: t0, now: t0.Add(31 * day), lifetime: d(90 * day), period: d(30 * day),
			wantDue: true, wantNext: t0.Add(30 * day)},
		{name: "lifetime sooner than period", generatedAt: t0, now: t0.Add(10 * day), lifetime: d(7 * day), period: d(30 * day),
			wantDue: true, wantNext: t0.Add(7 * day)},
		{name: "both ahead: the earlier", generatedAt: t0, now: t0.Add(day), lifetime: d(7 * day), period: d(30 * day), wantNext: t0.Add(7 * day)},
		{name: "a non-positive period does not hide the lifetime", generatedAt: t0, now: t0.Add(day), lifetime: d(7 * day), period: d(0),
			wantNext: t0.Add(7 * day)},
		{name: "unknown age with a limit: due now", now: t0, lifetime: d(7 * day), wantDue: true, wantNext: t0},
		{name: "unknown age without a limit", now: t0},
		{name: "clock behind generation", generatedAt: t0, now: t0.Add(-day), period: d(day), wantNext: t0.Add(day)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			due, next := NeedsRotation(tc.generatedAt, tc.now, tc.lifetime, tc.period)
			g.Expect(due).To(Equal(tc.wantDue))
			g.Expect(next).To(Equal(tc.wantNext))
		})
	}
}
