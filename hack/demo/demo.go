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

	"github.com/imply-operator/imply-operator/pkg/druid/fakecoordinator"
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
	r := &run{opts: opts, root: root, out: opts.Out, res: &Result{}, phase: time.Now()}
	return r.res, r.execute(ctx)
}

// run is one run of the demo: its options, what it started, and what it saw so far.
type run struct {
	opts  Options
	root  string
	out   io.Writer
	res   *Result
	phase time.Time

	cluster      *simcluster.Cluster
	op           *operator
	c            client.Client
	samples      []sample
	coordinators []*fakecoordinator.Server
}

// execute runs the demo's steps in order; what a step started is stopped when execute returns.
func (r *run) execute(ctx context.Context) error {
	if err := r.buildBinaries(ctx); err != nil {
		return err
	}
	if err := r.startCluster(ctx); err != nil {
		return err
	}
	defer r.stopCluster()
	if err := r.installCRDs(); err != nil {
		return err
	}
	if err := r.runOperator(ctx); err != nil {
		return err
	}
	defer r.stopOperator()
	if err := r.applySamples(ctx); err != nil {
		return err
	}
	defer r.closeCoordinators()
	if err := r.startCoordinators(ctx); err != nil {
		return err
	}
	if err := r.waitForSamples(ctx); err != nil {
		return err
	}
	if err := r.showKubectlGet(ctx); err != nil {
		return err
	}
	if err := showPlugin(ctx, r.c, r.root, r.cluster, r.res, r.out); err != nil {
		return r.withOperatorLog(err)
	}
	r.lap("kubectl imply shown")
	if r.opts.Keep {
		return r.keepRunning(ctx)
	}
	return nil
}

// lap records and prints how long the phase that just ended took.
func (r *run) lap(name string) {
	d := time.Since(r.phase)
	r.res.Timings = append(r.res.Timings, Timing{Phase: name, Duration: d})
	fmt.Fprintf(r.out, "  %s (%s)\n", name, d.Round(time.Millisecond))
	r.phase = time.Now()
}

// withOperatorLog appends the last lines of the operator's log to err.
func (r *run) withOperatorLog(err error) error {
	return fmt.Errorf("%w\noperator log (last lines):\n%s", err, r.op.tail(30))
}

// buildBinaries builds the operator and the kubectl plugin from the repository.
func (r *run) buildBinaries(ctx context.Context) error {
	fmt.Fprintf(r.out, "==> Building the operator and the kubectl plugin: go build -o %s . && go build -o %s ./cmd/kubectl-imply\n", operatorBinary, pluginBinary)
	for _, b := range [][2]string{{operatorBinary, "."}, {pluginBinary, "./cmd/kubectl-imply"}} {
		build := exec.CommandContext(ctx, "go", "build", "-o", b[0], b[1])
		build.Dir = r.root
		if output, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("building %s: %w\n%s", b[0], err, output)
		}
	}
	r.lap("operator and plugin built")
	return nil
}

// startCluster starts the simulated cluster.
func (r *run) startCluster(ctx context.Context) error {
	fmt.Fprintln(r.out, "==> Starting the simulated cluster (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok)")
	simOpts := simcluster.Options{AssetsDir: r.opts.AssetsDir}
	if r.opts.Verbose {
		simOpts.Output = r.out
	}
	cluster, err := simcluster.Start(ctx, simOpts)
	if err != nil {
		return err
	}
	r.cluster = cluster
	r.res.Nodes = cluster.NodeNames
	r.lap("cluster ready")
	return nil
}

// stopCluster stops the simulated cluster, warning when it does not stop cleanly.
func (r *run) stopCluster() {
	fmt.Fprintln(r.out, "==> Stopping the simulated cluster")
	if err := r.cluster.Stop(); err != nil {
		fmt.Fprintf(r.out, "warning: %v\n", err)
	}
}

// installCRDs installs the CRDs of config/crd/bases and waits until they are established.
func (r *run) installCRDs() error {
	fmt.Fprintln(r.out, "==> Installing the CRDs from config/crd/bases")
	crds, err := envtest.InstallCRDs(r.cluster.Config, envtest.CRDInstallOptions{
		Paths:              []string{filepath.Join(r.root, "config", "crd", "bases")},
		ErrorIfPathMissing: true,
	})
	if err != nil {
		return fmt.Errorf("installing the CRDs: %w", err)
	}
	r.lap(fmt.Sprintf("%d CRDs established", len(crds)))
	return nil
}

// runOperator starts the operator and waits until it is ready; once it started, r.op is set, so
// that stopOperator stops it even when it never got ready.
func (r *run) runOperator(ctx context.Context) error {
	fmt.Fprintln(r.out, "==> Starting the operator")
	op, err := startOperator(filepath.Join(r.root, operatorBinary), r.cluster, r.opts)
	if err != nil {
		return err
	}
	r.op = op
	if err := op.waitReady(ctx, 60*time.Second); err != nil {
		return err
	}
	r.lap("operator ready")
	return nil
}

// stopOperator stops the operator, if it started, warning when it does not stop.
func (r *run) stopOperator() {
	if r.op == nil {
		return
	}
	if err := r.op.stop(); err != nil {
		fmt.Fprintf(r.out, "warning: %v\n", err)
	}
}

// applySamples creates the demo's namespace and the infrastructure the samples need, then applies
// every sample of config/samples into it.
func (r *run) applySamples(ctx context.Context) error {
	c, err := client.New(r.cluster.Config, client.Options{Scheme: plugin.Scheme()})
	if err != nil {
		return err
	}
	r.c = c
	fmt.Fprintf(r.out, "==> Applying config/samples into namespace %s (server-side apply, field manager %s)\n", Namespace, fieldManager)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace}}
	if err := c.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", Namespace, err)
	}
	if r.samples, err = readSamples(filepath.Join(r.root, "config", "samples")); err != nil {
		return err
	}
	if err := createInfra(ctx, c, r.samples, r.out); err != nil {
		return err
	}
	for _, s := range r.samples {
		s.obj.SetNamespace(Namespace)
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(s.obj), client.FieldOwner(fieldManager), client.ForceOwnership); err != nil {
			return fmt.Errorf("applying %s (%s %s): %w", s.file, s.obj.GetKind(), s.obj.GetName(), err)
		}
		fmt.Fprintf(r.out, "  applied %s/%s from %s\n", s.obj.GetKind(), s.obj.GetName(), s.file)
	}
	r.lap(fmt.Sprintf("%d samples applied", len(r.samples)))
	return nil
}

// startCoordinators starts a fake Druid coordinator for every ImplyCluster sample and records the
// clusters in the result.
func (r *run) startCoordinators(ctx context.Context) error {
	fmt.Fprintln(r.out, "==> Standing in for the Druid coordinator the simulated cluster cannot run (AuthTokens and DruidRoles talk to it)")
	for _, s := range r.samples {
		if s.obj.GetKind() != "ImplyCluster" {
			continue
		}
		fake, err := startCoordinator(ctx, r.c, s.obj.GetName(), r.out, r.opts.ReadyTimeout)
		if err != nil {
			return r.withOperatorLog(err)
		}
		r.coordinators = append(r.coordinators, fake)
		r.res.Clusters = append(r.res.Clusters, s.obj.GetName())
	}
	r.lap("coordinator ready")
	return nil
}

// closeCoordinators closes the fake coordinators, the last started first.
func (r *run) closeCoordinators() {
	for i := len(r.coordinators) - 1; i >= 0; i-- {
		r.coordinators[i].Close()
	}
}

// waitForSamples waits until every sample is Ready and prints their Ready conditions.
func (r *run) waitForSamples(ctx context.Context) error {
	fmt.Fprintf(r.out, "==> Waiting (at most %s) for every sample to be Ready\n", r.opts.ReadyTimeout)
	var err error
	r.res.Samples, err = waitForReadyConditions(ctx, r.c, r.samples, r.opts.ReadyTimeout)
	if err != nil {
		printSamples(r.out, r.res.Samples)
		return r.withOperatorLog(err)
	}
	r.lap("every sample is Ready")
	fmt.Fprintln(r.out)
	printSamples(r.out, r.res.Samples)
	fmt.Fprintln(r.out)
	return nil
}

// showKubectlGet prints what kubectl shows of the samples, the objects the operator made and the
// nodes.
func (r *run) showKubectlGet(ctx context.Context) error {
	kubectl := r.cluster.Kubectl()
	for _, args := range [][]string{
		{"get", "ic,iat,isp,drole", "-n", Namespace},
		{"get", "statefulsets,deployments,services,configmaps,poddisruptionbudgets,pvc,pods", "-n", Namespace},
		{"get", "nodes", "-o", "wide"},
	} {
		fmt.Fprintf(r.out, "$ kubectl %s\n", strings.Join(args, " "))
		if kubectl == "" {
			fmt.Fprintf(r.out, "(no kubectl in %s)\n\n", r.cluster.AssetsDir)
			continue
		}
		cmd := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", r.cluster.KubeconfigPath}, args...)...)
		output, err := cmd.CombinedOutput()
		fmt.Fprintf(r.out, "%s\n", output)
		if err != nil {
			return fmt.Errorf("kubectl %s: %w", strings.Join(args, " "), err)
		}
	}
	return nil
}

// keepRunning prints how to reach the cluster and the operator, then waits until ctx ends; it
// fails when the operator exits first.
func (r *run) keepRunning(ctx context.Context) error {
	out, kubectl := r.out, r.cluster.Kubectl()
	fmt.Fprintf(out, "==> Everything keeps running until Ctrl-C. In another shell:\n\n")
	fmt.Fprintf(out, "  export KUBECONFIG=%s PATH=%s:$PATH\n", r.cluster.KubeconfigPath, filepath.Join(r.root, "bin"))
	if kubectl != "" {
		fmt.Fprintf(out, "  %s get ic,iat,isp,drole -n %s\n", kubectl, Namespace)
		for _, name := range r.res.Clusters {
			fmt.Fprintf(out, "  %s imply status %s -n %s\n", kubectl, name, Namespace)
		}
	}
	fmt.Fprintf(out, "\n  operator log: %s\n", r.op.logPath)
	if !r.opts.Verbose {
		fmt.Fprintf(out, "  cluster logs: %s/*.log\n", r.cluster.WorkDir)
	}
	select {
	case <-ctx.Done():
		fmt.Fprintln(out)
		return nil
	case <-r.op.done:
		return fmt.Errorf("the operator exited (%v); its log:\n%s", r.op.err, r.op.tail(40))
	}
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
func startOperator(binary string, cluster *simcluster.Cluster, opts Options) (*operator, error) {
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
	// The default Druid resync: AuthTokens and DruidRoles are woken by their cluster's CA bundle
	// and credentials, not by polling.
	op.cmd = exec.Command(binary, "--metrics-bind-address=127.0.0.1:0", "--health-probe-bind-address="+op.probeAddr)
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
