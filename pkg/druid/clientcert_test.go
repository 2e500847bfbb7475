package druid

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"k8s.io/utils/clock"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
)

// TestClientPresentsItsCertificate: a coordinator that requires client certificates accepts the
// client's, and refuses a client without one.
func TestClientPresentsItsCertificate(t *testing.T) {
	ca, err := pki.CreateRootCA(clock.RealClock{}, "ca", implyv1alpha1.KeyAlgorithmECDSAP256, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	server, err := ca.SignLeaf(clock.RealClock{}, pki.LeafRequest{CommonName: "coordinator", DNSNames: []string{"localhost"}, Validity: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	client, err := ca.SignLeaf(clock.RealClock{}, pki.LeafRequest{CommonName: "operator", Validity: time.Hour, ClientOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	serverCert, err := tls.X509KeyPair(server.CertPEM, server.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Certificate)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`["admin"]`))
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	srv.StartTLS()
	defer srv.Close()
	base := "https://localhost:" + srv.Listener.Addr().(*net.TCPAddr).AddrPort().String()[len("127.0.0.1:"):]

	with, err := New(Config{BaseURL: base, Username: "admin", Password: "p", CABundle: ca.CertPEM, Retries: -1,
		ClientCertPEM: client.CertPEM, ClientKeyPEM: client.KeyPEM})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := with.ListRoles(context.Background(), "basic"); err != nil {
		t.Errorf("with its client certificate: %v", err)
	}
	without, err := New(Config{BaseURL: base, Username: "admin", Password: "p", CABundle: ca.CertPEM, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := without.ListRoles(context.Background(), "basic"); err == nil {
		t.Error("a client without a certificate was accepted")
	}
	if _, err := New(Config{BaseURL: base, ClientCertPEM: client.CertPEM, ClientKeyPEM: server.KeyPEM}); err == nil {
		t.Error("a certificate with another's key was taken")
	}
}
