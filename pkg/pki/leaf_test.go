package pki

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

func TestGroupDNSNames(t *testing.T) {
	for _, tc := range []struct {
		name                       string
		cluster, group, ns, domain string
		want                       []string
	}{
		{
			name: "data group", cluster: "c", group: "data", ns: "ns", domain: "cluster.local",
			want: []string{
				"*.c-data-headless.ns.svc",
				"*.c-data-headless.ns.svc.cluster.local",
				"c-data",
				"c-data.ns",
				"c-data.ns.svc",
				"c-data.ns.svc.cluster.local",
			},
		},
		{
			name: "custom cluster domain", cluster: "prod", group: "master", ns: "imply", domain: "corp.example",
			want: []string{
				"*.prod-master-headless.imply.svc",
				"*.prod-master-headless.imply.svc.corp.example",
				"prod-master",
				"prod-master.imply",
				"prod-master.imply.svc",
				"prod-master.imply.svc.corp.example",
			},
		},
		{
			name: "no cluster domain", cluster: "c", group: "query", ns: "ns", domain: "",
			want: []string{
				"*.c-query-headless.ns.svc",
				"c-query",
				"c-query.ns",
				"c-query.ns.svc",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(GroupDNSNames(tc.cluster, tc.group, tc.ns, tc.domain)).To(Equal(tc.want))
		})
	}
}

func TestManagerDNSNames(t *testing.T) {
	for _, tc := range []struct {
		name                string
		cluster, ns, domain string
		want                []string
	}{
		{
			name: "cluster.local", cluster: "c", ns: "ns", domain: "cluster.local",
			want: []string{
				"c-manager",
				"c-manager-int",
				"c-manager-int.ns",
				"c-manager-int.ns.svc",
				"c-manager-int.ns.svc.cluster.local",
				"c-manager.ns",
				"c-manager.ns.svc",
				"c-manager.ns.svc.cluster.local",
			},
		},
		{
			name: "no cluster domain", cluster: "c", ns: "ns", domain: "",
			want: []string{
				"c-manager",
				"c-manager-int",
				"c-manager-int.ns",
				"c-manager-int.ns.svc",
				"c-manager.ns",
				"c-manager.ns.svc",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got := ManagerDNSNames(tc.cluster, tc.ns, tc.domain)
			g.Expect(got).To(Equal(tc.want))
			for _, n := range got {
				g.Expect(n).NotTo(ContainSubstring("headless"))
			}
		})
	}
}

// TestSignClientOnlyLeafUsages: a ClientOnly request gives a certificate for clientAuth alone, with no
// DNS names, that verifies as a client of its CA and not as a server, and that NeedsReissue
// keeps as it is.
func TestSignClientOnlyLeafUsages(t *testing.T) {
	g := NewWithT(t)
	ca := mustCA(t, "")
	req := LeafRequest{CommonName: "c-data-client", ClientOnly: true, Validity: 90 * 24 * time.Hour}
	leaf, err := ca.SignLeaf(fakeClock(t0), req)
	g.Expect(err).NotTo(HaveOccurred())
	c := leaf.Certificate
	g.Expect(c.Subject.CommonName).To(Equal("c-data-client"))
	g.Expect(c.DNSNames).To(BeEmpty())
	g.Expect(c.ExtKeyUsage).To(Equal([]x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}))
	pool := x509.NewCertPool()
	pool.AddCert(ca.Certificate)
	_, err = c.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: t0, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	g.Expect(err).NotTo(HaveOccurred())
	_, err = c.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: t0, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	g.Expect(err).To(HaveOccurred())
	_, _, reissue := NeedsReissue(ReissueInput{CertPEM: leaf.CertPEM, KeyPEM: leaf.KeyPEM, Request: req, CA: ca.Certificate, Now: t0, RenewBefore: time.Hour})
	g.Expect(reissue).To(BeFalse())
	// A serving request for the client certificate: re-issued for its usages.
	serving := req
	serving.ClientOnly, serving.DNSNames = false, nil
	reason, _, reissue := NeedsReissue(ReissueInput{CertPEM: leaf.CertPEM, Request: serving, Now: t0})
	g.Expect(reissue).To(BeTrue())
	g.Expect(reason).To(Equal(ReissueUsageChanged))
}

func TestSignLeaf(t *testing.T) {
	for _, tc := range []struct {
		caAlg, leafAlg implyv1alpha1.KeyAlgorithm
		wantAlg        implyv1alpha1.KeyAlgorithm
		wantUsage      x509.KeyUsage
	}{
		{caAlg: "", leafAlg: "", wantAlg: implyv1alpha1.KeyAlgorithmECDSAP256, wantUsage: x509.KeyUsageDigitalSignature},
		{caAlg: implyv1alpha1.KeyAlgorithmECDSAP256, leafAlg: implyv1alpha1.KeyAlgorithmRSA2048,
			wantAlg: implyv1alpha1.KeyAlgorithmRSA2048, wantUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment},
		{caAlg: implyv1alpha1.KeyAlgorithmRSA2048, leafAlg: implyv1alpha1.KeyAlgorithmECDSAP256,
			wantAlg: implyv1alpha1.KeyAlgorithmECDSAP256, wantUsage: x509.KeyUsageDigitalSignature},
		{caAlg: implyv1alpha1.KeyAlgorithmRSA2048, leafAlg: implyv1alpha1.KeyAlgorithmRSA3072,
			wantAlg: implyv1alpha1.KeyAlgorithmRSA3072, wantUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment},
	} {
		t.Run(string(tc.caAlg)+"->"+string(tc.leafAlg), func(t *testing.T) {
			g := NewWithT(t)
			ca := mustCA(t, tc.caAlg)
			req := dataRequest(tc.leafAlg)
			leaf, err := ca.SignLeaf(fakeClock(t0), req)
			g.Expect(err).NotTo(HaveOccurred())
			c := leaf.Certificate

			g.Expect(c.Subject.CommonName).To(Equal("c-data"))
			g.Expect(c.DNSNames).To(Equal(req.DNSNames))
			g.Expect(c.IPAddresses).To(BeEmpty())
			g.Expect(c.URIs).To(BeEmpty())
			g.Expect(c.EmailAddresses).To(BeEmpty())
			g.Expect(c.ExtKeyUsage).To(Equal([]x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}))
			g.Expect(c.KeyUsage).To(Equal(tc.wantUsage))
			g.Expect(c.IsCA).To(BeFalse())
			g.Expect(c.BasicConstraintsValid).To(BeTrue())
			g.Expect(c.AuthorityKeyId).To(Equal(ca.Certificate.SubjectKeyId))
			g.Expect(c.SubjectKeyId).To(HaveLen(20))
			g.Expect(c.Issuer.String()).To(Equal(ca.Certificate.Subject.String()))
			g.Expect(c.NotBefore).To(Equal(t0.Add(-5 * time.Minute)))
			g.Expect(c.NotAfter).To(Equal(t0.Add(90 * 24 * time.Hour)))
			g.Expect(c.SerialNumber.BitLen()).To(BeNumerically(">", 64))
			alg, err := KeyAlgorithmOf(leaf.Key.Public())
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(alg).To(Equal(tc.wantAlg))

			for _, name := range []string{
				"c-data", "c-data.ns", "c-data.ns.svc", "c-data.ns.svc.cluster.local",
				"c-data-0.c-data-headless.ns.svc", "c-data-2.c-data-headless.ns.svc.cluster.local",
			} {
				g.Expect(verifyLeaf(c, name, t0, ca.Certificate)).To(Succeed(), name)
			}
			for _, name := range []string{"c-query", "c-data.other", "a.b.c-data-headless.ns.svc", "c-data-headless.ns.svc"} {
				g.Expect(verifyLeaf(c, name, t0, ca.Certificate)).NotTo(Succeed(), name)
			}
			other := mustCA(t, "")
			g.Expect(verifyLeaf(c, "c-data", t0, other.Certificate)).NotTo(Succeed(), "another CA")

			parsed, err := ParseKeyPair(leaf.CertPEM, leaf.KeyPEM)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(parsed.Certificate.Equal(c)).To(BeTrue())
		})
	}
}

func TestSignLeafCappedAtCAExpiry(t *testing.T) {
	g := NewWithT(t)
	ca, err := CreateRootCA(fakeClock(t0), "short-ca", "", 10*24*time.Hour)
	g.Expect(err).NotTo(HaveOccurred())
	now := t0.Add(3 * 24 * time.Hour)
	leaf, err := ca.SignLeaf(fakeClock(now), dataRequest(""))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(leaf.Certificate.NotAfter).To(Equal(ca.Certificate.NotAfter))
	g.Expect(leaf.Certificate.NotBefore).To(Equal(now.Add(-Backdate)))
	g.Expect(verifyLeaf(leaf.Certificate, "c-data", now, ca.Certificate)).To(Succeed())
}

func TestSignLeafErrors(t *testing.T) {
	ca := mustCA(t, "")
	notCA := mustLeaf(t, ca, "")
	for _, tc := range []struct {
		name    string
		ca      *KeyPair
		now     time.Time
		mod     func(*LeafRequest)
		wantErr string
	}{
		{name: "nil CA", ca: nil, now: t0, wantErr: "no CA to sign with"},
		{name: "CA without key", ca: &KeyPair{Certificate: ca.Certificate}, now: t0, wantErr: "no CA to sign with"},
		{name: "leaf as CA", ca: notCA, now: t0, wantErr: `"c-data" is not a CA certificate`},
		{name: "no DNS names", ca: ca, now: t0, mod: func(r *LeafRequest) { r.DNSNames = nil },
			wantErr: "a leaf certificate needs at least one DNS name"},
		{name: "zero validity", ca: ca, now: t0, mod: func(r *LeafRequest) { r.Validity = 0 },
			wantErr: "the leaf validity 0s is not positive"},
		{name: "unknown algorithm", ca: ca, now: t0, mod: func(r *LeafRequest) { r.Algorithm = "RSA-1024" },
			wantErr: `while generating the leaf key: unsupported key algorithm "RSA-1024"`},
		{name: "expired CA", ca: ca, now: ca.Certificate.NotAfter.Add(time.Second),
			wantErr: "the CA expired at " + ca.Certificate.NotAfter.UTC().Format(time.RFC3339)},
		{name: "CA key does not match", ca: &KeyPair{Certificate: ca.Certificate, Key: testKey(t, "p256")}, now: t0,
			wantErr: "while signing the leaf certificate: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			req := dataRequest("")
			if tc.mod != nil {
				tc.mod(&req)
			}
			leaf, err := tc.ca.SignLeaf(fakeClock(tc.now), req)
			g.Expect(err).To(HaveOccurred())
			g.Expect(strings.HasPrefix(err.Error(), tc.wantErr)).To(BeTrue(), err.Error())
			g.Expect(leaf).To(BeNil())
		})
	}
}
