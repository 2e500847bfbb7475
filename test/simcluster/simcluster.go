// Package simcluster runs a simulated Kubernetes cluster on 127.0.0.1 for tests and demos: etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler and kwok, which plays the kubelet of
// fake Nodes. Workload controllers really run (Deployments, StatefulSets roll out, pods get
// scheduled and become Ready), but no container ever runs.
//
// Every run picks its own free ports and working directory, so runs can go in parallel. The
// binaries come from `make sim-assets` (hack/control-plane.sh sim), linked as bin/k8s.
package simcluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

const (
	// modulePath identifies the repository root when looking for bin/k8s.
	modulePath = "github.com/imply-operator/imply-operator"
	// stagesFile is the kwok stages configuration hack/control-plane.sh writes next to the binaries.
	stagesFile = "kwok-stages.yaml"
	// defaultStartTimeout bounds Start when Options.StartTimeout is zero.
	defaultStartTimeout = 3 * time.Minute
	// stopGrace is how long Stop waits after SIGTERM before it kills.
	stopGrace = 5 * time.Second
	// portAttempts is how often Start tries again when a port it picked was taken meanwhile.
	portAttempts = 3
	// NodeNamePrefix starts the name of every fake Node: kwok-node-0, kwok-node-1, ...
	NodeNamePrefix = "kwok-node-"
)

// Binaries are the programs Start runs, all looked up in Options.AssetsDir.
var Binaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}

// Options configure Start.
type Options struct {
	// AssetsDir holds the binaries and kwok-stages.yaml; default $KUBEBUILDER_ASSETS, else
	// <repo>/bin/k8s (the repository is found from the working directory up).
	AssetsDir string
	// WorkDir holds the data, keys, kubeconfig and logs; a new temporary directory when empty
	// (then Stop removes it).
	WorkDir string
	// Nodes is the number of fake kwok Nodes; default 1.
	Nodes int
	// Output receives the processes' logs, each line prefixed by "[name] "; when nil they go to
	// <WorkDir>/<name>.log.
	Output io.Writer
	// StartTimeout bounds Start (on top of ctx); default 3 minutes.
	StartTimeout time.Duration
}

// Cluster is a running simulated cluster.
type Cluster struct {
	// Config reaches the apiserver as a member of system:masters.
	Config *rest.Config
	// KubeconfigPath is a kubeconfig file with the same credentials, for kubectl and other
	// processes.
	KubeconfigPath string
	// WorkDir holds the data, keys, kubeconfig and (without Options.Output) the logs.
	WorkDir string
	// AssetsDir holds the binaries the cluster runs (and kubectl, when built).
	AssetsDir string
	// NodeNames are the fake Nodes' names.
	NodeNames []string

	removeWorkDir bool
	// mu guards procs, which Restart changes.
	mu       sync.Mutex
	procs    []*process
	stopOnce sync.Once
	stopErr  error
}

// Start runs a simulated cluster and returns once its Nodes are Ready and hold their Lease, and
// the default ServiceAccount exists in namespace default. On failure it stops what it started and the error
// quotes the log of the process at fault.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	assets, err := resolveAssetsDir(opts.AssetsDir)
	if err != nil {
		return nil, err
	}
	if err := checkAssets(assets); err != nil {
		return nil, err
	}
	if opts.Nodes <= 0 {
		opts.Nodes = 1
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = defaultStartTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()

	for attempt := 1; ; attempt++ {
		c, err := start(ctx, assets, opts)
		if err == nil {
			return c, nil
		}
		if attempt < portAttempts && errors.Is(err, errPortInUse) && ctx.Err() == nil {
			continue
		}
		return nil, err
	}
}

var errPortInUse = errors.New("a port was taken meanwhile")

// start makes one attempt at Start.
func start(ctx context.Context, assets string, opts Options) (_ *Cluster, err error) {
	c := &Cluster{AssetsDir: assets, WorkDir: opts.WorkDir}
	if c.WorkDir == "" {
		if c.WorkDir, err = os.MkdirTemp("", "simcluster-"); err != nil {
			return nil, fmt.Errorf("simcluster: while creating the work directory: %w", err)
		}
		c.removeWorkDir = true
	} else {
		if c.WorkDir, err = filepath.Abs(c.WorkDir); err != nil {
			return nil, err
		}
		// A previous attempt or run may have left data behind: start clean.
		for _, d := range []string{"etcd", "pki"} {
			if err := os.RemoveAll(filepath.Join(c.WorkDir, d)); err != nil {
				return nil, err
			}
		}
	}
	defer func() {
		if err != nil {
			if stopErr := c.Stop(); stopErr != nil {
				err = fmt.Errorf("%w (and while stopping: %v)", err, stopErr)
			}
		}
	}()
	if err := c.boot(ctx, opts); err != nil {
		for _, p := range c.procs {
			if p.tail.contains("address already in use") {
				return nil, fmt.Errorf("simcluster: %w: %w", errPortInUse, err)
			}
		}
		return nil, fmt.Errorf("simcluster: %w", err)
	}
	return c, nil
}

// boot starts the processes one after the other, each once what it needs is up.
func (c *Cluster) boot(ctx context.Context, opts Options) error {
	pki := filepath.Join(c.WorkDir, "pki")
	servingDir := filepath.Join(pki, "serving")
	if err := os.MkdirAll(servingDir, 0o755); err != nil {
		return err
	}
	saKey, saPub := filepath.Join(pki, "sa.key"), filepath.Join(pki, "sa.pub")
	if err := writeServiceAccountKeys(saKey, saPub); err != nil {
		return err
	}
	token, err := randomToken()
	if err != nil {
		return err
	}
	tokenFile := filepath.Join(pki, "tokens.csv")
	if err := os.WriteFile(tokenFile, []byte(token+",admin,admin,system:masters\n"), 0o600); err != nil {
		return err
	}
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	etcdPort, apiPort := ports[0], ports[1]
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", etcdPort)

	etcd, err := c.run(opts, "etcd",
		"--name", "simcluster",
		"--data-dir", filepath.Join(c.WorkDir, "etcd"),
		"--listen-client-urls", etcdURL,
		"--advertise-client-urls", etcdURL,
		"--listen-peer-urls", "http://127.0.0.1:0",
		"--initial-advertise-peer-urls", "http://127.0.0.1:2380",
		"--initial-cluster", "simcluster=http://127.0.0.1:2380",
		"--unsafe-no-fsync",
	)
	if err != nil {
		return err
	}
	etcd.serving = func(ctx context.Context) (bool, error) {
		return httpOK(ctx, http.DefaultClient, etcdURL+"/health")
	}
	if err := c.waitFor(ctx, "etcd to be healthy", etcd, etcd.serving); err != nil {
		return err
	}

	apiserver, err := c.run(opts, "kube-apiserver",
		"--etcd-servers", etcdURL,
		"--bind-address", "127.0.0.1",
		"--advertise-address", "127.0.0.1",
		"--endpoint-reconciler-type", "none",
		"--secure-port", fmt.Sprint(apiPort),
		"--cert-dir", servingDir,
		"--token-auth-file", tokenFile,
		"--authorization-mode", "Node,RBAC",
		"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file", saPub,
		"--service-account-signing-key-file", saKey,
		"--service-cluster-ip-range", "10.96.0.0/16",
	)
	if err != nil {
		return err
	}
	// The apiserver writes its self-signed serving certificate (and its CA) before it serves.
	servingCert := filepath.Join(servingDir, "apiserver.crt")
	var caData []byte
	if err := c.waitFor(ctx, "kube-apiserver to write "+servingCert, apiserver, func(context.Context) (bool, error) {
		data, err := os.ReadFile(servingCert)
		if err != nil {
			return false, err
		}
		if _, err := parseCertificates(data); err != nil {
			return false, fmt.Errorf("%s: %w", servingCert, err)
		}
		caData = data
		return true, nil
	}); err != nil {
		return err
	}
	c.Config = &rest.Config{
		Host:            fmt.Sprintf("https://127.0.0.1:%d", apiPort),
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: caData},
		QPS:             100,
		Burst:           200,
	}
	c.KubeconfigPath = filepath.Join(c.WorkDir, "kubeconfig")
	if err := writeKubeconfig(c.KubeconfigPath, c.Config); err != nil {
		return err
	}
	httpClient, err := rest.HTTPClientFor(c.Config)
	if err != nil {
		return err
	}
	apiserver.serving = func(ctx context.Context) (bool, error) {
		return httpOK(ctx, httpClient, c.Config.Host+"/readyz")
	}
	if err := c.waitFor(ctx, "kube-apiserver /readyz", apiserver, apiserver.serving); err != nil {
		return err
	}

	kubeconfig := c.KubeconfigPath
	cm, err := c.run(opts, "kube-controller-manager",
		"--kubeconfig", kubeconfig,
		"--authentication-kubeconfig", kubeconfig,
		"--authorization-kubeconfig", kubeconfig,
		"--leader-elect=false",
		"--bind-address", "127.0.0.1",
		"--secure-port", "0",
		"--service-account-private-key-file", saKey,
		"--root-ca-file", servingCert,
		"--use-service-account-credentials=false",
		"--controllers", "*,-kube-apiserver-serving-clustertrustbundle-publisher-controller",
	)
	if err != nil {
		return err
	}
	if _, err := c.run(opts, "kube-scheduler",
		"--kubeconfig", kubeconfig,
		"--leader-elect=false",
		"--bind-address", "127.0.0.1",
		"--secure-port", "0",
	); err != nil {
		return err
	}
	kwok, err := c.run(opts, "kwok",
		"--kubeconfig", kubeconfig,
		"--config", filepath.Join(c.AssetsDir, stagesFile),
		"--manage-all-nodes=true",
		"--cidr", "10.244.0.0/16",
		"--node-ip", "127.0.0.1",
		"--server-address", "127.0.0.1:0",
		// Renew a Lease per Node, as a kubelet does: the heartbeat stage updates the Node's status
		// only every 10 minutes, so without leases the node lifecycle controller marks the Node
		// NotReady after its 50 s grace period. (kwok's documented default of 40 is not applied
		// when --config holds only Stages.)
		"--node-lease-duration-seconds", "40",
	)
	if err != nil {
		return err
	}

	clientset, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	for i := range opts.Nodes {
		node := fakeNode(fmt.Sprintf("%s%d", NodeNamePrefix, i))
		if err := c.waitFor(ctx, "Node "+node.Name+" to be created", apiserver, func(ctx context.Context) (bool, error) {
			_, err := clientset.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
			return err == nil || apierrors.IsAlreadyExists(err), err
		}); err != nil {
			return err
		}
		c.NodeNames = append(c.NodeNames, node.Name)
	}
	for _, name := range c.NodeNames {
		if err := c.waitFor(ctx, "Node "+name+" to be Ready", kwok, func(ctx context.Context) (bool, error) {
			node, err := clientset.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			for _, cond := range node.Status.Conditions {
				if cond.Type == corev1.NodeReady {
					if cond.Status == corev1.ConditionTrue {
						return true, nil
					}
					return false, fmt.Errorf("node condition Ready=%s (%s)", cond.Status, cond.Reason)
				}
			}
			return false, fmt.Errorf("no Ready condition yet")
		}); err != nil {
			return err
		}
		// Without its Lease the Node turns NotReady after the node lifecycle controller's grace.
		if err := c.waitFor(ctx, "the Lease of Node "+name+" in "+corev1.NamespaceNodeLease, kwok, func(ctx context.Context) (bool, error) {
			_, err := clientset.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(ctx, name, metav1.GetOptions{})
			return err == nil, err
		}); err != nil {
			return err
		}
	}
	return c.waitFor(ctx, "ServiceAccount default/default", cm, func(ctx context.Context) (bool, error) {
		_, err := clientset.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, err
	})
}

// run starts one of the binaries with the cluster's work directory as working directory.
func (c *Cluster) run(opts Options, name string, args ...string) (*process, error) {
	p, err := startProcess(name, filepath.Join(c.AssetsDir, name), args, c.WorkDir, c.WorkDir, opts.Output)
	if err != nil {
		return nil, err
	}
	p.logIsTemp = c.removeWorkDir
	c.mu.Lock()
	c.procs = append(c.procs, p)
	c.mu.Unlock()
	return p, nil
}

// Restartable are the processes Restart can restart: the ones whose state outlives them (etcd's
// data directory) or that others only reach through the network (the apiserver).
var Restartable = []string{"etcd", "kube-apiserver"}

// Restart ends the process name (one of Restartable) with sig, SIGKILL being a crash, and starts
// it again with the same arguments, ports and data, returning once it serves again (etcd
// healthy, the apiserver ready). Clients of the cluster see connection errors meanwhile, then
// carry on: watches end and are started again, as after a control-plane restart in production.
// kube-scheduler and kwok, the cluster's kubelet, are started again too (see
// restartAfterControlPlane).
func (c *Cluster) Restart(ctx context.Context, name string, sig syscall.Signal) error {
	c.mu.Lock()
	idx := -1
	for i, p := range c.procs {
		if p.name == name && p.serving != nil {
			idx = i
		}
	}
	c.mu.Unlock()
	if idx < 0 {
		return fmt.Errorf("simcluster: %s cannot be restarted (only %v)", name, Restartable)
	}
	old := c.procs[idx]
	old.signal(sig)
	select {
	case <-old.done:
	case <-time.After(stopGrace):
		old.signal(syscall.SIGKILL)
		select {
		case <-old.done:
		case <-time.After(10 * time.Second):
			return fmt.Errorf("simcluster: %s (pid %d) did not die after SIGKILL", name, old.cmd.Process.Pid)
		}
	}
	p, err := startProcess(old.name, old.binary, old.args, old.dir, old.workDir, old.out)
	if err != nil {
		return err
	}
	p.logIsTemp, p.serving = old.logIsTemp, old.serving
	c.mu.Lock()
	c.procs[idx] = p
	c.mu.Unlock()
	// The port may linger for a moment after the old process: bind errors end it, so start
	// again until it serves.
	deadline := time.Now().Add(time.Minute)
	for {
		callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ok, _ := p.serving(callCtx)
		cancel()
		if ok {
			return c.restartAfterControlPlane()
		}
		if p.exited() {
			if time.Now().After(deadline) {
				return fmt.Errorf("simcluster: restarting %s: %s", name, p.describe())
			}
			if p, err = startProcess(old.name, old.binary, old.args, old.dir, old.workDir, old.out); err != nil {
				return err
			}
			p.logIsTemp, p.serving = old.logIsTemp, old.serving
			c.mu.Lock()
			c.procs[idx] = p
			c.mu.Unlock()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("simcluster: %s did not serve within a minute of its restart: %s", name, p.describe())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// afterControlPlane are the processes started again after a control-plane restart, in order.
//   - kube-scheduler: when its cut watches resume, it may see a pod bound to a node its cache
//     placed elsewhere, call its cache corrupted and exit (klog.FlushAndExit), leaving every new
//     pod Pending. A real cluster's kubelet restarts the scheduler's static pod; here a fresh
//     scheduler lists the cluster as it is.
//   - kwok: it keeps no state of its own, but once its watches have been cut by a crashed
//     apiserver it does not always see the pods created afterwards (a StatefulSet then waits
//     forever for a pod kwok never runs); a real kubelet re-lists, and so does a fresh kwok.
var afterControlPlane = []string{"kube-scheduler", "kwok"}

// restartAfterControlPlane starts the processes of afterControlPlane again, whether they are
// still running or have exited.
func (c *Cluster) restartAfterControlPlane() error {
	for _, name := range afterControlPlane {
		if err := c.restartProcess(name); err != nil {
			return err
		}
	}
	return nil
}

// restartProcess ends the process name (SIGTERM, SIGKILL after stopGrace) if it still runs and
// starts it again with the same arguments.
func (c *Cluster) restartProcess(name string) error {
	c.mu.Lock()
	idx := slices.IndexFunc(c.procs, func(p *process) bool { return p.name == name })
	c.mu.Unlock()
	if idx < 0 {
		return nil
	}
	old := c.procs[idx]
	old.signal(syscall.SIGTERM)
	select {
	case <-old.done:
	case <-time.After(stopGrace):
		old.signal(syscall.SIGKILL)
		<-old.done
	}
	p, err := startProcess(old.name, old.binary, old.args, old.dir, old.workDir, old.out)
	if err != nil {
		return err
	}
	p.logIsTemp, p.serving = old.logIsTemp, old.serving
	c.mu.Lock()
	c.procs[idx] = p
	c.mu.Unlock()
	return nil
}

// waitFor polls cond until it holds. It fails at once when any process of the cluster has
// exited, and at ctx's end; either way quoting the log of the process that exited, or else of
// blame, the process in charge of what is awaited.
func (c *Cluster) waitFor(ctx context.Context, what string, blame *process, cond func(context.Context) (bool, error)) error {
	start := time.Now()
	var lastErr error
	for {
		c.mu.Lock()
		procs := append([]*process(nil), c.procs...)
		c.mu.Unlock()
		for _, p := range procs {
			if p.exited() {
				return fmt.Errorf("while waiting for %s: %s", what, p.describe())
			}
		}
		callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ok, err := cond(callCtx)
		cancel()
		if ok {
			return nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			msg := fmt.Sprintf("timed out after %s waiting for %s", time.Since(start).Round(time.Millisecond), what)
			if lastErr != nil {
				msg += fmt.Sprintf(" (last error: %v)", lastErr)
			}
			return fmt.Errorf("%s: %s", msg, blame.describe())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop ends every process (SIGTERM, then SIGKILL to its process group after 5 s) and removes
// the work directory when Start made it. It may be called more than once.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		var errs []error
		// Signal all first, in reverse start order, so they wind down together.
		for i := len(c.procs) - 1; i >= 0; i-- {
			c.procs[i].signal(syscall.SIGTERM)
		}
		for i := len(c.procs) - 1; i >= 0; i-- {
			if err := c.procs[i].stop(stopGrace); err != nil {
				errs = append(errs, err)
			}
		}
		if c.removeWorkDir && len(errs) == 0 {
			if err := os.RemoveAll(c.WorkDir); err != nil {
				errs = append(errs, fmt.Errorf("while removing %s: %w", c.WorkDir, err))
			}
		}
		c.stopErr = errors.Join(errs...)
	})
	return c.stopErr
}

// Kubectl returns the path of kubectl next to the cluster's binaries, or "" when it is not there.
func (c *Cluster) Kubectl() string {
	p := filepath.Join(c.AssetsDir, "kubectl")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// LogTail returns the last lines the named process (etcd, kube-apiserver, ...) wrote, for
// diagnostics.
func (c *Cluster) LogTail(name string, lines int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.procs {
		if p.name == name {
			return p.tail.lastLines(lines)
		}
	}
	return ""
}

// fakeNode is a Node kwok takes over (it manages every Node; the annotation says it is fake).
func fakeNode(name string) *corev1.Node {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("32"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
			Labels: map[string]string{
				"kubernetes.io/hostname": name,
				"kubernetes.io/os":       "linux",
				"kubernetes.io/arch":     "amd64",
				"type":                   "kwok",
			},
		},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: capacity.DeepCopy(),
			NodeInfo: corev1.NodeSystemInfo{
				Architecture:    "amd64",
				OperatingSystem: "linux",
				KubeletVersion:  "fake",
			},
		},
	}
}

// writeKubeconfig writes a kubeconfig with cfg's server, CA and token.
func writeKubeconfig(path string, cfg *rest.Config) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["simcluster"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken}
	kc.Contexts["simcluster"] = &clientcmdapi.Context{Cluster: "simcluster", AuthInfo: "admin", Namespace: metav1.NamespaceDefault}
	kc.CurrentContext = "simcluster"
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return fmt.Errorf("while writing the kubeconfig: %w", err)
	}
	return nil
}

// httpOK reports whether GET url answers 200.
func httpOK(ctx context.Context, client *http.Client, url string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("GET %s: %s: %s", url, resp.Status, lastLine(string(body)))
	}
	return true, nil
}

func lastLine(s string) string {
	var last string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if t := strings.TrimSpace(sc.Text()); t != "" {
			last = t
		}
	}
	return last
}

// freePorts returns n distinct ports free on 127.0.0.1 right now.
func freePorts(n int) ([]int, error) {
	var ports []int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("while picking a free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// FreePort returns a port free on 127.0.0.1 right now, for other processes of a test.
func FreePort() (int, error) {
	ports, err := freePorts(1)
	if err != nil {
		return 0, err
	}
	return ports[0], nil
}

// resolveAssetsDir picks the binaries' directory: dir, else $KUBEBUILDER_ASSETS, else
// <repo>/bin/k8s.
func resolveAssetsDir(dir string) (string, error) {
	if dir == "" {
		dir = os.Getenv("KUBEBUILDER_ASSETS")
	}
	if dir == "" {
		root, err := RepoRoot()
		if err != nil {
			return "", fmt.Errorf("simcluster: no AssetsDir nor KUBEBUILDER_ASSETS, and %w", err)
		}
		dir = filepath.Join(root, "bin", "k8s")
	}
	return filepath.Abs(dir)
}

// checkAssets fails, naming the missing file and how to build it, unless dir holds every binary
// and the kwok stages.
func checkAssets(dir string) error {
	var missing []string
	for _, name := range append(append([]string{}, Binaries...), stagesFile) {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil || info.IsDir() || (name != stagesFile && info.Mode().Perm()&0o111 == 0) {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("simcluster: %s missing from %s: run `make sim-assets` (hack/control-plane.sh sim) to build the simulated cluster's binaries, or point KUBEBUILDER_ASSETS at a directory that has them",
			strings.Join(missing, ", "), dir)
	}
	return nil
}

// RepoRoot returns the root of this repository: the first directory from the working directory
// up whose go.mod declares the module.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(data), "module "+modulePath+"\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of %s in the working directory or above it", modulePath)
		}
		dir = parent
	}
}
