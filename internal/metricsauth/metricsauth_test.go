package metricsauth

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/imply-operator/imply-operator/test/testenv"
)

// TestEnvtestGuardAsksTheAPIServer runs the filter against a real kube-apiserver: a token it
// does not know, a ServiceAccount without the metrics-reader rule, and one bound to it.
func TestEnvtestGuardAsksTheAPIServer(t *testing.T) {
	env, cfg, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	ctx := context.Background()
	cs := kubernetes.NewForConfigOrDie(cfg)
	reader := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "metrics-reader"},
		Rules:      []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}},
	}
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, reader, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	readerToken, err := testenv.ServiceAccountToken(ctx, cs, "default", "prometheus", reader.Name)
	if err != nil {
		t.Fatal(err)
	}
	strangerToken, err := testenv.ServiceAccountToken(ctx, cs, "default", "stranger", "")
	if err != nil {
		t.Fatal(err)
	}

	server := httptest.NewServer(guardedMetrics(t, cfg))
	t.Cleanup(server.Close)
	for _, tc := range []struct {
		name, header, path string
		want               int
	}{
		{"no token", "", "/metrics", http.StatusUnauthorized},
		{"not a bearer token", "Basic " + readerToken, "/metrics", http.StatusUnauthorized},
		{"an unknown token", "Bearer not-a-token", "/metrics", http.StatusUnauthorized},
		{"a user without the rule", "Bearer " + strangerToken, "/metrics", http.StatusForbidden},
		{"the reader elsewhere", "Bearer " + readerToken, "/debug/pprof/", http.StatusForbidden},
		{"the reader", "Bearer " + readerToken, "/metrics", http.StatusOK},
		{"the reader, any case of Bearer", "bearer " + readerToken, "/metrics", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := get(t, server.URL+tc.path, tc.header)
			if code != tc.want {
				t.Fatalf("status %d (%s), want %d", code, body, tc.want)
			}
			if served := strings.Contains(body, "metric_a 1"); served != (tc.want == http.StatusOK) {
				t.Fatalf("served the metrics: %t, body %q", served, body)
			}
			if strings.Contains(body, readerToken) || strings.Contains(body, strangerToken) {
				t.Fatal("the answer holds a token")
			}
		})
	}
	if code, body := get(t, server.URL+"/metrics", "Bearer "+strangerToken); !strings.Contains(body, "system:serviceaccount:default:stranger") {
		t.Fatalf("a 403 (%d) names the user it denied: %q", code, body)
	}
}

// guardedMetrics is a handler that serves "metric_a 1" behind Filter.
func guardedMetrics(t *testing.T, cfg *rest.Config) http.Handler {
	t.Helper()
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	filter, err := Filter(cfg, httpClient)
	if err != nil {
		t.Fatal(err)
	}
	h, err := filter(logr.Discard(), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("metric_a 1\n"))
	}))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// get is the status and body of a GET of url with the Authorization header set to header.
func get(t *testing.T, url, header string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if header != "" {
		req.Header.Set("Authorization", header)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}
