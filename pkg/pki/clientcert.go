package pki

import (
	"crypto/x509"
	"fmt"
	"slices"
	"time"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// ClientLeafRequest is the request for a database client certificate: common name user (the
// database user: PostgreSQL's `cert` authentication and MySQL's `REQUIRE SUBJECT '/CN=...'`
// match on it), extended key usage clientAuth only, no DNS names.
func ClientLeafRequest(user string, alg implyv1alpha1.KeyAlgorithm, validity time.Duration) LeafRequest {
	return LeafRequest{CommonName: user, Algorithm: alg, Validity: validity, ClientOnly: true}
}

// PKCS8DER is the key of kp as unencrypted PKCS#8 DER, the `.pk8` form pgjdbc reads as sslkey.
func PKCS8DER(kp *KeyPair) ([]byte, error) {
	if kp == nil || kp.Key == nil {
		return nil, fmt.Errorf("no private key to encode")
	}
	der, err := x509.MarshalPKCS8PrivateKey(kp.Key)
	if err != nil {
		return nil, fmt.Errorf("while encoding the private key as PKCS#8: %w", err)
	}
	return der, nil
}

// ParseClientCertificate reads a user's client certificate from a kubernetes.io/tls Secret's
// data (tls.crt, tls.key) and checks that it can authenticate to a database at now: both keys
// present, the certificate parses (the first of a chain), the key matches it, notBefore <= now <
// notAfter, and its extended key usage (when present) allows clientAuth. Every error wraps one
// of ErrMissingKey, ErrMalformed, ErrKeyMismatch, ErrNotYetValid, ErrExpired or
// ErrNotClientCertificate, names the Secret key at fault and never contains key material.
func ParseClientCertificate(data map[string][]byte, now time.Time) (*KeyPair, error) {
	for _, k := range []string{SecretKeyTLSCert, SecretKeyTLSKey} {
		if len(data[k]) == 0 {
			return nil, inputErrorf(ErrMissingKey, "%s is missing or empty", k)
		}
	}
	cert, err := parseFirstCertificate(SecretKeyTLSCert, data[SecretKeyTLSCert])
	if err != nil {
		return nil, err
	}
	key, err := parsePrivateKeyPEM(SecretKeyTLSKey, data[SecretKeyTLSKey])
	if err != nil {
		return nil, err
	}
	if !publicKeysEqual(cert.PublicKey, key.Public()) {
		return nil, inputErrorf(ErrKeyMismatch, "%s does not match the public key of %s", SecretKeyTLSKey, SecretKeyTLSCert)
	}
	if now.Before(cert.NotBefore) {
		return nil, inputErrorf(ErrNotYetValid, "%s is not valid before %s", SecretKeyTLSCert, formatTime(cert.NotBefore))
	}
	if !now.Before(cert.NotAfter) {
		return nil, inputErrorf(ErrExpired, "%s expired at %s", SecretKeyTLSCert, formatTime(cert.NotAfter))
	}
	if !allowsClientAuth(cert) {
		return nil, inputErrorf(ErrNotClientCertificate,
			"%s cannot authenticate a client: its extended key usage does not include clientAuth", SecretKeyTLSCert)
	}
	return newKeyPair(cert, key)
}

// allowsClientAuth reports whether cert may be used for TLS client authentication: no extended
// key usage at all (unrestricted), or one naming clientAuth or any.
func allowsClientAuth(cert *x509.Certificate) bool {
	if len(cert.ExtKeyUsage) == 0 && len(cert.UnknownExtKeyUsage) == 0 {
		return true
	}
	return slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageClientAuth) || slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageAny)
}
