// Command demo shows the operator at work on a simulated cluster, with nothing but this machine:
// it starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok
// (test/simcluster), installs the CRDs, runs the operator built from this tree, applies
// config/samples into namespace imply-demo, stands in for the Druid coordinator with the in-repo
// fake one (pkg/druid/fakecoordinator, over TLS with the cluster's own CA), waits until every
// sample is Ready, and shows kubectl imply: status, the CA export and a restart rolling
// data -> query -> master -> manager.
//
//	go run ./hack/demo                 # print the summary, stop everything, exit 0 on success
//	go run ./hack/demo --keep          # keep it all running until Ctrl-C, to poke at with kubectl
//	DEMO_HOLD=1 make demo              # the same as --keep
//
// The binaries come from `make sim-assets` (bin/k8s).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

func main() {
	os.Exit(runMain())
}

// runMain parses the flags, runs the demo and returns the exit code.
func runMain() int {
	var opts Options
	hold := os.Getenv("DEMO_HOLD") != "" && os.Getenv("DEMO_HOLD") != "0"
	flag.BoolVar(&opts.Keep, "keep", hold, "Keep the cluster and the operator running until Ctrl-C and print how to reach them (default on when DEMO_HOLD is set).")
	flag.BoolVar(&opts.Verbose, "v", false, "Stream the logs of the cluster's processes and of the operator.")
	flag.DurationVar(&opts.ReadyTimeout, "ready-timeout", 120*time.Second, "How long to wait for every sample to be Ready.")
	flag.StringVar(&opts.AssetsDir, "assets", "", "Directory of the cluster's binaries; default $KUBEBUILDER_ASSETS, else bin/k8s.")
	flag.Parse()
	opts.Out = os.Stdout
	// envtest.InstallCRDs logs through controller-runtime; the demo prints its own summary.
	ctrllog.SetLogger(logr.Discard())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := Run(ctx, opts); err != nil {
		fmt.Fprintf(os.Stderr, "demo failed: %v\n", err)
		return 1
	}
	return 0
}
