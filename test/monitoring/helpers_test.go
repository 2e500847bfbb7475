package monitoring

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// repoRoot is the operator's repository: this module sits in test/monitoring.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// helm renders the chart with the helm `make tools` builds, as release imply-operator in
// imply-system, showing only the given template.
func helm(t *testing.T, template string, args ...string) []byte {
	t.Helper()
	root := repoRoot(t)
	bin := filepath.Join(root, "bin", "helm")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s is missing: run `make tools`", bin)
	}
	cmd := exec.Command(bin, append([]string{"template", "imply-operator", filepath.Join(root, "charts", "imply-operator"),
		"--namespace", "imply-system", "--show-only", template}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, stderr.String())
	}
	return out
}
