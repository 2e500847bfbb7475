package main

import (
	"bufio"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func TestPercentileIsNearestRank(t *testing.T) {
	var samples []time.Duration
	for i := 20; i >= 1; i-- {
		samples = append(samples, time.Duration(i)*time.Millisecond)
	}
	s := summarize(samples)
	if s.P50 != 10*time.Millisecond || s.P95 != 19*time.Millisecond || s.Min != time.Millisecond || s.Max != 20*time.Millisecond {
		t.Fatalf("p50 %s p95 %s min %s max %s; want 10ms 19ms 1ms 20ms", s.P50, s.P95, s.Min, s.Max)
	}
	if one := summarize([]time.Duration{time.Second}); one.P50 != time.Second || one.P95 != time.Second {
		t.Fatalf("one sample: p50 %s p95 %s", one.P50, one.P95)
	}
}

func TestParseCPUCountsFieldsAfterTheCommandName(t *testing.T) {
	// A command name with spaces and a parenthesis; utime 250 and stime 50 ticks.
	stat := "4242 (imply op) erator) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 12 0 100 0 0"
	cpu, err := parseCPU(stat)
	if err != nil {
		t.Fatal(err)
	}
	if cpu != 3*time.Second {
		t.Fatalf("cpu %s, want 3s", cpu)
	}
	if _, err := parseCPU("4242 (x) S 1"); err == nil {
		t.Fatal("a short stat line was accepted")
	}
}

func TestCountOperatorWritesOnlyCountsTheOperatorsCompletedWrites(t *testing.T) {
	log := strings.Join([]string{
		`{"stage":"ResponseComplete","verb":"patch","user":{"username":"bench-operator"},"objectRef":{"resource":"implyclusters","subresource":"status"}}`,
		`{"stage":"ResponseComplete","verb":"create","user":{"username":"bench-operator"},"objectRef":{"resource":"secrets"}}`,
		`{"stage":"ResponseComplete","verb":"create","user":{"username":"bench-operator"},"objectRef":{"resource":"secrets"}}`,
		`{"stage":"ResponseComplete","verb":"create","user":{"username":"admin"},"objectRef":{"resource":"secrets"}}`,
		`{"stage":"ResponseComplete","verb":"get","user":{"username":"bench-operator"},"objectRef":{"resource":"secrets"}}`,
		`{"stage":"RequestReceived","verb":"patch","user":{"username":"bench-operator"},"objectRef":{"resource":"secrets"}}`,
		``,
	}, "\n")
	counts, err := countOperatorWrites(bufio.NewReader(strings.NewReader(log)))
	if err != nil {
		t.Fatal(err)
	}
	if got := describeCounts(counts); got != "create secrets: 2, patch implyclusters/status: 1" {
		t.Fatalf("counts %q", got)
	}
}

func TestSumMetricMatchesNameAndLabels(t *testing.T) {
	exposition := `# HELP controller_runtime_reconcile_total Total number of reconciliations per controller
controller_runtime_reconcile_total{controller="implycluster",result="success"} 98
controller_runtime_reconcile_total{controller="implycluster",result="error"} 2
controller_runtime_reconcile_total{controller="authtoken",result="success"} 10
controller_runtime_reconcile_total_other{controller="implycluster"} 7
workqueue_depth{controller="implycluster",name="implycluster"} 0
`
	if got := sumMetric(exposition, "controller_runtime_reconcile_total", `controller="implycluster"`); got != 100 {
		t.Fatalf("implycluster reconciles %v, want 100", got)
	}
	if got := sumMetric(exposition, "controller_runtime_reconcile_total"); got != 110 {
		t.Fatalf("all reconciles %v, want 110", got)
	}
}

func TestLeastSquaresSlopeFitsALine(t *testing.T) {
	slope, ok := leastSquaresSlope([]float64{100, 250, 500, 1000}, []float64{12, 27, 52, 102})
	if !ok || slope < 0.0999 || slope > 0.1001 {
		t.Fatalf("slope %v %v, want 0.1", slope, ok)
	}
	// Noisy points: the fit is the least-squares one, (sum dx dy) / (sum dx²).
	slope, _ = leastSquaresSlope([]float64{1, 2, 3}, []float64{1, 3, 2})
	if slope != 0.5 {
		t.Fatalf("slope %v, want 0.5", slope)
	}
	for _, xs := range [][]float64{nil, {5}, {5, 5}} {
		if _, ok := leastSquaresSlope(xs, make([]float64, len(xs))); ok {
			t.Fatalf("a slope through %v", xs)
		}
	}
}

func TestFitCurveComparesThePerClusterTimeFrom250On(t *testing.T) {
	point := func(n int, each time.Duration, rss uint64) scalePoint {
		p := scalePoint{Clusters: n}
		p.Operator, p.Usage.PeakRSS = time.Duration(n)*each, rss
		return p
	}
	points := []scalePoint{
		point(100, 200*time.Millisecond, 60<<20), // below flatFrom: not the base
		point(250, 100*time.Millisecond, 90<<20),
		point(1000, 140*time.Millisecond, 240<<20),
	}
	c := fitCurve(points)
	if !c.FlatComparable || c.FlatBaseAt != 250 || c.FlatTopAt != 1000 || c.FlatBase != 100*time.Millisecond || c.FlatTop != 140*time.Millisecond || !c.Flat {
		t.Fatalf("curve %+v", c)
	}
	if c.RSSSlope < 0.19*(1<<20) || c.RSSSlope > 0.21*(1<<20) {
		t.Fatalf("RSS slope %v bytes a cluster, want about 0.2 MiB", c.RSSSlope)
	}
	if c.BareGrowth != 0 || c.CPUGrowth != 0 {
		t.Fatalf("growths without bare client or CPU: %+v", c)
	}
	points[1].Bare, points[2].Bare = 250*50*time.Millisecond, 1000*100*time.Millisecond
	points[1].CPU, points[2].CPU = 250*20*time.Millisecond, 1000*30*time.Millisecond
	if c := fitCurve(points); c.BareGrowth != 2 || c.RelativeGrowth != 0.7 || c.CPUGrowth != 1.5 {
		t.Fatalf("bare growth %v (want 2), relative %v (want 1.4/2), CPU %v (want 1.5)", c.BareGrowth, c.RelativeGrowth, c.CPUGrowth)
	}
	points[2] = point(1000, 160*time.Millisecond, 240<<20)
	if c := fitCurve(points); c.Flat {
		t.Fatalf("160 ms against 100 ms counted as flat: %+v", c)
	}
	if c := fitCurve(points[:1]); c.FlatComparable || c.TimeSlope != 0 {
		t.Fatalf("one point: %+v", c)
	}
}

func TestNoiseObjectsAreSpreadAndUnowned(t *testing.T) {
	spec := noiseSpec{Secrets: 7, BigSecrets: 2, ConfigMaps: 5, Services: 3, StatefulSets: 2}
	objs := noiseObjects(spec, []string{"a", "b", "c"})
	if len(objs) != 7+5+3+2 {
		t.Fatalf("%d objects", len(objs))
	}
	perNamespace, big := map[string]int{}, 0
	for _, o := range objs {
		perNamespace[o.GetNamespace()]++
		if len(o.GetOwnerReferences()) > 0 || o.GetLabels()["app.kubernetes.io/managed-by"] != "" {
			t.Fatalf("%s looks like the operator's", o.GetName())
		}
		if s, ok := o.(*corev1.Secret); ok && s.Type == "helm.sh/release.v1" {
			big++
			if len(s.Data["release"]) != helmReleaseBytes || s.Labels["owner"] != "helm" || s.Labels["status"] != "deployed" {
				t.Fatalf("release Secret %s: %d bytes, labels %v", s.Name, len(s.Data["release"]), s.Labels)
			}
		}
	}
	if big != 2 || perNamespace["a"] == 0 || perNamespace["b"] == 0 || perNamespace["c"] == 0 {
		t.Fatalf("%d release Secrets, per namespace %v", big, perNamespace)
	}
}

func TestClusterKeysFillNamespacesOfTen(t *testing.T) {
	namespaces, keys := clusterKeys("scale", 25)
	if len(namespaces) != 3 || namespaces[2] != "scale-002" || len(keys) != 25 || keys[24].Namespace != "scale-002" || keys[24].Name != "c4" {
		t.Fatalf("namespaces %v, last key %v", namespaces, keys[len(keys)-1])
	}
}

func TestQuietPollScrapesTwiceAQuietPeriod(t *testing.T) {
	for quiet, want := range map[time.Duration]time.Duration{
		2 * time.Second:        time.Second,
		500 * time.Millisecond: 250 * time.Millisecond,
		100 * time.Millisecond: 200 * time.Millisecond,
	} {
		if got := quietPoll(quiet); got != want {
			t.Errorf("quietPoll(%s) = %s, want %s", quiet, got, want)
		}
	}
}

// TestAuditPolicyRecordsTheBareClientsWritesToo: the bare client's writes are audited like the
// operator's, so the ratio does not charge the operator alone for the audit log.
func TestAuditPolicyRecordsTheBareClientsWritesToo(t *testing.T) {
	var policy struct {
		Rules []struct {
			Level string   `json:"level"`
			Users []string `json:"users"`
			Verbs []string `json:"verbs"`
		} `json:"rules"`
	}
	if err := yaml.Unmarshal([]byte(auditPolicy), &policy); err != nil {
		t.Fatal(err)
	}
	if len(policy.Rules) == 0 || policy.Rules[0].Level != "Metadata" || !slices.Contains(policy.Rules[0].Verbs, "create") {
		t.Fatalf("the first rule does not record creates: %+v", policy.Rules)
	}
	for _, user := range []string{operatorUser, benchUser} {
		if !slices.Contains(policy.Rules[0].Users, user) {
			t.Errorf("the writes of %s are not recorded: %v", user, policy.Rules[0].Users)
		}
	}
}

func TestTemplatesCoverEveryKindTheOperatorCreates(t *testing.T) {
	var templates []*unstructured.Unstructured
	for _, gvk := range append(slices.Clone(ownedKinds), eventKind) {
		obj := &unstructured.Unstructured{}
		obj.SetGroupVersionKind(gvk)
		templates = append(templates, obj)
	}
	// What the operator wrote for 100 clusters with NetworkPolicies and an Ingress.
	writes := map[string]int{
		"create configmaps": 600, "create deployments": 100, "create events": 200, "create ingresses": 100,
		"create networkpolicies": 400, "create poddisruptionbudgets": 300, "create secrets": 900,
		"create services": 800, "create statefulsets": 300, "patch implyclusters/status": 100,
	}
	if err := templatesCoverCreates(templates, writes); err != nil {
		t.Fatalf("ownedKinds leaves out a kind the operator creates: %v", err)
	}
	withoutPolicies := slices.DeleteFunc(slices.Clone(templates), func(u *unstructured.Unstructured) bool {
		return u.GetKind() == "NetworkPolicy"
	})
	err := templatesCoverCreates(withoutPolicies, writes)
	if err == nil || !strings.Contains(err.Error(), "networkpolicies") {
		t.Fatalf("templates without NetworkPolicies: %v, want an error naming networkpolicies", err)
	}
}

func TestBareEventsRegardTheirNamespacesCluster(t *testing.T) {
	ev := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "events.k8s.io/v1", "kind": "Event",
		"metadata":  map[string]any{"name": "c7.1872a", "namespace": "scale-0000", "uid": "u1", "resourceVersion": "9"},
		"regarding": map[string]any{"kind": "ImplyCluster", "name": "c7", "namespace": "scale-0000", "uid": "u2", "resourceVersion": "8"},
		"reason":    "CertificateIssued", "deprecatedCount": int64(1),
	}}
	if got := clusterIndex(ev); got != 7 {
		t.Fatalf("clusterIndex = %d, want 7", got)
	}
	out := copyInto(ev, "scale-0042")
	regarding, _, _ := unstructured.NestedStringMap(out.Object, "regarding")
	if out.GetNamespace() != "scale-0042" || regarding["namespace"] != "scale-0042" || regarding["uid"] != "" || regarding["resourceVersion"] != "" {
		t.Fatalf("copied Event %v regards %v, want the cluster c7 of scale-0042 without uid or version", out.GetNamespace(), regarding)
	}
	if _, found := out.Object["deprecatedCount"]; found || out.GetUID() != "" {
		t.Fatalf("copied Event keeps what the apiserver set: %v", out.Object)
	}
}

func TestPooledRatioWeighsEachRunByItsTime(t *testing.T) {
	orders := []order{
		{First: "operator", Round: 1, Operator: 110 * time.Second, Bare: 100 * time.Second},
		{First: "bare", Round: 1, Operator: 150 * time.Second, Bare: 100 * time.Second},
		{First: "operator", Round: 2, Operator: 160 * time.Second, Bare: 120 * time.Second},
		{First: "bare", Round: 2, Operator: 150 * time.Second, Bare: 140 * time.Second},
	}
	// 570 s against 460 s; the mean of the four ratios would be 1.25.
	if got, want := pooledRatio(orders), 570.0/460.0; got != want {
		t.Fatalf("pooled ratio %v, want %v", got, want)
	}
	if got := pooledRatio(nil); got != 0 {
		t.Fatalf("no orders: %v", got)
	}
	var report strings.Builder
	point := scalePoint{Clusters: 1000, Orders: orders, PooledRatio: pooledRatio(orders)}
	reportScale(&report, results{Scale: []scalePoint{point}}, func(ok bool) string { return map[bool]string{true: "met", false: "MISSED"}[ok] })
	for _, want := range []string{
		"round 2, bare first: operator 2m30s, bare client 2m20s",
		"over the 4 runs of each: ratio of the summed times 1.24; target <= 1.2: MISSED",
	} {
		if !strings.Contains(report.String(), want) {
			t.Fatalf("report lacks %q:\n%s", want, report.String())
		}
	}
}
