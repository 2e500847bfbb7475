// Package testsuite is the envtest suite every kind's controller tests share: a real
// kube-apiserver and etcd with the CRDs, the operator's manager running every reconciler on the
// test's clock, and helpers reading what the operator did. Each kind package starts it from
// its own suite_test.go with the setup functions of every kind, as the operator wires them.
package testsuite

import (
	"context"
	"io"
	"time"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	crcache "sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/cache"
	"github.com/imply-operator/imply-operator/controllers/internal/index"
	"github.com/imply-operator/imply-operator/controllers/internal/setup"
	"github.com/imply-operator/imply-operator/test/testenv"
)

var (
	env       *envtest.Environment
	cancelMgr context.CancelFunc
	// Cfg reaches the suite's apiserver.
	Cfg *rest.Config
	// K8sClient reads and writes the apiserver directly, as a user would.
	K8sClient client.Client
	// Scheme knows the built-in kinds, this API and cert-manager's.
	Scheme = runtime.NewScheme()
	// CachedClient reads through the operator's cache, as the reconcilers do.
	CachedClient client.Client
	// ForeignSecrets is the operator's metadata-only cache of the Secrets it does not manage.
	ForeignSecrets crcache.Cache
	// Clock is the reconcilers' clock: tests move it to reach renewal and rotation times.
	Clock = clocktesting.NewFakeClock(time.Now())
	// OperatorLogs holds everything the operator logged during the suite.
	OperatorLogs = &SyncBuffer{}
	// OperatorWrites counts the writes the operator's manager sends to the apiserver.
	OperatorWrites = &WriteCounter{}
	// Ctx is the context of the tests' API calls.
	Ctx = context.Background()
)

// Start starts the apiserver with the CRDs (cert-manager's too) and the operator's manager with
// the shared indexes and every reconciler of setups, on Clock. Call it from BeforeSuite.
func Start(setups ...setup.Func) {
	logf.SetLogger(zap.New(zap.WriteTo(io.MultiWriter(GinkgoWriter, OperatorLogs)), zap.UseDevMode(true)))
	Expect(clientgoscheme.AddToScheme(Scheme)).To(Succeed())
	Expect(implyv1alpha1.AddToScheme(Scheme)).To(Succeed())
	Expect(cmv1.AddToScheme(Scheme)).To(Succeed())

	certManagerCRDs, err := testenv.CertManagerCRDs()
	Expect(err).NotTo(HaveOccurred())
	env, Cfg, err = testenv.StartWith(certManagerCRDs)
	Expect(err).NotTo(HaveOccurred())
	K8sClient, err = client.New(Cfg, client.Options{Scheme: Scheme})
	Expect(err).NotTo(HaveOccurred())

	mgr, err := ctrl.NewManager(OperatorWrites.Wrap(Cfg), ctrl.Options{
		Scheme:                 Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  cache.Options(nil),
	})
	Expect(err).NotTo(HaveOccurred())
	Expect(index.Register(context.Background(), mgr.GetFieldIndexer())).To(Succeed())
	opts, err := setup.Options{Clock: Clock}.WithDefaults().WithForeignSecrets(mgr)
	Expect(err).NotTo(HaveOccurred())
	for _, s := range setups {
		Expect(s(mgr, opts)).To(Succeed())
	}
	CachedClient = mgr.GetClient()
	ForeignSecrets = opts.ForeignSecrets.Cache

	var ctx context.Context
	ctx, cancelMgr = context.WithCancel(context.Background())
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
}

// Stop stops the manager and the apiserver. Call it from AfterSuite, after
// ExpectNoSecretValueLeaked where the suite generates secret values.
func Stop() {
	if cancelMgr != nil {
		cancelMgr()
	}
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
}
