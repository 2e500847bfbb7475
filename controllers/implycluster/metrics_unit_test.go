package implycluster

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/internal/exposition"
)

// clusterMetricNames are the metrics the collector serves.
var clusterMetricNames = []string{
	"imply_operator_certificate_expiry_timestamp_seconds",
	"imply_operator_certificate_renewal_timestamp_seconds",
	"imply_operator_ca_expiry_timestamp_seconds",
	"imply_operator_cluster_condition",
	"imply_operator_cluster_condition_last_transition_timestamp_seconds",
	"imply_operator_rollout_phase",
	"imply_operator_rollout_halted",
	"imply_operator_rollout_next_window_timestamp_seconds",
}

// textGatherer gathers what m writes at a scrape, read by Prometheus' text parser (which
// refuses a family twice), and checks what a pedantic registry would: every series of a family
// has its metric's labels, and none is there twice. Families and series come sorted, as a
// registry sorts them.
func textGatherer(g Gomega, m *clusterMetricsCollector) prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		var text bytes.Buffer
		g.Expect(m.WriteText(&text)).To(Succeed())
		p := expfmt.NewTextParser(model.UTF8Validation)
		byName, err := p.TextToMetricFamilies(&text)
		g.Expect(err).NotTo(HaveOccurred())
		descs := map[string]*clusterDesc{}
		for _, d := range clusterDescs {
			descs[d.name] = d
		}
		var families []*dto.MetricFamily
		for name, f := range byName {
			d, ok := descs[name]
			g.Expect(ok).To(BeTrue(), "%s is not a cluster metric", name)
			g.Expect(f.GetMetric()).NotTo(BeEmpty(), "%s is written without series", name)
			seen := map[string]bool{}
			for _, s := range f.GetMetric() {
				var names, pairs []string
				for _, l := range s.GetLabel() {
					names = append(names, l.GetName())
					pairs = append(pairs, l.GetName()+"="+l.GetValue())
				}
				g.Expect(names).To(ConsistOf(d.labels), name)
				key := strings.Join(pairs, ",")
				g.Expect(seen).NotTo(HaveKey(key), "%s{%s} twice", name, key)
				seen[key] = true
			}
			slices.SortFunc(f.Metric, func(a, b *dto.Metric) int {
				return slices.CompareFunc(a.GetLabel(), b.GetLabel(), func(x, y *dto.LabelPair) int {
					return strings.Compare(x.GetValue(), y.GetValue())
				})
			})
			families = append(families, f)
		}
		slices.SortFunc(families, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
		return families, nil
	})
}

// gatherSeries returns the series of cluster m writes as `name{labels} value` lines.
func gatherSeries(g Gomega, m *clusterMetricsCollector, cluster string) []string {
	return seriesLines(g, textGatherer(g, m), cluster)
}

// seriesLines gathers g's families from a gatherer and returns the series of cluster as
// `name{label="value",...} value` lines, labels in the order the registry sorts them.
func seriesLines(g Gomega, gatherer prometheus.Gatherer, cluster string) []string {
	families, err := gatherer.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	var lines []string
	for _, f := range families {
		for _, s := range f.GetMetric() {
			var labels []string
			mine := false
			for _, l := range s.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
				mine = mine || l.GetName() == labelCluster && l.GetValue() == cluster
			}
			if mine {
				lines = append(lines, fmt.Sprintf("%s{%s} %v", f.GetName(), strings.Join(labels, ","), s.GetGauge().GetValue()))
			}
		}
	}
	return lines
}

// TestClusterMetrics checks the series an alert or dashboard reads from a cluster's status:
// conditions, certificate expiry and renewal, CA expiry, rollout phase, halt and next window,
// and that they go with the cluster.
func TestClusterMetrics(t *testing.T) {
	g := NewWithT(t)
	now := metricsFixtureNow
	at := func(d time.Duration) *metav1.Time { v := metav1.NewTime(now.Add(d)); return &v }
	_, tls, ca := metricsFixture(t, 0)
	m := newClusterMetricsCollector()

	c := &implyv1alpha1.ImplyCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "metrics-ns", Name: "m"}}
	c.Spec.Security = &implyv1alpha1.SecuritySpec{TLS: &implyv1alpha1.TLSSpec{Enabled: true}}
	c.Status.Conditions = []metav1.Condition{
		{Type: implyv1alpha1.ConditionReady, Status: metav1.ConditionFalse},
		{Type: implyv1alpha1.ConditionDegraded, Status: metav1.ConditionTrue, LastTransitionTime: *at(-time.Hour)},
	}
	c.Status.Certificates = []implyv1alpha1.CertificateStatus{{SecretName: "m-data-tls", NotAfter: at(48 * time.Hour), RenewalTime: at(-time.Hour)}}
	c.Status.Rollout = &implyv1alpha1.RolloutStatus{Phase: implyv1alpha1.RolloutPending, NextWindow: at(3 * time.Hour)}

	m.recordCluster(c, tls)
	expected := fmt.Sprintf(`
# HELP imply_operator_ca_expiry_timestamp_seconds Expiry (notAfter) of each CA in the cluster's trust bundle (<cluster>-ca-bundle), by serial, as a Unix timestamp.
# TYPE imply_operator_ca_expiry_timestamp_seconds gauge
imply_operator_ca_expiry_timestamp_seconds{cluster="m",namespace="metrics-ns",serial="%s"} %d
# HELP imply_operator_certificate_expiry_timestamp_seconds Expiry (notAfter) of each certificate the operator keeps, as a Unix timestamp.
# TYPE imply_operator_certificate_expiry_timestamp_seconds gauge
imply_operator_certificate_expiry_timestamp_seconds{cluster="m",namespace="metrics-ns",secret="m-data-tls"} %d
# HELP imply_operator_certificate_renewal_timestamp_seconds When each certificate the operator keeps is due for renewal, as a Unix timestamp.
# TYPE imply_operator_certificate_renewal_timestamp_seconds gauge
imply_operator_certificate_renewal_timestamp_seconds{cluster="m",namespace="metrics-ns",secret="m-data-tls"} %d
# HELP imply_operator_cluster_condition 1 when the ImplyCluster's condition type has this status (True, False or Unknown), else 0.
# TYPE imply_operator_cluster_condition gauge
imply_operator_cluster_condition{cluster="m",namespace="metrics-ns",status="False",type="Degraded"} 0
imply_operator_cluster_condition{cluster="m",namespace="metrics-ns",status="False",type="Ready"} 1
imply_operator_cluster_condition{cluster="m",namespace="metrics-ns",status="True",type="Degraded"} 1
imply_operator_cluster_condition{cluster="m",namespace="metrics-ns",status="True",type="Ready"} 0
imply_operator_cluster_condition{cluster="m",namespace="metrics-ns",status="Unknown",type="Degraded"} 0
imply_operator_cluster_condition{cluster="m",namespace="metrics-ns",status="Unknown",type="Ready"} 0
# HELP imply_operator_cluster_condition_last_transition_timestamp_seconds When the ImplyCluster's condition type last changed status, as a Unix timestamp.
# TYPE imply_operator_cluster_condition_last_transition_timestamp_seconds gauge
imply_operator_cluster_condition_last_transition_timestamp_seconds{cluster="m",namespace="metrics-ns",type="Degraded"} %d
imply_operator_cluster_condition_last_transition_timestamp_seconds{cluster="m",namespace="metrics-ns",type="Ready"} %d
# HELP imply_operator_rollout_halted 1 while the cluster's rollout is halted (a group missed its progress deadline), else 0.
# TYPE imply_operator_rollout_halted gauge
imply_operator_rollout_halted{cluster="m",namespace="metrics-ns"} 0
# HELP imply_operator_rollout_next_window_timestamp_seconds Start of the maintenance window a pending rollout waits for, as a Unix timestamp; absent when none waits.
# TYPE imply_operator_rollout_next_window_timestamp_seconds gauge
imply_operator_rollout_next_window_timestamp_seconds{cluster="m",namespace="metrics-ns"} %d
# HELP imply_operator_rollout_phase 1 when the cluster's rollout is in this phase (Idle, Pending or Rolling), else 0.
# TYPE imply_operator_rollout_phase gauge
imply_operator_rollout_phase{cluster="m",namespace="metrics-ns",phase="Idle"} 0
imply_operator_rollout_phase{cluster="m",namespace="metrics-ns",phase="Pending"} 1
imply_operator_rollout_phase{cluster="m",namespace="metrics-ns",phase="Rolling"} 0
`, ca.Certificate.SerialNumber.Text(16), ca.Certificate.NotAfter.Unix(), now.Add(48*time.Hour).Unix(), now.Add(-time.Hour).Unix(),
		now.Add(-time.Hour).Unix(), metav1.Time{}.Unix(), now.Add(3*time.Hour).Unix())
	g.Expect(testutil.GatherAndCompare(textGatherer(g, m), strings.NewReader(expected), clusterMetricNames...)).To(Succeed())
	g.Expect(gatherSeries(g, m, "m")).To(HaveLen(16), "the pedantic registry takes them")

	count := func(name string) int {
		n, err := testutil.GatherAndCount(textGatherer(g, m), name)
		g.Expect(err).NotTo(HaveOccurred())
		return n
	}

	t.Run("a halted rollout and a condition that went away", func(t *testing.T) {
		g := NewWithT(t)
		c.Status.Conditions = c.Status.Conditions[:1]
		c.Status.Rollout = &implyv1alpha1.RolloutStatus{Phase: implyv1alpha1.RolloutRolling, Reason: implyv1alpha1.ReasonProgressDeadlineExceeded}
		m.recordCluster(c, nil)
		g.Expect(count("imply_operator_cluster_condition")).To(Equal(3), "only Ready's three statuses")
		g.Expect(count("imply_operator_cluster_condition_last_transition_timestamp_seconds")).To(Equal(1))
		g.Expect(testutil.GatherAndCompare(textGatherer(g, m), strings.NewReader(`
# HELP imply_operator_rollout_halted 1 while the cluster's rollout is halted (a group missed its progress deadline), else 0.
# TYPE imply_operator_rollout_halted gauge
imply_operator_rollout_halted{cluster="m",namespace="metrics-ns"} 1
# HELP imply_operator_rollout_phase 1 when the cluster's rollout is in this phase (Idle, Pending or Rolling), else 0.
# TYPE imply_operator_rollout_phase gauge
imply_operator_rollout_phase{cluster="m",namespace="metrics-ns",phase="Idle"} 0
imply_operator_rollout_phase{cluster="m",namespace="metrics-ns",phase="Pending"} 0
imply_operator_rollout_phase{cluster="m",namespace="metrics-ns",phase="Rolling"} 1
`), "imply_operator_rollout_halted", "imply_operator_rollout_phase")).To(Succeed())
		g.Expect(count("imply_operator_rollout_next_window_timestamp_seconds")).To(Equal(0), "no window once rolling")
		g.Expect(count("imply_operator_ca_expiry_timestamp_seconds")).To(Equal(1), "without TLS material the CAs published before stay")
	})

	t.Run("without TLS the CA series go; a deleted cluster has none left", func(t *testing.T) {
		g := NewWithT(t)
		c.Spec.Security.TLS.Enabled = false
		m.recordCluster(c, nil)
		g.Expect(count("imply_operator_ca_expiry_timestamp_seconds")).To(Equal(0))
		g.Expect(count("imply_operator_certificate_expiry_timestamp_seconds")).To(Equal(1))
		m.forget(client.ObjectKeyFromObject(c))
		g.Expect(testutil.GatherAndCount(textGatherer(g, m))).To(Equal(0))
	})

	t.Run("of two entries with one label value the last counts, as a GaugeVec set twice", func(t *testing.T) {
		g := NewWithT(t)
		d := c.DeepCopy()
		d.Status.Certificates = append(d.Status.Certificates, implyv1alpha1.CertificateStatus{SecretName: "m-data-tls", NotAfter: at(time.Hour)})
		d.Status.Conditions = append(d.Status.Conditions, metav1.Condition{Type: implyv1alpha1.ConditionReady, Status: metav1.ConditionTrue})
		m.recordCluster(d, nil)
		g.Expect(gatherSeries(g, m, "m")).To(ContainElements(
			fmt.Sprintf(`imply_operator_certificate_expiry_timestamp_seconds{cluster="m",namespace="metrics-ns",secret="m-data-tls"} %v`, float64(now.Add(time.Hour).Unix())),
			`imply_operator_certificate_renewal_timestamp_seconds{cluster="m",namespace="metrics-ns",secret="m-data-tls"} `+fmt.Sprint(float64(now.Add(-time.Hour).Unix())),
			`imply_operator_cluster_condition{cluster="m",namespace="metrics-ns",status="True",type="Ready"} 1`,
		))
		g.Expect(count("imply_operator_cluster_condition")).To(Equal(3))
		m.forget(client.ObjectKeyFromObject(d))
	})
}

// TestClusterMetricsServedOnce checks recordClusterMetrics and forgetClusterMetrics reach the
// series the operator serves (WriteClusterMetrics), that the collector reserves the eight names
// in the registry, and that the registry gathers none of them: /metrics, the registry's families
// then WriteClusterMetrics', parses with Prometheus' parser, which refuses a family twice.
func TestClusterMetricsServedOnce(t *testing.T) {
	g := NewWithT(t)
	descs := make(chan *prometheus.Desc, 16)
	clusterMetrics.Describe(descs)
	close(descs)
	g.Expect(descs).To(HaveLen(len(clusterMetricNames)))
	g.Expect(ctrlmetrics.Registry.Register(newClusterMetricsCollector())).NotTo(Succeed(), "the names are taken")

	clusters, tls, _ := metricsFixture(t, 1)
	c := clusters[0]
	c.Namespace = "collector-registered"
	recordClusterMetrics(c, tls)
	rolloutPending.WithLabelValues(c.Namespace, c.Name).Set(1)
	g.Expect(gatherSeries(g, clusterMetrics, c.Name)).To(HaveEach(ContainSubstring(`namespace="collector-registered"`)))
	g.Expect(gatherSeries(g, clusterMetrics, c.Name)).To(HaveLen(metricsFixtureSeries))
	g.Expect(seriesLines(g, ctrlmetrics.Registry, c.Name)).To(ConsistOf(HavePrefix("imply_operator_rollout_pending{")),
		"the registry gathers none of them")

	filter, err := exposition.Appending(WriteClusterMetrics)(&rest.Config{}, http.DefaultClient)
	g.Expect(err).NotTo(HaveOccurred())
	handler, err := filter(logr.Discard(), promhttp.HandlerFor(ctrlmetrics.Registry, promhttp.HandlerOpts{}))
	g.Expect(err).NotTo(HaveOccurred())
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, exposition.Path, nil))
	g.Expect(rec.Code).To(Equal(http.StatusOK))
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(rec.Body)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(families).To(HaveKey("imply_operator_rollout_pending"), "the registry's families")
	g.Expect(families).To(HaveKey("imply_operator_cluster_condition"), "and the clusters'")

	forgetClusterMetrics(c.Namespace, c.Name)
	g.Expect(gatherSeries(g, clusterMetrics, c.Name)).To(BeEmpty())
}

// TestClusterMetricsCollectorHoldsNoSeries records 1,000 clusters: each has its series with its
// values, and once every cluster is forgotten nothing is left, neither series nor snapshot.
func TestClusterMetricsCollectorHoldsNoSeries(t *testing.T) {
	g := NewWithT(t)
	const n = 1000
	clusters, tls, ca := metricsFixture(t, n)
	m := newClusterMetricsCollector()
	for _, c := range clusters {
		m.recordCluster(c, tls)
	}
	g.Expect(testutil.GatherAndCount(textGatherer(g, m))).To(Equal(n * metricsFixtureSeries))

	chosen := clusters[421]
	sec := func(d time.Duration) float64 { return float64(metricsFixtureNow.Add(d).Unix()) }
	label := func(name, labels string, value float64) string {
		return fmt.Sprintf(`%s{cluster="c-421",namespace="ns-21"%s} %v`, name, labels, value)
	}
	var want []string
	for j, typ := range []string{"Ready", "Progressing", "Degraded", "CertificatesReady", "AuthReady", "RestartPending"} {
		want = append(want, label("imply_operator_cluster_condition_last_transition_timestamp_seconds", `,type="`+typ+`"`, sec(-time.Duration(421+j)*time.Minute)))
		for _, status := range []string{"True", "False", "Unknown"} {
			held := status == "True" && j%2 == 0 || status == "False" && j%2 == 1
			want = append(want, label("imply_operator_cluster_condition", `,status="`+status+`",type="`+typ+`"`, oneIf(held)))
		}
	}
	for j, leaf := range []string{"manager", "data", "query", "master", "zk", "pivot", "client", "agent"} {
		secret := `,secret="c-421-` + leaf + `-tls"`
		want = append(want, label("imply_operator_certificate_expiry_timestamp_seconds", secret, sec(time.Duration(48+421+j)*time.Hour)),
			label("imply_operator_certificate_renewal_timestamp_seconds", secret, sec(time.Duration(421+j)*time.Hour)))
	}
	want = append(want,
		label("imply_operator_ca_expiry_timestamp_seconds", `,serial="`+ca.Certificate.SerialNumber.Text(16)+`"`, float64(ca.Certificate.NotAfter.Unix())),
		label("imply_operator_rollout_phase", `,phase="Idle"`, 0),
		label("imply_operator_rollout_phase", `,phase="Pending"`, 1),
		label("imply_operator_rollout_phase", `,phase="Rolling"`, 0),
		label("imply_operator_rollout_halted", "", 0),
		label("imply_operator_rollout_next_window_timestamp_seconds", "", sec(421*time.Minute)))
	g.Expect(want).To(HaveLen(metricsFixtureSeries))
	g.Expect(gatherSeries(g, m, chosen.Name)).To(ConsistOf(want))

	for _, c := range clusters {
		m.forget(client.ObjectKeyFromObject(c))
	}
	g.Expect(testutil.GatherAndCount(textGatherer(g, m))).To(Equal(0))
	g.Expect(m.clusters).To(BeEmpty())
}

// TestClusterMetricsTextEscapesLabelValues writes a label value holding a quote, a backslash
// and a newline: Prometheus' parser reads back the value as it was.
func TestClusterMetricsTextEscapesLabelValues(t *testing.T) {
	g := NewWithT(t)
	m := newClusterMetricsCollector()
	odd := "a\"b\\c\nd"
	m.record(client.ObjectKey{Namespace: "escape-ns", Name: "e"}, clusterSnapshot{
		conditions: []conditionPoint{{conditionType: odd, status: metav1.ConditionTrue, since: 7}},
		phase:      implyv1alpha1.RolloutIdle,
	}, false)
	families, err := textGatherer(g, m).Gather()
	g.Expect(err).NotTo(HaveOccurred())
	var types []string
	for _, f := range families {
		if f.GetName() != "imply_operator_cluster_condition_last_transition_timestamp_seconds" {
			continue
		}
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "type" {
					types = append(types, l.GetValue())
				}
			}
			g.Expect(s.GetGauge().GetValue()).To(Equal(7.0))
		}
	}
	g.Expect(types).To(Equal([]string{odd}))
}
