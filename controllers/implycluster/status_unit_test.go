package implycluster

import (
	"errors"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/apply"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// wantCondition is a condition's status and reason.
type wantCondition struct {
	status metav1.ConditionStatus
	reason string
}

func expectCondition(t *testing.T, c *implyv1alpha1.ImplyCluster, condType string, want wantCondition) {
	t.Helper()
	got := meta.FindStatusCondition(c.Status.Conditions, condType)
	if got == nil || got.Status != want.status || got.Reason != want.reason {
		t.Errorf("%s = %+v, want %s/%s", condType, got, want.status, want.reason)
	}
}

var (
	authProblem   = &apply.Problem{Reason: implyv1alpha1.ReasonPolicyViolation, Message: "weak"}
	issuerWait    = &apply.Problem{Reason: implyv1alpha1.ReasonWaitingForIssuer, Message: "waiting"}
	invalidCA     = &apply.Problem{Reason: implyv1alpha1.ReasonInvalidCA, Message: "expired"}
	missingSecret = &apply.Problem{Reason: implyv1alpha1.ReasonSecretNotFound, Message: "gone"}
)

func TestBlockingProblemOrder(t *testing.T) {
	for _, tc := range []struct {
		name    string
		obs     observedWorkloads
		reason  string
		waiting bool
	}{
		{"nothing", observedWorkloads{}, "", false},
		{"auth before the CA", observedWorkloads{AuthProblem: authProblem, TLSProblem: invalidCA}, implyv1alpha1.ReasonPolicyViolation, false},
		{"a wait for the issuer", observedWorkloads{TLSProblem: issuerWait, SecretProblem: missingSecret}, implyv1alpha1.ReasonWaitingForIssuer, true},
		{"a CA fault before a Secret", observedWorkloads{TLSProblem: invalidCA, SecretProblem: missingSecret}, implyv1alpha1.ReasonInvalidCA, false},
		{"a Secret before an apply error", observedWorkloads{SecretProblem: missingSecret, ApplyError: errors.New("x")}, implyv1alpha1.ReasonSecretNotFound, false},
		{"an apply error", observedWorkloads{ApplyError: errors.New("conflict")}, implyv1alpha1.ReasonApplyFailed, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := blockingProblem(tc.obs)
			if tc.reason == "" {
				if b != nil {
					t.Fatalf("blockingProblem = %+v, want none", b)
				}
				return
			}
			if b == nil || b.Reason != tc.reason || b.waiting != tc.waiting {
				t.Errorf("blockingProblem = %+v, want %s (waiting %v)", b, tc.reason, tc.waiting)
			}
		})
	}
}

func TestConditionSetters(t *testing.T) {
	fault := blockingProblem(observedWorkloads{TLSProblem: invalidCA})
	wait := blockingProblem(observedWorkloads{TLSProblem: issuerWait})
	drift := []string{"StatefulSet c-data keeps its volumes"}
	for _, tc := range []struct {
		name                         string
		b                            *blocked
		notReady, drift              []string
		ready, degraded, progressing wantCondition
	}{
		{"converged", nil, nil, nil,
			wantCondition{metav1.ConditionTrue, implyv1alpha1.ReasonAllReplicasReady},
			wantCondition{metav1.ConditionFalse, implyv1alpha1.ReasonAsExpected},
			wantCondition{metav1.ConditionFalse, implyv1alpha1.ReasonReconciled}},
		{"rolling", nil, []string{"data"}, nil,
			wantCondition{metav1.ConditionFalse, implyv1alpha1.ReasonReplicasNotReady},
			wantCondition{metav1.ConditionFalse, implyv1alpha1.ReasonAsExpected},
			wantCondition{metav1.ConditionTrue, implyv1alpha1.ReasonRollingOut}},
		{"a change refused in place", nil, nil, drift,
			wantCondition{metav1.ConditionTrue, implyv1alpha1.ReasonAllReplicasReady},
			wantCondition{metav1.ConditionTrue, implyv1alpha1.ReasonImmutableFieldChanged},
			wantCondition{metav1.ConditionFalse, implyv1alpha1.ReasonReconciled}},
		{"a fault", fault, []string{"data"}, drift,
			wantCondition{metav1.ConditionFalse, implyv1alpha1.ReasonInvalidCA},
			wantCondition{metav1.ConditionTrue, implyv1alpha1.ReasonInvalidCA},
			wantCondition{metav1.ConditionFalse, implyv1alpha1.ReasonInvalidCA}},
		{"a wait", wait, nil, nil,
			wantCondition{metav1.ConditionFalse, implyv1alpha1.ReasonWaitingForIssuer},
			wantCondition{metav1.ConditionFalse, implyv1alpha1.ReasonAsExpected},
			wantCondition{metav1.ConditionTrue, implyv1alpha1.ReasonWaitingForIssuer}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testobj.ImplyCluster("c", "ns")
			setReady(c, tc.b, tc.notReady)
			setDegraded(c, tc.b, tc.drift)
			setProgressing(c, tc.b, tc.notReady)
			expectCondition(t, c, implyv1alpha1.ConditionReady, tc.ready)
			expectCondition(t, c, implyv1alpha1.ConditionDegraded, tc.degraded)
			expectCondition(t, c, implyv1alpha1.ConditionProgressing, tc.progressing)
		})
	}
}

func TestSetCertificateStatus(t *testing.T) {
	notAfter := metav1.NewTime(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	sooner := metav1.NewTime(notAfter.Add(-time.Hour))
	c := testobj.ImplyCluster("c", "ns", testobj.WithAuth("", "")) // WithAuth turns TLS on, as the API's default does
	setCertificateStatus(c, observedWorkloads{TLS: &tlsMaterial{NextRenewal: notAfter.Time,
		Certificates: []implyv1alpha1.CertificateStatus{{SecretName: "a", NotAfter: &notAfter}, {SecretName: "b", NotAfter: &sooner}}}})
	expectCondition(t, c, implyv1alpha1.ConditionCertificatesReady, wantCondition{metav1.ConditionTrue, implyv1alpha1.ReasonCertificatesIssued})
	if !c.Status.NextCertificateExpiry.Equal(&sooner) {
		t.Errorf("next expiry = %v, want %v", c.Status.NextCertificateExpiry, sooner)
	}
	setCertificateStatus(c, observedWorkloads{TLSProblem: invalidCA})
	expectCondition(t, c, implyv1alpha1.ConditionCertificatesReady, wantCondition{metav1.ConditionFalse, implyv1alpha1.ReasonInvalidCA})
	if len(c.Status.Certificates) != 2 {
		t.Error("the last known certificates are dropped while the CA is unusable")
	}
	c = testobj.ImplyCluster("c", "ns", testobj.WithoutTLS())
	c.Status.Certificates = []implyv1alpha1.CertificateStatus{{SecretName: "a"}}
	apply.SetCondition(c, implyv1alpha1.ConditionCertificatesReady, metav1.ConditionTrue, implyv1alpha1.ReasonCertificatesIssued, "")
	setCertificateStatus(c, observedWorkloads{})
	if meta.FindStatusCondition(c.Status.Conditions, implyv1alpha1.ConditionCertificatesReady) != nil || c.Status.Certificates != nil {
		t.Error("a cluster without TLS reports certificates")
	}
}

func TestSetAuthStatus(t *testing.T) {
	c := testobj.ImplyCluster("c", "ns", testobj.WithAuth("", ""))
	for _, tc := range []struct {
		name string
		obs  observedWorkloads
		want wantCondition
	}{
		{"configured", observedWorkloads{Auth: &authMaterial{}}, wantCondition{metav1.ConditionTrue, implyv1alpha1.ReasonAuthConfigured}},
		{"a rotation waits", observedWorkloads{Auth: &authMaterial{Warnings: []string{"later"}}}, wantCondition{metav1.ConditionFalse, implyv1alpha1.ReasonPasswordRotationPending}},
		{"a problem", observedWorkloads{AuthProblem: authProblem}, wantCondition{metav1.ConditionFalse, implyv1alpha1.ReasonPolicyViolation}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setAuthStatus(c, tc.obs)
			expectCondition(t, c, implyv1alpha1.ConditionAuthReady, tc.want)
		})
	}
	plain := testobj.ImplyCluster("p", "ns")
	setAuthStatus(plain, observedWorkloads{})
	if meta.FindStatusCondition(plain.Status.Conditions, implyv1alpha1.ConditionAuthReady) != nil {
		t.Error("a cluster without auth reports AuthReady")
	}
}
