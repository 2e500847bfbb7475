package realdruid

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testenv"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// The cluster every test shares: TLS and basic security on, its coordinator a real Druid.
const (
	namespace   = "realdruid"
	clusterName = "c"
	masterGroup = "master"
	// resyncPeriod is how often the operator compares DruidRoles and Druid users with Druid.
	resyncPeriod = 5 * time.Second
)

var (
	scheme    = runtime.NewScheme()
	k8sClient client.Client
	// cluster is the ImplyCluster as created.
	cluster *implyv1alpha1.ImplyCluster
	// druidRun is the coordinator's run directory and environment.
	druidRun *LocalRun
	// startupLog is the coordinator's log as it was when it had started.
	startupLog string
	// coordinatorURL is https://c-master.<ns>.svc:8281, mapped to loopback (spec.druid.apiURL).
	coordinatorURL string
	// caPool trusts the cluster's CA bundle.
	caPool *x509.CertPool
	// adminPassword and internalPassword are the generated Druid passwords.
	adminPassword, internalPassword string
	// operatorClock is the operator's clock; a test moves it past a password lifetime.
	operatorClock = clocktesting.NewFakeClock(time.Now())
	// operatorLogs holds what the operator logged, for the leak check.
	operatorLogs = &lockedBuffer{}
)

// druidScript is hack/druid/druid.sh.
func druidScript() string { return filepath.Join(testenv.RepoRoot(), "hack", "druid", "druid.sh") }

// TestMain starts envtest, the operator, and Druid on the operator's output. A missing java fails
// the package (CI installs it); Druid, its ZooKeeper and, without mvn, Maven itself come from
// Maven Central (hack/druid/druid.sh). Nothing is skipped.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logf.SetLogger(zap.New(zap.WriteTo(operatorLogs)))

	start := time.Now()
	if out, err := exec.Command(druidScript(), "fetch").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "realdruid: hack/druid/druid.sh fetch failed: %v\n%s", err, out)
		return 1
	}
	distribution, err := exec.Command(druidScript(), "home").Output()
	if err != nil {
		fmt.Fprintf(os.Stderr, "realdruid: druid.sh home: %v\n", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "realdruid: Druid ready in the cache after %s\n", time.Since(start).Round(time.Second))

	env, stop, err := startOperator(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "realdruid: %v\n", err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	defer stop()

	dir, err := os.MkdirTemp("", "realdruid-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "realdruid: %v\n", err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	druidStart := time.Now()
	if err := startDruid(ctx, dir, strings.TrimSpace(string(distribution))); err != nil {
		fmt.Fprintf(os.Stderr, "realdruid: %v\n", err)
		stopDruid(dir)
		return 1
	}
	fmt.Fprintf(os.Stderr, "realdruid: coordinator up on the operator's output after %s\n", time.Since(druidStart).Round(time.Second))
	if data, err := os.ReadFile(filepath.Join(dir, "log", "coordinator.log")); err == nil {
		startupLog = string(data)
	}
	code := m.Run()
	if leaked := leakedSecrets(operatorLogs.String()); leaked > 0 {
		fmt.Fprintf(os.Stderr, "realdruid: %d secret value(s) appear in the operator's log\n", leaked)
		code = 1
	}
	if code != 0 {
		fmt.Fprintf(os.Stderr, "realdruid: operator log (last lines):\n%s\n", lastLines(redact(operatorLogs.String(), druidRun.Secrets), 80))
		fmt.Fprintf(os.Stderr, "realdruid: coordinator log (last lines):\n%s\n", tail(filepath.Join(dir, "log", "coordinator.log"), 60))
	}
	stopDruid(dir)
	return code
}

// startOperator starts envtest and the operator's manager with every reconciler.
func startOperator(ctx context.Context) (*envtest.Environment, func(), error) {
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, implyv1alpha1.AddToScheme, cmv1.AddToScheme} {
		if err := add(scheme); err != nil {
			return nil, nil, err
		}
	}
	crds, err := testenv.CertManagerCRDs()
	if err != nil {
		return nil, nil, err
	}
	env, cfg, err := testenv.StartWith(crds)
	if err != nil {
		return nil, nil, err
	}
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		_ = env.Stop()
		return nil, nil, err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  controllers.CacheOptions(nil),
	})
	if err != nil {
		_ = env.Stop()
		return nil, nil, err
	}
	// A short resync, so reverting changes made by hand in Druid is seen within the test; the
	// operator's clock is the suite's, so the admin password's lifetime can pass.
	if err := controllers.SetupWithOptions(mgr, controllers.Options{DruidResyncPeriod: resyncPeriod, Clock: operatorClock}); err != nil {
		_ = env.Stop()
		return nil, nil, err
	}
	mgrCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(mgrCtx); err != nil {
			fmt.Fprintf(os.Stderr, "realdruid: the manager stopped: %v\n", err)
		}
	}()
	return env, func() { cancel(); <-done }, nil
}

// startDruid creates the cluster, waits for what the operator renders, prepares the run
// directory with the documented mapping and starts ZooKeeper and the coordinator.
func startDruid(ctx context.Context, dir, distribution string) error {
	zkPort, err := testenv.FreePort()
	if err != nil {
		return err
	}
	derbyPort, err := testenv.FreePort()
	if err != nil {
		return err
	}
	if err := k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil {
		return err
	}
	for _, s := range testobj.Secrets(namespace) {
		if err := k8sClient.Create(ctx, s); err != nil {
			return err
		}
	}
	cluster = testCluster(clusterName, zkPort, derbyPort)
	l, err := launch(ctx, cluster, dir, distribution)
	if l != nil {
		druidRun = l.Run
	}
	if err != nil {
		return err
	}
	coordinatorURL, caPool, adminPassword, internalPassword = l.URL, l.Pool, l.Admin, l.Internal
	return nil
}

// launched is a coordinator started on the output of an ImplyCluster.
type launched struct {
	Run *LocalRun
	// URL is spec.druid.apiURL; Pool trusts the cluster's CA bundle.
	URL  string
	Pool *x509.CertPool
	// Admin and Internal are the generated admin and internal-client passwords.
	Admin, Internal string
}

// launch creates c, waits for what the operator renders for its master group, prepares dir with
// the documented mapping and starts ZooKeeper and the coordinator there. The run is returned
// even with an error once it exists, so its log can be shown and it can be stopped.
func launch(ctx context.Context, c *implyv1alpha1.ImplyCluster, dir, distribution string) (*launched, error) {
	if err := k8sClient.Create(ctx, c); err != nil {
		return nil, fmt.Errorf("while creating the ImplyCluster: %w", err)
	}
	var creds corev1.Secret
	if err := waitFor(ctx, 4*time.Minute, func() error {
		for _, obj := range []struct {
			name string
			into client.Object
		}{
			{specs.CommonConfigName(c.Name), &corev1.ConfigMap{}},
			{specs.GroupConfigName(c.Name, masterGroup), &corev1.ConfigMap{}},
			{specs.CABundleName(c.Name), &corev1.ConfigMap{}},
			{specs.GroupTLSSecretName(c.Name, masterGroup), &corev1.Secret{}},
			{specs.DruidCredentialsName(c.Name), &creds},
			{specs.GroupName(c.Name, masterGroup), &appsv1.StatefulSet{}},
		} {
			if err := k8sClient.Get(ctx, types.NamespacedName{Namespace: c.Namespace, Name: obj.name}, obj.into); err != nil {
				return fmt.Errorf("%s: %w", obj.name, err)
			}
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("the operator did not render cluster %s: %w", c.Name, err)
	}
	l := &launched{URL: c.Spec.Druid.APIURL,
		Admin: string(creds.Data[specs.DruidAdminPasswordKey]), Internal: string(creds.Data[specs.DruidInternalClientPasswordKey])}
	if l.Admin == "" || l.Internal == "" {
		return nil, fmt.Errorf("%s lacks a generated password", creds.Name)
	}
	run, err := Prepare(ctx, k8sClient, c, masterGroup, dir, distribution)
	if err != nil {
		return nil, fmt.Errorf("while preparing the run directory: %w", err)
	}
	l.Run = run
	var bundle corev1.ConfigMap
	if err := k8sClient.Get(ctx, types.NamespacedName{Namespace: c.Namespace, Name: specs.CABundleName(c.Name)}, &bundle); err != nil {
		return l, err
	}
	l.Pool = x509.NewCertPool()
	if !l.Pool.AppendCertsFromPEM([]byte(bundle.Data[specs.TLSCAKey])) {
		return l, errors.New("the CA bundle holds no certificate")
	}
	mapHostnames(run.Names)

	cmd := exec.Command(druidScript(), "start", dir)
	// The pod template's environment (secrets resolved) plus what the script needs; the
	// secrets reach Druid through its environment password provider, never a file or argv.
	cmd.Env = append(baseEnv(), run.Env...)
	cmd.Env = append(cmd.Env, "DRUID_EXTRA_JAVA_OPTS="+run.JavaOpts)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return l, fmt.Errorf("druid.sh start: %v\n%s", err, redact(out.String(), run.Secrets))
	}
	fmt.Fprint(os.Stderr, redact(out.String(), run.Secrets))
	// The coordinator is up; wait until it answers over HTTPS through the mapped name.
	return l, waitFor(ctx, 4*time.Minute, func() error {
		if _, err := os.Stat(filepath.Join(dir, "coordinator.pid")); err != nil {
			return fmt.Errorf("the coordinator is not running: %w", err)
		}
		_, err := net.DialTimeout("tcp", "127.0.0.1:8281", 5*time.Second)
		return err
	})
}

// testCluster is the ImplyCluster of the suite: TLS and auth on (generated CA and passwords),
// a master group whose coordinator is also the overlord, a small heap, and what a loopback run
// needs, all through the spec: ZooKeeper on loopback, Derby as metadata store, local deep storage.
func testCluster(name string, zkPort, derbyPort int) *implyv1alpha1.ImplyCluster {
	c := testobj.ImplyCluster(name, namespace, testobj.WithAuth("", ""))
	c.Spec.Druid.ZooKeeper = implyv1alpha1.ZooKeeperSpec{ConnectString: fmt.Sprintf("127.0.0.1:%d", zkPort), BasePath: "/druid/" + name}
	c.Spec.Druid.MetadataStore.Type = implyv1alpha1.MetadataStorePostgreSQL
	c.Spec.Druid.MetadataStore.Host = "127.0.0.1"
	// Derby replaces the PostgreSQL store below, so there is no store to speak TLS to (that is
	// proven against real servers in test/metadatastore).
	c.Spec.Druid.MetadataStore.TLS = &implyv1alpha1.MetadataStoreTLSSpec{Enabled: ptr.To(false)}
	c.Spec.Druid.DeepStorage = implyv1alpha1.DeepStorageSpec{Type: "local", Path: "/mnt/deep-storage"}
	c.Spec.Druid.CommonRuntimeProperties = map[string]string{
		"druid.metadata.storage.type":                 "derby",
		"druid.metadata.storage.connector.connectURI": fmt.Sprintf("jdbc:derby://127.0.0.1:%d/var/metadata.db;create=true", derbyPort),
		"druid.metadata.storage.connector.host":       "127.0.0.1",
		"druid.metadata.storage.connector.port":       fmt.Sprint(derbyPort),
	}
	c.Spec.Druid.APIURL = fmt.Sprintf("https://%s.%s.svc:%d", specs.GroupName(name, masterGroup), namespace, specs.Coordinator.TLSPort)
	for i := range c.Spec.NodeGroups {
		g := &c.Spec.NodeGroups[i]
		if g.Name != masterGroup {
			continue
		}
		g.RuntimeProperties = map[string]string{
			"druid.coordinator.asOverlord.enabled":         "true",
			"druid.coordinator.asOverlord.overlordService": "druid/overlord",
		}
		// The coordinator's heap is its 30 % share of the memory: 230 MiB.
		g.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("768Mi")}
	}
	return c
}

func stopDruid(dir string) {
	out, err := exec.Command(druidScript(), "stop", dir).CombinedOutput()
	fmt.Fprint(os.Stderr, string(out))
	if err != nil {
		fmt.Fprintf(os.Stderr, "realdruid: druid.sh stop: %v\n", err)
	}
}

// baseEnv is the test's environment without anything Druid-related it might carry.
func baseEnv() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "DRUID_") || strings.HasPrefix(kv, "IMPLY_")
	})
}

// mappedNames are the hostnames Go clients dial on 127.0.0.1 (mapHostnames).
var mappedNames = struct {
	sync.Mutex
	names []string
}{}

// mapHostnames makes every Go HTTP client that clones http.DefaultTransport (the operator's
// Druid client among them) dial names to 127.0.0.1, keeping the name for TLS verification.
func mapHostnames(names []string) {
	mappedNames.Lock()
	defer mappedNames.Unlock()
	first := mappedNames.names == nil
	mappedNames.names = append(mappedNames.names, names...)
	if !first {
		return
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	t := http.DefaultTransport.(*http.Transport)
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		mappedNames.Lock()
		mapped := err == nil && slices.Contains(mappedNames.names, host)
		mappedNames.Unlock()
		if mapped {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
		return dialer.DialContext(ctx, network, addr)
	}
}

// httpClient trusts the cluster CA and speaks TLS between minVersion and maxVersion (0: any).
func httpClient(minVersion, maxVersion uint16) *http.Client {
	return httpClientFor(caPool, minVersion, maxVersion)
}

// httpClientFor trusts pool, speaks TLS between minVersion and maxVersion (0: any) and presents
// certs when asked for a client certificate.
func httpClientFor(pool *x509.CertPool, minVersion, maxVersion uint16, certs ...tls.Certificate) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: minVersion, MaxVersion: maxVersion, Certificates: certs} //nolint:gosec // TLS 1.1 is offered on purpose, to see it refused
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
}

// get sends GET url as user and returns the status and body.
func get(url, user, password string) (int, string, error) {
	return do(httpClient(tls.VersionTLS12, 0), http.MethodGet, url, user, password, "")
}

func do(c *http.Client, method, url, user, password, body string) (int, string, error) {
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, reader)
	if err != nil {
		return 0, "", err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data), err
}

func waitFor(ctx context.Context, timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// extraSecrets are secret values tests met (an AuthToken's generated password), for the leak
// check after the tests.
var extraSecrets = struct {
	sync.Mutex
	values []string
}{}

func rememberSecret(v string) {
	extraSecrets.Lock()
	defer extraSecrets.Unlock()
	extraSecrets.values = append(extraSecrets.values, v)
}

// leakedSecrets counts the Druid passwords, the pod environment's secrets and the secrets tests
// met that appear in text.
func leakedSecrets(text string) int {
	extraSecrets.Lock()
	defer extraSecrets.Unlock()
	all := append([]string{adminPassword, internalPassword}, extraSecrets.values...)
	if druidRun != nil {
		all = append(all, druidRun.Secrets...)
	}
	n := 0
	for _, s := range all {
		if len(s) >= 8 && strings.Contains(text, s) {
			n++
		}
	}
	return n
}

// redact replaces every secret in text; values shorter than 8 characters (the metadata-store
// user name "druid" of the test Secrets) are no password and would blank out Druid's own text.
func redact(text string, secrets []string) string {
	for _, s := range secrets {
		if len(s) >= 8 {
			text = strings.ReplaceAll(text, s, "[REDACTED]")
		}
	}
	return text
}

// tail returns the last n lines of a file, without secrets.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	var secrets []string
	if druidRun != nil {
		secrets = druidRun.Secrets
	}
	return lastLines(redact(string(data), secrets), n)
}

func lastLines(text string, n int) string {
	lines := strings.Split(text, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
