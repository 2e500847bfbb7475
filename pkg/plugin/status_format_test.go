package plugin

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// t0 is the fixed "now" of the tests.
var t0 = time.Date(2026, time.December, 4, 12, 0, 0, 0, time.UTC)

// testCA returns a CA valid for validity from notBefore.
func testCA(t *testing.T, cn string, notBefore time.Time, validity time.Duration) *pki.KeyPair {
	t.Helper()
	kp, err := pki.CreateRootCA(clocktesting.NewFakePassiveClock(notBefore), cn, implyv1alpha1.KeyAlgorithmECDSAP256, validity)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

// statusFixture is a TLS cluster with auth, a rotation in phase SignWithNew, a pending rollout
// and one token and role of its own plus one of another cluster.
func statusFixture(t *testing.T) StatusInput {
	t.Helper()
	c := testobj.ImplyCluster("demo", "ns", testobj.WithAuth("agent", ""))
	c.Generation = 4
	c.Spec.Rollout = &implyv1alpha1.RolloutSpec{MaintenanceWindows: []implyv1alpha1.MaintenanceWindow{
		{Schedule: "0 2 * * SAT", Duration: metav1.Duration{Duration: 4 * time.Hour}}}}
	c.Status = implyv1alpha1.ImplyClusterStatus{
		ObservedGeneration: 4,
		Conditions: []metav1.Condition{
			{Type: "Ready", Status: metav1.ConditionTrue, Reason: "AllReplicasReady", LastTransitionTime: metav1.NewTime(t0.Add(-3 * time.Hour))},
			{Type: "Degraded", Status: metav1.ConditionFalse, Reason: "AsExpected", LastTransitionTime: metav1.NewTime(t0.Add(-3 * time.Hour))},
			{Type: "RestartPending", Status: metav1.ConditionTrue, Reason: "AwaitingMaintenanceWindow", Message: "waits for\nthe window", LastTransitionTime: metav1.NewTime(t0.Add(-time.Hour))},
		},
		NodeGroups: []implyv1alpha1.NodeGroupStatus{
			{Name: "data", Type: "data", Replicas: 2, ReadyReplicas: 2, UpdatedReplicas: 1, Revision: "demo-data-7f"},
		},
		Certificates: []implyv1alpha1.CertificateStatus{{
			SecretName: "demo-data-tls", Serial: "0a1b",
			NotAfter:    &metav1.Time{Time: t0.Add(89*24*time.Hour + time.Hour)},
			RenewalTime: &metav1.Time{Time: t0.Add(59*24*time.Hour + time.Hour)},
		}},
		Endpoints: &implyv1alpha1.EndpointsStatus{Router: "https://demo-query.ns.svc:9088", Manager: "https://demo-manager.ns.svc:9097"},
		Rollout: &implyv1alpha1.RolloutStatus{Phase: implyv1alpha1.RolloutPending, Reason: "AwaitingMaintenanceWindow",
			NextWindow: &metav1.Time{Time: time.Date(2026, time.December, 5, 2, 0, 0, 0, time.UTC)}},
	}
	newCA := testCA(t, "demo-ca-2", t0.Add(-24*time.Hour), 3*365*24*time.Hour)
	oldCA := testCA(t, "demo-ca-1", t0.Add(-700*24*time.Hour), 730*24*time.Hour)
	bundle := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{implyv1alpha1.AnnotationCARotationPhase: "SignWithNew"}},
		Data: map[string]string{specs.TLSCAKey: string(pki.BundlePEM(newCA.Certificate, oldCA.Certificate))}}
	secret := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{
		implyv1alpha1.AnnotationCARotationRequested: "r1"}}}
	tokens := []implyv1alpha1.AuthToken{
		{ObjectMeta: metav1.ObjectMeta{Name: "pivot-sales"}, Spec: implyv1alpha1.AuthTokenSpec{Type: implyv1alpha1.AuthTokenDruid,
			ClusterRef: &implyv1alpha1.LocalObjectReference{Name: "demo"}, Username: "sales"},
			Status: implyv1alpha1.AuthTokenStatus{Conditions: []metav1.Condition{{Type: "Ready", Status: metav1.ConditionFalse, Reason: "WaitingForCluster", Message: "CA bundle missing"}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "agent"}, Spec: implyv1alpha1.AuthTokenSpec{Type: implyv1alpha1.AuthTokenAgent},
			Status: implyv1alpha1.AuthTokenStatus{NextRotation: &metav1.Time{Time: t0.Add(10 * 24 * time.Hour)},
				Conditions: []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "TokenReady"}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "other-user"}, Spec: implyv1alpha1.AuthTokenSpec{Type: implyv1alpha1.AuthTokenDruid,
			ClusterRef: &implyv1alpha1.LocalObjectReference{Name: "other"}, Username: "x"}},
	}
	roles := []implyv1alpha1.DruidRole{
		{ObjectMeta: metav1.ObjectMeta{Name: "sales-read"}, Spec: implyv1alpha1.DruidRoleSpec{ClusterRef: implyv1alpha1.LocalObjectReference{Name: "demo"}},
			Status: implyv1alpha1.DruidRoleStatus{Conditions: []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Synced"}, {Type: "Synced", Status: metav1.ConditionTrue}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "not-mine"}, Spec: implyv1alpha1.DruidRoleSpec{ClusterRef: implyv1alpha1.LocalObjectReference{Name: "other"}}},
	}
	return StatusInput{Cluster: c, CABundle: bundle, CASecret: secret, AuthTokens: tokens, DruidRoles: roles}
}

func TestBuildStatusReport(t *testing.T) {
	g := NewWithT(t)
	r := BuildStatusReport(statusFixture(t), t0)

	g.Expect(r.Cluster).To(Equal("demo"))
	g.Expect(r.TLS).To(BeTrue())
	g.Expect(r.Certificates).To(HaveLen(1))
	g.Expect(*r.Certificates[0].DaysLeft).To(Equal(89))
	g.Expect(r.CA).NotTo(BeNil())
	g.Expect(r.CA.Source).To(Equal("generated"))
	g.Expect(r.CA.RotationPhase).To(Equal("SignWithNew"))
	g.Expect(r.CA.RotationPending).To(BeEmpty())
	g.Expect(r.CA.Trusted).To(HaveLen(2))
	g.Expect(r.CA.Trusted[0].Subject).To(ContainSubstring("demo-ca-2"))
	g.Expect(r.CA.Trusted[1].DaysLeft).To(Equal(30))
	g.Expect(r.Rollout.Phase).To(Equal("Pending"))
	g.Expect(r.Rollout.Windows).To(Equal([]string{"0 2 * * SAT for 4h0m0s"}))
	// Only the cluster's own: the agent token it references and the Druid user of clusterRef demo.
	g.Expect(r.AuthTokens).To(HaveLen(2))
	g.Expect(r.AuthTokens[0].Name).To(Equal("agent"))
	g.Expect(r.AuthTokens[1].Name).To(Equal("pivot-sales"))
	g.Expect(r.AuthTokens[1].Detail).To(Equal("Druid user sales"))
	g.Expect(r.DruidRoles).To(HaveLen(1))
	g.Expect(r.DruidRoles[0].Synced).To(Equal("True"))
	g.Expect(r.DruidRoles[0].Detail).To(Equal("role sales-read"))

	// -o json carries the same report.
	data, err := json.Marshal(r)
	g.Expect(err).NotTo(HaveOccurred())
	var back StatusReport
	g.Expect(json.Unmarshal(data, &back)).To(Succeed())
	g.Expect(back.CA.RotationPhase).To(Equal("SignWithNew"))
	g.Expect(back.Certificates[0].RenewalTime.Equal(*r.Certificates[0].RenewalTime)).To(BeTrue())
}

func TestBuildStatusReportPendingRotationAndMissingBundle(t *testing.T) {
	g := NewWithT(t)
	in := statusFixture(t)
	in.Cluster.Annotations = map[string]string{implyv1alpha1.AnnotationRotateCA: "r2"}
	in.CASecret.Annotations = map[string]string{implyv1alpha1.AnnotationCARotationRequested: "r1"}
	in.CABundle = nil
	r := BuildStatusReport(in, t0)
	g.Expect(r.CA.RotationPending).To(Equal("r2"))
	g.Expect(r.CA.BundleProblem).To(ContainSubstring("demo-ca-bundle does not exist yet"))

	out := formatted(r, false)
	g.Expect(out).To(ContainSubstring(`rotation requested (rotate-ca "r2" not started by the operator yet)`))
}

func TestFormatStatusPlain(t *testing.T) {
	g := NewWithT(t)
	out := formatted(BuildStatusReport(statusFixture(t), t0), false)

	g.Expect(out).NotTo(ContainSubstring("\x1b["), "no colour when piped")
	for _, want := range []string{
		"ImplyCluster ns/demo  version 2025.01  TLS on  generation 4 (observed 4)",
		"RestartPending   True     AwaitingMaintenanceWindow   1h ago   waits for the window",
		"data   data   2          2       1         demo-data-7f",
		"demo-data-tls   2027-03-03T13:00:00Z   89          2027-02-01T13:00:00Z (in 59d)   0a1b",
		"rotation in progress: phase 2/3: leaves are signed by the new CA; the old one is still trusted",
		"phase Pending (AwaitingMaintenanceWindow)",
		"next window 2026-12-05T02:00:00Z (in 14h)",
		"window 0 2 * * SAT for 4h0m0s (UTC)",
		"router    https://demo-query.ns.svc:9088",
		"trusted   CN=demo-ca-1   2027-01-03T12:00:00Z   30",
		"pivot-sales   Druid user sales   False   -                               WaitingForCluster: CA bundle missing",
		"agent         Agent              True    2026-12-14T12:00:00Z (in 10d)   TokenReady",
		"sales-read   role sales-read   True    True     Synced",
	} {
		g.Expect(out).To(ContainSubstring(want))
	}
	g.Expect(out).NotTo(ContainSubstring("other-user"))
	g.Expect(out).NotTo(ContainSubstring("not-mine"))
}

func TestFormatStatusColour(t *testing.T) {
	g := NewWithT(t)
	r := BuildStatusReport(statusFixture(t), t0)
	out := formatted(r, true)
	g.Expect(out).To(ContainSubstring(ansi[toneGood] + "True" + ansiReset))
	g.Expect(out).To(ContainSubstring(ansi[toneWarn] + "Pending" + ansiReset))
	g.Expect(out).To(ContainSubstring(ansi[toneWarn]+"1"+ansiReset), "1 of 2 replicas updated")
	// Columns still line up: the colour codes do not count towards the width.
	plainOut := formatted(r, false)
	g.Expect(stripANSI(out)).To(Equal(plainOut))
}

func TestFormatStatusWithoutTLSOrStatus(t *testing.T) {
	g := NewWithT(t)
	c := testobj.ImplyCluster("bare", "ns", testobj.WithoutTLS())
	out := formatted(BuildStatusReport(StatusInput{Cluster: c}, t0), false)
	g.Expect(out).To(ContainSubstring("none yet: the operator has not reconciled this cluster"))
	g.Expect(out).NotTo(ContainSubstring("Certificates"))
	g.Expect(out).To(ContainSubstring("phase Idle"))
	g.Expect(out).To(ContainSubstring("no maintenance windows: security changes roll at once"))
}

func TestRelative(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{89*24*time.Hour + time.Hour, "in 89d"},
		{47 * time.Hour, "in 47h"},
		{12 * time.Minute, "in 12m"},
		{20 * time.Second, "now"},
		{-3 * 24 * time.Hour, "3d ago"},
	} {
		if got := relative(t0.Add(tc.d), t0); got != tc.want {
			t.Errorf("relative(%s) = %q, want %q", tc.d, got, tc.want)
		}
	}
	if got := daysLeft(t0.Add(-time.Hour), t0); got != -1 {
		t.Errorf("daysLeft of an hour ago = %d, want -1", got)
	}
}

func TestConditionTone(t *testing.T) {
	for _, tc := range []struct {
		typ, status string
		want        tone
	}{
		{"Ready", "True", toneGood}, {"Ready", "False", toneBad}, {"Ready", "Unknown", toneWarn},
		{"Degraded", "False", toneGood}, {"Degraded", "True", toneBad},
		{"RestartPending", "True", toneWarn}, {"RestartPending", "False", toneGood},
		{"Progressing", "True", toneWarn}, {"Progressing", "False", toneGood},
	} {
		if got := conditionTone(tc.typ, tc.status); got != tc.want {
			t.Errorf("conditionTone(%s, %s) = %d, want %d", tc.typ, tc.status, got, tc.want)
		}
	}
}

func formatted(r StatusReport, color bool) string {
	var b bytes.Buffer
	FormatStatus(&b, r, color, t0)
	return b.String()
}

func stripANSI(s string) string {
	for _, code := range ansi {
		s = strings.ReplaceAll(s, code, "")
	}
	return strings.ReplaceAll(s, ansiReset, "")
}
