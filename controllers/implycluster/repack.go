package implycluster

import (
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/imply-operator/imply-operator/pkg/pki"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// storeKeys are the keys of a served leaf Secret that a pod needs beside the PEM files: the
// PKCS#12 keystore and truststore, and their password.
var storeKeys = []string{specs.KeystoreKey, specs.TruststoreKey, specs.KeystorePasswordKey}

// missingStore names the first of storeKeys that data lacks (removed by hand or by a tool), or ""
// when it has them all. The cache holds the PKCS#12 files without their bytes, so a missing key
// is what a reconcile can see, and repair.
func missingStore(data map[string][]byte) string {
	for _, k := range storeKeys {
		if _, ok := data[k]; !ok {
			return k
		}
	}
	return ""
}

// repack builds a served leaf's keystore and truststore again from its certificate and key, which
// it keeps, encrypted with its password (a new one when it has none): the keystore holds the
// leaf with its chain to the trusted CA it verifies against, the truststore the trusted CAs.
// Nothing is issued, so a Secret that only lost a file gets it back with the same certificate.
func repack(live map[string][]byte, trusted []*x509.Certificate, now time.Time) (map[string][]byte, error) {
	certs, err := pki.ParseBundle(live[specs.TLSCertKey])
	if err != nil {
		return nil, err
	}
	if len(certs) == 0 {
		return nil, errors.New("no certificate to pack")
	}
	leaf, err := pki.ParseKeyPair(live[specs.TLSCertKey], live[specs.TLSPrivateKeyKey])
	if err != nil {
		return nil, err
	}
	anchor, err := verifiedAnchor(certs[0], certs[1:], trusted, now)
	if err != nil {
		return nil, err
	}
	pw := string(live[specs.KeystorePasswordKey])
	if len(pw) < keystorePasswordLength {
		if pw, err = pki.GeneratePassword(rand.Reader, keystorePasswordLength); err != nil {
			return nil, err
		}
	}
	chain := append(append([]*x509.Certificate(nil), certs[1:]...), anchor)
	keystore, err := pki.Keystore(leaf, chain, pw)
	if err != nil {
		return nil, err
	}
	data := maps.Clone(live)
	data[specs.KeystoreKey] = keystore
	data[specs.KeystorePasswordKey] = []byte(pw)
	return retrust(data, trusted)
}

// repackLeaf is repack for leaf Secret name, which lacks a store key, recorded in m.Repacked
// with that key.
func (m *tlsMaterial) repackLeaf(name string, live map[string][]byte, trusted []*x509.Certificate, now time.Time) (map[string][]byte, error) {
	missing := missingStore(live)
	data, err := repack(live, trusted, now)
	if err != nil {
		return nil, fmt.Errorf("while packing the keystores of %s again (%s is missing): %w", name, missing, err)
	}
	m.Repacked[name] = missing
	return data, nil
}

// repackedNote is the note of the KeystoresRepacked event: each Secret whose stores were packed
// again, with the key it lacked, in name order.
func repackedNote(repacked map[string]string) string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(repacked)) {
		parts = append(parts, fmt.Sprintf("%s (%s was missing)", name, repacked[name]))
	}
	return "Packed the keystores again around the certificate served, in Secrets " + strings.Join(parts, ", ")
}
