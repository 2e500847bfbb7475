package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// PEM block types written by this package.
const (
	// PEMBlockCertificate is the PEM type of an X.509 certificate.
	PEMBlockCertificate = "CERTIFICATE"
	// PEMBlockPrivateKey is the PEM type of a PKCS#8 private key, the only key encoding this
	// package writes.
	PEMBlockPrivateKey = "PRIVATE KEY"
)

// DefaultKeyAlgorithm is the algorithm used when a KeyAlgorithm is empty: ECDSA on P-256.
const DefaultKeyAlgorithm = implyv1alpha1.KeyAlgorithmECDSAP256

// KeyPair is a certificate with its private key, both parsed and PEM-encoded.
type KeyPair struct {
	// Certificate is the parsed certificate.
	Certificate *x509.Certificate
	// CertPEM is Certificate as one PEM "CERTIFICATE" block.
	CertPEM []byte
	// KeyPEM is Key as one PEM block (PKCS#8 for keys this package generates).
	KeyPEM []byte
	// Key is the private key matching Certificate's public key.
	Key crypto.Signer
}

// ParseKeyPair parses a PEM certificate and its PEM private key, as found in a
// kubernetes.io/tls Secret. The first CERTIFICATE block of certPEM is the certificate; further
// blocks (a chain) are ignored. The key may be PKCS#1, PKCS#8 or SEC1. Errors wrap ErrMalformed,
// ErrMissingKey or ErrKeyMismatch and never contain key material.
//
// The returned KeyPair keeps the first certificate and the key re-encoded as PKCS#8.
func ParseKeyPair(certPEM, keyPEM []byte) (*KeyPair, error) {
	cert, err := parseFirstCertificate("the certificate", certPEM)
	if err != nil {
		return nil, err
	}
	key, err := parsePrivateKeyPEM("the private key", keyPEM)
	if err != nil {
		return nil, err
	}
	if !publicKeysEqual(cert.PublicKey, key.Public()) {
		return nil, inputErrorf(ErrKeyMismatch, "the private key does not match the certificate's public key")
	}
	return newKeyPair(cert, key)
}

// GenerateKey creates a private key of the given algorithm from crypto/rand. An empty
// algorithm means DefaultKeyAlgorithm.
func GenerateKey(alg implyv1alpha1.KeyAlgorithm) (crypto.Signer, error) {
	switch normalizeAlgorithm(alg) {
	case implyv1alpha1.KeyAlgorithmECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case implyv1alpha1.KeyAlgorithmRSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case implyv1alpha1.KeyAlgorithmRSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	case implyv1alpha1.KeyAlgorithmRSA4096:
		return rsa.GenerateKey(rand.Reader, 4096)
	default:
		return nil, fmt.Errorf("unsupported key algorithm %q", alg)
	}
}

// KeyAlgorithmOf names the KeyAlgorithm of a public key: ECDSA-P256 for an ECDSA key on P-256,
// RSA-2048/3072/4096 for RSA keys of exactly those sizes. Any other key (another curve, another
// RSA size, Ed25519) is an error, since the operator never generates it.
func KeyAlgorithmOf(pub crypto.PublicKey) (implyv1alpha1.KeyAlgorithm, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() {
			return implyv1alpha1.KeyAlgorithmECDSAP256, nil
		}
		return "", fmt.Errorf("unsupported ECDSA curve %s", k.Curve.Params().Name)
	case *rsa.PublicKey:
		switch bits := k.N.BitLen(); bits {
		case 2048:
			return implyv1alpha1.KeyAlgorithmRSA2048, nil
		case 3072:
			return implyv1alpha1.KeyAlgorithmRSA3072, nil
		case 4096:
			return implyv1alpha1.KeyAlgorithmRSA4096, nil
		default:
			return "", fmt.Errorf("unsupported RSA key size of %d bits", bits)
		}
	case ed25519.PublicKey:
		return "", errors.New("unsupported key algorithm Ed25519")
	default:
		return "", fmt.Errorf("unsupported public key type %T", pub)
	}
}

// normalizeAlgorithm maps the empty algorithm to DefaultKeyAlgorithm.
func normalizeAlgorithm(alg implyv1alpha1.KeyAlgorithm) implyv1alpha1.KeyAlgorithm {
	if alg == "" {
		return DefaultKeyAlgorithm
	}
	return alg
}

// newKeyPair builds a KeyPair from a parsed certificate and key, encoding both as PEM.
func newKeyPair(cert *x509.Certificate, key crypto.Signer) (*KeyPair, error) {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("while encoding the private key: %w", err)
	}
	return &KeyPair{
		Certificate: cert,
		CertPEM:     encodeCertificatePEM(cert),
		KeyPEM:      pem.EncodeToMemory(&pem.Block{Type: PEMBlockPrivateKey, Bytes: keyDER}),
		Key:         key,
	}, nil
}

// encodeCertificatePEM encodes one certificate as a PEM CERTIFICATE block.
func encodeCertificatePEM(cert *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: PEMBlockCertificate, Bytes: cert.Raw})
}

// parseFirstCertificate returns the first CERTIFICATE block of data, parsed; blocks of other
// types before it are skipped. name is what messages call the input ("tls.crt"). Errors wrap
// ErrMalformed or ErrMissingKey.
func parseFirstCertificate(name string, data []byte) (*x509.Certificate, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, inputErrorf(ErrMissingKey, "%s is empty", name)
	}
	rest := data
	sawPEM := false
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		sawPEM = true
		if block.Type != PEMBlockCertificate {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			// Certificates are public, so the parser's reason may be shown.
			return nil, inputErrorf(ErrMalformed, "%s does not parse as an X.509 certificate: %v", name, err)
		}
		return cert, nil
	}
	if sawPEM {
		return nil, inputErrorf(ErrMalformed, "%s has no PEM CERTIFICATE block", name)
	}
	return nil, inputErrorf(ErrMalformed, "%s is not PEM-encoded (no CERTIFICATE block found)", name)
}

// parsePrivateKeyPEM returns the first private key of data: a PEM block of type "PRIVATE KEY"
// (PKCS#8), "RSA PRIVATE KEY" (PKCS#1) or "EC PRIVATE KEY" (SEC1). Other blocks, such as the
// "EC PARAMETERS" that openssl ecparam writes first, are skipped. name is what messages call the
// input ("tls.key"). Errors wrap ErrMalformed or ErrMissingKey and carry fixed text only:
// nothing of the input is echoed, so no key material can leak into a condition or an event.
func parsePrivateKeyPEM(name string, data []byte) (crypto.Signer, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, inputErrorf(ErrMissingKey, "%s is empty", name)
	}
	rest := data
	sawPEM := false
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		sawPEM = true
		var (
			key any
			err error
		)
		_, encrypted := block.Headers["Proc-Type"]
		switch block.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			encrypted = true
		default:
			continue
		}
		if encrypted {
			return nil, inputErrorf(ErrMalformed, "%s is encrypted; an unencrypted private key is required", name)
		}
		if err != nil {
			// The parser's own error is dropped on purpose: fixed text only.
			return nil, inputErrorf(ErrMalformed, "%s has a %s block that does not parse (PKCS#1, PKCS#8 and SEC1 keys are accepted)", name, block.Type)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, inputErrorf(ErrMalformed, "%s holds an unsupported private key type %T", name, key)
		}
		return signer, nil
	}
	if sawPEM {
		return nil, inputErrorf(ErrMalformed, "%s has no PEM private key block (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)", name)
	}
	return nil, inputErrorf(ErrMalformed, "%s is not PEM-encoded (no private key block found)", name)
}

// publicKeysEqual reports whether two public keys are the same key.
func publicKeysEqual(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}
