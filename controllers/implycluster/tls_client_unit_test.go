package implycluster

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	clocktesting "k8s.io/utils/clock/testing"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// TestClientMaterial: the live client certificate is kept while it is right, and issued again
// (with new stores) when it is missing, signed by another client CA, due for renewal, or when
// its stores are gone or encrypted with another password.
func TestClientMaterial(t *testing.T) {
	const day = 24 * time.Hour
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := clocktesting.NewFakeClock(t0)
	newCA := func() *pki.KeyPair {
		ca, err := pki.CreateRootCA(clk, "client CA", implyv1alpha1.KeyAlgorithmECDSAP256, 365*day)
		if err != nil {
			t.Fatal(err)
		}
		return ca
	}
	ca, otherCA := newCA(), newCA()
	req := pki.LeafRequest{CommonName: "c-data-client", ClientOnly: true, Validity: 90 * day}
	input := func(live map[string][]byte) clientMaterialInput {
		return clientMaterialInput{Live: live, Password: []byte("password-0123456789abcdef"), Request: req, CA: ca, Now: t0, RenewBefore: 30 * day}
	}
	g := NewWithT(t)
	first, why, err := clientMaterial(clk, input(map[string][]byte{}))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(why).To(HavePrefix("Missing"))
	g.Expect(first).To(HaveLen(len(specs.ClientMaterialKeys)))
	live := withClientMaterial(map[string][]byte{specs.KeystorePasswordKey: []byte("password-0123456789abcdef")}, first)

	for _, tc := range []struct {
		name    string
		mod     func(*clientMaterialInput)
		wantWhy string
	}{
		{name: "up to date", wantWhy: ""},
		{name: "another client CA", mod: func(in *clientMaterialInput) { in.CA = otherCA }, wantWhy: "IssuerChanged"},
		{name: "due for renewal", mod: func(in *clientMaterialInput) { in.Now = t0.Add(61 * day) }, wantWhy: "Expiring"},
		{name: "key algorithm changed", mod: func(in *clientMaterialInput) { in.Request.Algorithm = implyv1alpha1.KeyAlgorithmRSA2048 }, wantWhy: "KeyAlgorithmChanged"},
		{name: "truststore gone", mod: func(in *clientMaterialInput) {
			in.Live = withClientMaterial(in.Live, nil)
			for _, k := range []string{specs.ClientCertKey, specs.ClientPrivateKeyKey, specs.ClientCAKey, specs.ClientKeystoreKey} {
				in.Live[k] = live[k]
			}
		}, wantWhy: "the client stores are missing"},
		{name: "keystore bytes not cached: kept", mod: func(in *clientMaterialInput) {
			in.Live = withClientMaterial(in.Live, nil)
			for _, k := range specs.ClientMaterialKeys {
				in.Live[k] = live[k]
			}
			in.Live[specs.ClientKeystoreKey], in.Live[specs.ClientTruststoreKey] = nil, nil
		}, wantWhy: ""},
		{name: "password changed", mod: func(in *clientMaterialInput) { in.Password = []byte("another-password-0123456789") }, wantWhy: "the keystore password changed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			in := input(live)
			if tc.mod != nil {
				tc.mod(&in)
			}
			data, why, err := clientMaterial(clk, in)
			g.Expect(err).NotTo(HaveOccurred())
			if tc.wantWhy == "" {
				g.Expect(why).To(BeEmpty())
				for _, k := range specs.ClientMaterialKeys {
					g.Expect(data[k]).To(Equal(in.Live[k]), k)
				}
				return
			}
			g.Expect(why).To(HavePrefix(tc.wantWhy))
			g.Expect(data[specs.ClientCertKey]).NotTo(Equal(live[specs.ClientCertKey]))
			g.Expect(data[specs.ClientKeystoreKey]).NotTo(BeEmpty())
			g.Expect(data[specs.ClientCAKey]).To(Equal(pki.BundlePEM(in.CA.Certificate)))
		})
	}
}
