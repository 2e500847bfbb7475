package pki

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

func TestRenewalTime(t *testing.T) {
	const day = 24 * time.Hour
	cert := &x509.Certificate{NotBefore: t0, NotAfter: t0.Add(90 * day)}
	for _, tc := range []struct {
		name        string
		cert        *x509.Certificate
		renewBefore time.Duration
		want        time.Time
	}{
		{name: "renewBefore ahead of expiry", cert: cert, renewBefore: 30 * day, want: t0.Add(60 * day)},
		{name: "one hour", cert: cert, renewBefore: time.Hour, want: t0.Add(90*day - time.Hour)},
		{name: "zero renewBefore: two thirds", cert: cert, renewBefore: 0, want: t0.Add(60 * day)},
		{name: "negative renewBefore: two thirds", cert: cert, renewBefore: -day, want: t0.Add(60 * day)},
		{name: "renewBefore equal to the lifetime: two thirds", cert: cert, renewBefore: 90 * day, want: t0.Add(60 * day)},
		{name: "leaf cut short by its CA: two thirds", cert: &x509.Certificate{NotBefore: t0, NotAfter: t0.Add(9 * day)},
			renewBefore: 30 * day, want: t0.Add(6 * day)},
		{name: "nil certificate", cert: nil, renewBefore: day, want: time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(RenewalTime(tc.cert, tc.renewBefore)).To(Equal(tc.want))
		})
	}
}

// signWithIPSAN issues a leaf like SignLeaf's for req but with an IP SAN too.
func signWithIPSAN(t testing.TB, ca *KeyPair, req LeafRequest) []byte {
	t.Helper()
	key := testKey(t, "p256-l")
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: req.CommonName},
		DNSNames:     req.DNSNames,
		IPAddresses:  []net.IP{net.ParseIP("10.0.0.1")},
		NotBefore:    t0.Add(-time.Minute),
		NotAfter:     t0.Add(req.Validity),
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Certificate, key.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestNeedsReissue(t *testing.T) {
	const day = 24 * time.Hour
	ca := mustCA(t, "")
	leaf := mustLeaf(t, ca, "")
	// Same subject and serial-independent: only the key differs, as after a CA rotation that
	// reuses the common name.
	rotated := mustCA(t, "")
	renamed, err := CreateRootCA(fakeClock(t0), "another-ca", "", day*365)
	if err != nil {
		t.Fatal(err)
	}
	notAfter := leaf.Certificate.NotAfter
	renewAt := notAfter.Add(-30 * day)

	base := func() ReissueInput {
		return ReissueInput{
			CertPEM:     leaf.CertPEM,
			KeyPEM:      leaf.KeyPEM,
			Request:     dataRequest(""),
			CA:          ca.Certificate,
			Now:         t0,
			RenewBefore: 30 * day,
		}
	}
	for _, tc := range []struct {
		name       string
		mod        func(*ReissueInput)
		wantReason ReissueReason
		wantMsg    string
	}{
		{name: "up to date"},
		{name: "request algorithm spelled out", mod: func(in *ReissueInput) {
			in.Request.Algorithm = implyv1alpha1.KeyAlgorithmECDSAP256
		}},
		{name: "DNS names in another order", mod: func(in *ReissueInput) {
			n := in.Request.DNSNames
			in.Request.DNSNames = append([]string{n[len(n)-1]}, n[:len(n)-1]...)
		}},
		{name: "no key given: key not checked", mod: func(in *ReissueInput) { in.KeyPEM = nil }},
		{name: "no CA given: issuer not checked", mod: func(in *ReissueInput) { in.CA = nil }},
		{name: "one second before the renewal time", mod: func(in *ReissueInput) { in.Now = renewAt.Add(-time.Second) }},

		{name: "missing", mod: func(in *ReissueInput) { in.CertPEM = nil },
			wantReason: ReissueMissing, wantMsg: "no certificate has been issued yet"},
		{name: "blank", mod: func(in *ReissueInput) { in.CertPEM = []byte("\n") },
			wantReason: ReissueMissing, wantMsg: "no certificate has been issued yet"},
		{name: "missing wins over everything", mod: func(in *ReissueInput) {
			in.CertPEM, in.CA, in.Now = nil, rotated.Certificate, notAfter.Add(day)
		}, wantReason: ReissueMissing, wantMsg: "no certificate has been issued yet"},
		{name: "garbage certificate", mod: func(in *ReissueInput) { in.CertPEM = []byte("garbage") },
			wantReason: ReissueUnparseable, wantMsg: "tls.crt is not PEM-encoded (no CERTIFICATE block found)"},
		{name: "garbage key", mod: func(in *ReissueInput) { in.KeyPEM = []byte("garbage") },
			wantReason: ReissueUnparseable, wantMsg: "tls.key is not PEM-encoded (no private key block found)"},
		{name: "empty key", mod: func(in *ReissueInput) { in.KeyPEM = []byte{} },
			wantReason: ReissueUnparseable, wantMsg: "tls.key is empty"},
		{name: "key of another certificate", mod: func(in *ReissueInput) { in.KeyPEM = ca.KeyPEM },
			wantReason: ReissueUnparseable, wantMsg: "tls.key does not match the public key of tls.crt"},
		{name: "cluster domain changed", mod: func(in *ReissueInput) {
			in.Request.DNSNames = GroupDNSNames("c", "data", "ns", "corp.example")
		}, wantReason: ReissueSANsChanged, wantMsg: "DNS names changed: have " +
			"*.c-data-headless.ns.svc,*.c-data-headless.ns.svc.cluster.local,c-data,c-data.ns,c-data.ns.svc,c-data.ns.svc.cluster.local, want " +
			"*.c-data-headless.ns.svc,*.c-data-headless.ns.svc.corp.example,c-data,c-data.ns,c-data.ns.svc,c-data.ns.svc.corp.example"},
		{name: "a name dropped", mod: func(in *ReissueInput) { in.Request.DNSNames = in.Request.DNSNames[1:] },
			wantReason: ReissueSANsChanged},
		{name: "common name changed", mod: func(in *ReissueInput) { in.Request.CommonName = "c-data2" },
			wantReason: ReissueSANsChanged, wantMsg: `common name "c-data", want "c-data2"`},
		{name: "unwanted IP SAN", mod: func(in *ReissueInput) {
			in.CertPEM, in.KeyPEM = signWithIPSAN(t, ca, in.Request), nil
		}, wantReason: ReissueSANsChanged, wantMsg: "the certificate has IP, URI or e-mail SANs that are not wanted"},
		{name: "SANs win over expiry", mod: func(in *ReissueInput) {
			in.Request.DNSNames, in.Now = []string{"x"}, notAfter.Add(day)
		}, wantReason: ReissueSANsChanged},
		{name: "a client certificate wanted, a serving one live", mod: func(in *ReissueInput) {
			in.Request.ClientOnly = true
		}, wantReason: ReissueUsageChanged, wantMsg: "extended key usages [serverAuth,clientAuth], want [clientAuth]"},
		{name: "algorithm changed", mod: func(in *ReissueInput) { in.Request.Algorithm = implyv1alpha1.KeyAlgorithmRSA2048 },
			wantReason: ReissueKeyAlgorithmChanged, wantMsg: "key algorithm ECDSA-P256, want RSA-2048"},
		{name: "CA rotated, same subject", mod: func(in *ReissueInput) { in.CA = rotated.Certificate },
			wantReason: ReissueIssuerChanged,
			wantMsg:    `issued by "CN=c-ca", not signed by the current CA "CN=c-ca" (serial ` + rotated.Certificate.SerialNumber.Text(16) + ")"},
		{name: "CA replaced by another name", mod: func(in *ReissueInput) { in.CA = renamed.Certificate },
			wantReason: ReissueIssuerChanged},
		{name: "at the renewal time", mod: func(in *ReissueInput) { in.Now = renewAt },
			wantReason: ReissueExpiring, wantMsg: "renewal was due at " + renewAt.Format(time.RFC3339) +
				"; the certificate expires at " + notAfter.Format(time.RFC3339)},
		{name: "expired", mod: func(in *ReissueInput) { in.Now = notAfter.Add(time.Hour) }, wantReason: ReissueExpiring},
		{name: "renewBefore longer than the lifetime", mod: func(in *ReissueInput) {
			in.RenewBefore, in.Now = 365*day, leaf.Certificate.NotBefore.Add(61*day)
		}, wantReason: ReissueExpiring},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			in := base()
			if tc.mod != nil {
				tc.mod(&in)
			}
			reason, msg, reissue := NeedsReissue(in)
			g.Expect(reason).To(Equal(tc.wantReason))
			g.Expect(reissue).To(Equal(tc.wantReason != ""))
			if tc.wantMsg != "" {
				g.Expect(msg).To(Equal(tc.wantMsg))
			}
			if !reissue {
				g.Expect(msg).To(BeEmpty())
			}
		})
	}
}

// A certificate fresh from SignLeaf never needs re-issuing against the request it came from.
func TestNeedsReissueFreshLeaf(t *testing.T) {
	ca := mustCA(t, implyv1alpha1.KeyAlgorithmRSA2048)
	for _, alg := range []implyv1alpha1.KeyAlgorithm{"", implyv1alpha1.KeyAlgorithmRSA2048} {
		g := NewWithT(t)
		leaf := mustLeaf(t, ca, alg)
		reason, msg, reissue := NeedsReissue(ReissueInput{
			CertPEM: leaf.CertPEM, KeyPEM: leaf.KeyPEM, Request: dataRequest(alg), CA: ca.Certificate,
			Now: t0, RenewBefore: 720 * time.Hour,
		})
		g.Expect(reissue).To(BeFalse(), "%s: %s", reason, msg)
	}
}
