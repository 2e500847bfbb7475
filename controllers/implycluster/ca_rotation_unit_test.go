package implycluster

import (
	"crypto/x509"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	clocktesting "k8s.io/utils/clock/testing"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
)

// TestPlanTrust: a CA signs only once a bundle holding it has rolled out, and the old CAs are
// dropped only after every leaf moved; a desired CA that changes mid-rotation restarts at
// TrustBoth, trusting everything still live.
func TestPlanTrust(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	newCA := func() *x509.Certificate {
		kp, err := pki.CreateRootCA(clk, "ca", implyv1alpha1.KeyAlgorithmECDSAP256, 365*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return kp.Certificate
	}
	old, desired, other := newCA(), newCA(), newCA()
	type want struct {
		phase   string
		trusted []*x509.Certificate
		cause   string
	}
	for _, tc := range []struct {
		name  string
		live  liveTrust
		cause string
		want  want
	}{
		{"a new cluster trusts the desired CA alone", liveTrust{}, "", want{"", []*x509.Certificate{desired}, ""}},
		{"steady", liveTrust{CAs: []*x509.Certificate{desired}}, "", want{"", []*x509.Certificate{desired}, ""}},
		{"a changed CA starts TrustBoth beside the live one", liveTrust{CAs: []*x509.Certificate{old}}, "",
			want{caPhaseTrustBoth, []*x509.Certificate{desired, old}, causeCAChanged}},
		{"the cause given is kept", liveTrust{CAs: []*x509.Certificate{old}}, causeRenewal,
			want{caPhaseTrustBoth, []*x509.Certificate{desired, old}, causeRenewal}},
		{"a stale extra CA with no rotation is dropped through the phases", liveTrust{CAs: []*x509.Certificate{desired, old}}, "",
			want{caPhaseTrustBoth, []*x509.Certificate{desired, old}, causeCAChanged}},
		{"TrustBoth continues", liveTrust{CAs: []*x509.Certificate{desired, old}, Phase: caPhaseTrustBoth, Cause: causeCAMissing}, "",
			want{caPhaseTrustBoth, []*x509.Certificate{desired, old}, causeCAMissing}},
		{"SignWithNew continues", liveTrust{CAs: []*x509.Certificate{desired, old}, Phase: caPhaseSignWithNew, Cause: causeRotateCA}, "",
			want{caPhaseSignWithNew, []*x509.Certificate{desired, old}, causeRotateCA}},
		{"DropOld trusts the desired CA alone", liveTrust{CAs: []*x509.Certificate{desired}, Phase: caPhaseDropOld, Cause: causeRotateCA}, "",
			want{caPhaseDropOld, []*x509.Certificate{desired}, causeRotateCA}},
		{"a desired CA changed in SignWithNew restarts at TrustBoth, trusting every live CA", liveTrust{CAs: []*x509.Certificate{other, old}, Phase: caPhaseSignWithNew}, "",
			want{caPhaseTrustBoth, []*x509.Certificate{desired, other, old}, causeCAChanged}},
		{"a desired CA changed in DropOld restarts at TrustBoth", liveTrust{CAs: []*x509.Certificate{other}, Phase: caPhaseDropOld}, "",
			want{caPhaseTrustBoth, []*x509.Certificate{desired, other}, causeCAChanged}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			phase, trusted, cause := planTrust(desired, tc.live, tc.cause)
			g.Expect(phase).To(Equal(tc.want.phase))
			g.Expect(trusted).To(Equal(tc.want.trusted))
			g.Expect(cause).To(Equal(tc.want.cause))
		})
	}
}

// TestNextPhase: TrustBoth -> SignWithNew (same trust) -> DropOld (desired alone) -> done.
func TestNextPhase(t *testing.T) {
	g := NewWithT(t)
	a, b := &x509.Certificate{Raw: []byte{1}}, &x509.Certificate{Raw: []byte{2}}
	phase, trusted := nextPhase(caPhaseTrustBoth, []*x509.Certificate{a, b})
	g.Expect(phase).To(Equal(caPhaseSignWithNew))
	g.Expect(trusted).To(HaveLen(2))
	phase, trusted = nextPhase(phase, trusted)
	g.Expect(phase).To(Equal(caPhaseDropOld))
	g.Expect(trusted).To(Equal([]*x509.Certificate{a}))
	phase, trusted = nextPhase(phase, trusted)
	g.Expect(phase).To(BeEmpty())
	g.Expect(trusted).To(Equal([]*x509.Certificate{a}))
}

// TestStateForSigner: in TrustBoth the CA being replaced signs when its key is held and it is
// trusted; otherwise, and in every later phase, the desired CA signs.
func TestStateForSigner(t *testing.T) {
	g := NewWithT(t)
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	mk := func() *pki.KeyPair {
		kp, err := pki.CreateRootCA(clk, "ca", "", 365*24*time.Hour)
		g.Expect(err).NotTo(HaveOccurred())
		return kp
	}
	prev, desired := mk(), mk()
	src := &caSource{Desired: desired, Previous: prev}
	both := []*x509.Certificate{desired.Certificate, prev.Certificate}
	g.Expect(stateFor(src, caPhaseTrustBoth, "", both).Signer).To(Equal(prev))
	g.Expect(stateFor(src, caPhaseTrustBoth, "", both[:1]).Signer).To(Equal(desired), "an untrusted previous CA never signs")
	g.Expect(stateFor(src, caPhaseSignWithNew, "", both).Signer).To(Equal(desired))
	g.Expect(stateFor(&caSource{Desired: desired}, caPhaseTrustBoth, "", both).Signer).To(Equal(desired), "no key of the old CA: the desired one")
}
