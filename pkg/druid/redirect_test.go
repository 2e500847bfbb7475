package druid

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"k8s.io/utils/clock"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
)

// leaderRedirect starts a "leader" that records the credentials it receives and a "follower"
// that redirects every request to the leader under another host name (127.0.0.1 rather than
// localhost), as a non-leader coordinator redirects to the leader's pod. With tlsCA nil both
// serve plaintext.
func leaderRedirect(t *testing.T, tlsCA *pki.KeyPair) (follower string, gotAuth func() (string, bool)) {
	t.Helper()
	var user string
	var sent bool
	serve := func(h http.HandlerFunc) *httptest.Server {
		s := httptest.NewUnstartedServer(h)
		if tlsCA == nil {
			s.Start()
		} else {
			s.TLS = &tls.Config{Certificates: []tls.Certificate{servingCert(t, tlsCA)}}
			s.StartTLS()
		}
		t.Cleanup(s.Close)
		return s
	}
	leader := serve(func(w http.ResponseWriter, r *http.Request) {
		user, _, sent = r.BasicAuth()
		_, _ = w.Write([]byte(`["admin"]`))
	})
	port := strconv.Itoa(leader.Listener.Addr().(*net.TCPAddr).Port)
	scheme := "http"
	if tlsCA != nil {
		scheme = "https"
	}
	followerSrv := serve(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, scheme+"://127.0.0.1:"+port+r.URL.Path, http.StatusTemporaryRedirect)
	})
	follower = scheme + "://localhost:" + strconv.Itoa(followerSrv.Listener.Addr().(*net.TCPAddr).Port)
	return follower, func() (string, bool) { return user, sent }
}

// TestCredentialsFollowARedirectToTheLeaderOverPinnedTLS: a request sent to a non-leader
// coordinator reaches the leader with the admin credentials when the client trusts only the
// cluster's CA, so the call succeeds instead of failing with 401.
func TestCredentialsFollowARedirectToTheLeaderOverPinnedTLS(t *testing.T) {
	ca, err := pki.CreateRootCA(clock.RealClock{}, "ca", implyv1alpha1.KeyAlgorithmECDSAP256, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	follower, gotAuth := leaderRedirect(t, ca)
	c, err := New(Config{BaseURL: follower, Username: "admin", Password: "pw", CABundle: ca.CertPEM, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListRoles(context.Background(), "basic"); err != nil {
		t.Fatal(err)
	}
	if user, sent := gotAuth(); !sent || user != "admin" {
		t.Errorf("the leader got credentials %v (user %q), want admin's", sent, user)
	}
}

// TestCredentialsStayDroppedOnAPlaintextRedirectToAnotherHost: without a pinned CA nothing proves
// who the other host is, so net/http's rule (no credentials to another host) stands.
func TestCredentialsStayDroppedOnAPlaintextRedirectToAnotherHost(t *testing.T) {
	follower, gotAuth := leaderRedirect(t, nil)
	c, err := New(Config{BaseURL: follower, Username: "admin", Password: "pw", Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListRoles(context.Background(), "basic"); err != nil {
		t.Fatal(err)
	}
	if _, sent := gotAuth(); sent {
		t.Error("the credentials followed a plaintext redirect to another host")
	}
}

// servingCert is a leaf of ca for localhost and 127.0.0.1 (pki signs DNS names only).
func servingCert(t *testing.T, ca *pki.KeyPair) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "coordinator"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Certificate, &key.PublicKey, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
