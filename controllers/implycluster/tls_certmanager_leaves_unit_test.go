package implycluster

import (
	"crypto/x509"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	clocktesting "k8s.io/utils/clock/testing"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// leafFixture is a CA, and leaves it signs for one request.
type leafFixture struct {
	t   *testing.T
	req pki.LeafRequest
}

func (f leafFixture) ca(name string) *pki.KeyPair {
	ca, err := pki.CreateRootCA(clocktesting.NewFakeClock(time.Now()), name, implyv1alpha1.KeyAlgorithmECDSAP256, 365*24*time.Hour)
	if err != nil {
		f.t.Fatal(err)
	}
	return ca
}

// issued is a usable issuedLeaf signed by ca at issuedAt.
func (f leafFixture) issued(ca *pki.KeyPair, issuedAt time.Time) *issuedLeaf {
	leaf, err := ca.SignLeaf(clocktesting.NewFakeClock(issuedAt), f.req)
	if err != nil {
		f.t.Fatal(err)
	}
	l := &issuedLeaf{}
	if why := l.parse(map[string][]byte{"tls.crt": leaf.CertPEM, "tls.key": leaf.KeyPEM, "ca.crt": ca.CertPEM}, issuedAt.Add(time.Minute)); why != "" {
		f.t.Fatal(why)
	}
	return l
}

// TestChooseLeafHoldsANewIssuerCAsLeafBackUntilItIsTrusted: what a leaf Secret serves in each
// phase while the CA behind the issuer changes (the decisions behind the envtest rotation).
func TestChooseLeafHoldsANewIssuerCAsLeafBackUntilItIsTrusted(t *testing.T) {
	g := NewWithT(t)
	f := leafFixture{t: t, req: pki.LeafRequest{CommonName: "c-data", DNSNames: []string{"c-data.ns.svc"}, Algorithm: implyv1alpha1.KeyAlgorithmECDSAP256, Validity: 90 * 24 * time.Hour}}
	oldCA, newCA := f.ca("old"), f.ca("new")
	start := time.Now()
	served := f.issued(oldCA, start)
	renewed := f.issued(newCA, start.Add(time.Hour))
	now := start.Add(2 * time.Hour)
	in := func(phase string, trusted []*x509.Certificate, issued *issuedLeaf) leafChoiceInput {
		return leafChoiceInput{Phase: phase, ServedCert: served.certPEM, ServedKey: served.keyPEM, Issued: issued, Request: f.req,
			Trusted: trusted, Desired: newCA.Certificate, Now: now, RenewBefore: 30 * 24 * time.Hour}
	}
	both := []*x509.Certificate{newCA.Certificate, oldCA.Certificate}

	t.Log("TrustBoth: the live leaf of the old CA is kept, although cert-manager holds one of the new CA")
	g.Expect(chooseLeaf(in(caPhaseTrustBoth, both, renewed))).To(Equal(leafChoice{Action: keepServed}))

	t.Log("TrustBoth: a leaf that cannot be served at all (none yet) takes the issued one")
	noServed := in(caPhaseTrustBoth, both, renewed)
	noServed.ServedCert, noServed.ServedKey = nil, nil
	g.Expect(chooseLeaf(noServed).Action).To(Equal(serveIssued))

	t.Log("SignWithNew: the issued leaf of the new CA is served")
	g.Expect(chooseLeaf(in(caPhaseSignWithNew, both, renewed)).Action).To(Equal(serveIssued))

	t.Log("SignWithNew: cert-manager still holds the old CA's leaf: keep the live one and ask for a re-issue")
	g.Expect(chooseLeaf(in(caPhaseSignWithNew, both, served))).To(Equal(leafChoice{Action: keepServed, RequestReissue: true}))

	t.Log("DropOld: a live leaf of the dropped CA is not served; without a leaf of the new CA, wait")
	g.Expect(chooseLeaf(in(caPhaseDropOld, []*x509.Certificate{newCA.Certificate}, served))).To(Equal(leafChoice{Action: awaitIssuer, RequestReissue: true}))

	t.Log("no rotation: cert-manager's renewal from the same CA is served")
	steady := in("", []*x509.Certificate{oldCA.Certificate}, f.issued(oldCA, start.Add(time.Hour)))
	steady.Desired = oldCA.Certificate
	g.Expect(chooseLeaf(steady).Action).To(Equal(serveIssued))
	steady.Issued = served
	g.Expect(chooseLeaf(steady)).To(Equal(leafChoice{Action: keepServed}), "the same leaf")

	t.Log("the newest issued leaf's CA is the desired one")
	issued := map[string]*issuedLeaf{"a": served, "b": renewed, "c": {pending: "not Ready yet"}}
	targets := leafTargetsNamed("a", "b", "c")
	g.Expect(newestIssuerCA(targets, issued).Equal(newCA.Certificate)).To(BeTrue())
	g.Expect(newestIssuerCA(targets, map[string]*issuedLeaf{"c": {pending: "x"}})).To(BeNil())
}

// leafTargetsNamed are leaf targets with the given Secret names.
func leafTargetsNamed(names ...string) []specs.LeafTarget {
	var out []specs.LeafTarget
	for _, n := range names {
		out = append(out, specs.LeafTarget{SecretName: n})
	}
	return out
}

// TestIssuedLeafFromAClockAheadIsUsable: a leaf cert-manager issued a moment ahead of the
// operator's clock (it does not backdate) is usable, and its CA found.
func TestIssuedLeafFromAClockAheadIsUsable(t *testing.T) {
	f := leafFixture{t: t, req: pki.LeafRequest{CommonName: "c-data", DNSNames: []string{"c-data.ns.svc"}, Algorithm: implyv1alpha1.KeyAlgorithmECDSAP256, Validity: 24 * time.Hour}}
	ca := f.ca("issuer")
	leaf, err := ca.SignLeaf(clocktesting.NewFakeClock(time.Now()), f.req)
	if err != nil {
		t.Fatal(err)
	}
	l := &issuedLeaf{}
	behind := leaf.Certificate.NotBefore.Add(-time.Minute)
	NewWithT(t).Expect(l.parse(map[string][]byte{"tls.crt": leaf.CertPEM, "tls.key": leaf.KeyPEM, "ca.crt": ca.CertPEM}, behind)).To(BeEmpty())
	NewWithT(t).Expect(l.anchor.Equal(ca.Certificate)).To(BeTrue())
	NewWithT(t).Expect(verifiesWith(leaf.CertPEM, []*x509.Certificate{ca.Certificate}, behind)).To(BeTrue())
}
