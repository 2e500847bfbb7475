package plugin

import (
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/imply-operator/imply-operator/pkg/pki"
)

func TestEncodeCABundle(t *testing.T) {
	g := NewWithT(t)
	one := testCA(t, "ca-one", t0, 365*24*time.Hour)
	two := testCA(t, "ca-two", t0, 365*24*time.Hour)
	single := pki.BundlePEM(one.Certificate)
	double := pki.BundlePEM(two.Certificate, one.Certificate)

	// pem: every CA, as the bundle holds them.
	data, notes, err := EncodeCABundle(double, FormatPEM, "")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(data).To(Equal(double))
	g.Expect(notes).To(ConsistOf(ContainSubstring("trusts 2 CAs")))
	rest, n := data, 0
	for {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		n++
	}
	g.Expect(n).To(Equal(2))

	// der: the first (signing) CA only, said so when there are more.
	data, notes, err = EncodeCABundle(single, FormatDER, "")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(notes).To(BeEmpty())
	cert, err := x509.ParseCertificate(data)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cert.Subject.CommonName).To(Equal("ca-one"))
	data, notes, err = EncodeCABundle(double, FormatDER, "")
	g.Expect(err).NotTo(HaveOccurred())
	cert, err = x509.ParseCertificate(data)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cert.Subject.CommonName).To(Equal("ca-two"))
	g.Expect(notes).To(ContainElement(ContainSubstring("only the first (signing) CA is written")))

	// p12: a trust store of every CA under the password.
	data, _, err = EncodeCABundle(double, FormatP12, "s3cret")
	g.Expect(err).NotTo(HaveOccurred())
	certs, err := pkcs12.DecodeTrustStore(data, "s3cret")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(certs).To(HaveLen(2))
	_, err = pkcs12.DecodeTrustStore(data, "wrong")
	g.Expect(err).To(HaveOccurred())

	// Bad input.
	_, _, err = EncodeCABundle(single, "jks", "")
	g.Expect(err).To(MatchError(ContainSubstring("--format must be pem, der or p12")))
	g.Expect(ExitCode(err)).To(Equal(ExitUsage))
	_, _, err = EncodeCABundle([]byte("not a certificate"), FormatPEM, "")
	g.Expect(err).To(HaveOccurred())
	_, _, err = EncodeCABundle(nil, FormatPEM, "")
	g.Expect(err).To(HaveOccurred())
}

func TestTrustInstructions(t *testing.T) {
	g := NewWithT(t)
	s := TrustInstructions("demo-ca.crt", FormatPEM)
	for _, want := range []string{"macOS", "Keychain", "Windows", "Trusted Root Certification Authorities", "Local Machine",
		"Group Policy", "restart the browser", "Linux", "update-ca-certificates", "--cacert demo-ca.crt", "TLS 1.2"} {
		g.Expect(s).To(ContainSubstring(want))
	}
	g.Expect(TrustInstructions("ts.p12", FormatP12)).To(ContainSubstring("-Djavax.net.ssl.trustStore=ts.p12"))
	g.Expect(TrustInstructions("", FormatPEM)).To(ContainSubstring("trust ca.crt"))
}
