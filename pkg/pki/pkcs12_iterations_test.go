package pki

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"testing"

	. "github.com/onsi/gomega"
)

// pfx, contentInfo, encryptedData, algorithmIdentifier, pbes2Params and pbkdf2Params are the
// parts of RFC 7292 and RFC 8018 that storeIterations reads.
type pfx struct {
	Version  int
	AuthSafe contentInfo
	MacData  struct {
		Mac        asn1.RawValue
		MacSalt    []byte
		Iterations int `asn1:"optional,default:1"`
	} `asn1:"optional"`
}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
}

type encryptedData struct {
	Version              int
	EncryptedContentInfo struct {
		ContentType                asn1.ObjectIdentifier
		ContentEncryptionAlgorithm algorithmIdentifier
		EncryptedContent           asn1.RawValue `asn1:"tag:0,optional"`
	}
}

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

type pbes2Params struct {
	KeyDerivationFunc algorithmIdentifier
	EncryptionScheme  algorithmIdentifier
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
}

// storeIterations returns the MAC's key-derivation iterations of a PKCS#12 store and those of
// the PBES2 encryption of its certificates.
func storeIterations(der []byte) (mac, certEncryption int, err error) {
	var p pfx
	if _, err := asn1.Unmarshal(der, &p); err != nil {
		return 0, 0, fmt.Errorf("pfx: %w", err)
	}
	var authSafeDER []byte
	if _, err := asn1.Unmarshal(p.AuthSafe.Content.Bytes, &authSafeDER); err != nil {
		return 0, 0, fmt.Errorf("authSafe: %w", err)
	}
	var safes []contentInfo
	if _, err := asn1.Unmarshal(authSafeDER, &safes); err != nil {
		return 0, 0, fmt.Errorf("safes: %w", err)
	}
	oidEncryptedData := asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	for _, s := range safes {
		if !s.ContentType.Equal(oidEncryptedData) {
			continue
		}
		var ed encryptedData
		if _, err := asn1.Unmarshal(s.Content.Bytes, &ed); err != nil {
			return 0, 0, fmt.Errorf("encryptedData: %w", err)
		}
		var params pbes2Params
		if _, err := asn1.Unmarshal(ed.EncryptedContentInfo.ContentEncryptionAlgorithm.Parameters.FullBytes, &params); err != nil {
			return 0, 0, fmt.Errorf("PBES2 parameters: %w", err)
		}
		var kdf pbkdf2Params
		if _, err := asn1.Unmarshal(params.KeyDerivationFunc.Parameters.FullBytes, &kdf); err != nil {
			return 0, 0, fmt.Errorf("PBKDF2 parameters: %w", err)
		}
		return p.MacData.Iterations, kdf.Iterations, nil
	}
	return 0, 0, fmt.Errorf("no encrypted certificates")
}

// TestStoresOfAGeneratedPasswordUseOneIteration checks the KDF iterations of each store: one for
// the operator's stores (their password is generated and kept beside them), Modern's 2048 for
// a truststore under a password a person chose.
func TestStoresOfAGeneratedPasswordUseOneIteration(t *testing.T) {
	ca := mustCA(t, "")
	leaf := mustLeaf(t, ca, "")
	chain := []*x509.Certificate{ca.Certificate}
	keystore, err := Keystore(leaf, chain, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	truststore, err := Truststore(chain, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	chosen, err := TruststoreWithChosenPassword(chain, "changeit")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		der  []byte
		want int
	}{
		{name: "keystore", der: keystore, want: 1},
		{name: "truststore", der: truststore, want: 1},
		{name: "truststore with a chosen password", der: chosen, want: 2048},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			mac, enc, err := storeIterations(tc.der)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(mac).To(Equal(tc.want), "MAC iterations")
			g.Expect(enc).To(Equal(tc.want), "certificate encryption iterations")
		})
	}
}
