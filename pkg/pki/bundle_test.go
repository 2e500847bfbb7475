package pki

import (
	"crypto/x509"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

func TestBundlePEM(t *testing.T) {
	a, b, c := mustCA(t, ""), mustCA(t, ""), mustCA(t, "")
	for _, tc := range []struct {
		name string
		in   []*x509.Certificate
		want []*x509.Certificate
	}{
		{name: "empty", in: nil, want: nil},
		{name: "one", in: []*x509.Certificate{a.Certificate}, want: []*x509.Certificate{a.Certificate}},
		{name: "order kept", in: []*x509.Certificate{b.Certificate, a.Certificate, c.Certificate},
			want: []*x509.Certificate{b.Certificate, a.Certificate, c.Certificate}},
		{name: "duplicates and nils dropped, first occurrence wins",
			in:   []*x509.Certificate{a.Certificate, nil, b.Certificate, a.Certificate, b.Certificate},
			want: []*x509.Certificate{a.Certificate, b.Certificate}},
		{name: "duplicate by content, not pointer", in: []*x509.Certificate{a.Certificate, reparse(t, a.Certificate)},
			want: []*x509.Certificate{a.Certificate}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			out := BundlePEM(tc.in...)
			g.Expect(BundlePEM(tc.in...)).To(Equal(out), "deterministic")
			var want []byte
			for _, w := range tc.want {
				want = append(want, encodeCertificatePEM(w)...)
			}
			g.Expect(out).To(Equal(want))
			if len(tc.want) == 0 {
				return
			}
			parsed, err := ParseBundle(out)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(parsed).To(HaveLen(len(tc.want)))
			for i := range parsed {
				g.Expect(parsed[i].Equal(tc.want[i])).To(BeTrue())
			}
		})
	}
}

func reparse(t *testing.T, c *x509.Certificate) *x509.Certificate {
	t.Helper()
	out, err := x509.ParseCertificate(c.Raw)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestParseBundle(t *testing.T) {
	a, b := mustCA(t, ""), mustCA(t, "")
	bundle := string(BundlePEM(a.Certificate, b.Certificate))
	for _, tc := range []struct {
		name    string
		in      string
		wantN   int
		wantMsg string
	}{
		{name: "two", in: bundle, wantN: 2},
		{name: "comments between blocks", in: "# old CA\n" + string(a.CertPEM) + "\n# new CA\n" + string(b.CertPEM) + "\n# end\n", wantN: 2},
		{name: "empty", in: "", wantMsg: "the bundle has no certificate"},
		{name: "garbage", in: "garbage", wantMsg: "the bundle has no certificate"},
		{name: "a key in the bundle", in: bundle + string(a.KeyPEM),
			wantMsg: `the bundle has a PEM block of type "PRIVATE KEY"; only CERTIFICATE blocks are allowed`},
		{name: "bad certificate", in: bundle + "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n",
			wantMsg: "certificate 3 of the bundle does not parse: x509: "},
		{name: "long block type", in: "-----BEGIN " + strings.Repeat("X", 100) + "-----\nMAA=\n-----END " + strings.Repeat("X", 100) + "-----\n",
			wantMsg: `the bundle has a PEM block of type "` + strings.Repeat("X", 40) + `..."`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			certs, err := ParseBundle([]byte(tc.in))
			if tc.wantMsg != "" {
				g.Expect(err).To(MatchError(ErrMalformed))
				g.Expect(err.Error()).To(HavePrefix(tc.wantMsg))
				g.Expect(certs).To(BeNil())
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(certs).To(HaveLen(tc.wantN))
		})
	}
}
