// Package controllers wires the operator's reconcilers, one package per kind
// (implycluster, authtoken, druidrole, securitypolicy), with the indexes they share.
package controllers

import (
	"context"
	"fmt"

	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	crcache "sigs.k8s.io/controller-runtime/pkg/cache"

	"github.com/imply-operator/imply-operator/controllers/authtoken"
	"github.com/imply-operator/imply-operator/controllers/druidrole"
	"github.com/imply-operator/imply-operator/controllers/implycluster"
	"github.com/imply-operator/imply-operator/controllers/internal/cache"
	"github.com/imply-operator/imply-operator/controllers/internal/index"
	"github.com/imply-operator/imply-operator/controllers/internal/setup"
	"github.com/imply-operator/imply-operator/controllers/securitypolicy"
)

// EventSource is the reporting controller of the operator's events.
const EventSource = setup.EventSource

// DefaultDruidRoleResyncPeriod is how often converged DruidRoles and Druid users are compared
// with Druid again, so changes made by hand in Druid are reverted.
const DefaultDruidRoleResyncPeriod = setup.DefaultDruidResyncPeriod

// Options tune the reconcilers.
type Options = setup.Options

// OffsetClock is the real clock moved ahead by an offset (the operator's --clock-offset).
type OffsetClock = setup.OffsetClock

// Kinds are the setup functions of every kind's controller, in the order they are registered.
var Kinds = []struct {
	Name  string
	Setup setup.Func
}{
	{"ImplyCluster", implycluster.Setup},
	{"AuthToken", authtoken.Setup},
	{"SecurityPolicy", securitypolicy.Setup},
	{"DruidRole", druidrole.Setup},
}

// CacheOptions restricts what the operator keeps in memory (see the cache package).
func CacheOptions(namespaces map[string]crcache.Config) crcache.Options {
	return cache.Options(namespaces)
}

// SetupWithManager registers every reconciler of the operator with mgr, on the real clock.
func SetupWithManager(mgr ctrl.Manager) error {
	return SetupWithOptions(mgr, Options{})
}

// SetupWithManagerAndClock registers every reconciler with mgr, telling time by clk (nil is the
// real clock), so tests can move certificate renewal and token rotation forward.
func SetupWithManagerAndClock(mgr ctrl.Manager, clk clock.PassiveClock) error {
	return SetupWithOptions(mgr, Options{Clock: clk})
}

// SetupWithOptions registers the shared indexes and every reconciler of the operator with mgr.
func SetupWithOptions(mgr ctrl.Manager, opts Options) error {
	if err := index.Register(context.Background(), mgr.GetFieldIndexer()); err != nil {
		return err
	}
	opts = opts.WithDefaults()
	opts, err := opts.WithForeignSecrets(mgr)
	if err != nil {
		return err
	}
	for _, k := range Kinds {
		if err := k.Setup(mgr, opts); err != nil {
			return fmt.Errorf("while setting up the %s controller: %w", k.Name, err)
		}
	}
	return nil
}
