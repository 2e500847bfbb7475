package controllers

import (
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
)

// EventSource is the reporting controller of the operator's events.
const EventSource = "imply-operator"

// SetupWithManager registers every reconciler of the operator with mgr.
func SetupWithManager(mgr ctrl.Manager) error {
	c := mgr.GetClient()
	for _, r := range []struct {
		kind  string
		setup func(ctrl.Manager) error
	}{
		{"ImplyCluster", (&ImplyClusterReconciler{
			Client:    c,
			APIReader: mgr.GetAPIReader(),
			Scheme:    mgr.GetScheme(),
			Recorder:  mgr.GetEventRecorder(EventSource),
		}).SetupWithManager},
		{"AuthToken", (&AuthTokenReconciler{
			Client:    c,
			APIReader: mgr.GetAPIReader(),
			Scheme:    mgr.GetScheme(),
			Recorder:  mgr.GetEventRecorder(EventSource),
		}).SetupWithManager},
		{"SecurityPolicy", (&SecurityPolicyReconciler{Client: c, Recorder: mgr.GetEventRecorder(EventSource)}).SetupWithManager},
		{"DruidRole", (&DruidRoleReconciler{Client: c}).SetupWithManager},
	} {
		if err := r.setup(mgr); err != nil {
			return fmt.Errorf("while setting up the %s controller: %w", r.kind, err)
		}
	}
	return nil
}
