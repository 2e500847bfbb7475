package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// t0 is the fixed "now" of the tests.
var t0 = time.Date(2026, time.March, 14, 12, 0, 0, 0, time.UTC)

// fakeClock returns a passive clock stopped at t.
func fakeClock(t time.Time) *clocktesting.FakePassiveClock {
	return clocktesting.NewFakePassiveClock(t)
}

// Keys are cached per test binary: RSA generation is slow on a busy machine.
var (
	keyCacheMu sync.Mutex
	keyCache   = map[string]crypto.Signer{}
)

// testKey returns a cached key: "p256", "p384", "p224", "p521", "ed25519", "rsa1024", "rsa2048", "rsa3072", "rsa4096", or
// any of them with a suffix ("p256-b") for a second, distinct key.
func testKey(t testing.TB, name string) crypto.Signer {
	t.Helper()
	keyCacheMu.Lock()
	defer keyCacheMu.Unlock()
	if k, ok := keyCache[name]; ok {
		return k
	}
	var (
		k   crypto.Signer
		err error
	)
	base := name
	if i := len(name) - 2; i > 0 && name[i] == '-' {
		base = name[:i]
	}
	switch base {
	case "p256":
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "p384":
		k, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "p224":
		k, err = ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	case "p521":
		k, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case "ed25519":
		_, k, err = ed25519.GenerateKey(rand.Reader)
	case "rsa1024":
		k, err = rsa.GenerateKey(rand.Reader, 1024)
	case "rsa2048":
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case "rsa3072":
		k, err = rsa.GenerateKey(rand.Reader, 3072)
	case "rsa4096":
		k, err = rsa.GenerateKey(rand.Reader, 4096)
	default:
		t.Fatalf("unknown test key %q", name)
	}
	if err != nil {
		t.Fatalf("generating %s: %v", name, err)
	}
	keyCache[name] = k
	return k
}

// certTemplate is a CA template valid around t0, modified by mods.
func certTemplate(mods ...func(*x509.Certificate)) *x509.Certificate {
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(42),
		Subject:               pkix.Name{CommonName: "user-ca", Organization: []string{"Example"}},
		NotBefore:             t0.Add(-24 * time.Hour),
		NotAfter:              t0.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, m := range mods {
		m(tmpl)
	}
	return tmpl
}

// selfSigned signs tmpl with key and returns the certificate as PEM.
func selfSigned(t testing.TB, key crypto.Signer, tmpl *x509.Certificate) []byte {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatalf("creating certificate: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// keyPEM encodes key in the given format: "pkcs1", "pkcs8" or "sec1".
func keyPEM(t testing.TB, key crypto.Signer, format string) []byte {
	t.Helper()
	var (
		typ string
		der []byte
		err error
	)
	switch format {
	case "pkcs1":
		typ, der = "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key.(*rsa.PrivateKey))
	case "pkcs8":
		typ = "PRIVATE KEY"
		der, err = x509.MarshalPKCS8PrivateKey(key)
	case "sec1":
		typ = "EC PRIVATE KEY"
		der, err = x509.MarshalECPrivateKey(key.(*ecdsa.PrivateKey))
	default:
		t.Fatalf("unknown key format %q", format)
	}
	if err != nil {
		t.Fatalf("encoding key: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// mustCA creates a generated CA at t0 or fails the test.
func mustCA(t testing.TB, alg implyv1alpha1.KeyAlgorithm) *KeyPair {
	t.Helper()
	ca, err := CreateRootCA(fakeClock(t0), "c-ca", alg, 3*365*24*time.Hour)
	if err != nil {
		t.Fatalf("CreateRootCA: %v", err)
	}
	return ca
}

// mustLeaf signs a leaf for the "data" group of cluster c in namespace ns at t0.
func mustLeaf(t testing.TB, ca *KeyPair, alg implyv1alpha1.KeyAlgorithm) *KeyPair {
	t.Helper()
	leaf, err := ca.SignLeaf(fakeClock(t0), dataRequest(alg))
	if err != nil {
		t.Fatalf("SignLeaf: %v", err)
	}
	return leaf
}

// dataRequest is the leaf request of group "data" of cluster "c" in namespace "ns".
func dataRequest(alg implyv1alpha1.KeyAlgorithm) LeafRequest {
	return LeafRequest{
		CommonName: "c-data",
		DNSNames:   GroupDNSNames("c", "data", "ns", "cluster.local"),
		Algorithm:  alg,
		Validity:   90 * 24 * time.Hour,
	}
}

// verifyLeaf verifies leaf against roots for dnsName at now with server and client auth.
func verifyLeaf(leaf *x509.Certificate, dnsName string, now time.Time, roots ...*x509.Certificate) error {
	pool := x509.NewCertPool()
	for _, r := range roots {
		pool.AddCert(r)
	}
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if _, err := leaf.Verify(x509.VerifyOptions{
			DNSName: dnsName, Roots: pool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{usage},
		}); err != nil {
			return err
		}
	}
	return nil
}
