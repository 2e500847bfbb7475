package pki

import (
	"strings"
	"testing"
)

// FuzzParseUserCA feeds arbitrary Secret data to ParseUserCA and ValidateUserCA (the cluster
// checks: names, Java keys, renewBefore), seeded with every case of both table tests. Neither
// may panic; an error must wrap exactly one sentinel and never echo key material; a nil error
// must give a usable CA (IsCA, matching key, signs a leaf that verifies), and ValidateUserCA
// never accepts what ParseUserCA rejects; what it accepts signs a leaf for the cluster's names
// that verifies and is valid beyond renewBefore.
func FuzzParseUserCA(f *testing.F) {
	for _, tc := range append(userCACases(f), checkCases(f)...) {
		f.Add(tc.data[SecretKeyTLSCert], tc.data[SecretKeyTLSKey], tc.data[SecretKeyCACert], tc.data[SecretKeyCAKey])
	}
	f.Fuzz(func(t *testing.T, tlsCrt, tlsKey, caCrt, caKey []byte) {
		data := map[string][]byte{
			SecretKeyTLSCert: tlsCrt, SecretKeyTLSKey: tlsKey,
			SecretKeyCACert: caCrt, SecretKeyCAKey: caKey,
		}
		parsed, parseErr := ParseUserCA(data, t0)
		policy := checkPolicy()
		ca, err := ValidateUserCA(data, policy)
		if parseErr != nil && err == nil {
			t.Fatalf("ValidateUserCA accepts what ParseUserCA rejects (%q)", parseErr)
		}
		if parseErr == nil && (parsed == nil || !parsed.Certificate.IsCA) {
			t.Fatalf("ParseUserCA returned no CA and no error")
		}
		if err == nil {
			assertUsableCA(t, ca, t0)
			if !policy.Now.Add(policy.RenewBefore).Before(ca.Certificate.NotAfter) {
				t.Fatalf("accepted a CA expiring at %s, within renewBefore", ca.Certificate.NotAfter)
			}
			leaf, serr := ca.SignLeaf(fakeClock(t0), dataRequest(""))
			if serr != nil {
				t.Fatalf("accepted a CA that cannot sign: %v", serr)
			}
			for _, name := range policy.DNSNames {
				host := strings.Replace(name, "*.", "c-data-0.", 1)
				if verr := verifyLeaf(leaf.Certificate, host, t0, ca.Certificate); verr != nil {
					t.Fatalf("accepted a CA whose leaf for %s does not verify: %v", host, verr)
				}
			}
			return
		}
		if ca != nil {
			t.Fatalf("error %q with a non-nil CA", err)
		}
		if matched := sentinelsIn(err); matched != 1 {
			t.Fatalf("error %q wraps %d sentinels, want 1", err, matched)
		}
		if line := keyMaterialIn(data, err.Error()); line != "" &&
			!strings.Contains(string(tlsCrt), line) && !strings.Contains(string(caCrt), line) {
			t.Fatalf("error %q contains key material %q", err, line)
		}
	})
}
