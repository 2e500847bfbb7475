package realdruid

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testenv"
)

// TestStrictTLSOnRealCoordinator: a second cluster with security.tls minVersion "1.3" and
// requireClientCertificate, its coordinator started on its own output: a TLSv1.2 client is
// refused ("protocol version"), a TLSv1.3 client gets as far as the certificate request and is
// refused without a client certificate, with one of another cluster's CA, and with one of the
// cluster's own serving CA that is not a cluster client certificate (the master group's serving
// leaf, serverAuth and clientAuth): the servers trust as clients only the cluster's client CA
// (<cluster>-client-ca, client-truststore.p12), whatever signs the serving certificates. It
// stops the first cluster's coordinator (both use 8281), so it runs after every test of that one
// (file order).
//
// A TLSv1.3 client with the cluster's own client certificate (the master group's client.crt,
// signed by the client CA, clientAuth only) is accepted: the operator leaves
// druid.server.https.validateHostnames off with mutual TLS, since a server only sees a
// client's address, which no certificate names. With it on, Druid refused a certificate of the
// cluster from 127.0.0.1 with "certificate_unknown".
//
// The refused certificates are presented whatever CAs the server's certificate request names
// (presenting), so the refusal is the server's verdict on the certificate, not the client
// declining to send one.
func TestStrictTLSOnRealCoordinator(t *testing.T) {
	ctx := context.Background()
	stopDruid(druidRun.Dir)
	// The rotation test moved the operator's clock a day ahead; certificates issued now must be
	// valid on the real clock Druid and this test verify them with.
	operatorClock.SetTime(time.Now())

	zkPort, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	derbyPort, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	c := testCluster("strict", zkPort, derbyPort)
	c.Spec.Security.TLS.MinVersion = "1.3"
	c.Spec.Security.TLS.RequireClientCertificate = true
	dir := t.TempDir()
	l, err := launch(ctx, c, dir, distributionDir(t))
	t.Cleanup(func() {
		if t.Failed() && l != nil && l.Run != nil {
			t.Logf("coordinator log, warnings and errors:\n%s", warnings(dir, l.Run.Secrets))
		}
		stopDruid(dir)
	})
	if err != nil {
		if l != nil && l.Run != nil {
			t.Logf("coordinator log (last lines):\n%s", tailRedacted(dir, l.Run.Secrets))
		}
		t.Fatal(err)
	}
	rememberSecret(l.Admin)
	rememberSecret(l.Internal)

	// The master group's Secret holds its serving leaf (of the serving CA) and its client
	// certificate (of the client CA), as a Druid process of the group mounts them.
	var leaf corev1.Secret
	if err := k8sClient.Get(ctx, types.NamespacedName{Namespace: namespace, Name: specs.GroupTLSSecretName(c.Name, masterGroup)}, &leaf); err != nil {
		t.Fatal(err)
	}
	clientCert, err := tls.X509KeyPair(leaf.Data[specs.ClientCertKey], leaf.Data[specs.ClientPrivateKeyKey])
	if err != nil {
		t.Fatal(err)
	}
	servingCert, err := tls.X509KeyPair(leaf.Data[corev1.TLSCertKey], leaf.Data[corev1.TLSPrivateKeyKey])
	if err != nil {
		t.Fatal(err)
	}
	url := l.URL + "/druid/coordinator/v1/config"

	t.Run("the cluster's client certificate accepted", func(t *testing.T) {
		code, _, err := do(presenting(l.Pool, clientCert), http.MethodGet, url, "admin", l.Admin, "")
		if err != nil {
			t.Fatal(err)
		}
		if code != http.StatusOK {
			t.Fatalf("GET %s with the master group's client certificate: %d, want 200", url, code)
		}
	})
	t.Run("TLSv1.2 refused", func(t *testing.T) {
		_, _, err := do(httpClientFor(l.Pool, tls.VersionTLS12, tls.VersionTLS12, clientCert), http.MethodGet, url, "admin", l.Admin, "")
		expectRefused(t, err, "protocol version")
	})
	t.Run("no client certificate refused", func(t *testing.T) {
		_, _, err := do(httpClientFor(l.Pool, tls.VersionTLS13, 0), http.MethodGet, url, "admin", l.Admin, "")
		expectRefused(t, err, "certificate")
	})
	t.Run("a certificate of the serving CA that is not a client certificate refused", func(t *testing.T) {
		_, _, err := do(presenting(l.Pool, servingCert), http.MethodGet, url, "admin", l.Admin, "")
		expectRefused(t, err, refusedCertificate)
	})
	t.Run("a certificate of another CA refused", func(t *testing.T) {
		// The first cluster's master leaf: signed by that cluster's CA, not trusted here.
		var other corev1.Secret
		if err := k8sClient.Get(ctx, types.NamespacedName{Namespace: namespace, Name: specs.GroupTLSSecretName(clusterName, masterGroup)}, &other); err != nil {
			t.Fatal(err)
		}
		foreign, err := tls.X509KeyPair(other.Data[corev1.TLSCertKey], other.Data[corev1.TLSPrivateKeyKey])
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = do(presenting(l.Pool, foreign), http.MethodGet, url, "admin", l.Admin, "")
		expectRefused(t, err, refusedCertificate)
	})
}

// refusedCertificate is how a Go client sees Druid (Jetty on the JDK) refuse a certificate it
// presented that no trusted CA signed: a certificate_unknown alert. (Presenting none gives
// bad_certificate, "bad certificate".)
const refusedCertificate = "unknown certificate"

// presenting is a TLSv1.3 client that trusts pool and presents cert whatever CAs the server's
// certificate request names (Go's default sends no certificate when none of the client's
// chains to a named CA).
func presenting(pool *x509.CertPool, cert tls.Certificate) *http.Client {
	c := httpClientFor(pool, tls.VersionTLS13, 0)
	c.Transport.(*http.Transport).TLSClientConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		return &cert, nil
	}
	return c
}

// expectRefused fails unless err is a TLS refusal by the server mentioning want, not a failure
// of this client to verify the server.
func expectRefused(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatal("the coordinator answered")
	}
	msg := err.Error()
	if strings.Contains(msg, "failed to verify certificate") || !strings.Contains(msg, want) {
		t.Fatalf("%v, want the server refusing the handshake (%q)", err, want)
	}
	t.Logf("refused: %v", err)
}

// distributionDir is druid.sh's cache directory.
func distributionDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(druidScript(), "home").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// warnings returns the WARN and ERROR lines of a run's coordinator log (and the exception
// lines under them), without secrets.
func warnings(dir string, secrets []string) string {
	data, err := os.ReadFile(dir + "/log/coordinator.log")
	if err != nil {
		return err.Error()
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, " WARN [") || strings.Contains(line, " ERROR [") || strings.HasPrefix(line, "Caused by") ||
			strings.Contains(line, "Exception:") {
			out = append(out, line)
		}
	}
	return redact(lastLines(strings.Join(out, "\n"), 40), secrets)
}

func tailRedacted(dir string, secrets []string) string {
	return redact(tail(dir+"/log/coordinator.log", 40), secrets)
}
