package plugin

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"

	"github.com/imply-operator/imply-operator/pkg/plugin"
)

func filepathGlob(dir, pattern string) ([]string, error) {
	return filepath.Glob(filepath.Join(dir, pattern))
}

func TestStatus(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t, "plugin-status")
	c := createCluster(t, cluster("shop", ns))
	createCA(t, c, "TrustBoth")
	druidUser(t, ns, "pivot-sales", "shop", "sales", "status-test-password-1")
	druidUser(t, ns, "elsewhere", "other", "x", "status-test-password-2")
	druidRole(t, ns, "sales-read", "shop")

	r := kubectlImply(t, "", "status", "shop", "-n", ns)
	g.Expect(r.Code).To(Equal(0), r.Stderr)
	out := r.Stdout
	g.Expect(out).NotTo(ContainSubstring("\x1b["), "plain when piped")
	for _, want := range []string{
		"ImplyCluster plugin-status/shop  version 2025.01  TLS on",
		"RestartPending   True     AwaitingMaintenanceWindow",
		"data   data   2          2       2         shop-data-5d8",
		"shop-data-tls",
		"(in 59d)",
		"source generated",
		"signing   CN=shop-ca",
		"rotation in progress: phase 1/3: the new CA is trusted beside the old one",
		"phase Pending (AwaitingMaintenanceWindow)",
		"window 0 2 * * SAT for 4h0m0s (UTC)",
		"router        https://shop-query.plugin-status.svc:9088",
		"pivot-sales   Druid user sales   True",
		"sales-read   role sales-read   True    True",
	} {
		g.Expect(out).To(ContainSubstring(want))
	}
	g.Expect(out).NotTo(ContainSubstring("elsewhere"), "another cluster's token")
	g.Expect(out).NotTo(ContainSubstring("status-test-password"), "status reads no Secret data")

	r = kubectlImply(t, "", "status", "shop", "-n", ns, "--color", "always")
	g.Expect(r.Code).To(Equal(0), r.Stderr)
	g.Expect(r.Stdout).To(ContainSubstring("\x1b[32mTrue\x1b[0m"))

	r = kubectlImply(t, "", "status", "shop", "-n", ns, "-o", "json")
	g.Expect(r.Code).To(Equal(0), r.Stderr)
	var rep plugin.StatusReport
	g.Expect(json.Unmarshal([]byte(r.Stdout), &rep)).To(Succeed())
	g.Expect(rep.Cluster).To(Equal("shop"))
	g.Expect(rep.CA.RotationPhase).To(Equal("TrustBoth"))
	g.Expect(*rep.Certificates[0].DaysLeft).To(Equal(89))
	g.Expect(rep.AuthTokens).To(HaveLen(1))
	g.Expect(rep.DruidRoles).To(HaveLen(1))

	r = kubectlImply(t, "", "status", "shop", "-n", ns, "-o", "yaml")
	g.Expect(r.Code).To(Equal(0), r.Stderr)
	var fromYAML plugin.StatusReport
	g.Expect(yaml.Unmarshal([]byte(r.Stdout), &fromYAML)).To(Succeed())
	g.Expect(fromYAML.Rollout.Phase).To(Equal("Pending"))
}

// --namespace and --context behave as in kubectl: the context's namespace is used unless
// --namespace overrides it; without either, "default".
func TestNamespaceAndContextFlags(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t, nsOfContext)
	createCluster(t, cluster("ctx", ns))

	r := kubectlImply(t, "", "status", "ctx", "--context", contextNS)
	g.Expect(r.Code).To(Equal(0), r.Stderr)
	g.Expect(r.Stdout).To(ContainSubstring("ImplyCluster " + nsOfContext + "/ctx"))

	r = kubectlImply(t, "", "status", "ctx")
	g.Expect(r.Code).To(Equal(plugin.ExitNotFound))
	g.Expect(r.Stderr).To(ContainSubstring(`not found in namespace "default"`))

	r = kubectlImply(t, "", "status", "ctx", "--context", contextNS, "--namespace", "default")
	g.Expect(r.Code).To(Equal(plugin.ExitNotFound))

	r = kubectlImply(t, "", "status", "ctx", "--context", "no-such-context")
	g.Expect(r.Code).To(Equal(plugin.ExitError))
	g.Expect(strings.ToLower(r.Stderr)).To(ContainSubstring("no-such-context"))
}
