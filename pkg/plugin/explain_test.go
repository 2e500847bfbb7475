package plugin

import (
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// withWindows sets maintenance windows as schedule/duration pairs.
func withWindows(pairs ...string) testobj.ClusterOption {
	return func(c *implyv1alpha1.ImplyCluster) {
		ro := &implyv1alpha1.RolloutSpec{}
		for i := 0; i < len(pairs); i += 2 {
			d, _ := time.ParseDuration(pairs[i+1])
			ro.MaintenanceWindows = append(ro.MaintenanceWindows, implyv1alpha1.MaintenanceWindow{Schedule: pairs[i], Duration: metav1.Duration{Duration: d}})
		}
		c.Spec.Rollout = ro
	}
}

func withPaused() testobj.ClusterOption {
	return func(c *implyv1alpha1.ImplyCluster) {
		if c.Spec.Rollout == nil {
			c.Spec.Rollout = &implyv1alpha1.RolloutSpec{}
		}
		c.Spec.Rollout.Paused = true
	}
}

func TestSecurityGate(t *testing.T) {
	// t0 is Friday 2026-12-04 12:00 UTC.
	for _, tc := range []struct {
		name string
		opts []testobj.ClusterOption
		want string
	}{
		{"no windows", nil, "no maintenance windows are configured, so it rolls at once"},
		{"next window", []testobj.ClusterOption{withWindows("0 2 * * SAT", "4h")},
			"it waits for the next maintenance window, 2026-12-05T02:00:00Z (in 14h)"},
		{"open window", []testobj.ClusterOption{withWindows("0 10 * * *", "4h")},
			"a maintenance window is open now, until 2026-12-04T14:00:00Z (in 2h): it starts at once"},
		{"windows that do not parse", []testobj.ClusterOption{withWindows("0 2 * * FOO", "4h")},
			"do not parse, so it is held (NoMaintenanceWindow)"},
		{"window that never fires", []testobj.ClusterOption{withWindows("0 0 30 2 *", "4h")},
			"held (NoMaintenanceWindow)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			c := testobj.ImplyCluster("demo", "ns", tc.opts...)
			g.Expect(SecurityGate(c, t0)).To(ContainSubstring(tc.want))
		})
	}
}

func TestExplainRestart(t *testing.T) {
	g := NewWithT(t)
	c := testobj.ImplyCluster("demo", "ns", withWindows("0 2 * * SAT", "4h"))
	out := strings.Join(ExplainRestart(c, "2026-12-04T12:00:00Z"), "\n")
	g.Expect(out).To(ContainSubstring("Set imply.operator.dev/restart=2026-12-04T12:00:00Z on ImplyCluster ns/demo."))
	g.Expect(out).To(ContainSubstring("Every group restarts now, one at a time, each once the previous is updated and ready: data -> query -> master -> manager."))
	g.Expect(out).To(ContainSubstring("does not wait for a maintenance window"))

	c = testobj.ImplyCluster("demo", "ns", withPaused())
	out = strings.Join(ExplainRestart(c, "v"), "\n")
	g.Expect(out).To(ContainSubstring("nothing restarts until `kubectl imply rollout resume demo`"))
	g.Expect(out).NotTo(ContainSubstring("restarts now"))
}

func TestExplainRotateCA(t *testing.T) {
	g := NewWithT(t)
	c := testobj.ImplyCluster("demo", "ns", withWindows("0 2 * * SAT", "4h"))
	out := strings.Join(ExplainRotateCA(c, "v1", "", t0), "\n")
	g.Expect(out).To(ContainSubstring("three phases, each rolled through every group (data -> query -> master -> manager)"))
	g.Expect(out).To(ContainSubstring("Each phase is a security change: it waits for the next maintenance window, 2026-12-05T02:00:00Z (in 14h)"))
	g.Expect(out).NotTo(ContainSubstring("already in progress"))

	out = strings.Join(ExplainRotateCA(c, "v2", caRotationPhases["TrustBoth"], t0), "\n")
	g.Expect(out).To(ContainSubstring("A rotation is already in progress (phase 1/3"))

	c = testobj.ImplyCluster("demo", "ns", withPaused())
	out = strings.Join(ExplainRotateCA(c, "v1", "", t0), "\n")
	g.Expect(out).To(ContainSubstring("no phase rolls until `kubectl imply rollout resume demo`"))
}

func TestRotatable(t *testing.T) {
	g := NewWithT(t)
	g.Expect(rotatable(testobj.ImplyCluster("demo", "ns"))).To(Succeed())
	g.Expect(rotatable(testobj.ImplyCluster("demo", "ns", testobj.WithoutTLS()))).To(MatchError(ContainSubstring("runs without TLS")))
	user := testobj.ImplyCluster("demo", "ns", func(c *implyv1alpha1.ImplyCluster) {
		c.Spec.Security = &implyv1alpha1.SecuritySpec{TLS: &implyv1alpha1.TLSSpec{Enabled: true,
			CA: &implyv1alpha1.CASpec{SecretRef: &implyv1alpha1.LocalObjectReference{Name: "my-ca"}}}}
	})
	g.Expect(rotatable(user)).To(MatchError(ContainSubstring("comes from secret my-ca, not from the operator")))
}

func TestExplainPause(t *testing.T) {
	g := NewWithT(t)
	running := testobj.ImplyCluster("demo", "ns")
	held := testobj.ImplyCluster("demo", "ns", withPaused(), withWindows("0 2 * * SAT", "4h"))
	held.Spec.Rollout.Paused = true

	g.Expect(strings.Join(ExplainPause(running, true, t0), "\n")).To(ContainSubstring("Every pod-template change is held"))
	g.Expect(ExplainPause(held, true, t0)).To(ConsistOf(ContainSubstring("already paused; nothing changes")))
	g.Expect(ExplainPause(running, false, t0)).To(ConsistOf(ContainSubstring("not paused; nothing changes")))
	out := strings.Join(ExplainPause(held, false, t0), "\n")
	g.Expect(out).To(ContainSubstring("spec changes and restarts at once"))
	g.Expect(out).To(ContainSubstring("it waits for the next maintenance window, 2026-12-05T02:00:00Z"))
}

func TestAnnotationValue(t *testing.T) {
	g := NewWithT(t)
	g.Expect(annotationValue(t0, "")).To(Equal("2026-12-04T12:00:00Z"))
	// Two requests in the same second still differ, so the second one is a new value.
	g.Expect(annotationValue(t0.Add(5*time.Millisecond), "2026-12-04T12:00:00Z")).To(Equal("2026-12-04T12:00:00.005Z"))
}
