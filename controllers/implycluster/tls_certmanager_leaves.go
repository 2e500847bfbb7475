package implycluster

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"time"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"

	"github.com/imply-operator/imply-operator/pkg/pki"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// issuedLeaf is what cert-manager issued for one leaf: the Certificate, and, once usable, the
// leaf (tls.crt, its chain and tls.key) and the CA of its ca.crt it verifies against.
type issuedLeaf struct {
	crt *cmv1.Certificate
	// pending says why the leaf is not usable yet; empty once it is.
	pending string
	// certPEM is tls.crt as issued (the leaf, then any intermediates); keyPEM is tls.key.
	certPEM, keyPEM []byte
	leaf            *x509.Certificate
	// intermediates are the certificates after the leaf in tls.crt.
	intermediates []*x509.Certificate
	// anchor is the certificate of ca.crt the leaf's chain ends at: the issuer's CA.
	anchor *x509.Certificate
}

// notReady says why l cannot be served, "" when it can; a nil l has not been read.
func (l *issuedLeaf) notReady() string {
	if l == nil {
		return "not read yet"
	}
	return l.pending
}

// parse reads the issued Secret's data into l, and says why it is unusable ("" when usable):
// tls.crt and tls.key must parse and match, and the leaf must verify, at now, against one CA of
// ca.crt through the intermediates of tls.crt.
func (l *issuedLeaf) parse(data map[string][]byte, now time.Time) string {
	kp, err := pki.ParseKeyPair(data[specs.TLSCertKey], data[specs.TLSPrivateKeyKey])
	if err != nil {
		return fmt.Sprintf("the issued tls.crt and tls.key are not usable: %v", err)
	}
	chain, err := pki.ParseBundle(data[specs.TLSCertKey])
	if err != nil {
		return fmt.Sprintf("the issued tls.crt is not usable: %v", err)
	}
	cas, err := pki.ParseBundle(data[specs.TLSCAKey])
	if err != nil || len(cas) == 0 {
		return fmt.Sprintf("the issued ca.crt is not usable: %v", err)
	}
	anchor, err := verifiedAnchor(kp.Certificate, chain[1:], cas, now)
	if err != nil {
		return fmt.Sprintf("the issued certificate does not verify against the CA cert-manager gave with it (ca.crt): %v", err)
	}
	l.certPEM, l.keyPEM, l.leaf, l.intermediates, l.anchor = data[specs.TLSCertKey], data[specs.TLSPrivateKeyKey], kp.Certificate, chain[1:], anchor
	return ""
}

// usable says whether l can be served.
func (l *issuedLeaf) usable() bool { return l != nil && l.pending == "" && l.leaf != nil }

// verifiedAnchor verifies leaf against roots through intermediates and returns the root its
// chain ends at. It verifies at now, moved into the leaf's validity: whether a leaf has expired
// is decided apart, and a leaf issued a moment ago by a clock slightly ahead of the operator's
// (cert-manager does not backdate) is not refused as "not yet valid".
func verifiedAnchor(leaf *x509.Certificate, intermediates, roots []*x509.Certificate, now time.Time) (*x509.Certificate, error) {
	if now.Before(leaf.NotBefore) {
		now = leaf.NotBefore
	}
	if now.After(leaf.NotAfter) {
		now = leaf.NotAfter
	}
	rootPool, interPool := x509.NewCertPool(), x509.NewCertPool()
	for _, c := range roots {
		rootPool.AddCert(c)
	}
	for _, c := range intermediates {
		interPool.AddCert(c)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{Roots: rootPool, Intermediates: interPool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return nil, err
	}
	chain := chains[0]
	return chain[len(chain)-1], nil
}

// verifiesWith says whether the leaf of certPEM (the first certificate, the others its
// intermediates) verifies at now against one of roots.
func verifiesWith(certPEM []byte, roots []*x509.Certificate, now time.Time) bool {
	certs, err := pki.ParseBundle(certPEM)
	if err != nil || len(certs) == 0 || len(roots) == 0 {
		return false
	}
	_, err = verifiedAnchor(certs[0], certs[1:], roots, now)
	return err == nil
}

// newestIssuerCA is the CA the issuer signs with now: the CA of the usable issued leaf issued
// last (the earliest target on a tie); nil when none is usable.
func newestIssuerCA(targets []specs.LeafTarget, issued map[string]*issuedLeaf) *x509.Certificate {
	var newest *issuedLeaf
	for _, t := range targets {
		if l := issued[t.SecretName]; l.usable() && (newest == nil || l.leaf.NotBefore.After(newest.leaf.NotBefore)) {
			newest = l
		}
	}
	if newest == nil {
		return nil
	}
	return newest.anchor
}

// leafAction is what a leaf Secret serves in a reconcile.
type leafAction int

const (
	// keepServed keeps the live leaf (re-trusted to the phase's CAs).
	keepServed leafAction = iota
	// serveIssued copies cert-manager's issued leaf in.
	serveIssued
	// awaitIssuer: nothing usable to serve yet.
	awaitIssuer
)

// leafChoiceInput is what chooseLeaf looks at for one leaf.
type leafChoiceInput struct {
	// Phase is the CA rotation phase ("" when none).
	Phase string
	// ServedCert and ServedKey are the live leaf Secret's tls.crt and tls.key (empty: none).
	ServedCert, ServedKey []byte
	// Issued is cert-manager's leaf (nil or not usable: none to serve).
	Issued *issuedLeaf
	// Request is the leaf the spec asks for.
	Request pki.LeafRequest
	// Trusted are the CAs the phase trusts; Desired is the one that must end up signing.
	Trusted []*x509.Certificate
	Desired *x509.Certificate
	// Now and RenewBefore decide whether the live leaf is due.
	Now         time.Time
	RenewBefore time.Duration
}

// leafChoice is chooseLeaf's decision.
type leafChoice struct {
	Action leafAction
	// RequestReissue asks cert-manager to issue again: its leaf is not of the desired CA.
	RequestReissue bool
	// Why says why the issued leaf is served, for events.
	Why string
}

// chooseLeaf decides what a leaf Secret serves so that trust never breaks while the CA behind
// the issuer changes. Every served leaf must verify against a CA the phase trusts. In TrustBoth
// (the new CA's bundle still rolling out) the live leaf is kept unless it cannot be served at
// all (missing, unparseable, other names, usages or key algorithm, expired, or not trusted);
// renewals wait for SignWithNew, cert-manager's renewBefore leaving ample time. From
// SignWithNew on, and with no rotation, an issued leaf of the desired CA newer than the live one
// is served (cert-manager renewed it), and a leaf cert-manager still holds from another CA is
// issued again on request.
func chooseLeaf(in leafChoiceInput) leafChoice {
	reason, msg, bad := pki.NeedsReissue(pki.ReissueInput{
		CertPEM: in.ServedCert, KeyPEM: in.ServedKey, Request: in.Request, Now: in.Now, RenewBefore: in.RenewBefore,
	})
	var served *x509.Certificate
	if certs, err := pki.ParseBundle(in.ServedCert); err == nil && len(certs) > 0 {
		served = certs[0]
	}
	unusable := (bad && reason != pki.ReissueExpiring) || served == nil || !in.Now.Before(served.NotAfter) ||
		!verifiesWith(in.ServedCert, in.Trusted, in.Now)
	if unusable && !bad {
		reason, msg = pki.ReissueIssuerChanged, "not signed by a trusted CA, or expired"
	}
	iss := in.Issued
	if !iss.usable() {
		iss = nil
	}
	same := iss != nil && served != nil && bytes.Equal(iss.leaf.Raw, served.Raw)
	issuedTrusted := iss != nil && containsCert(in.Trusted, iss.anchor)
	issuedByDesired := iss != nil && iss.anchor.Equal(in.Desired)
	keepOrWait := func(c leafChoice) leafChoice {
		if unusable {
			c.Action = awaitIssuer
		}
		return c
	}
	if in.Phase == caPhaseTrustBoth {
		if unusable && iss != nil && issuedTrusted && !same {
			return leafChoice{Action: serveIssued, Why: fmt.Sprintf("%s: %s", reason, msg)}
		}
		return keepOrWait(leafChoice{Action: keepServed})
	}
	servedByDesired := verifiesWith(in.ServedCert, []*x509.Certificate{in.Desired}, in.Now)
	if issuedByDesired && !same && (served == nil || unusable || iss.leaf.NotBefore.After(served.NotBefore) || !servedByDesired) {
		why := "renewed by cert-manager"
		switch {
		case unusable:
			why = fmt.Sprintf("%s: %s", reason, msg)
		case !servedByDesired:
			why = "signed by the issuer's current CA"
		}
		return leafChoice{Action: serveIssued, Why: why}
	}
	return keepOrWait(leafChoice{Action: keepServed, RequestReissue: iss != nil && !issuedByDesired})
}

// packIssuedLeaf is a leaf Secret's data serving the issued leaf: its certificate and key, a
// PKCS#12 keystore of them with their chain, and the trusted CAs as ca.crt and a truststore,
// encrypted with the live keystore password (a new one when there is none).
func packIssuedLeaf(iss *issuedLeaf, trusted []*x509.Certificate, password []byte) (map[string][]byte, error) {
	pw := string(password)
	if len(pw) < keystorePasswordLength {
		var err error
		if pw, err = pki.GeneratePassword(rand.Reader, keystorePasswordLength); err != nil {
			return nil, err
		}
	}
	kp, err := pki.ParseKeyPair(iss.certPEM, iss.keyPEM)
	if err != nil {
		return nil, err
	}
	chain := append(append([]*x509.Certificate(nil), iss.intermediates...), iss.anchor)
	keystore, err := pki.Keystore(kp, chain, pw)
	if err != nil {
		return nil, err
	}
	truststore, err := pki.Truststore(trusted, pw)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{
		specs.TLSCertKey:          iss.certPEM,
		specs.TLSPrivateKeyKey:    iss.keyPEM,
		specs.TLSCAKey:            pki.BundlePEM(trusted...),
		specs.KeystoreKey:         keystore,
		specs.TruststoreKey:       truststore,
		specs.KeystorePasswordKey: []byte(pw),
	}, nil
}
