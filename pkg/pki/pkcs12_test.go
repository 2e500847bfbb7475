package pki

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	. "github.com/onsi/gomega"
	"software.sslmate.com/src/go-pkcs12"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

const testPassword = "s3cret-Pa55word_0123"

func TestKeystoreRoundTrip(t *testing.T) {
	for _, alg := range []implyv1alpha1.KeyAlgorithm{implyv1alpha1.KeyAlgorithmECDSAP256, implyv1alpha1.KeyAlgorithmRSA2048} {
		t.Run(string(alg), func(t *testing.T) {
			g := NewWithT(t)
			ca := mustCA(t, "")
			leaf := mustLeaf(t, ca, alg)
			p12, err := Keystore(leaf, []*x509.Certificate{ca.Certificate}, testPassword)
			g.Expect(err).NotTo(HaveOccurred())

			key, cert, chain, err := pkcs12.DecodeChain(p12, testPassword)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(cert.Equal(leaf.Certificate)).To(BeTrue())
			g.Expect(publicKeysEqual(leaf.Key.Public(), key.(crypto.Signer).Public())).To(BeTrue())
			g.Expect(chain).To(HaveLen(1))
			g.Expect(chain[0].Equal(ca.Certificate)).To(BeTrue())

			_, _, _, err = pkcs12.DecodeChain(p12, "wrong-password-0123")
			g.Expect(err).To(MatchError(pkcs12.ErrIncorrectPassword))
		})
	}
}

func TestTruststoreRoundTrip(t *testing.T) {
	g := NewWithT(t)
	oldCA, newCA := mustCA(t, ""), mustCA(t, implyv1alpha1.KeyAlgorithmRSA2048)
	g.Expect(oldCA.Certificate.Subject.String()).To(Equal(newCA.Certificate.Subject.String()), "a rotation may reuse the name")

	p12, err := Truststore([]*x509.Certificate{oldCA.Certificate, newCA.Certificate, oldCA.Certificate}, testPassword)
	g.Expect(err).NotTo(HaveOccurred())
	certs, err := pkcs12.DecodeTrustStore(p12, testPassword)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(certs).To(HaveLen(2), "duplicates dropped")
	g.Expect(certs[0].Equal(oldCA.Certificate)).To(BeTrue())
	g.Expect(certs[1].Equal(newCA.Certificate)).To(BeTrue())
	g.Expect(TruststoreAlias(oldCA.Certificate)).To(MatchRegexp(`^ca-[0-9a-f]{16}$`))
	g.Expect(TruststoreAlias(oldCA.Certificate)).NotTo(Equal(TruststoreAlias(newCA.Certificate)))
}

func TestKeystoreTruststoreErrors(t *testing.T) {
	ca := mustCA(t, "")
	leaf := mustLeaf(t, ca, "")
	for _, tc := range []struct {
		name    string
		call    func() ([]byte, error)
		wantErr string
	}{
		{name: "keystore without leaf", call: func() ([]byte, error) { return Keystore(nil, nil, testPassword) },
			wantErr: "keystore: no certificate and key"},
		{name: "keystore without key", call: func() ([]byte, error) {
			return Keystore(&KeyPair{Certificate: leaf.Certificate}, nil, testPassword)
		}, wantErr: "keystore: no certificate and key"},
		{name: "keystore with empty password", call: func() ([]byte, error) { return Keystore(leaf, nil, "") },
			wantErr: "keystore: empty password"},
		{name: "keystore with nil chain entry", call: func() ([]byte, error) {
			return Keystore(leaf, []*x509.Certificate{ca.Certificate, nil}, testPassword)
		}, wantErr: "keystore: chain certificate 1 is nil"},
		{name: "truststore without CA", call: func() ([]byte, error) { return Truststore([]*x509.Certificate{nil}, testPassword) },
			wantErr: "truststore: no CA certificate"},
		{name: "truststore with empty password", call: func() ([]byte, error) {
			return Truststore([]*x509.Certificate{ca.Certificate}, "")
		}, wantErr: "truststore: empty password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			out, err := tc.call()
			g.Expect(err).To(MatchError(tc.wantErr))
			g.Expect(out).To(BeNil())
		})
	}
}

func TestGeneratePassword(t *testing.T) {
	valid := regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	for _, tc := range []struct {
		name    string
		r       func() *bytes.Reader
		length  int
		want    string
		wantErr string
	}{
		{name: "crypto/rand, minimum length", length: 16},
		{name: "crypto/rand, 32", length: 32},
		{name: "deterministic reader", length: 16,
			r: func() *bytes.Reader {
				return bytes.NewReader([]byte{0, 1, 25, 26, 51, 52, 61, 62, 63, 64, 127, 128, 191, 192, 255, 58})
			},
			want: "ABZaz09-_A_A_A_6"},
		{name: "too short", length: 15, wantErr: "password length 15 is below the minimum of 16"},
		{name: "zero", length: 0, wantErr: "password length 0 is below the minimum of 16"},
		{name: "reader runs dry", length: 16, r: func() *bytes.Reader { return bytes.NewReader(make([]byte, 15)) },
			wantErr: "while reading randomness for a password: unexpected EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			var pw string
			var err error
			if tc.r != nil {
				pw, err = GeneratePassword(tc.r(), tc.length)
			} else {
				pw, err = GeneratePassword(nil, tc.length)
			}
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(tc.wantErr))
				g.Expect(pw).To(BeEmpty())
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(pw).To(HaveLen(tc.length))
			g.Expect(pw).To(MatchRegexp(valid.String()))
			g.Expect(pw).NotTo(ContainSubstring(":"))
			if tc.want != "" {
				g.Expect(pw).To(Equal(tc.want))
			}
		})
	}
}

func TestGeneratePasswordReaderError(t *testing.T) {
	g := NewWithT(t)
	boom := errors.New("boom")
	_, err := GeneratePassword(iotest.ErrReader(boom), 20)
	g.Expect(err).To(MatchError(boom))
}

func TestGeneratePasswordsDiffer(t *testing.T) {
	g := NewWithT(t)
	seen := map[string]bool{}
	for range 100 {
		pw, err := GeneratePassword(nil, MinPasswordLength)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(seen).NotTo(HaveKey(pw))
		seen[pw] = true
	}
}

// run runs a command with a generous timeout (the JVM starts slowly on a busy machine) and
// returns its combined output.
func run(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return string(out), err
}

// requireTool fails (never skips) the test when a tool the interop tests need is missing.
func requireTool(t *testing.T, name, hint string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s not found on PATH: %s", name, hint)
	}
}

// writeStores writes a keystore (leaf of group data, chain = CA) and a truststore (old and new
// CA, sharing a subject) and returns their paths and the CAs.
func writeStores(t *testing.T, alg implyv1alpha1.KeyAlgorithm) (keystore, truststore, password string, cas []*x509.Certificate) {
	t.Helper()
	ca := mustCA(t, "")
	leaf := mustLeaf(t, ca, alg)
	rotated := mustCA(t, "")
	password, err := GeneratePassword(nil, 24)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := Keystore(leaf, []*x509.Certificate{ca.Certificate}, password)
	if err != nil {
		t.Fatal(err)
	}
	cas = []*x509.Certificate{ca.Certificate, rotated.Certificate}
	ts, err := Truststore(cas, password)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keystore, truststore = filepath.Join(dir, "keystore.p12"), filepath.Join(dir, "truststore.p12")
	for path, data := range map[string][]byte{keystore: ks, truststore: ts} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return keystore, truststore, password, cas
}

// TestJavaKeytoolReadsStores proves Java (which Druid runs on) opens what we write, for an
// ECDSA and an RSA leaf.
func TestJavaKeytoolReadsStores(t *testing.T) {
	requireTool(t, "keytool", "the Java interop test needs a JDK; .ci/run installs a JDK")
	for _, alg := range []implyv1alpha1.KeyAlgorithm{implyv1alpha1.KeyAlgorithmECDSAP256, implyv1alpha1.KeyAlgorithmRSA2048} {
		t.Run(string(alg), func(t *testing.T) {
			keystore, truststore, password, cas := writeStores(t, alg)
			t.Run("keystore", func(t *testing.T) {
				g := NewWithT(t)
				out, err := run(t, "keytool", "-list", "-v", "-storetype", "PKCS12", "-keystore", keystore, "-storepass", password)
				g.Expect(err).NotTo(HaveOccurred(), out)
				g.Expect(out).To(ContainSubstring("Your keystore contains 1 entry"))
				g.Expect(out).To(ContainSubstring("Alias name: 1\n"))
				g.Expect(out).To(ContainSubstring("Entry type: PrivateKeyEntry"))
				g.Expect(out).To(ContainSubstring("Certificate chain length: 2"))
				g.Expect(out).To(ContainSubstring("Owner: CN=c-data"))
				g.Expect(out).To(ContainSubstring("DNSName: *.c-data-headless.ns.svc.cluster.local"))
				g.Expect(out).To(ContainSubstring("serverAuth"))
				g.Expect(out).To(ContainSubstring("clientAuth"))
			})
			t.Run("truststore", func(t *testing.T) {
				g := NewWithT(t)
				out, err := run(t, "keytool", "-list", "-v", "-storetype", "PKCS12", "-keystore", truststore, "-storepass", password)
				g.Expect(err).NotTo(HaveOccurred(), out)
				g.Expect(out).To(ContainSubstring("Your keystore contains 2 entries"))
				g.Expect(strings.Count(out, "Entry type: trustedCertEntry")).To(Equal(2))
				for _, ca := range cas {
					g.Expect(out).To(ContainSubstring("Alias name: " + TruststoreAlias(ca) + "\n"))
				}
			})
			t.Run("wrong password", func(t *testing.T) {
				for _, store := range []string{keystore, truststore} {
					g := NewWithT(t)
					out, err := run(t, "keytool", "-list", "-storetype", "PKCS12", "-keystore", store, "-storepass", "wrong-password-0123")
					g.Expect(err).To(HaveOccurred(), out)
					g.Expect(out).To(ContainSubstring("password was incorrect"))
				}
			})
		})
	}
}

// TestOpenSSLReadsStores checks the stores with OpenSSL too (Pivot and the manager are not Java).
func TestOpenSSLReadsStores(t *testing.T) {
	requireTool(t, "openssl", "install OpenSSL")
	keystore, truststore, password, _ := writeStores(t, implyv1alpha1.KeyAlgorithmRSA2048)
	for _, tc := range []struct {
		name, path string
		want       []string
	}{
		{name: "keystore", path: keystore, want: []string{"MAC: sha256", "Shrouded Keybag: PBES2", "AES-256-CBC", "Certificate bag"}},
		{name: "truststore", path: truststore, want: []string{"MAC: sha256", "PKCS7 Encrypted data: PBES2", "Certificate bag"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			out, err := run(t, "openssl", "pkcs12", "-info", "-noout", "-in", tc.path, "-passin", "pass:"+password)
			g.Expect(err).NotTo(HaveOccurred(), out)
			for _, w := range tc.want {
				g.Expect(out).To(ContainSubstring(w))
			}
			out, err = run(t, "openssl", "pkcs12", "-info", "-noout", "-in", tc.path, "-passin", "pass:wrong-password-0123")
			g.Expect(err).To(HaveOccurred(), out)
			g.Expect(out).To(ContainSubstring("Mac verify error"))
		})
	}
}
