package implycluster

import (
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
)

// metricsFixtureNow is the time the fixture clusters' status times are relative to.
var metricsFixtureNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// metricsFixtureSeries is how many series one fixture cluster has: six conditions (three
// statuses and a transition time each), eight certificates (expiry and renewal), one CA, three
// rollout phases, halted and the next window.
const metricsFixtureSeries = 6*4 + 8*2 + 1 + 3 + 1 + 1

// metricsFixture returns n TLS clusters with the status a typical cluster has (six conditions,
// eight certificates, a rollout pending for a window) and the TLS material of their one CA.
func metricsFixture(tb testing.TB, n int) ([]*implyv1alpha1.ImplyCluster, *tlsMaterial, *pki.KeyPair) {
	tb.Helper()
	now := metricsFixtureNow
	ca, err := pki.CreateRootCA(clocktesting.NewFakePassiveClock(now), "metrics-ca", implyv1alpha1.KeyAlgorithmECDSAP256, 240*time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	at := func(d time.Duration) *metav1.Time { v := metav1.NewTime(now.Add(d)); return &v }
	types := []string{implyv1alpha1.ConditionReady, implyv1alpha1.ConditionProgressing, implyv1alpha1.ConditionDegraded,
		implyv1alpha1.ConditionCertificatesReady, implyv1alpha1.ConditionAuthReady, implyv1alpha1.ConditionRestartPending}
	leaves := []string{"manager", "data", "query", "master", "zk", "pivot", "client", "agent"}
	clusters := make([]*implyv1alpha1.ImplyCluster, 0, n)
	for i := range n {
		c := &implyv1alpha1.ImplyCluster{ObjectMeta: metav1.ObjectMeta{Namespace: fmt.Sprintf("ns-%d", i%50), Name: fmt.Sprintf("c-%d", i)}}
		c.Spec.Security = &implyv1alpha1.SecuritySpec{TLS: &implyv1alpha1.TLSSpec{Enabled: true}}
		for j, t := range types {
			status := metav1.ConditionFalse
			if j%2 == 0 {
				status = metav1.ConditionTrue
			}
			c.Status.Conditions = append(c.Status.Conditions, metav1.Condition{Type: t, Status: status,
				LastTransitionTime: *at(-time.Duration(i+j) * time.Minute)})
		}
		for j, leaf := range leaves {
			c.Status.Certificates = append(c.Status.Certificates, implyv1alpha1.CertificateStatus{
				SecretName: c.Name + "-" + leaf + "-tls", NotAfter: at(time.Duration(48+i+j) * time.Hour), RenewalTime: at(time.Duration(i+j) * time.Hour)})
		}
		c.Status.Rollout = &implyv1alpha1.RolloutStatus{Phase: implyv1alpha1.RolloutPending, NextWindow: at(time.Duration(i) * time.Minute)}
		clusters = append(clusters, c)
	}
	return clusters, &tlsMaterial{BundlePEM: pki.BundlePEM(ca.Certificate)}, ca
}

// heapAlloc is the heap in use after a collection.
func heapAlloc() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// BenchmarkClusterMetricsCollect records the metrics of 1,000 clusters, scrapes them once as the
// operator serves them and forgets the clusters. B/cluster is the heap the recorded metrics hold
// (after a GC, the clusters themselves excluded), per cluster.
func BenchmarkClusterMetricsCollect(b *testing.B) {
	const n = 1000
	clusters, tls, _ := metricsFixture(b, n)
	var retained int64
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		before := heapAlloc()
		b.StartTimer()
		for _, c := range clusters {
			recordClusterMetrics(c, tls)
		}
		b.StopTimer()
		retained += heapAlloc() - before
		b.StartTimer()
		if err := WriteClusterMetrics(io.Discard); err != nil {
			b.Fatal(err)
		}
		for _, c := range clusters {
			forgetClusterMetrics(c.Namespace, c.Name)
		}
	}
	runtime.KeepAlive(clusters)
	b.ReportMetric(float64(retained)/float64(b.N)/n, "B/cluster")
}

// BenchmarkClusterMetricsScrape writes the cluster series the operator serves while it holds
// the metrics of 1,000 clusters: B/op is what one scrape allocates.
func BenchmarkClusterMetricsScrape(b *testing.B) {
	const n = 1000
	clusters, tls, _ := metricsFixture(b, n)
	for _, c := range clusters {
		recordClusterMetrics(c, tls)
	}
	defer func() {
		for _, c := range clusters {
			forgetClusterMetrics(c.Namespace, c.Name)
		}
	}()
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteClusterMetrics(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
