// Package testenv starts the real kube-apiserver and etcd (envtest) with the operator's CRDs for
// tests, from the binaries `make envtest-assets` builds into bin/k8s.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// RepoRoot is the root of this repository.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Start starts envtest with the CRDs of config/crd/bases. It fails, never skips, when the
// control-plane binaries are missing.
func Start() (*envtest.Environment, *rest.Config, error) {
	return StartWith()
}

// StartWith starts envtest like Start and also installs the CRDs at extraCRDPaths (files or
// directories of YAML, such as CertManagerCRDs).
func StartWith(extraCRDPaths ...string) (*envtest.Environment, *rest.Config, error) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join(RepoRoot(), "bin", "k8s")
	}
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(assets, bin)); err != nil {
			return nil, nil, fmt.Errorf("%s not found in %s: run `make envtest-assets`: %w", bin, assets, err)
		}
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     append([]string{filepath.Join(RepoRoot(), "config", "crd", "bases")}, extraCRDPaths...),
		ErrorIfCRDPathMissing: true,
	}
	// A suite's namespaces are never finalized (no controller-manager), so its Services add up:
	// envtest's default /24 runs out of cluster IPs in the ImplyCluster suite.
	env.ControlPlane.GetAPIServer().Configure().Set("service-cluster-ip-range", "10.96.0.0/16")
	cfg, err := env.Start()
	if err != nil {
		return nil, nil, fmt.Errorf("while starting envtest: %w", err)
	}
	return env, cfg, nil
}

// CertManagerModule is the module whose API types the operator uses for cert-manager.
const CertManagerModule = "github.com/cert-manager/cert-manager"

// CertManagerCRDs is the path of cert-manager's Certificate CRD, read from the module zip of the
// version go.mod requires (deploy/crds/cert-manager.io_certificates.yaml, plain YAML). cert-manager's
// controller is not served as a module, so tests install only its CRDs and play the issuer.
func CertManagerCRDs() (string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", CertManagerModule)
	cmd.Dir = RepoRoot()
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("while locating module %s (run `go mod download`): %w", CertManagerModule, err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", fmt.Errorf("module %s is not in the module cache: run `go mod download %s`", CertManagerModule, CertManagerModule)
	}
	path := filepath.Join(dir, "deploy", "crds", "cert-manager.io_certificates.yaml")
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("cert-manager's Certificate CRD: %w", err)
	}
	return path, nil
}
