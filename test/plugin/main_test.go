// Package plugin tests the kubectl-imply binary against the real kube-apiserver (envtest): it is
// built from cmd/kubectl-imply once, run as a user would with --kubeconfig, --context and
// --namespace, and judged by its output, exit code and what it wrote to the API.
package plugin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/imply-operator/imply-operator/pkg/plugin"
	"github.com/imply-operator/imply-operator/test/testenv"
)

var (
	// k8s is an admin client of the envtest apiserver.
	k8s client.Client
	// restConfig is its configuration.
	restConfig *rest.Config
	// binary is the kubectl-imply built for this run.
	binary string
	// kubeconfig has two contexts: "admin" (no namespace) and contextNS (namespace nsOfContext).
	kubeconfig string
)

const (
	contextNS   = "in-context-ns"
	nsOfContext = "from-context"
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	env, cfg, err := testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	restConfig = cfg
	k8s, err = client.New(cfg, client.Options{Scheme: plugin.Scheme()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "kubectl-imply-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	if kubeconfig, err = writeKubeconfig(env, dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	binary = filepath.Join(dir, "kubectl-imply")
	build := exec.Command("go", "build", "-o", binary, "./cmd/kubectl-imply")
	build.Dir = testenv.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build ./cmd/kubectl-imply: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// writeKubeconfig writes a kubeconfig of an admin user with the contexts "admin" and contextNS.
func writeKubeconfig(env *envtest.Environment, dir string) (string, error) {
	user, err := env.AddUser(envtest.User{Name: "plugin-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return "", fmt.Errorf("while adding a user: %w", err)
	}
	raw, err := user.KubeConfig()
	if err != nil {
		return "", err
	}
	cfg, err := clientcmd.Load(raw)
	if err != nil {
		return "", err
	}
	base := cfg.Contexts[cfg.CurrentContext]
	admin := base.DeepCopy()
	admin.Namespace = ""
	withNS := base.DeepCopy()
	withNS.Namespace = nsOfContext
	cfg.Contexts = map[string]*clientcmdapi.Context{"admin": admin, contextNS: withNS}
	cfg.CurrentContext = "admin"
	path := filepath.Join(dir, "kubeconfig")
	return path, clientcmd.WriteToFile(*cfg, path)
}

// result is one run of the binary.
type result struct {
	Stdout, Stderr string
	Code           int
}

// kubectlImply runs the binary with --kubeconfig and args, in dir when not empty.
func kubectlImply(t *testing.T, dir string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	cmd.Dir = dir
	// A terminal is never attached here: colour must be off without --color.
	cmd.Env = append(os.Environ(), "NO_COLOR=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("running kubectl-imply %v: %v", args, err)
	}
	return result{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
}

// namespace creates a namespace for one test.
func namespace(t *testing.T, name string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := k8s.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return name
}
