// Package operator runs the operator binary as a person would from a laptop: built from main.go
// and started with only KUBECONFIG set, against a real apiserver.
package operator

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/test/testenv"
)

func TestOperatorRunsOutOfClusterWithOnlyKubeconfig(t *testing.T) {
	g := NewWithT(t)
	env, cfg, err := testenv.Start()
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { g.Expect(env.Stop()).To(Succeed()) }()

	user, err := env.AddUser(envtest.User{Name: "laptop-admin", Groups: []string{"system:masters"}}, nil)
	g.Expect(err).NotTo(HaveOccurred())
	kubeconfig, err := user.KubeConfig()
	g.Expect(err).NotTo(HaveOccurred())
	dir := t.TempDir()
	kubeconfigPath := filepath.Join(dir, "kubeconfig")
	g.Expect(os.WriteFile(kubeconfigPath, kubeconfig, 0o600)).To(Succeed())

	binary := filepath.Join(dir, "imply-operator")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Dir = testenv.RepoRoot()
	out, err := build.CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), string(out))

	metricsPort, err := testenv.FreePort()
	g.Expect(err).NotTo(HaveOccurred())
	probePort, err := testenv.FreePort()
	g.Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, binary,
		fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", metricsPort),
		fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", probePort),
		"--leader-elect", "--leader-election-namespace=default")
	cmd.Env = append(minimalEnv(), "KUBECONFIG="+kubeconfigPath)
	logFile, err := os.Create(filepath.Join(dir, "operator.log"))
	g.Expect(err).NotTo(HaveOccurred())
	cmd.Stdout, cmd.Stderr = logFile, logFile
	g.Expect(cmd.Start()).To(Succeed())
	defer func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			log, _ := os.ReadFile(logFile.Name())
			t.Logf("operator log:\n%s", log)
		}
	}()

	for _, path := range []string{"healthz", "readyz"} {
		g.Eventually(func() (int, error) {
			code, _, err := testenv.HTTPGet(fmt.Sprintf("http://127.0.0.1:%d/%s", probePort, path))
			return code, err
		}).WithTimeout(30*time.Second).Should(Equal(http.StatusOK), path)
	}

	scheme := runtime.NewScheme()
	g.Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	g.Expect(implyv1alpha1.AddToScheme(scheme)).To(Succeed())
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	g.Expect(err).NotTo(HaveOccurred())

	By := func(step string) { t.Log(step) }
	By("holding the leader-election Lease")
	g.Eventually(func() (string, error) {
		var lease coordinationv1.Lease
		err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: "imply-operator.imply.operator.dev"}, &lease)
		if err != nil || lease.Spec.HolderIdentity == nil {
			return "", err
		}
		return *lease.Spec.HolderIdentity, nil
	}).WithTimeout(30 * time.Second).ShouldNot(BeEmpty())

	By("reconciling an object")
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "laptop"}}
	g.Expect(c.Create(ctx, ns)).To(Succeed())
	policy := &implyv1alpha1.SecurityPolicy{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: ns.Name}}
	g.Expect(c.Create(ctx, policy)).To(Succeed())
	g.Eventually(func() (string, error) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(policy), policy); err != nil {
			return "", err
		}
		cond := meta.FindStatusCondition(policy.Status.Conditions, implyv1alpha1.ConditionReady)
		if cond == nil {
			return "", nil
		}
		return string(cond.Status) + "/" + cond.Reason, nil
	}).WithTimeout(30 * time.Second).Should(Equal("True/Valid"))

	By("serving the controller-runtime metrics over HTTPS to a ServiceAccount bound to config/rbac's metrics-reader only")
	clientset, err := kubernetes.NewForConfig(cfg)
	g.Expect(err).NotTo(HaveOccurred())
	reader := metricsReaderRole(g)
	_, err = clientset.RbacV1().ClusterRoles().Create(ctx, reader, metav1.CreateOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	readerToken, err := testenv.ServiceAccountToken(ctx, clientset, ns.Name, "prometheus", reader.Name)
	g.Expect(err).NotTo(HaveOccurred())
	strangerToken, err := testenv.ServiceAccountToken(ctx, clientset, ns.Name, "stranger", "")
	g.Expect(err).NotTo(HaveOccurred())
	url := fmt.Sprintf("https://127.0.0.1:%d/metrics", metricsPort)
	for token, want := range map[string]int{"": http.StatusUnauthorized, strangerToken: http.StatusForbidden} {
		code, body, err := testenv.HTTPSGetWithToken(url, token)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(code).To(Equal(want), body)
		g.Expect(body).NotTo(ContainSubstring("controller_runtime_reconcile_total"))
	}
	g.Eventually(func(g Gomega) {
		code, body, err := testenv.HTTPSGetWithToken(url, readerToken)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(code).To(Equal(http.StatusOK), body)
		g.Expect(body).To(ContainSubstring(`controller_runtime_reconcile_total{controller="securitypolicy"`))
	}).WithTimeout(30 * time.Second).Should(Succeed())
}

// metricsReaderRole is config/rbac/metrics_reader_role.yaml, the ClusterRole kustomize installs
// for scrapers.
func metricsReaderRole(g Gomega) *rbacv1.ClusterRole {
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "rbac", "metrics_reader_role.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	var role rbacv1.ClusterRole
	g.Expect(yaml.Unmarshal(data, &role)).To(Succeed())
	g.Expect(role.Rules).To(Equal([]rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}}))
	return &role
}

// minimalEnv is the test's environment without KUBECONFIG and KUBEBUILDER_ASSETS, so the
// operator sees only what the test gives it.
func minimalEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "KUBECONFIG=") || strings.HasPrefix(kv, "KUBEBUILDER_ASSETS=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}
