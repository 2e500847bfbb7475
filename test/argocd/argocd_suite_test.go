// Package argocd tests what Argo CD relies on: the Lua health checks of docs/argocd.md, run with
// Argo CD's Lua interpreter on objects the real operator reconciled on a real kube-apiserver
// (envtest), and server-side re-applies of the samples that change nothing.
package argocd

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers"
	"github.com/imply-operator/imply-operator/test/testenv"
)

var (
	ctx       = context.Background()
	env       *envtest.Environment
	cfg       *rest.Config
	k8sClient client.Client
	scheme    = runtime.NewScheme()
	// scripts are the health checks of docs/argocd.md by kind.
	scripts map[string]string
	// stopOperator stops the running operator; nil when it is not running.
	stopOperator func()
)

func TestArgoCD(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Argo CD suite (envtest)")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(implyv1alpha1.AddToScheme(scheme)).To(Succeed())

	var err error
	scripts, err = healthScripts()
	Expect(err).NotTo(HaveOccurred())

	env, cfg, err = testenv.Start()
	Expect(err).NotTo(HaveOccurred())
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	startOperator()
})

var _ = AfterSuite(func() {
	if stopOperator != nil {
		stopOperator()
	}
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
})

// startOperator runs the operator's controllers in a manager of their own, as main.go does.
func startOperator() {
	GinkgoHelper()
	Expect(stopOperator).To(BeNil(), "the operator is already running")
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		// The suite stops and starts the operator; each start registers the controllers again.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	Expect(err).NotTo(HaveOccurred())
	Expect(controllers.SetupWithManager(mgr)).To(Succeed())
	mgrCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(done)
		Expect(mgr.Start(mgrCtx)).To(Succeed())
	}()
	stopOperator = func() {
		cancel()
		<-done
		stopOperator = nil
	}
}
