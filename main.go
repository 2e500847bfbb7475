/*
Copyright 2026 The imply-operator Authors.

Licensed under the Apache License, Version 2.0.
*/

// Command imply-operator runs the controllers for ImplyCluster, AuthToken, SecurityPolicy and
// DruidRole. It runs in a cluster (the Helm chart) or from a laptop against any cluster with only
// KUBECONFIG set: leader election is off unless asked for.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/KimMachineGun/automemlimit/memlimit"
	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers"
	"github.com/imply-operator/imply-operator/pkg/version"
)

var scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(implyv1alpha1.AddToScheme(scheme))
	utilruntime.Must(cmv1.AddToScheme(scheme))
}

// options are the command-line settings of the operator.
type options struct {
	metricsAddr             string
	metricsSecure           bool
	metricsCertDir          string
	enableHTTP2             bool
	probeAddr               string
	leaderElect             bool
	leaderElectionNamespace string
	leaseDuration           time.Duration
	renewDeadline           time.Duration
	retryPeriod             time.Duration
	watchNamespaces         string
	druidResyncPeriod       time.Duration
	pprofAddr               string
	maxConcurrentReconciles int
	clockOffset             time.Duration
}

func main() {
	var opts options
	flag.StringVar(&opts.metricsAddr, "metrics-bind-address", ":8443", `Address the Prometheus metrics endpoint binds to; "0" turns it off.`)
	flag.BoolVar(&opts.metricsSecure, "metrics-secure", true,
		"Serve metrics over HTTPS, only to callers whose bearer token the apiserver authenticates (TokenReview) and authorizes for GET /metrics (SubjectAccessReview); false serves plain HTTP to anyone.")
	flag.StringVar(&opts.metricsCertDir, "metrics-cert-dir", "",
		"Directory holding tls.crt and tls.key for the HTTPS metrics endpoint, reloaded when they change; empty uses a self-signed certificate.")
	flag.BoolVar(&opts.enableHTTP2, "enable-http2", false,
		"Allow HTTP/2 on the metrics endpoint; off because of the HTTP/2 stream-reset and rapid-reset vulnerabilities (CVE-2023-44487, CVE-2023-39325).")
	flag.StringVar(&opts.probeAddr, "health-probe-bind-address", ":8081", "Address the /healthz and /readyz probes bind to.")
	flag.BoolVar(&opts.leaderElect, "leader-elect", false, "Elect a leader so only one replica reconciles (the Helm chart turns it on).")
	flag.StringVar(&opts.leaderElectionNamespace, "leader-election-namespace", "", "Namespace of the leader-election Lease; required with --leader-elect outside a cluster.")
	flag.DurationVar(&opts.leaseDuration, "leader-elect-lease-duration", 15*time.Second,
		"How long a standby waits after the leader's last renewal before it takes the Lease (a leader that dies without releasing it).")
	flag.DurationVar(&opts.renewDeadline, "leader-elect-renew-deadline", 10*time.Second,
		"How long the leader keeps trying to renew the Lease before it gives up leadership and exits; below the lease duration.")
	flag.DurationVar(&opts.retryPeriod, "leader-elect-retry-period", 2*time.Second,
		"How often the leader renews the Lease and a standby tries to take it (a standby's tries are jittered up to 2.2 times this).")
	flag.StringVar(&opts.watchNamespaces, "watch-namespace", "", "Comma-separated namespaces to watch; empty watches all namespaces.")
	flag.StringVar(&opts.pprofAddr, "pprof-bind-address", "", `Address net/http/pprof binds to, for profiling; empty or "0" turns it off.`)
	flag.IntVar(&opts.maxConcurrentReconciles, "max-concurrent-reconciles", 4,
		"How many objects of one kind each controller reconciles at once (never the same object twice at once).")
	zapOpts := zap.Options{}
	flag.DurationVar(&opts.druidResyncPeriod, "druid-resync-period", controllers.DefaultDruidRoleResyncPeriod,
		"How often converged DruidRoles and Druid users (AuthToken type Druid) are compared with Druid again, reverting changes made by hand.")
	flag.DurationVar(&opts.clockOffset, "clock-offset", 0,
		"Run the operator's clock this far ahead of the system clock, to rehearse certificate renewals and token rotations (test/chaos); leave 0 in production.")
	showVersion := flag.Bool("version", false, "Print the version, commit and Go version, then exit.")
	probeURL := flag.String("probe-url", "", "Ask this URL once and exit 0 if it answers below HTTP 500 (the chart's helm test), instead of running.")
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	if *showVersion {
		fmt.Println(version.Get())
		return
	}
	if *probeURL != "" {
		if err := probe(*probeURL, 10*time.Second); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))

	if err := run(opts); err != nil {
		ctrl.Log.WithName("setup").Error(err, "Operator stopped")
		os.Exit(1)
	}
}

// run builds the manager, registers the reconcilers and blocks until a signal stops it.
func run(opts options) error {
	setupLog := ctrl.Log.WithName("setup")
	// The garbage collector keeps the heap under 90% of the container's memory limit (the
	// cgroup's), so a heap near the limit is collected rather than OOM-killed. GOMEMLIMIT, when
	// set, wins; AUTOMEMLIMIT changes the ratio or turns it off.
	if _, err := memlimit.Set(memlimit.WithLogger(slog.New(logr.ToSlogHandler(setupLog)))); err != nil {
		setupLog.Error(err, "Running without a Go memory limit")
	}
	setupLog.Info("Garbage collector", "GOGC", setDefaultGCPercent())
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("while loading the kubeconfig: %w", err)
	}
	cfg = withoutResponseCompression(cfg)
	namespaces := namespaceConfigs(opts.watchNamespaces)
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsOptions(opts),
		HealthProbeBindAddress:  opts.probeAddr,
		PprofBindAddress:        opts.pprofAddr,
		Controller:              config.Controller{MaxConcurrentReconciles: opts.maxConcurrentReconciles},
		LeaderElection:          opts.leaderElect,
		LeaderElectionID:        "imply-operator.imply.operator.dev",
		LeaderElectionNamespace: opts.leaderElectionNamespace,
		// On SIGTERM the leader releases the Lease once its controllers have stopped, so a
		// standby takes over at its next try instead of after the lease duration; main exits
		// right after Start returns, as the release requires.
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 &opts.leaseDuration,
		RenewDeadline:                 &opts.renewDeadline,
		RetryPeriod:                   &opts.retryPeriod,
		Cache:                         controllers.CacheOptions(namespaces),
	})
	if err != nil {
		return fmt.Errorf("while creating the manager: %w", err)
	}
	ctrlOpts := controllerOptions(opts)
	ctrlOpts.Namespaces = namespaces
	if err := controllers.SetupWithOptions(mgr, ctrlOpts); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("while adding the health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return fmt.Errorf("while adding the readiness check: %w", err)
	}
	setupLog.Info("Starting the operator", "version", version.Get().Version, "commit", version.Get().Commit, "watchNamespaces", opts.watchNamespaces, "leaderElection", opts.leaderElect)
	return mgr.Start(ctrl.SetupSignalHandler())
}

// namespaceConfigs turns "a,b" into the cache's per-namespace settings; empty means all namespaces.
func namespaceConfigs(list string) map[string]cache.Config {
	namespaces := map[string]cache.Config{}
	for _, ns := range strings.Split(list, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			namespaces[ns] = cache.Config{}
		}
	}
	if len(namespaces) == 0 {
		return nil
	}
	return namespaces
}

// controllerOptions are the reconcilers' settings from the command line: the Druid resync
// period, and with --clock-offset a clock running that far ahead for every reconciler.
func controllerOptions(opts options) controllers.Options {
	o := controllers.Options{DruidResyncPeriod: opts.druidResyncPeriod}
	if opts.clockOffset != 0 {
		clk := controllers.OffsetClock{Offset: opts.clockOffset}
		o.Clock, o.TokenClock = clk, clk
	}
	return o
}
