// Package e2e runs the operator binary, as a process, against the simulated cluster (etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler and kwok): real StatefulSet and
// Deployment controllers, pods that become Ready, garbage collection, and rolling restarts that
// survive the operator being killed.
package e2e

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/test/simcluster"
	"github.com/imply-operator/imply-operator/test/testenv"
)

var (
	sim       *simcluster.Cluster
	k8sClient client.Client
	scheme    = runtime.NewScheme()
	testCtx   = context.Background()
	// op is the operator process; tests may kill and restart it.
	op *operator
)

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "End to end on the simulated cluster")
}

var _ = BeforeSuite(func() {
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(implyv1alpha1.AddToScheme(scheme)).To(Succeed())
	Expect(cmv1.AddToScheme(scheme)).To(Succeed())

	var err error
	sim, err = simcluster.Start(testCtx, simcluster.Options{})
	Expect(err).NotTo(HaveOccurred())
	_, err = envtest.InstallCRDs(sim.Config, envtest.CRDInstallOptions{
		Paths: []string{filepath.Join(testenv.RepoRoot(), "config", "crd", "bases")}, ErrorIfPathMissing: true,
	})
	Expect(err).NotTo(HaveOccurred())
	k8sClient, err = client.New(sim.Config, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	dir := GinkgoT().TempDir()
	binary, err := buildOperator(dir)
	Expect(err).NotTo(HaveOccurred())
	op = &operator{binary: binary, kubeconfig: sim.KubeconfigPath, logPath: filepath.Join(dir, "operator.log")}
	Expect(op.start()).To(Succeed())
})

// The operator's log goes with every failed spec.
var _ = AfterEach(func() {
	if CurrentSpecReport().Failed() && op != nil {
		GinkgoWriter.Printf("operator log (last lines):\n%s\n", op.logTail(150))
	}
})

var _ = AfterSuite(func() {
	if op != nil {
		Expect(op.stop(syscall.SIGTERM)).To(Succeed())
	}
	if sim != nil {
		Expect(sim.Stop()).To(Succeed())
	}
})
