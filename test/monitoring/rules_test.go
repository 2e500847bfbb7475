package monitoring

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"
)

// promtool runs Prometheus' promtool, built from this module's tool directive.
func promtool(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("go", append([]string{"tool", "promtool"}, args...)...)
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// renderedRules is the rule groups of the chart's PrometheusRule, as a Prometheus rule file.
func renderedRules(t *testing.T) []byte {
	t.Helper()
	var rule struct {
		Kind string `json:"kind"`
		Spec struct {
			Groups []any `json:"groups"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(helm(t, "templates/prometheusrule.yaml", "--set", "monitoring.prometheusRule.enabled=true"), &rule); err != nil {
		t.Fatal(err)
	}
	if rule.Kind != "PrometheusRule" || len(rule.Spec.Groups) == 0 {
		t.Fatalf("the chart rendered no PrometheusRule groups")
	}
	out, err := yaml.Marshal(map[string]any{"groups": rule.Spec.Groups})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAlertingRules checks the chart's rules with `promtool check rules` and runs the unit tests
// of testdata/rules_test.yaml against them: every alert fires on the series that should make it
// fire, with its labels, annotations and runbook, and stays silent on the series that should not.
func TestAlertingRules(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	g.Expect(os.WriteFile(filepath.Join(dir, "rules.yaml"), renderedRules(t), 0o600)).To(Succeed())
	tests, err := os.ReadFile(filepath.Join("testdata", "rules_test.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(os.WriteFile(filepath.Join(dir, "rules_test.yaml"), tests, 0o600)).To(Succeed())

	out, err := promtool(t, "check", "rules", filepath.Join(dir, "rules.yaml"))
	g.Expect(err).NotTo(HaveOccurred(), out)

	out, err = promtool(t, "test", "rules", filepath.Join(dir, "rules_test.yaml"))
	g.Expect(err).NotTo(HaveOccurred(), out)
	g.Expect(out).To(ContainSubstring("SUCCESS"))

	t.Run("every alert is tested, firing and silent, and has a runbook section", func(t *testing.T) {
		g := NewWithT(t)
		var file struct {
			Groups []struct {
				Rules []struct {
					Alert       string            `json:"alert"`
					Annotations map[string]string `json:"annotations"`
				} `json:"rules"`
			} `json:"groups"`
		}
		g.Expect(yaml.Unmarshal(renderedRules(t), &file)).To(Succeed())
		var unit struct {
			Tests []struct {
				AlertRuleTest []struct {
					Alertname string `json:"alertname"`
					ExpAlerts []any  `json:"exp_alerts"`
				} `json:"alert_rule_test"`
			} `json:"tests"`
		}
		g.Expect(yaml.Unmarshal(tests, &unit)).To(Succeed())
		fires, silent := map[string]bool{}, map[string]bool{}
		for _, tc := range unit.Tests {
			for _, a := range tc.AlertRuleTest {
				if len(a.ExpAlerts) > 0 {
					fires[a.Alertname] = true
				} else {
					silent[a.Alertname] = true
				}
			}
		}
		runbook, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "troubleshooting.md"))
		g.Expect(err).NotTo(HaveOccurred())
		var alerts []string
		for _, group := range file.Groups {
			for _, r := range group.Rules {
				alerts = append(alerts, r.Alert)
				g.Expect(fires).To(HaveKey(r.Alert), "no test where %s fires", r.Alert)
				g.Expect(silent).To(HaveKey(r.Alert), "no test where %s must not fire", r.Alert)
				anchor := strings.ToLower(r.Alert)
				g.Expect(r.Annotations["runbook_url"]).To(HaveSuffix("docs/troubleshooting.md#"+anchor), r.Alert)
				g.Expect(string(runbook)).To(MatchRegexp(`(?m)^## %s$`, r.Alert), "docs/troubleshooting.md has no section for %s", r.Alert)
			}
		}
		g.Expect(alerts).To(ContainElements("ImplyCertificateExpiringSoon", "ImplyCertificateExpiryCritical",
			"ImplyCAExpiringSoon", "ImplyCAExpiryCritical", "ImplyCertificateRenewalOverdue", "ImplyClusterDegraded",
			"ImplyRolloutHalted", "ImplyRolloutHeldPastWindow", "ImplyDruidAPIErrors", "ImplyOperatorReconcileErrors",
			"ImplyOperatorAbsent"))
	})
}
