package controllers

import (
	"context"
	"io"
	"testing"
	"time"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/test/testenv"
)

var (
	env       *envtest.Environment
	cfg       *rest.Config
	k8sClient client.Client
	scheme    = runtime.NewScheme()
	cancelMgr context.CancelFunc
	// cachedClient reads through the operator's cache, as the reconcilers do.
	cachedClient client.Client
	// suiteClock is the ImplyCluster reconciler's clock: tests move it to reach renewal times.
	suiteClock = clocktesting.NewFakeClock(time.Now())
	// operatorLogs holds everything the operator logged during the suite.
	operatorLogs = &syncBuffer{}
	// operatorWrites counts the writes the operator's manager sends to the apiserver.
	operatorWrites = &writeCounter{}
	// testCtx is the context of the tests' API calls.
	testCtx = context.Background()
)

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Controllers suite (envtest)")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(io.MultiWriter(GinkgoWriter, operatorLogs)), zap.UseDevMode(true)))
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(implyv1alpha1.AddToScheme(scheme)).To(Succeed())
	Expect(cmv1.AddToScheme(scheme)).To(Succeed())

	certManagerCRDs, err := testenv.CertManagerCRDs()
	Expect(err).NotTo(HaveOccurred())
	env, cfg, err = testenv.StartWith(certManagerCRDs)
	Expect(err).NotTo(HaveOccurred())
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	mgr, err := ctrl.NewManager(operatorWrites.wrap(cfg), ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  CacheOptions(nil),
	})
	Expect(err).NotTo(HaveOccurred())
	Expect(SetupWithManagerAndClock(mgr, suiteClock)).To(Succeed())
	cachedClient = mgr.GetClient()

	var ctx context.Context
	ctx, cancelMgr = context.WithCancel(context.Background())
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
})

var _ = AfterSuite(func() {
	if k8sClient != nil {
		expectNoSecretValueLeaked()
	}
	if cancelMgr != nil {
		cancelMgr()
	}
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
})
