package pki

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"software.sslmate.com/src/go-pkcs12"
)

// MinPasswordLength is the shortest keystore password GeneratePassword makes.
const MinPasswordLength = 16

// generatedPasswordStores encodes the stores of a password GeneratePassword made: go-pkcs12's
// Modern algorithms with one PBKDF2 iteration. Iterations stretch a password a person could
// guess; a generated one has at least 96 bits of entropy (MinPasswordLength characters of 64
// symbols), and the operator keeps it in the Secret that also holds the stores and the key in
// PEM, so Modern's 2048 iterations would protect nothing and cost about 1 ms of CPU a store.
// The format is Modern's (PBES2 with AES-256-CBC, HMAC-SHA-256): the same readers read it.
var generatedPasswordStores = pkcs12.Modern.WithIterations(1)

// chosenPasswordStores encodes stores whose password a person chose: Modern's 2048 iterations.
var chosenPasswordStores = pkcs12.Modern

// passwordAlphabet is the URL-safe base64 alphabet: 64 symbols, none of them ':' (Druid's
// and the manager's configuration formats split on it) nor a shell or properties metacharacter.
const passwordAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// Keystore encodes leaf's key and certificate, followed by chain (the issuing CAs, may be
// empty), as a password-protected PKCS#12 keystore that Java 12+ and OpenSSL 1.1.1+ read:
// PBES2 with AES-256-CBC, HMAC-SHA-256, one PBKDF2 iteration, so password must be one
// GeneratePassword made (see generatedPasswordStores). Java shows the key entry under the
// alias "1".
func Keystore(leaf *KeyPair, chain []*x509.Certificate, password string) ([]byte, error) {
	if leaf == nil || leaf.Certificate == nil || leaf.Key == nil {
		return nil, errors.New("keystore: no certificate and key")
	}
	if password == "" {
		return nil, errors.New("keystore: empty password")
	}
	for i, c := range chain {
		if c == nil {
			return nil, fmt.Errorf("keystore: chain certificate %d is nil", i)
		}
	}
	der, err := generatedPasswordStores.Encode(leaf.Key, leaf.Certificate, chain, password)
	if err != nil {
		return nil, fmt.Errorf("while encoding the keystore: %w", err)
	}
	return der, nil
}

// Truststore encodes cas as a password-protected PKCS#12 truststore of Java trusted-certificate
// entries, encoded like Keystore's, so password must be one GeneratePassword made. Duplicates
// (same DER) are dropped. Each entry's alias is "ca-" and the first 16 hex digits of the
// certificate's SHA-256 fingerprint: unique even when an old and a new CA share a subject
// during a rotation, where subject-named aliases would collide and Java would keep only one of
// them.
func Truststore(cas []*x509.Certificate, password string) ([]byte, error) {
	return encodeTruststore(generatedPasswordStores, cas, password)
}

// TruststoreWithChosenPassword is Truststore for a password a person chose (a kubectl plugin
// flag): its keys are derived with 2048 PBKDF2 iterations.
func TruststoreWithChosenPassword(cas []*x509.Certificate, password string) ([]byte, error) {
	return encodeTruststore(chosenPasswordStores, cas, password)
}

func encodeTruststore(enc *pkcs12.Encoder, cas []*x509.Certificate, password string) ([]byte, error) {
	if password == "" {
		return nil, errors.New("truststore: empty password")
	}
	cas = dedupeCertificates(cas)
	if len(cas) == 0 {
		return nil, errors.New("truststore: no CA certificate")
	}
	entries := make([]pkcs12.TrustStoreEntry, 0, len(cas))
	for _, c := range cas {
		entries = append(entries, pkcs12.TrustStoreEntry{Cert: c, FriendlyName: TruststoreAlias(c)})
	}
	der, err := enc.EncodeTrustStoreEntries(entries, password)
	if err != nil {
		return nil, fmt.Errorf("while encoding the truststore: %w", err)
	}
	return der, nil
}

// TruststoreAlias is the alias Truststore gives a CA certificate: "ca-" and the first 16 hex
// digits of its SHA-256 fingerprint.
func TruststoreAlias(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return "ca-" + hex.EncodeToString(sum[:8])
}

// GeneratePassword returns a random password of length characters from the URL-safe base64
// alphabet (A-Z a-z 0-9 - _), so it never contains ':'. r is the source of randomness; nil
// means crypto/rand. length must be at least MinPasswordLength.
func GeneratePassword(r io.Reader, length int) (string, error) {
	if length < MinPasswordLength {
		return "", fmt.Errorf("password length %d is below the minimum of %d", length, MinPasswordLength)
	}
	if r == nil {
		r = rand.Reader
	}
	buf := make([]byte, length)
	if _, err := io.ReadFull(r, buf); err != nil {
		return "", fmt.Errorf("while reading randomness for a password: %w", err)
	}
	// 64 symbols: the low six bits of a uniform byte pick one without bias.
	for i, b := range buf {
		buf[i] = passwordAlphabet[b&63]
	}
	return string(buf), nil
}
