// Package chart tests the Helm chart charts/imply-operator and the kustomize base config/default
// against a real kube-apiserver (envtest): they lint, render, pass server-side dry-run and Pod
// Security "restricted" admission, and the operator binary runs a full ImplyCluster reconcile
// with exactly the RBAC the chart (or kustomize) gives its ServiceAccount.
package chart

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/test/testenv"
)

var (
	ctx       context.Context
	cancel    context.CancelFunc
	env       *envtest.Environment
	adminCfg  *rest.Config
	k8sClient client.Client
	scheme    = runtime.NewScheme()
	// adminKubeconfig is a kubeconfig file of a system:masters user, for kubectl.
	adminKubeconfig string
	// operatorBinary is the operator built from main.go.
	operatorBinary string
	// workDir holds the files the suite writes.
	workDir string
)

func TestChart(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Helm chart and kustomize suite (envtest)")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(GinkgoLogr)
	ctx, cancel = context.WithCancel(context.Background())
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(implyv1alpha1.AddToScheme(scheme)).To(Succeed())

	for _, tool := range []string{helmBinary(), kubectlBinary()} {
		_, err := os.Stat(tool)
		Expect(err).NotTo(HaveOccurred(), "%s is missing: run `make tools envtest-assets sim-assets`", tool)
	}

	var err error
	workDir, err = os.MkdirTemp("", "imply-chart-test-")
	Expect(err).NotTo(HaveOccurred())

	By("building the operator from main.go")
	operatorBinary = filepath.Join(workDir, "imply-operator")
	buildOperator(operatorBinary)

	By("starting the test control plane")
	env, adminCfg, err = testenv.Start()
	Expect(err).NotTo(HaveOccurred())
	k8sClient, err = client.New(adminCfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	admin, err := env.AddUser(envtest.User{Name: "chart-admin", Groups: []string{"system:masters"}}, nil)
	Expect(err).NotTo(HaveOccurred())
	kubeconfig, err := admin.KubeConfig()
	Expect(err).NotTo(HaveOccurred())
	adminKubeconfig = filepath.Join(workDir, "admin.kubeconfig")
	Expect(os.WriteFile(adminKubeconfig, kubeconfig, 0o600)).To(Succeed())

	By("installing the CRDs of cert-manager (from the module go.mod requires) and of the Prometheus Operator")
	certificates, err := testenv.CertManagerCRDs()
	Expect(err).NotTo(HaveOccurred())
	certManagerCRDs, err := filepath.Glob(filepath.Join(filepath.Dir(certificates), "cert-manager.io_*.yaml"))
	Expect(err).NotTo(HaveOccurred())
	Expect(certManagerCRDs).To(ContainElement(HaveSuffix("cert-manager.io_issuers.yaml")))
	_, err = envtest.InstallCRDs(adminCfg, envtest.CRDInstallOptions{
		Paths:              append(certManagerCRDs, filepath.Join("testdata", "crds")),
		ErrorIfPathMissing: true,
	})
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	if cancel != nil {
		cancel()
	}
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
	if workDir != "" {
		_ = os.RemoveAll(workDir)
	}
})
