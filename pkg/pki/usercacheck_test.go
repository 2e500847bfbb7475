package pki

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// checkPolicy is the policy of cluster "c" in namespace "ns": the data group's names, the
// default renewBefore, at t0.
func checkPolicy() UserCAPolicy {
	return UserCAPolicy{Now: t0, DNSNames: dataRequest("").DNSNames, RenewBefore: 720 * time.Hour}
}

// checkCases are the table of TestValidateUserCA and more seeds of FuzzParseUserCA.
func checkCases(t testing.TB) []userCACase {
	t.Helper()
	ec := testKey(t, "p256")
	key := keyPEM(t, ec, "pkcs8")
	ca := func(mods ...func(*x509.Certificate)) map[string][]byte {
		return tlsSecret(selfSigned(t, ec, certTemplate(mods...)), key)
	}
	return []userCACase{
		{name: "a plain CA", data: ca()},
		{name: "name constraints permitting the cluster's domain", data: ca(func(c *x509.Certificate) {
			c.PermittedDNSDomainsCritical, c.PermittedDNSDomains = true, []string{"ns.svc.cluster.local", ".ns.svc", "ns", "c-data", "c-data.ns", ".c-data-headless.ns.svc", "c-data.ns.svc"}
		})},
		{name: "valid for exactly renewBefore and a second", data: ca(func(c *x509.Certificate) {
			c.NotAfter = t0.Add(720*time.Hour + time.Second)
		})},

		{name: "expires within renewBefore", data: ca(func(c *x509.Certificate) { c.NotAfter = t0.Add(time.Minute) }),
			wantErr: ErrExpiresTooSoon, wantMsg: "tls.crt expires at 2026-03-14T12:01:00Z, within certificate.renewBefore (720h0m0s)"},
		{name: "expires exactly at the end of renewBefore", data: ca(func(c *x509.Certificate) { c.NotAfter = t0.Add(720 * time.Hour) }),
			wantErr: ErrExpiresTooSoon, wantMsg: "tls.crt expires at 2026-04-13T12:00:00Z, within certificate.renewBefore"},
		{name: "name constraints permitting another domain only", data: ca(func(c *x509.Certificate) {
			c.PermittedDNSDomainsCritical, c.PermittedDNSDomains = true, []string{"example.com"}
		}), wantErr: ErrCannotSignForCluster,
			wantMsg: "a certificate for the cluster's names signed by tls.crt does not verify: its name constraints exclude a name of the cluster"},
		{name: "name constraints excluding the cluster domain", data: ca(func(c *x509.Certificate) {
			c.ExcludedDNSDomains = []string{"svc.cluster.local"}
		}), wantErr: ErrCannotSignForCluster, wantMsg: "a certificate for the cluster's names signed by tls.crt does not verify: its name constraints exclude"},
		{name: "an unknown critical extension", data: ca(func(c *x509.Certificate) {
			c.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Critical: true, Value: []byte{5, 0}}}
		}), wantErr: ErrCannotSignForCluster, wantMsg: "tls.crt has critical extensions TLS clients do not know (1.3.6.1.4.1.99999.1)"},
		{name: "a parse problem stays a parse problem", data: ca(func(c *x509.Certificate) { c.IsCA = false }),
			wantErr: ErrNotCA, wantMsg: "tls.crt is not a CA certificate"},
	}
}

func TestValidateUserCA(t *testing.T) {
	for _, tc := range checkCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			ca, err := ValidateUserCA(tc.data, checkPolicy())
			if tc.wantErr == nil {
				g.Expect(err).NotTo(HaveOccurred())
				assertUsableCA(t, ca, t0)
				return
			}
			g.Expect(ca).To(BeNil())
			g.Expect(err).To(MatchError(tc.wantErr))
			g.Expect(err.Error()).To(HavePrefix(tc.wantMsg))
			g.Expect(sentinelsIn(err)).To(Equal(1), "exactly one sentinel")
			g.Expect(keyMaterialIn(tc.data, err.Error())).To(BeEmpty(), "no key material in the message")
		})
	}
}

// Every CA ParseUserCA accepts from the table that is valid long enough passes ValidateUserCA
// for a cluster without name constraints: the cluster checks only add what they name.
func TestValidateUserCAAgreesWithParse(t *testing.T) {
	for _, tc := range userCACases(t) {
		if tc.wantErr != nil {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			_, err := ValidateUserCA(tc.data, checkPolicy())
			NewWithT(t).Expect(err).NotTo(HaveOccurred())
		})
	}
}

func TestCheckUserCANeedsNames(t *testing.T) {
	g := NewWithT(t)
	err := CheckUserCA("tls.crt", mustCA(t, ""), UserCAPolicy{Now: t0})
	g.Expect(err).To(MatchError(ErrCannotSignForCluster))
	g.Expect(err.Error()).To(ContainSubstring("no cluster names to check"))
}
