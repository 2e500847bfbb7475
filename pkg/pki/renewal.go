package pki

import (
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"
)

// RenewalTime is when cert should be renewed: renewBefore ahead of its notAfter. When
// renewBefore is not positive or not shorter than the certificate's lifetime (a leaf cut short
// by its CA's expiry, say), it is two thirds into the lifetime instead, as cert-manager does, so
// a short certificate is not renewed again and again. A nil cert gives the zero time.
func RenewalTime(cert *x509.Certificate, renewBefore time.Duration) time.Time {
	if cert == nil {
		return time.Time{}
	}
	lifetime := cert.NotAfter.Sub(cert.NotBefore)
	if renewBefore <= 0 || renewBefore >= lifetime {
		return cert.NotBefore.Add(lifetime * 2 / 3)
	}
	return cert.NotAfter.Add(-renewBefore)
}

// ReissueReason says why a live leaf certificate must be issued again. It is meant for
// condition reasons and events, so every value is UpperCamel.
type ReissueReason string

// Reasons for re-issuing a leaf, in the order NeedsReissue checks them.
const (
	// ReissueMissing: there is no live certificate.
	ReissueMissing ReissueReason = "Missing"
	// ReissueUnparseable: the live certificate or key does not parse, or they do not match.
	ReissueUnparseable ReissueReason = "Unparseable"
	// ReissueSANsChanged: the live subject names differ from the wanted ones.
	ReissueSANsChanged ReissueReason = "SANsChanged"
	// ReissueUsageChanged: the live extended key usages are not the wanted ones.
	ReissueUsageChanged ReissueReason = "UsageChanged"
	// ReissueKeyAlgorithmChanged: the live key is not of the wanted algorithm.
	ReissueKeyAlgorithmChanged ReissueReason = "KeyAlgorithmChanged"
	// ReissueIssuerChanged: the live certificate was not signed by the current CA.
	ReissueIssuerChanged ReissueReason = "IssuerChanged"
	// ReissueExpiring: the renewal time has come.
	ReissueExpiring ReissueReason = "Expiring"
)

// ReissueInput is everything the re-issue decision looks at, gathered by the caller.
type ReissueInput struct {
	// CertPEM is the live certificate (tls.crt); empty means there is none.
	CertPEM []byte
	// KeyPEM is the live private key (tls.key). When nil, the key is not checked; when
	// non-nil it must parse and match the certificate.
	KeyPEM []byte
	// Request is the certificate wanted now.
	Request LeafRequest
	// CA is the certificate that must have signed the live one. When nil, the issuer is not
	// checked.
	CA *x509.Certificate
	// Now is the current time.
	Now time.Time
	// RenewBefore is how long before expiry to renew; see RenewalTime.
	RenewBefore time.Duration
}

// reissueState is the input with the live certificate parsed once for all policies.
type reissueState struct {
	ReissueInput
	cert *x509.Certificate
}

// reissuePolicy is one link of the re-issue chain: it says whether, and why, to re-issue.
type reissuePolicy func(*reissueState) (reason ReissueReason, message string, reissue bool)

// reissueChain is the order NeedsReissue asks its policies in; the first that fires wins.
var reissueChain = []reissuePolicy{
	missingPolicy,
	unparseablePolicy,
	sansChangedPolicy,
	usageChangedPolicy,
	keyAlgorithmChangedPolicy,
	issuerChangedPolicy,
	expiringPolicy,
}

// NeedsReissue decides whether the live leaf in in must be issued again, and why: it is
// missing, unparseable (or its key does not match), its subject names, extended key usages or key algorithm differ
// from in.Request, it was not signed by in.CA, or its renewal time (RenewalTime) has come. The
// message is for users ("DNS names changed: ..."), and never contains key material.
func NeedsReissue(in ReissueInput) (ReissueReason, string, bool) {
	st := &reissueState{ReissueInput: in}
	for _, policy := range reissueChain {
		if reason, msg, reissue := policy(st); reissue {
			return reason, msg, true
		}
	}
	return "", "", false
}

// missingPolicy fires when there is no live certificate.
func missingPolicy(st *reissueState) (ReissueReason, string, bool) {
	if len(strings.TrimSpace(string(st.CertPEM))) == 0 {
		return ReissueMissing, "no certificate has been issued yet", true
	}
	return "", "", false
}

// unparseablePolicy fires when the live certificate or key cannot be used; it also parses the
// certificate for the policies after it.
func unparseablePolicy(st *reissueState) (ReissueReason, string, bool) {
	cert, err := parseFirstCertificate(SecretKeyTLSCert, st.CertPEM)
	if err != nil {
		return ReissueUnparseable, err.Error(), true
	}
	st.cert = cert
	if st.KeyPEM == nil {
		return "", "", false
	}
	key, err := parsePrivateKeyPEM(SecretKeyTLSKey, st.KeyPEM)
	if err != nil {
		return ReissueUnparseable, err.Error(), true
	}
	if !publicKeysEqual(cert.PublicKey, key.Public()) {
		return ReissueUnparseable, SecretKeyTLSKey + " does not match the public key of " + SecretKeyTLSCert, true
	}
	return "", "", false
}

// sansChangedPolicy fires when the common name or the DNS names differ from the request, or
// the certificate carries SANs the operator never asks for (IPs, URIs, e-mail addresses).
func sansChangedPolicy(st *reissueState) (ReissueReason, string, bool) {
	if st.cert.Subject.CommonName != st.Request.CommonName {
		return ReissueSANsChanged, fmt.Sprintf("common name %q, want %q", st.cert.Subject.CommonName, st.Request.CommonName), true
	}
	have, want := sortedUnique(st.cert.DNSNames), sortedUnique(st.Request.DNSNames)
	if !slices.Equal(have, want) {
		return ReissueSANsChanged, fmt.Sprintf("DNS names changed: have %s, want %s", strings.Join(have, ","), strings.Join(want, ",")), true
	}
	if len(st.cert.IPAddresses)+len(st.cert.URIs)+len(st.cert.EmailAddresses) > 0 {
		return ReissueSANsChanged, "the certificate has IP, URI or e-mail SANs that are not wanted", true
	}
	return "", "", false
}

// usageChangedPolicy fires when the extended key usages differ from the request's (a client
// certificate must not be usable to serve, nor a serving one lack clientAuth).
func usageChangedPolicy(st *reissueState) (ReissueReason, string, bool) {
	have, want := slices.Clone(st.cert.ExtKeyUsage), st.Request.ExtKeyUsages()
	slices.Sort(have)
	slices.Sort(want)
	if !slices.Equal(have, want) || len(st.cert.UnknownExtKeyUsage) > 0 {
		return ReissueUsageChanged, fmt.Sprintf("extended key usages %s, want %s", usageNames(have), usageNames(want)), true
	}
	return "", "", false
}

// usageNames spells extended key usages as RFC 5280 does (serverAuth, clientAuth).
func usageNames(usages []x509.ExtKeyUsage) string {
	names := make([]string, 0, len(usages))
	for _, u := range usages {
		switch u {
		case x509.ExtKeyUsageServerAuth:
			names = append(names, "serverAuth")
		case x509.ExtKeyUsageClientAuth:
			names = append(names, "clientAuth")
		default:
			names = append(names, fmt.Sprintf("usage(%d)", u))
		}
	}
	return "[" + strings.Join(names, ",") + "]"
}

// keyAlgorithmChangedPolicy fires when the live key is not of the requested algorithm.
func keyAlgorithmChangedPolicy(st *reissueState) (ReissueReason, string, bool) {
	want := normalizeAlgorithm(st.Request.Algorithm)
	have, err := KeyAlgorithmOf(st.cert.PublicKey)
	if err != nil {
		return ReissueKeyAlgorithmChanged, fmt.Sprintf("%s, want %s", err, want), true
	}
	if have != want {
		return ReissueKeyAlgorithmChanged, fmt.Sprintf("key algorithm %s, want %s", have, want), true
	}
	return "", "", false
}

// issuerChangedPolicy fires when the live certificate does not chain to st.CA: a different
// issuer name, or a signature that does not verify with the CA's key.
func issuerChangedPolicy(st *reissueState) (ReissueReason, string, bool) {
	if st.CA == nil {
		return "", "", false
	}
	msg := fmt.Sprintf("issued by %q, not signed by the current CA %q (serial %x)",
		st.cert.Issuer.String(), st.CA.Subject.String(), st.CA.SerialNumber)
	if string(st.cert.RawIssuer) != string(st.CA.RawSubject) {
		return ReissueIssuerChanged, msg, true
	}
	if err := st.cert.CheckSignatureFrom(st.CA); err != nil {
		return ReissueIssuerChanged, msg, true
	}
	return "", "", false
}

// expiringPolicy fires once the renewal time has come.
func expiringPolicy(st *reissueState) (ReissueReason, string, bool) {
	renewAt := RenewalTime(st.cert, st.RenewBefore)
	if !st.Now.Before(renewAt) {
		return ReissueExpiring, fmt.Sprintf("renewal was due at %s; the certificate expires at %s",
			formatTime(renewAt), formatTime(st.cert.NotAfter)), true
	}
	return "", "", false
}

// sortedUnique returns a sorted copy of names without duplicates.
func sortedUnique(names []string) []string {
	out := slices.Clone(names)
	slices.Sort(out)
	return slices.Compact(out)
}
