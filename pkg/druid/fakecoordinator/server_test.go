package fakecoordinator_test

import (
	"errors"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/imply-operator/imply-operator/pkg/druid/fakecoordinator"
	"github.com/imply-operator/imply-operator/pkg/druid/fakecoordinator/conformance"
)

const (
	authn = "/druid-ext/basic-security/authentication/db/basic"
	authz = "/druid-ext/basic-security/authorization/db/basic"
)

type creds struct{ user, password string }

var admin = creds{"admin", "secret"}

// call sends one request and returns the status and body.
func call(t *testing.T, s *fakecoordinator.Server, who *creds, method, path, body string) (int, string) {
	t.Helper()
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, reader)
	if err != nil {
		t.Fatal(err)
	}
	if who != nil {
		req.SetBasicAuth(who.user, who.password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(data)
}

func newServer(t *testing.T, opts fakecoordinator.Options) *fakecoordinator.Server {
	t.Helper()
	if opts.AdminPassword == "" {
		opts.AdminPassword = admin.password
	}
	if opts.CredentialIterations == 0 {
		opts.CredentialIterations = 10
	}
	s := fakecoordinator.New(opts)
	t.Cleanup(s.Close)
	return s
}

// TestConformance runs the suite test/realdruid also runs against Apache Druid.
func TestConformance(t *testing.T) {
	t.Run("plain", func(t *testing.T) {
		s := newServer(t, fakecoordinator.Options{InternalClientPassword: "internal"})
		conformance.Run(t, conformance.Target{URL: s.URL, AdminPassword: admin.password, InternalClientPassword: "internal"})
	})
	t.Run("TLS, other names, no druid_system", func(t *testing.T) {
		s := newServer(t, fakecoordinator.Options{TLS: true, Authenticators: []string{"MyAuthn"}, Authorizers: []string{"MyAuthz"}})
		conformance.Run(t, conformance.Target{URL: s.URL, Client: s.Client(), AdminPassword: admin.password,
			Authenticator: "MyAuthn", Authorizer: "MyAuthz"})
	})
	t.Run("twice against one server", func(t *testing.T) {
		s := newServer(t, fakecoordinator.Options{})
		conformance.Run(t, conformance.Target{URL: s.URL, AdminPassword: admin.password, Prefix: "one-"})
		conformance.Run(t, conformance.Target{URL: s.URL, AdminPassword: admin.password, Prefix: "two-"})
	})
}

func TestFaultInjection(t *testing.T) {
	s := newServer(t, fakecoordinator.Options{})
	s.FailNext(2, http.StatusServiceUnavailable)
	for i := range 2 {
		status, body := call(t, s, &admin, "POST", authz+"/roles/r", "")
		if status != http.StatusServiceUnavailable || strings.TrimSpace(body) != "injected failure" {
			t.Fatalf("request %d: %d %q, want the injected 503", i, status, body)
		}
	}
	if status, _ := call(t, s, &admin, "POST", authz+"/roles/r", ""); status != 200 {
		t.Fatalf("after the failures: %d, want 200 (failures must not touch state)", status)
	}

	s.ResetNext(1)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	req, _ := http.NewRequest("POST", s.URL+authz+"/roles/r2", nil)
	req.SetBasicAuth(admin.user, admin.password)
	resp, err := client.Do(req)
	if err == nil {
		_ = resp.Body.Close()
		t.Fatalf("a reset connection answered %d", resp.StatusCode)
	}
	if status, body := call(t, s, &admin, "GET", authz+"/roles", ""); status != 200 || strings.TrimSpace(body) != `["admin","druid_system","r"]` {
		t.Fatalf("after the reset: %d %q (a reset request must not be applied)", status, body)
	}

	s.Delay(150 * time.Millisecond)
	start := time.Now()
	call(t, s, &admin, "GET", authz+"/roles", "")
	if elapsed := time.Since(start); elapsed < 150*time.Millisecond {
		t.Fatalf("delayed request took %s", elapsed)
	}
	s.Delay(0)

	log := s.Requests()
	if len(log) != 6 {
		t.Fatalf("logged %d requests, want 6: %+v", len(log), log)
	}
	wantStatus := []int{503, 503, 200, 0, 200, 200}
	for i, r := range log {
		if r.Status != wantStatus[i] || r.User != "admin" {
			t.Errorf("log[%d] = %+v, want status %d by admin", i, r, wantStatus[i])
		}
	}
	if log[3].Method != "POST" || log[3].Path != authz+"/roles/r2" {
		t.Errorf("log[3] = %+v", log[3])
	}
	s.ResetLog()
	if len(s.Requests()) != 0 {
		t.Fatal("ResetLog kept entries")
	}
}

func TestResetIsSeenAsError(t *testing.T) {
	s := newServer(t, fakecoordinator.Options{TLS: true})
	s.ResetNext(1)
	client := s.Client()
	req, _ := http.NewRequest("POST", s.URL+authz+"/roles/r", nil)
	req.SetBasicAuth(admin.user, admin.password)
	resp, err := client.Do(req)
	if err == nil {
		_ = resp.Body.Close()
		t.Fatal("no error over TLS for a reset connection")
	}
	var urlErr interface{ Timeout() bool }
	if errors.As(err, &urlErr) && urlErr.Timeout() {
		t.Fatalf("a reset reported as a timeout: %v", err)
	}
}

// TestFaultStretch sets faults for a stretch: each kind is drawn in its range, requests beyond
// the ranges are answered normally, and nothing is injected once the faults are cleared.
func TestFaultStretch(t *testing.T) {
	s := newServer(t, fakecoordinator.Options{})
	draws := []float64{0.05, 0.15, 0.25, 0.9}
	f := &fakecoordinator.Faults{Status5xx: 0.1, Timeout: 0.1, Reset: 0.1, TimeoutDelay: 200 * time.Millisecond,
		Draw: func() float64 { d := draws[0]; draws = draws[1:]; return d }}
	s.SetFaults(f)
	if status, _ := call(t, s, &admin, "GET", authz+"/roles", ""); status != http.StatusServiceUnavailable {
		t.Fatalf("draw 0.05: %d, want 503", status)
	}
	start := time.Now()
	if status, _ := call(t, s, &admin, "GET", authz+"/roles", ""); status != 200 || time.Since(start) < 200*time.Millisecond {
		t.Fatalf("draw 0.15: %d after %s, want 200 after the timeout delay", status, time.Since(start))
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	req, _ := http.NewRequest("GET", s.URL+authz+"/roles", nil)
	req.SetBasicAuth(admin.user, admin.password)
	if resp, err := client.Do(req); err == nil {
		_ = resp.Body.Close()
		t.Fatalf("draw 0.25: answered %d, want a reset", resp.StatusCode)
	}
	if status, _ := call(t, s, &admin, "GET", authz+"/roles", ""); status != 200 {
		t.Fatalf("draw 0.9: %d, want 200", status)
	}
	s.SetFaults(nil)
	if status, _ := call(t, s, &admin, "GET", authz+"/roles", ""); status != 200 {
		t.Fatalf("after SetFaults(nil): %d", status)
	}
	if want := map[string]int{"5xx": 1, "timeout": 1, "reset": 1}; !maps.Equal(f.Injected, want) {
		t.Fatalf("injected %v, want %v", f.Injected, want)
	}
}

// TestPasswordMatches answers what a login would: the admin's password, not another.
func TestPasswordMatches(t *testing.T) {
	s := newServer(t, fakecoordinator.Options{InternalClientPassword: "internal"})
	if !s.PasswordMatches("admin", admin.password) || !s.PasswordMatches("druid_system", "internal") {
		t.Fatal("the configured passwords do not match")
	}
	if s.PasswordMatches("admin", "internal") || s.PasswordMatches("nobody", "") {
		t.Fatal("a wrong password or an unknown user matches")
	}
}
