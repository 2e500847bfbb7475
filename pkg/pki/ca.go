package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"k8s.io/utils/clock"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// Backdate is how far before "now" every certificate's notBefore is set, so a peer whose clock
// lags a little still accepts a fresh certificate.
const Backdate = 5 * time.Minute

// serialBits is the size of the random serial numbers.
const serialBits = 128

// CreateRootCA generates a self-signed root CA valid from now-Backdate to now+validity, with a
// key of algorithm alg (empty means DefaultKeyAlgorithm): basicConstraints CA:TRUE with path
// length 0 (it signs leaves only), keyUsage keyCertSign and cRLSign, a random 128-bit serial
// and a SubjectKeyId (RFC 7093 method 1).
func CreateRootCA(clk clock.PassiveClock, commonName string, alg implyv1alpha1.KeyAlgorithm, validity time.Duration) (*KeyPair, error) {
	if commonName == "" {
		return nil, errors.New("the CA common name is empty")
	}
	if validity <= 0 {
		return nil, fmt.Errorf("the CA validity %s is not positive", validity)
	}
	key, serial, skid, err := newIdentity(alg, "CA")
	if err != nil {
		return nil, err
	}
	now := clk.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-Backdate),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		SubjectKeyId:          skid,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("while signing the CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("while parsing the new CA certificate: %w", err)
	}
	return newKeyPair(cert, key)
}

// newIdentity generates what every new certificate needs: a key of alg, a random serial and the
// key's SubjectKeyId. what names the certificate in errors.
func newIdentity(alg implyv1alpha1.KeyAlgorithm, what string) (crypto.Signer, *big.Int, []byte, error) {
	key, err := GenerateKey(alg)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("while generating the %s key: %w", what, err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, nil, err
	}
	skid, err := subjectKeyID(key.Public())
	if err != nil {
		return nil, nil, nil, err
	}
	return key, serial, skid, nil
}

// randomSerial returns a random positive serial number of serialBits bits.
func randomSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), serialBits)
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, fmt.Errorf("while generating a serial number: %w", err)
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}

// subjectKeyID derives a key identifier from a public key as RFC 7093 section 2 method 1
// describes: the leftmost 160 bits of the SHA-256 hash of the subjectPublicKey BIT STRING.
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("while encoding the public key: %w", err)
	}
	var spki struct {
		Algorithm        pkix.AlgorithmIdentifier
		SubjectPublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, fmt.Errorf("while decoding the public key: %w", err)
	}
	sum := sha256.Sum256(spki.SubjectPublicKey.Bytes)
	return sum[:20], nil
}
