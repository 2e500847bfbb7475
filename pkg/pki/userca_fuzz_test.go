package pki

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseUserCA feeds arbitrary Secret data to ParseUserCA, seeded with every case of the
// table test. It must never panic; an error must wrap exactly one sentinel and never echo key
// material; a nil error must give a usable CA (IsCA, matching key, signs a leaf that verifies).
func FuzzParseUserCA(f *testing.F) {
	for _, tc := range userCACases(f) {
		f.Add(tc.data[SecretKeyTLSCert], tc.data[SecretKeyTLSKey], tc.data[SecretKeyCACert], tc.data[SecretKeyCAKey])
	}
	sentinels := []error{ErrMalformed, ErrNotCA, ErrExpired, ErrNotYetValid, ErrKeyMismatch, ErrWeakKey, ErrMissingKey}
	f.Fuzz(func(t *testing.T, tlsCrt, tlsKey, caCrt, caKey []byte) {
		data := map[string][]byte{
			SecretKeyTLSCert: tlsCrt, SecretKeyTLSKey: tlsKey,
			SecretKeyCACert: caCrt, SecretKeyCAKey: caKey,
		}
		ca, err := ParseUserCA(data, t0)
		if err == nil {
			assertUsableCA(t, ca, t0)
			return
		}
		if ca != nil {
			t.Fatalf("error %q with a non-nil CA", err)
		}
		matched := 0
		for _, s := range sentinels {
			if errors.Is(err, s) {
				matched++
			}
		}
		if matched != 1 {
			t.Fatalf("error %q wraps %d sentinels, want 1", err, matched)
		}
		if line := keyMaterialIn(data, err.Error()); line != "" &&
			!strings.Contains(string(tlsCrt), line) && !strings.Contains(string(caCrt), line) {
			t.Fatalf("error %q contains key material %q", err, line)
		}
	})
}
