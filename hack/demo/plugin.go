package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/rollout"
	"github.com/imply-operator/imply-operator/test/simcluster"
)

// pluginBinary is where the demo builds kubectl-imply, relative to the repository root (as
// `make plugin` does), so that `kubectl imply` works with bin/ on the PATH.
const pluginBinary = "bin/kubectl-imply"

// kubectlImply runs the plugin against the cluster, echoing the command and its output to out.
func kubectlImply(ctx context.Context, binary, kubeconfig string, out io.Writer, args ...string) error {
	fmt.Fprintf(out, "$ kubectl imply %s\n", strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, binary, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	fmt.Fprint(out, indent(stdout.String()))
	if stderr.Len() > 0 {
		fmt.Fprint(out, indent("(stderr) "+stderr.String()))
	}
	fmt.Fprintln(out)
	if err != nil {
		return fmt.Errorf("kubectl imply %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

func indent(s string) string {
	if s == "" {
		return ""
	}
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ") + "\n"
}

// rollingGroup reads the group named by a RolloutStarted or RolloutGroupStarted event.
var rollingGroup = regexp.MustCompile(`^rolling (\S+) `)

// showRestart runs `kubectl imply restart` on cluster and follows the rollout it starts until every
// step is done again, printing each group as it starts. It returns the groups in the order the
// operator started them, read from its RolloutStarted / RolloutGroupStarted events.
func showRestart(ctx context.Context, c client.Client, binary, kubeconfig, cluster string, out io.Writer, timeout time.Duration) ([]string, error) {
	since := time.Now().Add(-time.Second)
	if err := kubectlImply(ctx, binary, kubeconfig, out, "restart", cluster, "-n", Namespace); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(timeout)
	last := ""
	var order []string
	for {
		var ic implyv1alpha1.ImplyCluster
		if err := c.Get(ctx, types.NamespacedName{Namespace: Namespace, Name: cluster}, &ic); err != nil {
			return nil, err
		}
		ro := ic.Status.Rollout
		if ro != nil && ro.CurrentGroup != last && ro.CurrentGroup != "" {
			last = ro.CurrentGroup
			fmt.Fprintf(out, "  %s  status.rollout.currentGroup: %s\n", time.Now().UTC().Format("15:04:05.0"), last)
		}
		var finished bool
		var err error
		if order, finished, err = rolloutEvents(ctx, c, cluster, since); err != nil {
			return nil, err
		}
		if finished && ro != nil && ro.Phase == implyv1alpha1.RolloutIdle {
			fmt.Fprintf(out, "  %s  rollout finished: phase %s (%s)\n", time.Now().UTC().Format("15:04:05.0"), ro.Phase, ro.Reason)
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the restart of %s did not finish within %s (rollout %+v, groups started %v)", cluster, timeout, ro, order)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	fmt.Fprintf(out, "  order of the operator's RolloutStarted/RolloutGroupStarted events: %s\n\n", strings.Join(order, " -> "))
	return order, nil
}

// rolloutEvents reads the operator's rollout events about cluster since a time: the groups it
// started, in order (RolloutStarted, RolloutGroupStarted), and whether it finished (RolloutFinished).
func rolloutEvents(ctx context.Context, c client.Client, cluster string, since time.Time) ([]string, bool, error) {
	var events eventsv1.EventList
	if err := c.List(ctx, &events, client.InNamespace(Namespace)); err != nil {
		return nil, false, err
	}
	slices.SortFunc(events.Items, func(a, b eventsv1.Event) int { return a.EventTime.Compare(b.EventTime.Time) })
	var order []string
	finished := false
	for _, e := range events.Items {
		if e.Regarding.Name != cluster || e.EventTime.Time.Before(since) {
			continue
		}
		switch e.Reason {
		case implyv1alpha1.EventRolloutStarted, implyv1alpha1.EventRolloutGroupStarted:
			if m := rollingGroup.FindStringSubmatch(e.Note); m != nil {
				order = append(order, m[1])
			}
		case implyv1alpha1.EventRolloutFinished:
			finished = true
		}
	}
	return order, finished, nil
}

// pluginPath is the plugin's absolute path under root.
func pluginPath(root string) string { return filepath.Join(root, pluginBinary) }

// showPlugin runs kubectl imply on the first ImplyCluster sample: its status, the CA export with
// the trust instructions, and a restart followed group by group, which must roll in Druid's order.
func showPlugin(ctx context.Context, c client.Client, root string, cluster *simcluster.Cluster, res *Result, out io.Writer) error {
	if len(res.Clusters) == 0 {
		return nil
	}
	name := res.Clusters[0]
	binary := pluginPath(root)
	fmt.Fprintf(out, "==> kubectl imply (%s), on ImplyCluster %s\n", pluginBinary, name)
	if err := kubectlImply(ctx, binary, cluster.KubeconfigPath, out, "status", name, "-n", Namespace); err != nil {
		return err
	}
	// Under bin/demo, which outlives the simulated cluster's work directory.
	res.CAFile = filepath.Join(root, "bin", "demo", name+"-ca.crt")
	if err := os.MkdirAll(filepath.Dir(res.CAFile), 0o755); err != nil {
		return err
	}
	if err := kubectlImply(ctx, binary, cluster.KubeconfigPath, out, "ca", name, "-n", Namespace, "-o", res.CAFile); err != nil {
		return err
	}
	var ic implyv1alpha1.ImplyCluster
	if err := c.Get(ctx, types.NamespacedName{Namespace: Namespace, Name: name}, &ic); err != nil {
		return err
	}
	for _, s := range rollout.Order(ic.Spec.NodeGroups) {
		res.ExpectedOrder = append(res.ExpectedOrder, s.Name)
	}
	order, err := showRestart(ctx, c, binary, cluster.KubeconfigPath, name, out, 3*time.Minute)
	if err != nil {
		return err
	}
	res.RestartOrder = order
	if !slices.Equal(order, res.ExpectedOrder) {
		return fmt.Errorf("the restart rolled %v, want Druid's order %v", order, res.ExpectedOrder)
	}
	return kubectlImply(ctx, binary, cluster.KubeconfigPath, out, "status", name, "-n", Namespace)
}
