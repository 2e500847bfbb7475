package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

func TestSignClientLeaf(t *testing.T) {
	g := NewWithT(t)
	ca := mustCA(t, implyv1alpha1.KeyAlgorithmECDSAP256)
	leaf, err := ca.SignLeaf(fakeClock(t0), ClientLeafRequest("druid", "", 30*24*time.Hour))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(leaf.Certificate.Subject.CommonName).To(Equal("druid"))
	g.Expect(leaf.Certificate.DNSNames).To(BeEmpty())
	g.Expect(leaf.Certificate.ExtKeyUsage).To(Equal([]x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}))

	pool := x509.NewCertPool()
	pool.AddCert(ca.Certificate)
	_, err = leaf.Certificate.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: t0, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	g.Expect(err).NotTo(HaveOccurred())
	_, err = leaf.Certificate.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: t0, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	g.Expect(err).To(HaveOccurred(), "a database client certificate must not serve TLS")

	_, err = ca.SignLeaf(fakeClock(t0), ClientLeafRequest("", "", time.Hour))
	g.Expect(err).To(MatchError(ContainSubstring("common name")))

	// A re-issue is due when the database user changes.
	_, _, reissue := NeedsReissue(ReissueInput{
		CertPEM: leaf.CertPEM, KeyPEM: leaf.KeyPEM, CA: ca.Certificate, Now: t0, RenewBefore: time.Hour,
		Request: ClientLeafRequest("druid", "", 30*24*time.Hour),
	})
	g.Expect(reissue).To(BeFalse())
	reason, _, reissue := NeedsReissue(ReissueInput{
		CertPEM: leaf.CertPEM, KeyPEM: leaf.KeyPEM, CA: ca.Certificate, Now: t0, RenewBefore: time.Hour,
		Request: ClientLeafRequest("druid2", "", 30*24*time.Hour),
	})
	g.Expect(reissue).To(BeTrue())
	g.Expect(reason).To(Equal(ReissueSANsChanged))
}

func TestPKCS8DER(t *testing.T) {
	g := NewWithT(t)
	ca := mustCA(t, implyv1alpha1.KeyAlgorithmECDSAP256)
	leaf, err := ca.SignLeaf(fakeClock(t0), ClientLeafRequest("druid", implyv1alpha1.KeyAlgorithmRSA2048, time.Hour))
	g.Expect(err).NotTo(HaveOccurred())
	der, err := PKCS8DER(leaf)
	g.Expect(err).NotTo(HaveOccurred())
	key, err := x509.ParsePKCS8PrivateKey(der)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(publicKeysEqual(leaf.Certificate.PublicKey, key.(crypto.Signer).Public())).To(BeTrue())
	_, err = PKCS8DER(nil)
	g.Expect(err).To(HaveOccurred())
}

func TestParseClientCertificate(t *testing.T) {
	key, other := testKey(t, "p256"), testKey(t, "p256-b")
	caKey := testKey(t, "p256-c")
	caTmpl := certTemplate()
	caPEM := selfSigned(t, caKey, caTmpl)
	ca, err := x509.ParseCertificate(pemBlock(t, caPEM))
	if err != nil {
		t.Fatal(err)
	}
	issue := func(mods ...func(*x509.Certificate)) []byte {
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(7),
			Subject:      pkix.Name{CommonName: "druid"},
			NotBefore:    t0.Add(-time.Hour),
			NotAfter:     t0.Add(24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}
		for _, m := range mods {
			m(tmpl)
		}
		der, err := x509.CreateCertificate(randReader(), tmpl, ca, key.Public(), caKey)
		if err != nil {
			t.Fatal(err)
		}
		return pemEncodeCert(der)
	}
	goodKey := keyPEM(t, key, "sec1")
	for _, tc := range []struct {
		name    string
		data    map[string][]byte
		wantErr error
		wantMsg string
	}{
		{name: "valid", data: map[string][]byte{SecretKeyTLSCert: issue(), SecretKeyTLSKey: goodKey}},
		{name: "no EKU is unrestricted", data: map[string][]byte{
			SecretKeyTLSCert: issue(func(c *x509.Certificate) { c.ExtKeyUsage = nil }), SecretKeyTLSKey: goodKey}},
		{name: "missing key", data: map[string][]byte{SecretKeyTLSCert: issue()},
			wantErr: ErrMissingKey, wantMsg: "tls.key is missing or empty"},
		{name: "missing cert", data: map[string][]byte{SecretKeyTLSKey: goodKey},
			wantErr: ErrMissingKey, wantMsg: "tls.crt is missing or empty"},
		{name: "garbage cert", data: map[string][]byte{SecretKeyTLSCert: []byte("nope"), SecretKeyTLSKey: goodKey},
			wantErr: ErrMalformed},
		{name: "wrong key", data: map[string][]byte{SecretKeyTLSCert: issue(), SecretKeyTLSKey: keyPEM(t, other, "pkcs8")},
			wantErr: ErrKeyMismatch, wantMsg: "tls.key does not match the public key of tls.crt"},
		{name: "expired", data: map[string][]byte{
			SecretKeyTLSCert: issue(func(c *x509.Certificate) { c.NotAfter = t0.Add(-time.Minute) }), SecretKeyTLSKey: goodKey},
			wantErr: ErrExpired, wantMsg: "tls.crt expired at"},
		{name: "not yet valid", data: map[string][]byte{
			SecretKeyTLSCert: issue(func(c *x509.Certificate) { c.NotBefore = t0.Add(time.Hour) }), SecretKeyTLSKey: goodKey},
			wantErr: ErrNotYetValid},
		{name: "server only", data: map[string][]byte{
			SecretKeyTLSCert: issue(func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth} }),
			SecretKeyTLSKey:  goodKey},
			wantErr: ErrNotClientCertificate, wantMsg: "does not include clientAuth"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			kp, err := ParseClientCertificate(tc.data, t0)
			if tc.wantErr == nil {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(kp.Certificate.Subject.CommonName).To(Equal("druid"))
				return
			}
			g.Expect(errors.Is(err, tc.wantErr)).To(BeTrue(), "error %v is not %v", err, tc.wantErr)
			g.Expect(err.Error()).To(ContainSubstring(tc.wantMsg))
			g.Expect(strings.Contains(err.Error(), "PRIVATE KEY")).To(BeFalse())
		})
	}
}

// pemBlock returns the DER of the first PEM block of data.
func pemBlock(t testing.TB, data []byte) []byte {
	t.Helper()
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatal("no PEM block")
	}
	return block.Bytes
}

func randReader() io.Reader { return rand.Reader }

func pemEncodeCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: PEMBlockCertificate, Bytes: der})
}
