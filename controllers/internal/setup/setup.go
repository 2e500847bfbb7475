// Package setup holds what every kind's controller is set up with, so the operator (the
// controllers package) and each kind's envtest suite wire the same reconcilers the same way.
package setup

import (
	"time"

	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/imply-operator/imply-operator/pkg/druid"
)

// EventSource is the reporting controller of the operator's events.
const EventSource = "imply-operator"

// DefaultDruidResyncPeriod is how often converged DruidRoles and Druid users are compared with
// Druid again, so changes made by hand in Druid are reverted.
const DefaultDruidResyncPeriod = 5 * time.Minute

// Options tune the reconcilers.
type Options struct {
	// Clock tells the ImplyCluster reconciler the time (certificates, windows, password
	// rotations), so tests can move it; nil is the real clock. The AuthToken reconciler keeps the
	// real clock: its tokens' ages are compared with the real time their Secrets record.
	Clock clock.PassiveClock
	// TokenClock tells the AuthToken reconciler the time (token and password ages); nil is the
	// real clock. The operator binary sets both clocks to one running --clock-offset ahead.
	TokenClock clock.PassiveClock
	// DruidResyncPeriod is how often converged DruidRoles and Druid users are compared with
	// Druid again, reverting changes made by hand; zero means DefaultDruidResyncPeriod.
	DruidResyncPeriod time.Duration
	// NewDruidAPI builds the client of a cluster's coordinator for every kind that talks to
	// Druid; nil means druid.New.
	NewDruidAPI func(druid.Config) (druid.API, error)
}

// OffsetClock is the real clock moved ahead by Offset: the operator's view of time when it
// rehearses expiries and rotations (--clock-offset).
type OffsetClock struct{ Offset time.Duration }

// Now is the real time plus the offset.
func (c OffsetClock) Now() time.Time { return time.Now().Add(c.Offset) }

// Since is the time elapsed since t on this clock.
func (c OffsetClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// Func registers one kind's controller with mgr.
type Func func(mgr ctrl.Manager, opts Options) error

// WithDefaults fills what opts leaves empty: the real clock, the default resync period and
// druid.New.
func (o Options) WithDefaults() Options {
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.TokenClock == nil {
		o.TokenClock = clock.RealClock{}
	}
	if o.DruidResyncPeriod <= 0 {
		o.DruidResyncPeriod = DefaultDruidResyncPeriod
	}
	if o.NewDruidAPI == nil {
		o.NewDruidAPI = func(c druid.Config) (druid.API, error) { return druid.New(c) }
	}
	return o
}
