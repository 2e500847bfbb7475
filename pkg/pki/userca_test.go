package pki

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// userCACase is one user-CA Secret and what ParseUserCA must say about it.
type userCACase struct {
	name    string
	data    map[string][]byte
	wantErr error
	wantMsg string
}

// tlsSecret is the data of a `kubectl create secret tls` Secret.
func tlsSecret(cert, key []byte) map[string][]byte {
	return map[string][]byte{SecretKeyTLSCert: cert, SecretKeyTLSKey: key}
}

// caSecret is the data of a Secret with ca.crt/ca.key.
func caSecret(cert, key []byte) map[string][]byte {
	return map[string][]byte{SecretKeyCACert: cert, SecretKeyCAKey: key}
}

// userCACases are the table of TestParseUserCA and the seed corpus of FuzzParseUserCA.
func userCACases(t testing.TB) []userCACase {
	t.Helper()
	ec, ec2, rsa2048, rsa1024, p384 := testKey(t, "p256"), testKey(t, "p256-b"), testKey(t, "rsa2048"), testKey(t, "rsa1024"), testKey(t, "p384")
	p224, p521, ed := testKey(t, "p224"), testKey(t, "p521"), testKey(t, "ed25519")
	ecCert := selfSigned(t, ec, certTemplate())
	rsaCert := selfSigned(t, rsa2048, certTemplate())
	ecKey := keyPEM(t, ec, "sec1")
	other := selfSigned(t, ec2, certTemplate(func(c *x509.Certificate) { c.Subject.CommonName = "other" }))
	leafTmpl := func(c *x509.Certificate) { c.IsCA = false; c.KeyUsage = x509.KeyUsageDigitalSignature }
	ecParams := []byte("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n")

	return []userCACase{
		// Valid input.
		{name: "tls.crt/tls.key, EC key as SEC1", data: tlsSecret(ecCert, ecKey)},
		{name: "tls.crt/tls.key, EC key as PKCS#8", data: tlsSecret(ecCert, keyPEM(t, ec, "pkcs8"))},
		{name: "tls.crt/tls.key, RSA key as PKCS#1", data: tlsSecret(rsaCert, keyPEM(t, rsa2048, "pkcs1"))},
		{name: "ca.crt/ca.key, RSA key as PKCS#8", data: caSecret(rsaCert, keyPEM(t, rsa2048, "pkcs8"))},
		{name: "P-384 CA", data: tlsSecret(selfSigned(t, p384, certTemplate()), keyPEM(t, p384, "pkcs8"))},
		{name: "P-521 CA", data: tlsSecret(selfSigned(t, p521, certTemplate()), keyPEM(t, p521, "pkcs8"))},
		{name: "openssl ecparam -genkey output", data: tlsSecret(ecCert, append(append([]byte{}, ecParams...), ecKey...))},
		{name: "chain: the first certificate is the CA", data: tlsSecret(append(append([]byte{}, ecCert...), other...), ecKey)},
		{name: "tls pair wins over an incomplete ca pair", data: map[string][]byte{
			SecretKeyTLSCert: ecCert, SecretKeyTLSKey: ecKey, SecretKeyCACert: other}},
		{name: "ca pair when tls.key is absent (cert-manager style ca.crt)", data: map[string][]byte{
			SecretKeyTLSCert: other, SecretKeyCACert: ecCert, SecretKeyCAKey: ecKey}},
		{name: "no keyUsage extension", data: tlsSecret(selfSigned(t, ec, certTemplate(func(c *x509.Certificate) { c.KeyUsage = 0 })), ecKey)},
		{name: "extended key usage allowing TLS", data: tlsSecret(selfSigned(t, ec, certTemplate(func(c *x509.Certificate) {
			c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
		})), ecKey)},

		// Missing data.
		{name: "empty Secret", data: map[string][]byte{}, wantErr: ErrMissingKey,
			wantMsg: "the Secret has neither tls.crt/tls.key nor ca.crt/ca.key"},
		{name: "tls.crt without tls.key", data: map[string][]byte{SecretKeyTLSCert: ecCert}, wantErr: ErrMissingKey,
			wantMsg: "tls.key is missing or empty: the CA private key must be next to tls.crt"},
		{name: "empty tls.key", data: tlsSecret(ecCert, []byte{}), wantErr: ErrMissingKey,
			wantMsg: "tls.key is missing or empty: the CA private key must be next to tls.crt"},
		{name: "ca.crt without ca.key", data: map[string][]byte{SecretKeyCACert: ecCert}, wantErr: ErrMissingKey,
			wantMsg: "ca.key is missing or empty: the CA private key must be next to ca.crt"},
		{name: "blank tls.key", data: tlsSecret(ecCert, []byte("\n  \n")), wantErr: ErrMissingKey,
			wantMsg: "tls.key is empty"},

		// Garbage.
		{name: "garbage tls.crt", data: tlsSecret([]byte("not a certificate"), ecKey), wantErr: ErrMalformed,
			wantMsg: "tls.crt is not PEM-encoded (no CERTIFICATE block found)"},
		{name: "DER instead of PEM in ca.crt", data: caSecret(pemBody(t, ecCert), ecKey), wantErr: ErrMalformed,
			wantMsg: "ca.crt is not PEM-encoded (no CERTIFICATE block found)"},
		{name: "key in tls.crt", data: tlsSecret(ecKey, ecKey), wantErr: ErrMalformed,
			wantMsg: "tls.crt has no PEM CERTIFICATE block"},
		{name: "truncated certificate", data: tlsSecret(truncatedPEM(t, ecCert), ecKey), wantErr: ErrMalformed,
			wantMsg: "tls.crt does not parse as an X.509 certificate: "},
		{name: "garbage tls.key", data: tlsSecret(ecCert, []byte("not a key")), wantErr: ErrMalformed,
			wantMsg: "tls.key is not PEM-encoded (no private key block found)"},
		{name: "certificate in tls.key", data: tlsSecret(ecCert, ecCert), wantErr: ErrMalformed,
			wantMsg: "tls.key has no PEM private key block (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)"},
		{name: "truncated key", data: tlsSecret(ecCert, truncatedPEM(t, ecKey)), wantErr: ErrMalformed,
			wantMsg: "tls.key has a EC PRIVATE KEY block that does not parse (PKCS#1, PKCS#8 and SEC1 keys are accepted)"},
		{name: "encrypted key", data: tlsSecret(ecCert,
			[]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n")), wantErr: ErrMalformed,
			wantMsg: "tls.key is encrypted; an unencrypted private key is required"},

		// Not a CA.
		{name: "leaf certificate", data: tlsSecret(selfSigned(t, ec, certTemplate(leafTmpl)), ecKey), wantErr: ErrNotCA,
			wantMsg: "tls.crt is not a CA certificate (basicConstraints CA:FALSE)"},
		{name: "no basicConstraints", data: caSecret(selfSigned(t, ec, certTemplate(func(c *x509.Certificate) {
			c.BasicConstraintsValid, c.IsCA = false, false
		})), ecKey), wantErr: ErrNotCA, wantMsg: "ca.crt is not a CA certificate (no basicConstraints extension)"},
		{name: "keyUsage without keyCertSign", data: tlsSecret(selfSigned(t, ec, certTemplate(func(c *x509.Certificate) {
			c.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign
		})), ecKey), wantErr: ErrNotCA, wantMsg: "tls.crt cannot sign certificates (keyUsage lacks keyCertSign)"},
		{name: "extended key usage without clientAuth", data: tlsSecret(selfSigned(t, ec, certTemplate(func(c *x509.Certificate) {
			c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		})), ecKey), wantErr: ErrNotCA,
			wantMsg: "tls.crt restricts extended key usage without allowing both serverAuth and clientAuth"},
		{name: "empty subject", data: tlsSecret(selfSigned(t, ec, certTemplate(func(c *x509.Certificate) {
			c.Subject = pkix.Name{}
			c.DNSNames = []string{"ca.example"} // an empty subject needs a SAN
		})), ecKey), wantErr: ErrNotCA, wantMsg: "tls.crt has an empty subject; a CA needs a distinguished name"},

		// Weak key.
		{name: "RSA 1024", data: tlsSecret(selfSigned(t, rsa1024, certTemplate()), keyPEM(t, rsa1024, "pkcs1")), wantErr: ErrWeakKey,
			wantMsg: "tls.crt has an RSA key of 1024 bits; at least 2048 required"},

		// Keys Java's default providers do not verify.
		{name: "P-224 CA", data: tlsSecret(selfSigned(t, p224, certTemplate()), keyPEM(t, p224, "pkcs8")), wantErr: ErrUnsupportedKey,
			wantMsg: "tls.crt has an ECDSA key on curve P-224, which Java's default providers do not verify; use P-256, P-384 or P-521"},
		{name: "Ed25519 CA", data: tlsSecret(selfSigned(t, ed, certTemplate()), keyPEM(t, ed, "pkcs8")), wantErr: ErrUnsupportedKey,
			wantMsg: "tls.crt has an Ed25519 key, which Java 11's default providers do not verify"},

		// Key mismatch.
		{name: "key of another certificate", data: tlsSecret(ecCert, keyPEM(t, ec2, "sec1")), wantErr: ErrKeyMismatch,
			wantMsg: "tls.key does not match the public key of tls.crt"},
		{name: "RSA key for an EC certificate", data: caSecret(ecCert, keyPEM(t, rsa2048, "pkcs1")), wantErr: ErrKeyMismatch,
			wantMsg: "ca.key does not match the public key of ca.crt"},

		// Validity.
		{name: "expired", data: tlsSecret(selfSigned(t, ec, certTemplate(func(c *x509.Certificate) {
			c.NotBefore, c.NotAfter = t0.Add(-48*time.Hour), t0.Add(-time.Second)
		})), ecKey), wantErr: ErrExpired, wantMsg: "tls.crt expired at 2026-03-14T11:59:59Z"},
		{name: "not yet valid", data: tlsSecret(selfSigned(t, ec, certTemplate(func(c *x509.Certificate) {
			c.NotBefore = t0.Add(time.Hour)
		})), ecKey), wantErr: ErrNotYetValid, wantMsg: "tls.crt is not valid before 2026-03-14T13:00:00Z"},
		{name: "expires exactly now", data: tlsSecret(selfSigned(t, ec, certTemplate(func(c *x509.Certificate) {
			c.NotAfter = t0
		})), ecKey), wantErr: ErrExpired, wantMsg: "tls.crt expired at 2026-03-14T12:00:00Z"},
		{name: "valid from exactly now", data: tlsSecret(selfSigned(t, ec, certTemplate(func(c *x509.Certificate) {
			c.NotBefore = t0
		})), ecKey)},
	}
}

// pemBody returns the DER inside the first PEM block of data.
func pemBody(t testing.TB, data []byte) []byte {
	t.Helper()
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatal("no PEM block")
	}
	return block.Bytes
}

// truncatedPEM returns data with its base64 body cut to a third, re-wrapped as valid PEM.
func truncatedPEM(t testing.TB, data []byte) []byte {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	body := lines[1 : len(lines)-1]
	return []byte(strings.Join(append(append([]string{lines[0]}, body[:len(body)/3]...), lines[len(lines)-1]), "\n") + "\n")
}

// keyMaterialIn returns the first line of base64 key material from the Secret's key entries
// that occurs in msg, or "".
func keyMaterialIn(data map[string][]byte, msg string) string {
	for _, k := range []string{SecretKeyTLSKey, SecretKeyCAKey} {
		for _, line := range strings.Split(string(data[k]), "\n") {
			line = strings.TrimSpace(line)
			if len(line) >= 8 && !strings.HasPrefix(line, "-----") && strings.Contains(msg, line) {
				return line
			}
		}
	}
	return ""
}

// userCASentinels are every sentinel ParseUserCA and ValidateUserCA wrap.
var userCASentinels = []error{ErrMalformed, ErrNotCA, ErrExpired, ErrNotYetValid, ErrKeyMismatch, ErrWeakKey,
	ErrUnsupportedKey, ErrMissingKey, ErrExpiresTooSoon, ErrCannotSignForCluster}

// sentinelsIn counts the sentinels of userCASentinels err wraps.
func sentinelsIn(err error) int {
	matched := 0
	for _, s := range userCASentinels {
		if errors.Is(err, s) {
			matched++
		}
	}
	return matched
}

func TestParseUserCA(t *testing.T) {
	for _, tc := range userCACases(t) {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			ca, err := ParseUserCA(tc.data, t0)
			if tc.wantErr == nil {
				g.Expect(err).NotTo(HaveOccurred())
				assertUsableCA(t, ca, t0)
				return
			}
			g.Expect(ca).To(BeNil())
			g.Expect(err).To(MatchError(tc.wantErr))
			g.Expect(err.Error()).To(HavePrefix(tc.wantMsg))
			g.Expect(sentinelsIn(err)).To(Equal(1), "exactly one sentinel")
			g.Expect(keyMaterialIn(tc.data, err.Error())).To(BeEmpty(), "no key material in the message")
		})
	}
}

func TestParseUserCAReturnsTheCA(t *testing.T) {
	g := NewWithT(t)
	ec := testKey(t, "p256")
	ecCert := selfSigned(t, ec, certTemplate())
	other := selfSigned(t, testKey(t, "p256-b"), certTemplate())
	ca, err := ParseUserCA(tlsSecret(append(append([]byte{}, ecCert...), other...), keyPEM(t, ec, "sec1")), t0)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ca.CertPEM).To(Equal(ecCert), "CertPEM is the CA alone, not the chain")
	g.Expect(string(ca.KeyPEM)).To(HavePrefix("-----BEGIN PRIVATE KEY-----"))
	g.Expect(ca.Certificate.Subject.CommonName).To(Equal("user-ca"))
}

// Valid PEM around DER that is not a certificate reports the X.509 parser's reason (certificates
// are public, so that is safe to show).
func TestParseUserCABadDER(t *testing.T) {
	g := NewWithT(t)
	der, err := asn1.Marshal(asn1.RawValue{Tag: asn1.TagSequence, IsCompound: true, Bytes: []byte{2, 1, 1}})
	g.Expect(err).NotTo(HaveOccurred())
	certPEM := []byte("-----BEGIN CERTIFICATE-----\n" + base64.StdEncoding.EncodeToString(der) + "\n-----END CERTIFICATE-----\n")
	_, err = ParseUserCA(tlsSecret(certPEM, keyPEM(t, testKey(t, "p256"), "sec1")), t0)
	g.Expect(err).To(MatchError(ErrMalformed))
	g.Expect(err.Error()).To(HavePrefix("tls.crt does not parse as an X.509 certificate: x509: "))
}

// assertUsableCA checks what a nil error from ParseUserCA promises: a CA whose key matches and
// that signs a leaf which verifies.
func assertUsableCA(t testing.TB, ca *KeyPair, now time.Time) {
	t.Helper()
	if ca == nil || ca.Certificate == nil || ca.Key == nil {
		t.Fatalf("nil error but no usable CA: %+v", ca)
	}
	if !ca.Certificate.IsCA || !ca.Certificate.BasicConstraintsValid {
		t.Fatalf("nil error but the certificate is not a CA")
	}
	if !publicKeysEqual(ca.Certificate.PublicKey, ca.Key.Public()) {
		t.Fatalf("nil error but the key does not match")
	}
	leaf, err := ca.SignLeaf(fakeClock(now), dataRequest(""))
	if err != nil {
		t.Fatalf("nil error but SignLeaf fails: %v", err)
	}
	if err := verifyLeaf(leaf.Certificate, "c-data-0.c-data-headless.ns.svc.cluster.local", now, ca.Certificate); err != nil {
		t.Fatalf("nil error but the leaf does not verify: %v", err)
	}
}
