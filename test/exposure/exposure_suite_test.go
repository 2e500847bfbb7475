// Package exposure checks that the NetworkPolicies, Ingress, Services and pod templates the
// operator builds (pkg/specs) are accepted by a real kube-apiserver: each is sent with
// `kubectl apply --dry-run=server`, so the apiserver validates it as it would in a cluster
// without persisting it.
package exposure

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/imply-operator/imply-operator/test/testenv"
)

var (
	env *envtest.Environment
	// adminKubeconfig is a kubeconfig of a system:masters user, for kubectl.
	adminKubeconfig string
	workDir         string
)

func TestExposureDryRun(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "NetworkPolicies, Ingress and pods against the apiserver (kubectl apply --dry-run=server)")
}

var _ = BeforeSuite(func() {
	_, err := os.Stat(kubectlBinary())
	Expect(err).NotTo(HaveOccurred(), "%s is missing: run `make sim-assets`", kubectlBinary())
	workDir, err = os.MkdirTemp("", "imply-exposure-test-")
	Expect(err).NotTo(HaveOccurred())
	env, _, err = testenv.Start()
	Expect(err).NotTo(HaveOccurred())
	admin, err := env.AddUser(envtest.User{Name: "exposure-admin", Groups: []string{"system:masters"}}, nil)
	Expect(err).NotTo(HaveOccurred())
	kubeconfig, err := admin.KubeConfig()
	Expect(err).NotTo(HaveOccurred())
	adminKubeconfig = filepath.Join(workDir, "admin.kubeconfig")
	Expect(os.WriteFile(adminKubeconfig, kubeconfig, 0o600)).To(Succeed())
})

var _ = AfterSuite(func() {
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
	if workDir != "" {
		_ = os.RemoveAll(workDir)
	}
})

// kubectlBinary is the kubectl of the control plane `make sim-assets` builds.
func kubectlBinary() string {
	if assets := os.Getenv("KUBEBUILDER_ASSETS"); assets != "" {
		if _, err := os.Stat(filepath.Join(assets, "kubectl")); err == nil {
			return filepath.Join(assets, "kubectl")
		}
	}
	return filepath.Join(testenv.RepoRoot(), "bin", "kubectl")
}

// kubectl runs kubectl as the suite's admin with stdin and returns its stdout, or an error with
// its stderr.
func kubectl(stdin []byte, args ...string) (string, error) {
	cmd := exec.Command(kubectlBinary(), append([]string{"--kubeconfig", adminKubeconfig}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("kubectl %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}
