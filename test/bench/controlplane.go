package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/test/testenv"
)

// operatorUser is the apiserver user the operator runs as, so the audit log tells its writes
// from the benchmark's own.
const operatorUser = "bench-operator"

// etcdQuota is etcd's --quota-backend-bytes: 8 GiB.
const etcdQuota = 8 << 30

// benchUser is envtest's own user, the benchmark's client: it creates the inputs and plays the
// bare client.
const benchUser = "admin"

// auditPolicy records every write the operator makes (metadata only, once the response is sent)
// and nothing else but the benchmark client's writes: the bare client's creates pay for the same
// audit (an event encoded and written, blocking, for each) as the operator's writes they are
// compared with.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived", "ResponseStarted", "Panic"]
rules:
- level: Metadata
  users: ["` + operatorUser + `", "` + benchUser + `"]
  verbs: ["create", "update", "patch", "delete", "deletecollection"]
- level: None
`

var scheme = runtime.NewScheme()

func init() {
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, implyv1alpha1.AddToScheme, cmv1.AddToScheme} {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
}

// controlPlane is a fresh envtest kube-apiserver and etcd with the operator's CRDs, an audit log
// of the operator's writes, and a kubeconfig for the operator's own user.
type controlPlane struct {
	env *envtest.Environment
	// cfg is the benchmark's own (admin) client configuration, unthrottled like the operator's.
	cfg *rest.Config
	// c is the benchmark's client: it creates the inputs and plays the bare client.
	c client.Client
	// kubeconfig is the path of the operator's kubeconfig.
	kubeconfig string
	// auditLog is the path of the apiserver's audit log.
	auditLog string
}

// startControlPlane starts envtest from bin/k8s with its files under dir.
func startControlPlane(dir string) (*controlPlane, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join(testenv.RepoRoot(), "bin", "k8s")
	}
	policy := filepath.Join(dir, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o600); err != nil {
		return nil, err
	}
	cp := &controlPlane{auditLog: filepath.Join(dir, "audit.log")}
	cp.env = &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join(testenv.RepoRoot(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cp.env.ControlPlane.GetAPIServer().Configure().
		// envtest's default /24 holds 254 ClusterIPs; 1,000 clusters need 4,000 and the bare
		// client as many again.
		Set("service-cluster-ip-range", "10.96.0.0/12").
		Set("audit-policy-file", policy).
		Set("audit-log-path", cp.auditLog).
		Set("audit-log-maxsize", "4096").
		Set("audit-log-mode", "blocking")
	// The noise scenario stores 500 Secrets of 1 MB and the 3,000-cluster point about 81,000
	// objects; etcd's default quota of 2 GiB would refuse writes before the end.
	cp.env.ControlPlane.Etcd = &envtest.Etcd{}
	cp.env.ControlPlane.Etcd.Configure().Set("quota-backend-bytes", strconv.Itoa(etcdQuota))
	cfg, err := cp.env.Start()
	if err != nil {
		return nil, fmt.Errorf("while starting envtest (run `make envtest-assets`): %w", err)
	}
	cp.cfg = rest.CopyConfig(cfg)
	cp.cfg.QPS, cp.cfg.Burst = -1, 0 // as the operator's ctrl.GetConfig: no client-side throttling
	if cp.c, err = client.New(cp.cfg, client.Options{Scheme: scheme}); err != nil {
		return nil, cp.stopAfter(err)
	}
	user, err := cp.env.AddUser(envtest.User{Name: operatorUser, Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, cp.stopAfter(err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return nil, cp.stopAfter(err)
	}
	cp.kubeconfig = filepath.Join(dir, "operator.kubeconfig")
	if err := os.WriteFile(cp.kubeconfig, kubeconfig, 0o600); err != nil {
		return nil, cp.stopAfter(err)
	}
	return cp, nil
}

func (cp *controlPlane) stopAfter(err error) error {
	_ = cp.env.Stop()
	return err
}

func (cp *controlPlane) stop() error { return cp.env.Stop() }

// createNamespace creates a namespace.
func (cp *controlPlane) createNamespace(ctx context.Context, name string) error {
	return cp.c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
}

// poll calls done every interval until it returns true or an error, or timeout passes.
func poll(ctx context.Context, interval, timeout time.Duration, what string, done func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := done()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s", timeout, what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}

// halfwayProfileSeconds is how long the profiles taken halfway through a scale point last.
const halfwayProfileSeconds = 30

// saveProfile writes a CPU profile of the apiserver of seconds (its /debug/pprof, which the
// benchmark's admin user may read) into file.
func (cp *controlPlane) saveProfile(ctx context.Context, seconds int, file string) error {
	httpClient, err := rest.HTTPClientFor(cp.cfg)
	if err != nil {
		return err
	}
	body, err := getWith(ctx, httpClient, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", strings.TrimSuffix(cp.cfg.Host, "/"), seconds))
	if err != nil {
		return fmt.Errorf("while profiling the apiserver: %w", err)
	}
	return os.WriteFile(file, body, 0o644)
}
