// Package setup holds what every kind's controller is set up with, so the operator (the
// controllers package) and each kind's envtest suite wire the same reconcilers the same way.
package setup

import (
	"context"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	crcache "sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/imply-operator/imply-operator/controllers/internal/cache"

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
	// Namespaces are the namespaces the operator watches, as the manager's cache has them; nil
	// is every namespace.
	Namespaces map[string]crcache.Config
	// ForeignSecrets is the metadata-only cache of the Secrets the operator does not manage,
	// shared by every kind that maps a referenced Secret to its users (WithForeignSecrets).
	ForeignSecrets *cache.ForeignSecrets
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

// WithForeignSecrets gives o the cache of foreign Secrets in o.Namespaces, added to mgr, unless
// it has one already. The operator builds it once for all its controllers.
func (o Options) WithForeignSecrets(mgr ctrl.Manager) (Options, error) {
	if o.ForeignSecrets != nil {
		return o, nil
	}
	foreign, err := cache.NewForeignSecrets(mgr, o.Namespaces)
	if err != nil {
		return o, err
	}
	o.ForeignSecrets = foreign
	return o, nil
}

// WatchForeignSecrets makes b reconcile what mapFn maps a foreign Secret to, from o's cache of
// their metadata.
func (o Options) WatchForeignSecrets(b *builder.Builder, mapFn handler.MapFunc) *builder.Builder {
	typed := func(ctx context.Context, m *metav1.PartialObjectMetadata) []reconcile.Request { return mapFn(ctx, m) }
	return b.WatchesRawSource(source.Kind(o.ForeignSecrets.Cache, cache.SecretMetadata(), handler.TypedEnqueueRequestsFromMapFunc(typed)))
}

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
