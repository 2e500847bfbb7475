package specs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
)

// cached is data as the operator's cache holds it: the PKCS#12 values dropped.
func cached(data map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range data {
		if k == KeystoreKey || k == TruststoreKey {
			v = nil
		}
		out[k] = v
	}
	return out
}

func TestDesiredMetadataTLSGenerated(t *testing.T) {
	g := NewWithT(t)
	clk := clocktesting.NewFakeClock(time.Now())
	ca, storeCA := testCA(t, "c-ca"), testCA(t, "store-ca")
	c := newCluster(withStoreTLS(implyv1alpha1.MetadataStorePostgreSQL, &implyv1alpha1.MetadataStoreTLSSpec{
		CASecretRef:       &implyv1alpha1.SecretKeySelector{Name: "store-ca"},
		ClientCertificate: &implyv1alpha1.ClientCertificateSpec{Generate: true},
	}))
	plan, err := PlanMetadataTLS(c, MetadataStoreDruid)
	g.Expect(err).NotTo(HaveOccurred())
	in := MetadataTLSInputs{
		Plan: plan, CASecretData: map[string][]byte{"ca.crt": storeCA.CertPEM}, ClusterBundlePEM: ca.CertPEM,
		ClusterCA: ca, Username: "druid", Validity: 10 * time.Hour, RenewBefore: 2 * time.Hour, Clock: clk,
		RevisionKey: testRevisionKey,
	}

	first, err := DesiredMetadataTLS(c, in)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(first.Issued).To(HavePrefix("Missing"))
	g.Expect(first.Secret.Name).To(Equal("c-metadata-client-tls"))
	g.Expect(first.Secret.Type).To(Equal(corev1.SecretTypeTLS))
	g.Expect(first.Client.Subject.CommonName).To(Equal("druid"))
	g.Expect(first.RenewalTime).To(BeTemporally("~", clk.Now().Add(8*time.Hour), time.Minute))
	g.Expect(first.Secret.Data["ca.crt"]).To(Equal(storeCA.CertPEM), "the server's CA, not the cluster's")
	g.Expect(first.Revision).To(Equal(mustRevision(t, first.Secret.Data)))

	// Unchanged: the live data (as cached) is kept as it is, nothing is issued.
	in.Live = cached(first.Secret.Data)
	again, err := DesiredMetadataTLS(c, in)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(again.Issued).To(BeEmpty())
	g.Expect(again.Secret.Data).To(Equal(in.Live))
	g.Expect(again.Revision).To(Equal(first.Revision))

	// Each change re-issues or rebuilds, and changes the revision.
	for _, tc := range []struct {
		name   string
		change func(*MetadataTLSInputs)
		issued string
	}{
		{"another database user", func(in *MetadataTLSInputs) { in.Username = "druid2" }, "SANsChanged"},
		{"renewal due", func(in *MetadataTLSInputs) { in.Clock = clocktesting.NewFakeClock(clk.Now().Add(9 * time.Hour)) }, "Expiring"},
		{"another cluster CA", func(in *MetadataTLSInputs) { in.ClusterCA = testCA(t, "c-ca-2") }, "IssuerChanged"},
		{"another key algorithm", func(in *MetadataTLSInputs) { in.Algorithm = implyv1alpha1.KeyAlgorithmRSA2048 }, "KeyAlgorithmChanged"},
		{"another store CA", func(in *MetadataTLSInputs) {
			in.CASecretData = map[string][]byte{"ca.crt": testCA(t, "store-ca-2").CertPEM}
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			changed := in
			tc.change(&changed)
			res, err := DesiredMetadataTLS(c, changed)
			g.Expect(err).NotTo(HaveOccurred())
			if tc.issued == "" {
				g.Expect(res.Issued).To(BeEmpty())
				g.Expect(res.Secret.Data["tls.crt"]).To(Equal(first.Secret.Data["tls.crt"]))
			} else {
				g.Expect(res.Issued).To(HavePrefix(tc.issued))
			}
			g.Expect(res.Secret.Data["truststore.p12"]).NotTo(BeEmpty(), "rebuilt, not the cached copy")
			g.Expect(res.Revision).NotTo(Equal(first.Revision))
		})
	}

	// The password is kept.
	g.Expect(string(first.Secret.Data["keystore-password"])).To(HaveLen(24))
}

func TestDesiredMetadataTLSUserCertificate(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Now())
	ca := testCA(t, "c-ca")
	c := newCluster(withStoreTLS(implyv1alpha1.MetadataStoreMySQL, &implyv1alpha1.MetadataStoreTLSSpec{
		ClientCertificate: &implyv1alpha1.ClientCertificateSpec{SecretRef: &implyv1alpha1.LocalObjectReference{Name: "mine"}},
	}))
	plan, err := PlanMetadataTLS(c, MetadataStoreDruid)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.SignLeaf(clk, pki.ClientLeafRequest("druid", "", time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	serverCertPEM, serverKeyPEM := serverOnlyCert(t, ca)
	other := testCA(t, "other")
	for _, tc := range []struct {
		name    string
		data    map[string][]byte
		clock   *clocktesting.FakeClock
		wantErr string
	}{
		{name: "valid, with its chain", data: map[string][]byte{"tls.crt": append(append([]byte{}, leaf.CertPEM...), ca.CertPEM...), "tls.key": leaf.KeyPEM}},
		{name: "missing Secret", wantErr: `Secret "mine" named by spec.druid.metadataStore.tls.clientCertificate.secretRef does not exist`},
		{name: "expired", data: map[string][]byte{"tls.crt": leaf.CertPEM, "tls.key": leaf.KeyPEM},
			clock: clocktesting.NewFakeClock(clk.Now().Add(2 * time.Hour)), wantErr: "cannot be used as a client certificate: tls.crt expired at"},
		{name: "wrong key", data: map[string][]byte{"tls.crt": leaf.CertPEM, "tls.key": other.KeyPEM},
			wantErr: "tls.key does not match the public key of tls.crt"},
		{name: "no clientAuth", data: map[string][]byte{"tls.crt": serverCertPEM, "tls.key": serverKeyPEM},
			wantErr: "its extended key usage does not include clientAuth"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			in := MetadataTLSInputs{Plan: plan, ClusterBundlePEM: ca.CertPEM, UserClientData: tc.data, Clock: clk, RevisionKey: testRevisionKey}
			if tc.clock != nil {
				in.Clock = tc.clock
			}
			res, err := DesiredMetadataTLS(c, in)
			if tc.wantErr != "" {
				g.Expect(errors.Is(err, ErrMetadataTLSInput)).To(BeTrue(), "%v", err)
				g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
				g.Expect(err.Error()).NotTo(ContainSubstring("PRIVATE KEY"))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(res.Issued).To(BeEmpty())
			g.Expect(res.RenewalTime.IsZero()).To(BeTrue())
			certs, err := pki.ParseBundle(res.Secret.Data["tls.crt"])
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(certs).To(HaveLen(2))
			g.Expect(res.Secret.Data).To(HaveKey("keystore.p12"))
			g.Expect(res.Secret.Data).To(HaveKey("tls.pk8"))
		})
	}
}

func TestDesiredMetadataTLSNothingOrBadCA(t *testing.T) {
	g := NewWithT(t)
	clk := clocktesting.NewFakeClock(time.Now())
	// Plaintext and system roots without a client certificate: no Secret.
	for _, c := range []*implyv1alpha1.ImplyCluster{
		newCluster(withStoreTLS(implyv1alpha1.MetadataStoreMySQL, &implyv1alpha1.MetadataStoreTLSSpec{Enabled: ptr.To(false)})),
		newCluster(withTLS(false)),
	} {
		plan, _ := PlanMetadataTLS(c, MetadataStoreDruid)
		res, err := DesiredMetadataTLS(c, MetadataTLSInputs{Plan: plan, Clock: clk})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(res).To(BeNil())
	}
	c := newCluster(withStoreTLS(implyv1alpha1.MetadataStoreMySQL, &implyv1alpha1.MetadataStoreTLSSpec{
		CASecretRef: &implyv1alpha1.SecretKeySelector{Name: "store-ca"}}))
	plan, _ := PlanMetadataTLS(c, MetadataStoreDruid)
	_, err := DesiredMetadataTLS(c, MetadataTLSInputs{Plan: plan, Clock: clk, CASecretData: map[string][]byte{"ca.crt": []byte("junk")}})
	g.Expect(errors.Is(err, ErrMetadataTLSInput)).To(BeTrue())
	g.Expect(err).To(MatchError(ContainSubstring(`key "ca.crt" of Secret "store-ca" named by spec.druid.metadataStore.tls.caSecretRef`)))
}

// serverOnlyCert is a certificate for druid signed by ca whose extended key usage is serverAuth
// only, with its key, both PEM.
func serverOnlyCert(t *testing.T, ca *pki.KeyPair) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(9), Subject: pkix.Name{CommonName: "druid"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Certificate, key.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}
