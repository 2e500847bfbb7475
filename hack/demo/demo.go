package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/imply-operator/imply-operator/pkg/plugin"
	"github.com/imply-operator/imply-operator/test/simcluster"
)

const (
	// Namespace receives the samples.
	Namespace = "imply-demo"
	// fieldManager owns every field the demo applies.
	fieldManager = "imply-demo"
	// operatorBinary is where the operator is built, relative to the repository root.
	operatorBinary = "bin/imply-operator"
	// druidResync is the operator's --druid-resync-period in the demo.
	druidResync = 5 * time.Second
)

// Options configure Run.
type Options struct {
	// Keep keeps the cluster and the operator running until ctx ends.
	Keep bool
	// Verbose streams the processes' logs to Out.
	Verbose bool
	// ReadyTimeout bounds the wait for every sample to be Ready; default 120 s.
	ReadyTimeout time.Duration
	// AssetsDir is passed to simcluster.Options.
	AssetsDir string
	// RepoRoot is the repository (CRDs, samples, the operator's source); found from the working
	// directory when empty.
	RepoRoot string
	// Out receives the summary; default os.Stdout.
	Out io.Writer
}

// SampleStatus is what the operator reported about one sample.
type SampleStatus struct {
	Kind, Name, File string
	// HasReady says whether the object has a Ready condition; the rest describes it.
	HasReady                bool
	Status, Reason, Message string
}

// Result is what Run saw.
type Result struct {
	Samples []SampleStatus
	Nodes   []string
	// Timings of the phases, in order.
	Timings []Timing
	// Clusters are the ImplyCluster samples.
	Clusters []string
	// CAFile is the CA bundle `kubectl imply ca` exported.
	CAFile string
	// RestartOrder is the order in which the restart rolled the first cluster's steps.
	RestartOrder []string
	// ExpectedOrder is Druid's order of that cluster's steps (pkg/rollout.Order).
	ExpectedOrder []string
}

// Timing is how long one phase took.
type Timing struct {
	Phase    string
	Duration time.Duration
}

// Run builds the operator, starts a simulated cluster, installs the CRDs, runs the operator,
// applies the samples and prints what the operator says about them. Unless opts.Keep, it stops
// everything before it returns; with it, once ctx ends. It fails when anything fails, or when a
// sample has no Ready condition within opts.ReadyTimeout.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if opts.Out == nil {
		opts.Out = os.Stdout
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = 120 * time.Second
	}
	root := opts.RepoRoot
	if root == "" {
		var err error
		if root, err = simcluster.RepoRoot(); err != nil {
			return nil, err
		}
	}
	out := opts.Out
	res := &Result{}
	phase := time.Now()
	lap := func(name string) {
		d := time.Since(phase)
		res.Timings = append(res.Timings, Timing{Phase: name, Duration: d})
		fmt.Fprintf(out, "  %s (%s)\n", name, d.Round(time.Millisecond))
		phase = time.Now()
	}

	fmt.Fprintf(out, "==> Building the operator and the kubectl plugin: go build -o %s . && go build -o %s ./cmd/kubectl-imply\n", operatorBinary, pluginBinary)
	for _, b := range [][2]string{{operatorBinary, "."}, {pluginBinary, "./cmd/kubectl-imply"}} {
		build := exec.CommandContext(ctx, "go", "build", "-o", b[0], b[1])
		build.Dir = root
		if output, err := build.CombinedOutput(); err != nil {
			return res, fmt.Errorf("building %s: %w\n%s", b[0], err, output)
		}
	}
	lap("operator and plugin built")

	fmt.Fprintln(out, "==> Starting the simulated cluster (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok)")
	simOpts := simcluster.Options{AssetsDir: opts.AssetsDir}
	if opts.Verbose {
		simOpts.Output = out
	}
	cluster, err := simcluster.Start(ctx, simOpts)
	if err != nil {
		return res, err
	}
	defer func() {
		fmt.Fprintln(out, "==> Stopping the simulated cluster")
		if err := cluster.Stop(); err != nil {
			fmt.Fprintf(out, "warning: %v\n", err)
		}
	}()
	res.Nodes = cluster.NodeNames
	lap("cluster ready")

	fmt.Fprintln(out, "==> Installing the CRDs from config/crd/bases")
	crds, err := envtest.InstallCRDs(cluster.Config, envtest.CRDInstallOptions{
		Paths:              []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfPathMissing: true,
	})
	if err != nil {
		return res, fmt.Errorf("installing the CRDs: %w", err)
	}
	lap(fmt.Sprintf("%d CRDs established", len(crds)))

	fmt.Fprintln(out, "==> Starting the operator")
	op, err := startOperator(ctx, filepath.Join(root, operatorBinary), cluster, opts)
	if err != nil {
		return res, err
	}
	defer func() {
		if err := op.stop(); err != nil {
			fmt.Fprintf(out, "warning: %v\n", err)
		}
	}()
	if err := op.waitReady(ctx, 60*time.Second); err != nil {
		return res, err
	}
	lap("operator ready")

	c, err := client.New(cluster.Config, client.Options{Scheme: plugin.Scheme()})
	if err != nil {
		return res, err
	}
	fmt.Fprintf(out, "==> Applying config/samples into namespace %s (server-side apply, field manager %s)\n", Namespace, fieldManager)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace}}
	if err := c.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return res, fmt.Errorf("creating namespace %s: %w", Namespace, err)
	}
	samples, err := readSamples(filepath.Join(root, "config", "samples"))
	if err != nil {
		return res, err
	}
	if err := createInfra(ctx, c, samples, out); err != nil {
		return res, err
	}
	for _, s := range samples {
		s.obj.SetNamespace(Namespace)
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(s.obj), client.FieldOwner(fieldManager), client.ForceOwnership); err != nil {
			return res, fmt.Errorf("applying %s (%s %s): %w", s.file, s.obj.GetKind(), s.obj.GetName(), err)
		}
		fmt.Fprintf(out, "  applied %s/%s from %s\n", s.obj.GetKind(), s.obj.GetName(), s.file)
	}
	lap(fmt.Sprintf("%d samples applied", len(samples)))

	fmt.Fprintln(out, "==> Standing in for the Druid coordinator the simulated cluster cannot run (AuthTokens and DruidRoles talk to it)")
	for _, s := range samples {
		if s.obj.GetKind() != "ImplyCluster" {
			continue
		}
		fake, err := startCoordinator(ctx, c, s.obj.GetName(), out, opts.ReadyTimeout)
		if err != nil {
			return res, fmt.Errorf("%w\noperator log (last lines):\n%s", err, op.tail(30))
		}
		defer fake.Close()
		res.Clusters = append(res.Clusters, s.obj.GetName())
	}
	lap("coordinator ready")

	fmt.Fprintf(out, "==> Waiting (at most %s) for every sample to be Ready\n", opts.ReadyTimeout)
	res.Samples, err = waitForReadyConditions(ctx, c, samples, opts.ReadyTimeout)
	if err != nil {
		printSamples(out, res.Samples)
		return res, fmt.Errorf("%w\noperator log (last lines):\n%s", err, op.tail(30))
	}
	lap("every sample is Ready")

	fmt.Fprintln(out)
	printSamples(out, res.Samples)
	fmt.Fprintln(out)
	kubectl := cluster.Kubectl()
	for _, args := range [][]string{
		{"get", "ic,iat,isp,drole", "-n", Namespace},
		{"get", "statefulsets,deployments,services,configmaps,poddisruptionbudgets,pvc,pods", "-n", Namespace},
		{"get", "nodes", "-o", "wide"},
	} {
		fmt.Fprintf(out, "$ kubectl %s\n", strings.Join(args, " "))
		if kubectl == "" {
			fmt.Fprintf(out, "(no kubectl in %s)\n\n", cluster.AssetsDir)
			continue
		}
		cmd := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", cluster.KubeconfigPath}, args...)...)
		output, err := cmd.CombinedOutput()
		fmt.Fprintf(out, "%s\n", output)
		if err != nil {
			return res, fmt.Errorf("kubectl %s: %w", strings.Join(args, " "), err)
		}
	}

	if err := showPlugin(ctx, c, root, cluster, res, out); err != nil {
		return res, fmt.Errorf("%w\noperator log (last lines):\n%s", err, op.tail(30))
	}
	lap("kubectl imply shown")

	if opts.Keep {
		fmt.Fprintf(out, "==> Everything keeps running until Ctrl-C. In another shell:\n\n")
		fmt.Fprintf(out, "  export KUBECONFIG=%s PATH=%s:$PATH\n", cluster.KubeconfigPath, filepath.Join(root, "bin"))
		if kubectl != "" {
			fmt.Fprintf(out, "  %s get ic,iat,isp,drole -n %s\n", kubectl, Namespace)
			for _, name := range res.Clusters {
				fmt.Fprintf(out, "  %s imply status %s -n %s\n", kubectl, name, Namespace)
			}
		}
		fmt.Fprintf(out, "\n  operator log: %s\n", op.logPath)
		if !opts.Verbose {
			fmt.Fprintf(out, "  cluster logs: %s/*.log\n", cluster.WorkDir)
		}
		select {
		case <-ctx.Done():
			fmt.Fprintln(out)
		case <-op.done:
			return res, fmt.Errorf("the operator exited (%v); its log:\n%s", op.err, op.tail(40))
		}
	}
	return res, nil
}

// sample is one object of config/samples.
type sample struct {
	file string
	obj  *unstructured.Unstructured
}

// readSamples reads every YAML document of dir's .yaml files but kustomization.yaml, in file
// name order.
func readSamples(dir string) ([]sample, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	var samples []sample
	for _, path := range files {
		if filepath.Base(path) == "kustomization.yaml" {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			var doc map[string]any
			if err := dec.Decode(&doc); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return nil, fmt.Errorf("reading %s: %w", path, err)
			}
			if len(doc) == 0 {
				continue
			}
			obj := &unstructured.Unstructured{Object: doc}
			if obj.GetKind() == "" || obj.GetName() == "" {
				return nil, fmt.Errorf("%s: a document without kind or metadata.name", path)
			}
			samples = append(samples, sample{file: filepath.Base(path), obj: obj})
		}
	}
	if len(samples) == 0 {
		return nil, fmt.Errorf("no samples in %s", dir)
	}
	return samples, nil
}

// waitForReadyConditions polls the samples until each is Ready=True, and returns them. After timeout it returns what it saw and an error naming those
// without one.
func waitForReadyConditions(ctx context.Context, c client.Client, samples []sample, timeout time.Duration) ([]SampleStatus, error) {
	deadline := time.Now().Add(timeout)
	for {
		statuses := make([]SampleStatus, 0, len(samples))
		var missing []string
		for _, s := range samples {
			st := SampleStatus{Kind: s.obj.GetKind(), Name: s.obj.GetName(), File: s.file}
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(s.obj.GroupVersionKind())
			getCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := c.Get(getCtx, client.ObjectKey{Namespace: Namespace, Name: st.Name}, u)
			cancel()
			if err != nil {
				st.Message = "error reading it: " + err.Error()
			} else {
				readyCondition(u, &st)
			}
			// Every sample is waited for until it is Ready: the ImplyCluster's pods run on kwok's
			// fake nodes, AuthTokens and DruidRoles converge on the fake coordinator.
			if !st.HasReady || st.Status != string(metav1.ConditionTrue) {
				missing = append(missing, st.Kind+"/"+st.Name)
			}
			statuses = append(statuses, st)
		}
		if len(missing) == 0 {
			return statuses, nil
		}
		if time.Now().After(deadline) {
			return statuses, fmt.Errorf("after %s, still waiting for %s", timeout, strings.Join(missing, ", "))
		}
		select {
		case <-ctx.Done():
			return statuses, fmt.Errorf("while waiting for Ready conditions: %w", ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// readyCondition copies u's Ready condition, if any, into st.
func readyCondition(u *unstructured.Unstructured, st *SampleStatus) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != "Ready" {
			continue
		}
		st.HasReady = true
		st.Status, _ = m["status"].(string)
		st.Reason, _ = m["reason"].(string)
		st.Message, _ = m["message"].(string)
		return
	}
}

// printSamples prints each sample's Ready condition, then says plainly how many are Ready and
// why the others are not.
func printSamples(out io.Writer, samples []SampleStatus) {
	fmt.Fprintf(out, "Ready condition of each sample in namespace %s, as the operator reports it:\n\n", Namespace)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  KIND\tNAME\tREADY\tREASON\tMESSAGE")
	ready := 0
	reasons := map[string]int{}
	for _, s := range samples {
		status, reason := s.Status, s.Reason
		if !s.HasReady {
			status, reason = "(none)", "-"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", s.Kind, s.Name, status, reason, s.Message)
		switch {
		case !s.HasReady:
			reasons["no Ready condition"]++
		case s.Status == string(metav1.ConditionTrue):
			ready++
		default:
			reasons["Ready="+s.Status+" "+s.Reason]++
		}
	}
	_ = tw.Flush()
	fmt.Fprintln(out)
	if ready == len(samples) {
		fmt.Fprintf(out, "All %d samples are Ready.\n", len(samples))
		return
	}
	var why []string
	for _, r := range slices.Sorted(maps.Keys(reasons)) {
		why = append(why, fmt.Sprintf("%d %s", reasons[r], r))
	}
	fmt.Fprintf(out, "%d of %d samples are Ready (%s).\n", ready, len(samples), strings.Join(why, ", "))
	if n := reasons["Ready=Unknown NotImplemented"]; n > 0 {
		fmt.Fprintf(out, "NotImplemented means the reconciler of that kind is not written yet: the operator watches\n"+
			"those objects and says so, but does not act on them.\n")
	}
}

// operator is the operator's process.
type operator struct {
	cmd       *exec.Cmd
	logPath   string
	logFile   *os.File
	probeAddr string
	done      chan struct{}
	err       error
}

// startOperator runs the operator binary against the cluster, its log going to a file in the
// cluster's work directory (and to opts.Out when verbose).
func startOperator(ctx context.Context, binary string, cluster *simcluster.Cluster, opts Options) (*operator, error) {
	port, err := simcluster.FreePort()
	if err != nil {
		return nil, err
	}
	op := &operator{
		logPath:   filepath.Join(cluster.WorkDir, "imply-operator.log"),
		probeAddr: fmt.Sprintf("127.0.0.1:%d", port),
		done:      make(chan struct{}),
	}
	if op.logFile, err = os.Create(op.logPath); err != nil {
		return nil, err
	}
	var w io.Writer = op.logFile
	if opts.Verbose {
		w = io.MultiWriter(op.logFile, &prefixed{prefix: "[imply-operator] ", out: opts.Out})
	}
	// A short Druid resync, so AuthTokens and DruidRoles that found no coordinator yet try again soon.
	op.cmd = exec.Command(binary, "--metrics-bind-address=127.0.0.1:0", "--health-probe-bind-address="+op.probeAddr,
		"--druid-resync-period="+druidResync.String())
	op.cmd.Env = append(os.Environ(), "KUBECONFIG="+cluster.KubeconfigPath)
	op.cmd.Stdout, op.cmd.Stderr = w, w
	op.cmd.SysProcAttr = simcluster.ChildSysProcAttr()
	op.cmd.WaitDelay = 2 * time.Second
	if err := op.cmd.Start(); err != nil {
		_ = op.logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", binary, err)
	}
	go func() {
		op.err = op.cmd.Wait()
		_ = op.logFile.Close()
		close(op.done)
	}()
	return op, nil
}

// waitReady polls the operator's /readyz until it answers 200.
func (op *operator) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	url := "http://" + op.probeAddr + "/readyz"
	var lastErr error
	for {
		select {
		case <-op.done:
			return fmt.Errorf("the operator exited (%v); its log:\n%s", op.err, op.tail(40))
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("the operator is not ready after %s (%v); its log:\n%s", timeout, lastErr, op.tail(40))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// stop ends the operator: SIGTERM, then SIGKILL to its process group after 10 s.
func (op *operator) stop() error {
	pid := op.cmd.Process.Pid
	select {
	case <-op.done:
		return nil
	default:
	}
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-op.done:
		return nil
	case <-time.After(10 * time.Second):
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	select {
	case <-op.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("the operator (pid %d) did not die", pid)
	}
}

// tail returns the last n lines of the operator's log.
func (op *operator) tail(n int) string {
	data, err := os.ReadFile(op.logPath)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}

// prefixed writes to out with prefix at the start of every line.
type prefixed struct {
	prefix string
	out    io.Writer
	midway bool
}

func (p *prefixed) Write(b []byte) (int, error) {
	var buf bytes.Buffer
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if !p.midway {
			buf.WriteString(p.prefix)
		}
		buf.Write(line)
		p.midway = line[len(line)-1] != '\n'
	}
	if _, err := p.out.Write(buf.Bytes()); err != nil {
		return 0, err
	}
	return len(b), nil
}
