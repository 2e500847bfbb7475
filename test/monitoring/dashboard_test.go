package monitoring

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/promql/parser"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/yaml"

	// Every controller of the operator, so each registers its metrics as in main.go.
	_ "github.com/imply-operator/imply-operator/controllers"
)

// dashboardFile is the dashboard the chart ships, relative to the repository root.
const dashboardFile = "charts/imply-operator/files/dashboards/imply-operator.json"

// panel is the part of a Grafana panel the test reads; rows nest panels.
type panel struct {
	Title   string `json:"title"`
	Type    string `json:"type"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

type dashboard struct {
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Type       string `json:"type"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

// queries returns every panel's PromQL by panel title.
func (d dashboard) queries() map[string][]string {
	out := map[string][]string{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, t := range p.Targets {
				out[p.Title] = append(out[p.Title], t.Expr)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// grafanaVariable matches $name and ${name} in a query.
var grafanaVariable = regexp.MustCompile(`\$\{?(\w+)\}?`)

// expand replaces Grafana's variables with what Grafana would send: a range for the interval
// variables, a match-anything regex for the dashboard's multi-value variables.
func expand(expr string) string {
	return grafanaVariable.ReplaceAllStringFunc(expr, func(v string) string {
		name := strings.Trim(v, "${}")
		if name == "__rate_interval" || name == "__interval" || name == "__range" {
			return "5m"
		}
		return ".*"
	})
}

// metricNames parses expr and returns the metric name of every selector in it.
func metricNames(expr string) ([]string, error) {
	ast, err := parser.NewParser(parser.Options{}).ParseExpr(expand(expr))
	if err != nil {
		return nil, err
	}
	var names []string
	parser.Inspect(ast, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			name := vs.Name
			for _, m := range vs.LabelMatchers {
				if m.Name == "__name__" {
					name = m.Value
				}
			}
			names = append(names, name)
		}
		return nil
	})
	if len(names) == 0 {
		return nil, errors.New("the query selects no metric")
	}
	return names, nil
}

// registered reports whether the operator's registry (controller-runtime's, which the operator
// serves) has a metric family named name. A vector with no series yet gathers nothing, so this
// registers a probe of that name: the registry refuses it exactly when the name is taken.
func registered(name string) bool {
	probe := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: "probe of the dashboard test"})
	if err := ctrlmetrics.Registry.Register(probe); err != nil {
		return true
	}
	ctrlmetrics.Registry.Unregister(probe)
	return false
}

// exported is whether a metric name in a query is one the operator serves: a registered family,
// or a histogram's _bucket, _sum or _count series.
func exported(name string) bool {
	if registered(name) {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && registered(base) {
			return true
		}
	}
	return false
}

func readDashboard(t *testing.T, data []byte) dashboard {
	t.Helper()
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	return d
}

// TestDashboard parses every PromQL query of the Grafana dashboard with Prometheus' parser and
// checks each metric it selects is one the operator registers, so a renamed metric breaks the
// test rather than a panel.
func TestDashboard(t *testing.T) {
	g := NewWithT(t)
	data, err := os.ReadFile(filepath.Join(repoRoot(t), dashboardFile))
	g.Expect(err).NotTo(HaveOccurred())
	d := readDashboard(t, data)
	queries := d.queries()

	t.Run("the probe tells registered from unknown names", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(exported("imply_operator_druid_api_requests_total")).To(BeTrue(), "a vector without series yet")
		g.Expect(exported("controller_runtime_reconcile_time_seconds_bucket")).To(BeTrue())
		g.Expect(exported("imply_operator_no_such_metric")).To(BeFalse())
		g.Expect(exported("imply_operator_no_such_metric")).To(BeFalse(), "the probe leaves nothing behind")
	})

	var all []string
	for title, exprs := range queries {
		for _, expr := range exprs {
			names, err := metricNames(expr)
			g.Expect(err).NotTo(HaveOccurred(), "panel %q: %s", title, expr)
			for _, n := range names {
				g.Expect(exported(n)).To(BeTrue(), "panel %q selects %s, which the operator does not export", title, n)
				all = append(all, n)
			}
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		m := regexp.MustCompile(`^label_values\((\w+),\s*\w+\)$`).FindStringSubmatch(v.Definition)
		g.Expect(m).NotTo(BeNil(), "variable %s: %q", v.Name, v.Definition)
		g.Expect(exported(m[1])).To(BeTrue(), "variable %s reads %s, which the operator does not export", v.Name, m[1])
	}
	sort.Strings(all)
	t.Logf("metrics the dashboard reads: %v", all)

	t.Run("has the panels operators look for", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(all).To(ContainElements(
			"imply_operator_cluster_condition",                    // clusters and their conditions
			"imply_operator_certificate_expiry_timestamp_seconds", // days to the next expiry
			"imply_operator_ca_expiry_timestamp_seconds",
			"imply_operator_rollout_phase", "imply_operator_rollout_pending", // rollouts in progress and pending
			"imply_operator_druid_api_requests_total", // Druid API requests by code
			"controller_runtime_reconcile_total", "controller_runtime_reconcile_errors_total",
			"controller_runtime_reconcile_time_seconds_bucket", // reconcile rate, errors, latency
			"process_resident_memory_bytes",                    // operator memory
		))
		g.Expect(queries).To(HaveKey("Druid API requests by code"))
		g.Expect(queries["Druid API requests by code"][0]).To(ContainSubstring("sum by (code)"))
	})

	t.Run("the chart renders it into a ConfigMap for Grafana's sidecar", func(t *testing.T) {
		g := NewWithT(t)
		var cm struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
			Data map[string]string `json:"data"`
		}
		g.Expect(yaml.Unmarshal(helm(t, "templates/grafana-dashboard.yaml", "--set", "monitoring.grafanaDashboard.enabled=true"), &cm)).To(Succeed())
		g.Expect(cm.Kind).To(Equal("ConfigMap"))
		g.Expect(cm.Metadata.Labels).To(HaveKeyWithValue("grafana_dashboard", "1"))
		g.Expect(cm.Data).To(HaveKey("imply-operator.json"))
		g.Expect(cm.Data["imply-operator.json"]).To(MatchJSON(data))
	})
}
