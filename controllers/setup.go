package controllers

import (
	"fmt"
	"time"

	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
)

// EventSource is the reporting controller of the operator's events.
const EventSource = "imply-operator"

// SetupWithManager registers every reconciler of the operator with mgr, on the real clock.
func SetupWithManager(mgr ctrl.Manager) error {
	return SetupWithManagerAndClock(mgr, nil)
}

// SetupWithManagerAndClock registers every reconciler with mgr, telling time by clk (nil is the
// real clock), so tests can move certificate renewal and token rotation forward.
func SetupWithManagerAndClock(mgr ctrl.Manager, clk clock.PassiveClock) error {
	return SetupWithOptions(mgr, Options{Clock: clk})
}

// Options tune the reconcilers.
type Options struct {
	// Clock tells the ImplyCluster reconciler the time; nil is the real clock.
	Clock clock.PassiveClock
	// DruidResyncPeriod is how often converged DruidRoles and Druid users are compared with
	// Druid again, reverting changes made by hand; zero means DefaultDruidRoleResyncPeriod.
	DruidResyncPeriod time.Duration
}

// SetupWithOptions registers every reconciler of the operator with mgr.
func SetupWithOptions(mgr ctrl.Manager, opts Options) error {
	c, clk := mgr.GetClient(), opts.Clock
	resync := opts.DruidResyncPeriod
	if resync <= 0 {
		resync = DefaultDruidRoleResyncPeriod
	}
	for _, r := range []struct {
		kind  string
		setup func(ctrl.Manager) error
	}{
		{"ImplyCluster", (&ImplyClusterReconciler{
			Client:    c,
			APIReader: mgr.GetAPIReader(),
			Scheme:    mgr.GetScheme(),
			Recorder:  mgr.GetEventRecorder(EventSource),
			Clock:     clk,
		}).SetupWithManager},
		{"AuthToken", (&AuthTokenReconciler{
			Client:       c,
			APIReader:    mgr.GetAPIReader(),
			Scheme:       mgr.GetScheme(),
			Recorder:     mgr.GetEventRecorder(EventSource),
			ResyncPeriod: resync,
		}).SetupWithManager},
		{"SecurityPolicy", (&SecurityPolicyReconciler{Client: c, Recorder: mgr.GetEventRecorder(EventSource)}).SetupWithManager},
		{"DruidRole", (&DruidRoleReconciler{
			Client:       c,
			APIReader:    mgr.GetAPIReader(),
			Recorder:     mgr.GetEventRecorder(EventSource),
			ResyncPeriod: resync,
		}).SetupWithManager},
	} {
		if err := r.setup(mgr); err != nil {
			return fmt.Errorf("while setting up the %s controller: %w", r.kind, err)
		}
	}
	return nil
}
