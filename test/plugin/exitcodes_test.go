package plugin

import (
	"strings"
	"testing"

	"github.com/imply-operator/imply-operator/pkg/plugin"
)

// Every subcommand that names a cluster fails with exit code 3 and a message naming the cluster
// and the namespace when the cluster does not exist; bad usage is exit code 2.
func TestMissingClusterExitCodes(t *testing.T) {
	ns := namespace(t, "plugin-missing")
	dir := t.TempDir()
	want := `error: ImplyCluster "nope" not found in namespace "plugin-missing"`
	for _, args := range [][]string{
		{"status", "nope"},
		{"status", "nope", "-o", "json"},
		{"ca", "nope"},
		{"restart", "nope"},
		{"rotate-ca", "nope"},
		{"rollout", "pause", "nope"},
		{"rollout", "resume", "nope"},
		{"credentials", "ic/nope"},
		{"report", "nope"},
	} {
		r := kubectlImply(t, dir, append(args, "-n", ns)...)
		if r.Code != plugin.ExitNotFound {
			t.Errorf("%v: exit code %d, want %d (stderr %q)", args, r.Code, plugin.ExitNotFound, r.Stderr)
		}
		if strings.TrimSpace(r.Stderr) != want {
			t.Errorf("%v: stderr %q, want %q", args, r.Stderr, want)
		}
		if r.Stdout != "" {
			t.Errorf("%v: stdout %q, want nothing", args, r.Stdout)
		}
	}

	r := kubectlImply(t, dir, "credentials", "nope", "-n", ns)
	if r.Code != plugin.ExitNotFound || !strings.Contains(r.Stderr, `AuthToken or ImplyCluster "nope" not found in namespace "plugin-missing"`) {
		t.Errorf("credentials nope: exit %d, stderr %q", r.Code, r.Stderr)
	}

	for _, args := range [][]string{
		{"status"},
		{"status", "a", "b"},
		{"status", "x", "-o", "wide"},
		{"status", "x", "--no-such-flag"},
		{"credentials", "pod/x"},
		{"no-such-command"},
		{"rollout", "sideways", "x"},
	} {
		r := kubectlImply(t, dir, append(args, "-n", ns)...)
		if r.Code != plugin.ExitUsage {
			t.Errorf("%v: exit code %d, want %d (stderr %q)", args, r.Code, plugin.ExitUsage, r.Stderr)
		}
	}
	// The report of a missing cluster writes no file.
	if entries, _ := filepathGlob(dir, "*.tar.gz"); len(entries) != 0 {
		t.Errorf("report of a missing cluster wrote %v", entries)
	}
}
