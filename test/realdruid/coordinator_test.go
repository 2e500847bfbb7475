package realdruid

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/imply-operator/imply-operator/pkg/specs"
)

// TestCoordinatorRunsOnOperatorOutput: Druid started cleanly on the operator's configuration and
// Secrets: https on 8281, nothing on 8081, admin and druid_system log in with the generated
// passwords, TLSv1.1 is refused, and no secret reached Druid's log.
func TestCoordinatorRunsOnOperatorOutput(t *testing.T) {
	if specs.Coordinator.TLSPort != 8281 || specs.Coordinator.PlaintextPort != 8081 {
		t.Fatalf("coordinator ports %d/%d, the contract says 8281/8081", specs.Coordinator.TLSPort, specs.Coordinator.PlaintextPort)
	}

	t.Run("https on 8281 with the cluster's certificate", func(t *testing.T) {
		status, body, err := get(coordinatorURL+"/status", "admin", adminPassword)
		if err != nil || status != http.StatusOK {
			t.Fatalf("GET /status as admin: %d %v", status, err)
		}
		if !strings.Contains(body, `"version"`) {
			t.Fatalf("/status answered %.200q", body)
		}
		conn, err := tls.Dial("tcp", "127.0.0.1:8281", &tls.Config{RootCAs: caPool, ServerName: druidRun.Host, MinVersion: tls.VersionTLS12})
		if err != nil {
			t.Fatalf("TLS to 8281 as %s: %v", druidRun.Host, err)
		}
		defer func() { _ = conn.Close() }()
		leaf := conn.ConnectionState().PeerCertificates[0]
		if leaf.Subject.CommonName == "" && len(leaf.DNSNames) == 0 {
			t.Fatal("the coordinator's certificate names nothing")
		}
	})

	t.Run("nothing on 8081", func(t *testing.T) {
		for _, host := range []string{"127.0.0.1", druidRun.Host} {
			conn, err := (&net.Dialer{Timeout: 3 * time.Second}).Dial("tcp", net.JoinHostPort(resolve(host), "8081"))
			if err == nil {
				_ = conn.Close()
				t.Fatalf("something listens on %s:8081", host)
			}
			if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Fatalf("dialing %s:8081: %v, want connection refused", host, err)
			}
		}
	})

	t.Run("admin and druid_system with the generated passwords", func(t *testing.T) {
		for _, u := range []struct{ user, password string }{{"admin", adminPassword}, {"druid_system", internalPassword}} {
			status, body, err := get(coordinatorURL+"/druid-ext/basic-security/authorization/db/"+specs.DruidAuthorizerName(cluster)+"/users/"+u.user, u.user, u.password)
			if err != nil || status != http.StatusOK {
				t.Fatalf("%s: %d %v", u.user, status, err)
			}
			if !strings.Contains(body, `"roles":["`+u.user+`"]`) {
				t.Fatalf("%s: %s", u.user, body)
			}
			status, _, err = get(coordinatorURL+"/druid/coordinator/v1/config", u.user, u.password)
			if err != nil || status != http.StatusOK {
				t.Fatalf("%s reading the coordinator config: %d %v", u.user, status, err)
			}
		}
		status, _, err := get(coordinatorURL+"/status", "admin", "not-the-password")
		if err != nil || status != http.StatusUnauthorized {
			t.Fatalf("a wrong admin password: %d %v, want 401", status, err)
		}
	})

	t.Run("TLSv1.1 refused, TLSv1.2 and TLSv1.3 accepted", func(t *testing.T) {
		if _, _, err := do(httpClient(tls.VersionTLS11, tls.VersionTLS11), http.MethodGet, coordinatorURL+"/status/health", "", "", ""); err == nil {
			t.Fatal("a TLSv1.1-only client got an answer")
		} else if !strings.Contains(err.Error(), "tls") && !strings.Contains(err.Error(), "handshake") {
			t.Fatalf("TLSv1.1: %v, want a handshake failure", err)
		}
		for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			status, _, err := do(httpClient(v, v), http.MethodGet, coordinatorURL+"/status/health", "", "", "")
			if err != nil || status != http.StatusOK {
				t.Fatalf("%s: %d %v", tls.VersionName(v), status, err)
			}
		}
	})

	t.Run("the master group's probes answer 200 as the kubelet asks them: https, no credentials, no certificate check", func(t *testing.T) {
		var sts appsv1.StatefulSet
		key := types.NamespacedName{Namespace: namespace, Name: specs.GroupName(clusterName, masterGroup)}
		if err := k8sClient.Get(context.Background(), key, &sts); err != nil {
			t.Fatal(err)
		}
		agent := sts.Spec.Template.Spec.Containers[0]
		kubelet := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // as the kubelet probes
		}}
		for name, p := range map[string]*corev1.Probe{"startup": agent.StartupProbe, "readiness": agent.ReadinessProbe, "liveness": agent.LivenessProbe} {
			if p == nil || p.HTTPGet == nil || p.HTTPGet.Scheme != corev1.URISchemeHTTPS {
				t.Fatalf("%s probe: %+v, want an https GET", name, p)
			}
			url := fmt.Sprintf("https://127.0.0.1:%d%s", p.HTTPGet.Port.IntValue(), p.HTTPGet.Path)
			status, _, err := do(kubelet, http.MethodGet, url, "", "", "")
			if err != nil || status != http.StatusOK {
				t.Fatalf("%s probe GET %s: %d %v, want 200", name, url, status, err)
			}
		}
	})

	t.Run("started cleanly: no ERROR in Druid's start-up log", func(t *testing.T) {
		if !strings.Contains(startupLog, "Successfully started lifecycle [module]") {
			t.Fatal("the start-up log does not show the coordinator started")
		}
		for _, line := range strings.Split(startupLog, "\n") {
			if !strings.Contains(line, " ERROR [") {
				continue
			}
			// The one expected error: without simple-client-sslcontext (mapping 3) Druid's
			// internal client cannot do https, so the cache notifier's calls fail.
			if strings.Contains(line, "CacheNotifier") && strings.Contains(line, "No sslContext set, cannot do https") {
				continue
			}
			t.Errorf("coordinator log: %.400s", redact(line, druidRun.Secrets))
		}
	})

	t.Run("no secret in Druid's log", func(t *testing.T) {
		data, err := os.ReadFile(filepath.Join(druidRun.Dir, "log", "coordinator.log"))
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range druidRun.Secrets {
			if len(s) >= 8 && strings.Contains(string(data), s) {
				t.Errorf("secret #%d of the pod environment appears in the coordinator log", i)
			}
		}
		if !strings.Contains(string(data), "druid.auth.authenticator."+specs.DruidAuthenticatorName(cluster)+".initialAdminPassword") {
			t.Error("the coordinator did not log its properties (druid.startup.logging.logProperties): the check above proves nothing")
		}
	})
}

// resolve maps the names of the local run to 127.0.0.1.
func resolve(host string) string {
	for _, n := range druidRun.Names {
		if n == host {
			return "127.0.0.1"
		}
	}
	return host
}
