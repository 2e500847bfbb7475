package main

import (
	"bufio"
	"strings"
	"testing"
	"time"
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
