package pki

import (
	"crypto/dsa" //nolint:staticcheck // only to recognise and reject DSA keys
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"slices"
	"time"
)

// MinRSABits is the smallest RSA modulus accepted in a user CA.
const MinRSABits = 2048

// ParseUserCA reads a CA the user supplies in a Secret: tls.crt/tls.key (as
// `kubectl create secret tls` writes them) or ca.crt/ca.key. When both pairs are complete,
// tls.crt/tls.key wins. If the certificate PEM holds a chain, its first certificate is the CA.
// Keys may be PKCS#1, PKCS#8 or SEC1, unencrypted.
//
// The CA must be usable for signing the operator's leaves at now: basicConstraints CA:TRUE, a
// keyUsage (if present) with keyCertSign, an extended key usage (if present) allowing serverAuth
// and clientAuth, a non-empty subject, a key Java's default providers verify (RSA of at least
// MinRSABits bits, ECDSA on P-256, P-384 or P-521; see checkCAKeyStrength), notBefore <= now <
// notAfter, and the private key matching the certificate. ValidateUserCA adds the checks that
// depend on the cluster.
//
// Every error wraps one of ErrMalformed, ErrMissingKey, ErrNotCA, ErrWeakKey, ErrUnsupportedKey,
// ErrKeyMismatch, ErrExpired or ErrNotYetValid, and its message names the Secret key and the problem, such as
// "tls.crt is not a CA certificate (basicConstraints CA:FALSE)". Messages never contain key
// material. The returned KeyPair holds the CA certificate alone and the key as PKCS#8.
func ParseUserCA(data map[string][]byte, now time.Time) (*KeyPair, error) {
	certName, keyName, err := pickUserCAKeys(data)
	if err != nil {
		return nil, err
	}
	cert, err := parseFirstCertificate(certName, data[certName])
	if err != nil {
		return nil, err
	}
	if err := checkCAUsable(certName, cert); err != nil {
		return nil, err
	}
	if err := checkCAKeyStrength(certName, cert); err != nil {
		return nil, err
	}
	key, err := parsePrivateKeyPEM(keyName, data[keyName])
	if err != nil {
		return nil, err
	}
	if !publicKeysEqual(cert.PublicKey, key.Public()) {
		return nil, inputErrorf(ErrKeyMismatch, "%s does not match the public key of %s", keyName, certName)
	}
	if now.Before(cert.NotBefore) {
		return nil, inputErrorf(ErrNotYetValid, "%s is not valid before %s", certName, formatTime(cert.NotBefore))
	}
	if !now.Before(cert.NotAfter) {
		return nil, inputErrorf(ErrExpired, "%s expired at %s", certName, formatTime(cert.NotAfter))
	}
	return newKeyPair(cert, key)
}

// pickUserCAKeys chooses which pair of Secret keys holds the CA.
func pickUserCAKeys(data map[string][]byte) (certName, keyName string, err error) {
	present := func(k string) bool { return len(data[k]) > 0 }
	switch {
	case present(SecretKeyTLSCert) && present(SecretKeyTLSKey):
		return SecretKeyTLSCert, SecretKeyTLSKey, nil
	case present(SecretKeyCACert) && present(SecretKeyCAKey):
		return SecretKeyCACert, SecretKeyCAKey, nil
	case present(SecretKeyTLSCert):
		return "", "", inputErrorf(ErrMissingKey, "%s is missing or empty: the CA private key must be next to %s", SecretKeyTLSKey, SecretKeyTLSCert)
	case present(SecretKeyCACert):
		return "", "", inputErrorf(ErrMissingKey, "%s is missing or empty: the CA private key must be next to %s", SecretKeyCAKey, SecretKeyCACert)
	default:
		return "", "", inputErrorf(ErrMissingKey, "the Secret has neither %s/%s nor %s/%s",
			SecretKeyTLSCert, SecretKeyTLSKey, SecretKeyCACert, SecretKeyCAKey)
	}
}

// checkCAUsable checks the extensions that make a certificate a CA able to issue TLS leaves.
func checkCAUsable(name string, cert *x509.Certificate) error {
	switch {
	case !cert.BasicConstraintsValid:
		return inputErrorf(ErrNotCA, "%s is not a CA certificate (no basicConstraints extension)", name)
	case !cert.IsCA:
		return inputErrorf(ErrNotCA, "%s is not a CA certificate (basicConstraints CA:FALSE)", name)
	case cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageCertSign == 0:
		return inputErrorf(ErrNotCA, "%s cannot sign certificates (keyUsage lacks keyCertSign)", name)
	case len(cert.Subject.Names) == 0:
		return inputErrorf(ErrNotCA, "%s has an empty subject; a CA needs a distinguished name", name)
	}
	if len(cert.ExtKeyUsage) > 0 || len(cert.UnknownExtKeyUsage) > 0 {
		if !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageAny) &&
			(!slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageServerAuth) || !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageClientAuth)) {
			return inputErrorf(ErrNotCA, "%s restricts extended key usage without allowing both serverAuth and clientAuth", name)
		}
	}
	return nil
}

// checkCAKeyStrength rejects public keys too weak for signing (ErrWeakKey: RSA under
// MinRSABits, DSA) and keys the JVMs Imply runs on cannot verify with their default providers
// (ErrUnsupportedKey): ECDSA curves other than P-256, P-384 and P-521 (SunEC dropped P-224 and
// the other legacy curves), and Ed25519, which Java 11 has no provider for and which the
// operator never generates either.
func checkCAKeyStrength(name string, cert *x509.Certificate) error {
	switch k := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		if bits := k.N.BitLen(); bits < MinRSABits {
			return inputErrorf(ErrWeakKey, "%s has an RSA key of %d bits; at least %d required", name, bits, MinRSABits)
		}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return inputErrorf(ErrUnsupportedKey, "%s has an ECDSA key on curve %s, which Java's default providers do not verify; use P-256, P-384 or P-521",
				name, k.Curve.Params().Name)
		}
	case ed25519.PublicKey:
		return inputErrorf(ErrUnsupportedKey, "%s has an Ed25519 key, which Java 11's default providers do not verify; use ECDSA (P-256, P-384 or P-521) or RSA (at least %d bits)",
			name, MinRSABits)
	case *dsa.PublicKey:
		return inputErrorf(ErrWeakKey, "%s has a DSA key; use RSA (at least %d bits) or ECDSA (P-256, P-384 or P-521)", name, MinRSABits)
	default:
		return inputErrorf(ErrWeakKey, "%s has an unsupported public key (%s); use RSA (at least %d bits) or ECDSA (P-256, P-384 or P-521)",
			name, cert.PublicKeyAlgorithm, MinRSABits)
	}
	return nil
}

// formatTime renders a time for messages: UTC, RFC 3339.
func formatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}
