package pki

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

func TestCreateRootCA(t *testing.T) {
	const validity = 26280 * time.Hour
	for _, tc := range []struct {
		alg     implyv1alpha1.KeyAlgorithm
		wantAlg implyv1alpha1.KeyAlgorithm
		sigAlg  x509.SignatureAlgorithm
	}{
		{alg: "", wantAlg: implyv1alpha1.KeyAlgorithmECDSAP256, sigAlg: x509.ECDSAWithSHA256},
		{alg: implyv1alpha1.KeyAlgorithmECDSAP256, wantAlg: implyv1alpha1.KeyAlgorithmECDSAP256, sigAlg: x509.ECDSAWithSHA256},
		{alg: implyv1alpha1.KeyAlgorithmRSA2048, wantAlg: implyv1alpha1.KeyAlgorithmRSA2048, sigAlg: x509.SHA256WithRSA},
		{alg: implyv1alpha1.KeyAlgorithmRSA3072, wantAlg: implyv1alpha1.KeyAlgorithmRSA3072, sigAlg: x509.SHA256WithRSA},
		{alg: implyv1alpha1.KeyAlgorithmRSA4096, wantAlg: implyv1alpha1.KeyAlgorithmRSA4096, sigAlg: x509.SHA256WithRSA},
	} {
		t.Run(string(tc.wantAlg)+"/"+string(tc.alg), func(t *testing.T) {
			g := NewWithT(t)
			ca, err := CreateRootCA(fakeClock(t0), "c-ca", tc.alg, validity)
			g.Expect(err).NotTo(HaveOccurred())
			c := ca.Certificate

			g.Expect(c.Subject.CommonName).To(Equal("c-ca"))
			g.Expect(c.Issuer.CommonName).To(Equal("c-ca"))
			g.Expect(c.BasicConstraintsValid).To(BeTrue())
			g.Expect(c.IsCA).To(BeTrue())
			g.Expect(c.MaxPathLen).To(Equal(0))
			g.Expect(c.MaxPathLenZero).To(BeTrue())
			g.Expect(c.KeyUsage).To(Equal(x509.KeyUsageCertSign | x509.KeyUsageCRLSign))
			g.Expect(c.ExtKeyUsage).To(BeEmpty())
			g.Expect(c.NotBefore).To(Equal(t0.Add(-5 * time.Minute)))
			g.Expect(c.NotAfter).To(Equal(t0.Add(validity)))
			g.Expect(c.SerialNumber.Sign()).To(Equal(1))
			g.Expect(c.SerialNumber.BitLen()).To(BeNumerically(">", 64), "a 128-bit random serial")
			g.Expect(c.SerialNumber.BitLen()).To(BeNumerically("<=", 128))
			g.Expect(c.SubjectKeyId).To(HaveLen(20))
			skid, err := subjectKeyID(c.PublicKey)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(c.SubjectKeyId).To(Equal(skid))
			g.Expect(c.SignatureAlgorithm).To(Equal(tc.sigAlg))
			g.Expect(c.CheckSignatureFrom(c)).To(Succeed(), "self-signed")

			alg, err := KeyAlgorithmOf(ca.Key.Public())
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(alg).To(Equal(tc.wantAlg))

			// The PEM forms round-trip to the same pair.
			parsed, err := ParseKeyPair(ca.CertPEM, ca.KeyPEM)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(parsed.Certificate.Equal(c)).To(BeTrue())
			switch k := parsed.Key.(type) {
			case *ecdsa.PrivateKey:
				g.Expect(k.Equal(ca.Key)).To(BeTrue())
			case *rsa.PrivateKey:
				g.Expect(k.Equal(ca.Key)).To(BeTrue())
			default:
				t.Fatalf("unexpected key type %T", k)
			}
		})
	}
}

func TestCreateRootCASerialsDiffer(t *testing.T) {
	g := NewWithT(t)
	a, b := mustCA(t, ""), mustCA(t, "")
	g.Expect(a.Certificate.SerialNumber).NotTo(Equal(b.Certificate.SerialNumber))
	g.Expect(a.Certificate.SubjectKeyId).NotTo(Equal(b.Certificate.SubjectKeyId))
}

func TestCreateRootCAErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cn       string
		alg      implyv1alpha1.KeyAlgorithm
		validity time.Duration
		wantErr  string
	}{
		{name: "zero validity", cn: "c-ca", validity: 0, wantErr: "the CA validity 0s is not positive"},
		{name: "negative validity", cn: "c-ca", validity: -time.Hour, wantErr: "the CA validity -1h0m0s is not positive"},
		{name: "empty common name", cn: "", validity: time.Hour, wantErr: "the CA common name is empty"},
		{name: "unknown algorithm", cn: "c-ca", alg: "DSA-1024", validity: time.Hour,
			wantErr: `while generating the CA key: unsupported key algorithm "DSA-1024"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			ca, err := CreateRootCA(fakeClock(t0), tc.cn, tc.alg, tc.validity)
			g.Expect(err).To(MatchError(tc.wantErr))
			g.Expect(ca).To(BeNil())
		})
	}
}
