package pki

import (
	"crypto/x509"
	"testing"
	"time"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

func BenchmarkCreateRootCA(b *testing.B) {
	for _, alg := range []implyv1alpha1.KeyAlgorithm{
		implyv1alpha1.KeyAlgorithmECDSAP256,
		implyv1alpha1.KeyAlgorithmRSA2048,
		implyv1alpha1.KeyAlgorithmRSA3072,
		implyv1alpha1.KeyAlgorithmRSA4096,
	} {
		b.Run(string(alg), func(b *testing.B) {
			clk := fakeClock(t0)
			for b.Loop() {
				if _, err := CreateRootCA(clk, "c-ca", alg, 26280*time.Hour); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSignLeaf(b *testing.B) {
	for _, alg := range []implyv1alpha1.KeyAlgorithm{implyv1alpha1.KeyAlgorithmECDSAP256, implyv1alpha1.KeyAlgorithmRSA2048} {
		b.Run(string(alg), func(b *testing.B) {
			ca := mustCA(b, alg)
			clk := fakeClock(t0)
			req := dataRequest(alg)
			for b.Loop() {
				if _, err := ca.SignLeaf(clk, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkKeystore(b *testing.B) {
	ca := mustCA(b, "")
	leaf := mustLeaf(b, ca, "")
	chain := []*x509.Certificate{ca.Certificate}
	for b.Loop() {
		if _, err := Keystore(leaf, chain, testPassword); err != nil {
			b.Fatal(err)
		}
	}
}
