package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"testing"

	. "github.com/onsi/gomega"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

func TestGenerateKey(t *testing.T) {
	for _, tc := range []struct {
		alg      implyv1alpha1.KeyAlgorithm
		wantRSA  int
		wantEC   string
		wantFail bool
	}{
		{alg: "", wantEC: "P-256"},
		{alg: implyv1alpha1.KeyAlgorithmECDSAP256, wantEC: "P-256"},
		{alg: implyv1alpha1.KeyAlgorithmRSA2048, wantRSA: 2048},
		{alg: implyv1alpha1.KeyAlgorithmRSA3072, wantRSA: 3072},
		{alg: implyv1alpha1.KeyAlgorithmRSA4096, wantRSA: 4096},
		{alg: "RSA-1024", wantFail: true},
		{alg: "ECDSA-P384", wantFail: true},
	} {
		t.Run(string(tc.alg), func(t *testing.T) {
			g := NewWithT(t)
			key, err := GenerateKey(tc.alg)
			if tc.wantFail {
				g.Expect(err).To(MatchError(ContainSubstring("unsupported key algorithm")))
				g.Expect(key).To(BeNil())
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			switch k := key.(type) {
			case *rsa.PrivateKey:
				g.Expect(k.N.BitLen()).To(Equal(tc.wantRSA))
			case *ecdsa.PrivateKey:
				g.Expect(k.Curve.Params().Name).To(Equal(tc.wantEC))
			default:
				t.Fatalf("unexpected key type %T", key)
			}
			alg, err := KeyAlgorithmOf(key.Public())
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(alg).To(Equal(normalizeAlgorithm(tc.alg)))
		})
	}
}

func TestKeyAlgorithmOf(t *testing.T) {
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		pub     crypto.PublicKey
		want    implyv1alpha1.KeyAlgorithm
		wantErr string
	}{
		{name: "p256", pub: testKey(t, "p256").Public(), want: implyv1alpha1.KeyAlgorithmECDSAP256},
		{name: "rsa2048", pub: testKey(t, "rsa2048").Public(), want: implyv1alpha1.KeyAlgorithmRSA2048},
		{name: "rsa3072", pub: testKey(t, "rsa3072").Public(), want: implyv1alpha1.KeyAlgorithmRSA3072},
		{name: "rsa4096", pub: testKey(t, "rsa4096").Public(), want: implyv1alpha1.KeyAlgorithmRSA4096},
		{name: "p384", pub: testKey(t, "p384").Public(), wantErr: "unsupported ECDSA curve P-384"},
		{name: "rsa1024", pub: testKey(t, "rsa1024").Public(), wantErr: "unsupported RSA key size of 1024 bits"},
		{name: "ed25519", pub: edKey.Public(), wantErr: "unsupported key algorithm Ed25519"},
		{name: "nil", pub: nil, wantErr: "unsupported public key type <nil>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			alg, err := KeyAlgorithmOf(tc.pub)
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(tc.wantErr))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(alg).To(Equal(tc.want))
		})
	}
}

func TestParseKeyPair(t *testing.T) {
	ecKey, rsaKey, otherKey := testKey(t, "p256"), testKey(t, "rsa2048"), testKey(t, "p256-b")
	ecCert := selfSigned(t, ecKey, certTemplate())
	rsaCert := selfSigned(t, rsaKey, certTemplate())
	for _, tc := range []struct {
		name      string
		cert, key []byte
		wantKey   crypto.Signer
		wantErr   error
		wantMsg   string
	}{
		{name: "EC key as SEC1", cert: ecCert, key: keyPEM(t, ecKey, "sec1"), wantKey: ecKey},
		{name: "EC key as PKCS#8", cert: ecCert, key: keyPEM(t, ecKey, "pkcs8"), wantKey: ecKey},
		{name: "RSA key as PKCS#1", cert: rsaCert, key: keyPEM(t, rsaKey, "pkcs1"), wantKey: rsaKey},
		{name: "RSA key as PKCS#8", cert: rsaCert, key: keyPEM(t, rsaKey, "pkcs8"), wantKey: rsaKey},
		{name: "chain keeps the first certificate", cert: append(append([]byte{}, ecCert...), rsaCert...),
			key: keyPEM(t, ecKey, "sec1"), wantKey: ecKey},
		{name: "key mismatch", cert: ecCert, key: keyPEM(t, otherKey, "sec1"), wantErr: ErrKeyMismatch,
			wantMsg: "the private key does not match the certificate's public key"},
		{name: "garbage certificate", cert: []byte("hello"), key: keyPEM(t, ecKey, "sec1"), wantErr: ErrMalformed,
			wantMsg: "the certificate is not PEM-encoded (no CERTIFICATE block found)"},
		{name: "garbage key", cert: ecCert, key: []byte("hello"), wantErr: ErrMalformed,
			wantMsg: "the private key is not PEM-encoded (no private key block found)"},
		{name: "empty key", cert: ecCert, key: nil, wantErr: ErrMissingKey, wantMsg: "the private key is empty"},
		{name: "key swapped for certificate", cert: keyPEM(t, ecKey, "sec1"), key: ecCert, wantErr: ErrMalformed,
			wantMsg: "the certificate has no PEM CERTIFICATE block"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			kp, err := ParseKeyPair(tc.cert, tc.key)
			if tc.wantErr != nil {
				g.Expect(err).To(MatchError(tc.wantErr))
				g.Expect(err).To(MatchError(tc.wantMsg))
				g.Expect(kp).To(BeNil())
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(kp.Key.Public()).To(Equal(tc.wantKey.Public()))
			g.Expect(kp.Certificate.PublicKey).To(Equal(tc.wantKey.Public()))
			g.Expect(bytes.HasPrefix(tc.cert, kp.CertPEM)).To(BeTrue(), "CertPEM is the first certificate")
			g.Expect(string(kp.KeyPEM)).To(HavePrefix("-----BEGIN PRIVATE KEY-----"))
			again, err := ParseKeyPair(kp.CertPEM, kp.KeyPEM)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(again.Certificate.Equal(kp.Certificate)).To(BeTrue())
		})
	}
}

func TestParseKeyPairEncryptedKey(t *testing.T) {
	g := NewWithT(t)
	cert := selfSigned(t, testKey(t, "p256"), certTemplate())
	for _, key := range [][]byte{
		[]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"),
		[]byte("-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00000000000000000000000000000000\n\nAAAA\n-----END EC PRIVATE KEY-----\n"),
	} {
		_, err := ParseKeyPair(cert, key)
		g.Expect(errors.Is(err, ErrMalformed)).To(BeTrue())
		g.Expect(err).To(MatchError("the private key is encrypted; an unencrypted private key is required"))
	}
}
