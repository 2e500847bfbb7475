package fakecoordinator_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/imply-operator/imply-operator/pkg/druid/fakecoordinator"
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

func errorBody(msg string) string {
	data, _ := json.Marshal(map[string]string{"error": msg})
	return string(data)
}

type step struct {
	name   string
	who    *creds // nil: admin
	noAuth bool
	method string
	path   string
	body   string
	status int
	// want is the exact (trimmed) body; a JSON {"error"} for domain errors. Empty with status
	// 200 means an empty body; "*" skips the check.
	want string
}

func runSteps(t *testing.T, s *fakecoordinator.Server, steps []step) {
	t.Helper()
	for i, st := range steps {
		who := st.who
		if who == nil && !st.noAuth {
			who = &admin
		}
		status, body := call(t, s, who, st.method, st.path, st.body)
		if status != st.status {
			t.Errorf("step %d %q: %s %s: status %d, want %d (body %q)", i, st.name, st.method, st.path, status, st.status, body)
			continue
		}
		if st.want != "*" && strings.TrimSpace(body) != st.want {
			t.Errorf("step %d %q: %s %s: body %q, want %q", i, st.name, st.method, st.path, strings.TrimSpace(body), st.want)
		}
	}
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

func TestDocumentedSemantics(t *testing.T) {
	s := newServer(t, fakecoordinator.Options{})
	alice := &creds{"alice", "alice-pw"}
	runSteps(t, s, []step{
		// Authentication users and credentials.
		{name: "list", method: "GET", path: authn + "/users", status: 200, want: `["admin"]`},
		{name: "create", method: "POST", path: authn + "/users/alice", status: 200},
		{name: "create twice", method: "POST", path: authn + "/users/alice", status: 400, want: errorBody("User [alice] already exists.")},
		{name: "no credentials yet", method: "GET", path: authn + "/users/alice", status: 200, want: `{"name":"alice","credentials":null}`},
		{name: "credentials of a missing user", method: "POST", path: authn + "/users/bob/credentials", body: `{"password":"x"}`, status: 400, want: errorBody("User [bob] does not exist.")},
		{name: "get missing", method: "GET", path: authn + "/users/bob", status: 400, want: errorBody("User [bob] does not exist.")},
		{name: "delete missing", method: "DELETE", path: authn + "/users/bob", status: 400, want: errorBody("User [bob] does not exist.")},
		{name: "set credentials", method: "POST", path: authn + "/users/alice/credentials", body: `{"password":"alice-pw","iterations":7}`, status: 200},
		{name: "empty password refused", method: "POST", path: authn + "/users/alice/credentials", body: `{"password":""}`, status: 400, want: "*"},
		{name: "unknown authenticator", method: "GET", path: "/druid-ext/basic-security/authentication/db/nope/users", status: 400, want: errorBody("Basic authenticator with name [nope] does not exist.")},
		{name: "authn load status", method: "GET", path: "/druid-ext/basic-security/authentication/loadStatus", status: 200, want: `{"basic":true}`},

		// Authorizer users and roles.
		{name: "builtin users", method: "GET", path: authz + "/users", status: 200, want: `["admin","druid_system"]`},
		{name: "authz create", method: "POST", path: authz + "/users/alice", status: 200},
		{name: "authz create twice", method: "POST", path: authz + "/users/alice", status: 400, want: errorBody("User [alice] already exists.")},
		{name: "authz delete missing", method: "DELETE", path: authz + "/users/bob", status: 400, want: errorBody("User [bob] does not exist.")},
		{name: "role create", method: "POST", path: authz + "/roles/r1", status: 200},
		{name: "role create twice", method: "POST", path: authz + "/roles/r1", status: 400, want: errorBody("Role [r1] already exists.")},
		{name: "role r2", method: "POST", path: authz + "/roles/r2", status: 200},
		{name: "role get missing", method: "GET", path: authz + "/roles/nope", status: 400, want: errorBody("Role [nope] does not exist.")},
		{name: "roles", method: "GET", path: authz + "/roles", status: 200, want: `["admin","druid_system","r1","r2"]`},

		// Assignment.
		{name: "assign to missing user", method: "POST", path: authz + "/users/bob/roles/r1", status: 400, want: errorBody("User [bob] does not exist.")},
		{name: "assign missing role", method: "POST", path: authz + "/users/alice/roles/nope", status: 400, want: errorBody("Role [nope] does not exist.")},
		{name: "assign", method: "POST", path: authz + "/users/alice/roles/r1", status: 200},
		{name: "assign twice", method: "POST", path: authz + "/users/alice/roles/r1", status: 400, want: errorBody("User [alice] already has role [r1].")},
		{name: "unassign not held", method: "DELETE", path: authz + "/users/alice/roles/r2", status: 400, want: errorBody("User [alice] does not have role [r2].")},
		{name: "user roles", method: "GET", path: authz + "/users/alice", status: 200, want: `{"name":"alice","roles":["r1"]}`},

		// Permissions: POST replaces the whole set.
		{name: "set permissions", method: "POST", path: authz + "/roles/r1/permissions", body: `[{"resource":{"name":"A","type":"DATASOURCE"},"action":"READ"},{"resource":{"name":"B","type":"DATASOURCE"},"action":"WRITE"}]`, status: 200},
		{name: "replace permissions", method: "POST", path: authz + "/roles/r1/permissions", body: `[{"resource":{"name":"wiki.*","type":"DATASOURCE"},"action":"READ"}]`, status: 200},
		{name: "simplified", method: "GET", path: authz + "/roles/r1/permissions?simplifyPermissions", status: 200, want: `[{"resource":{"name":"wiki.*","type":"DATASOURCE"},"action":"READ"}]`},
		{name: "stored form", method: "GET", path: authz + "/roles/r1", status: 200, want: `{"name":"r1","permissions":[{"resourceAction":{"resource":{"name":"wiki.*","type":"DATASOURCE"},"action":"READ"},"resourceNamePattern":"wiki.*"}]}`},
		{name: "bad regex", method: "POST", path: authz + "/roles/r1/permissions", body: `[{"resource":{"name":"(","type":"DATASOURCE"},"action":"READ"}]`, status: 400, want: errorBody("Invalid permission, resource name regex[(] does not compile.")},
		{name: "permissions of missing role", method: "POST", path: authz + "/roles/nope/permissions", body: `[]`, status: 400, want: errorBody("Role [nope] does not exist.")},

		// Group mappings.
		{name: "gm create", method: "POST", path: authz + "/groupMappings/gm1", body: `{"name":"gm1","groupPattern":"CN=admins,.*","roles":[]}`, status: 200},
		{name: "gm create twice", method: "POST", path: authz + "/groupMappings/gm1", body: `{"name":"gm1","groupPattern":"x","roles":[]}`, status: 400, want: errorBody("Group mapping [gm1] already exists.")},
		{name: "gm get missing", method: "GET", path: authz + "/groupMappings/nope", status: 400, want: errorBody("Group mapping [nope] does not exist.")},
		{name: "gm delete missing", method: "DELETE", path: authz + "/groupMappings/nope", status: 400, want: errorBody("Group mapping [nope] does not exist.")},
		{name: "gm assign to missing", method: "POST", path: authz + "/groupMappings/nope/roles/r1", status: 400, want: errorBody("Group mapping [nope] does not exist.")},
		{name: "gm assign missing role", method: "POST", path: authz + "/groupMappings/gm1/roles/nope", status: 400, want: errorBody("Role [nope] does not exist.")},
		{name: "gm assign", method: "POST", path: authz + "/groupMappings/gm1/roles/r1", status: 200},
		{name: "gm assign twice", method: "POST", path: authz + "/groupMappings/gm1/roles/r1", status: 400, want: errorBody("Group mapping [gm1] already has role [r1].")},
		{name: "gm unassign not held", method: "DELETE", path: authz + "/groupMappings/gm1/roles/r2", status: 400, want: errorBody("Group mapping [gm1] does not have role [r2].")},
		{name: "gm list", method: "GET", path: authz + "/groupMappings", status: 200, want: `["gm1"]`},
		{name: "gm get", method: "GET", path: authz + "/groupMappings/gm1", status: 200, want: `{"groupPattern":"CN=admins,.*","name":"gm1","roles":["r1"]}`},
		{name: "role full", method: "GET", path: authz + "/roles/r1?full&simplifyPermissions", status: 200, want: `{"groups":["gm1"],"name":"r1","permissions":[{"resource":{"name":"wiki.*","type":"DATASOURCE"},"action":"READ"}],"users":["alice"]}`},

		// Deleting a role unassigns it everywhere.
		{name: "delete role", method: "DELETE", path: authz + "/roles/r1", status: 200},
		{name: "delete role twice", method: "DELETE", path: authz + "/roles/r1", status: 400, want: errorBody("Role [r1] does not exist.")},
		{name: "user lost role", method: "GET", path: authz + "/users/alice", status: 200, want: `{"name":"alice","roles":[]}`},
		{name: "mapping lost role", method: "GET", path: authz + "/groupMappings/gm1", status: 200, want: `{"groupPattern":"CN=admins,.*","name":"gm1","roles":[]}`},
		{name: "unknown authorizer", method: "GET", path: "/druid-ext/basic-security/authorization/db/nope/roles", status: 400, want: errorBody("Basic authorizer with name [nope] does not exist.")},
		{name: "authz load status", method: "GET", path: "/druid-ext/basic-security/authorization/loadStatus", status: 200, want: `{"basic":true}`},

		// 403 without CONFIG security; READ for GET, WRITE otherwise.
		{name: "alice has no security permission", who: alice, method: "GET", path: authz + "/roles", status: 403, want: "Forbidden"},
		{name: "security read role", method: "POST", path: authz + "/roles/secread", status: 200},
		{name: "security read perms", method: "POST", path: authz + "/roles/secread/permissions", body: `[{"resource":{"name":"secur.*","type":"CONFIG"},"action":"READ"}]`, status: 200},
		{name: "assign secread", method: "POST", path: authz + "/users/alice/roles/secread", status: 200},
		{name: "alice may read", who: alice, method: "GET", path: authz + "/roles", status: 200, want: `["admin","druid_system","r2","secread"]`},
		{name: "alice may not write", who: alice, method: "POST", path: authz + "/roles/r3", status: 403, want: "Forbidden"},
		{name: "grant write too", method: "POST", path: authz + "/roles/secread/permissions", body: `[{"resource":{"name":"security","type":"CONFIG"},"action":"READ"},{"resource":{"name":"security","type":"CONFIG"},"action":"WRITE"}]`, status: 200},
		{name: "alice may write", who: alice, method: "POST", path: authz + "/roles/r3", status: 200},
		{name: "pattern is anchored", method: "POST", path: authz + "/roles/secread/permissions", body: `[{"resource":{"name":"secur","type":"CONFIG"},"action":"READ"}]`, status: 200},
		{name: "partial match is no match", who: alice, method: "GET", path: authz + "/roles", status: 403, want: "Forbidden"},

		// 401.
		{name: "no header", noAuth: true, method: "GET", path: authz + "/roles", status: 401, want: "Unauthorized"},
		{name: "wrong password", who: &creds{"admin", "wrong"}, method: "GET", path: authz + "/roles", status: 401, want: "Unauthorized"},
		{name: "unknown user", who: &creds{"mallory", "x"}, method: "GET", path: authz + "/roles", status: 401, want: "Unauthorized"},
		{name: "authenticator user deleted", method: "DELETE", path: authn + "/users/alice", status: 200},
		{name: "deleted user rejected", who: alice, method: "GET", path: authz + "/roles", status: 401, want: "Unauthorized"},

		// Escaped path segments.
		{name: "escaped name", method: "POST", path: authz + "/users/a%2Fb%20c", status: 200},
		{name: "escaped name exists", method: "POST", path: authz + "/users/a%2Fb%20c", status: 400, want: errorBody("User [a/b c] already exists.")},
	})
}

func TestAuthenticatedButNotAuthorizerUser(t *testing.T) {
	s := newServer(t, fakecoordinator.Options{})
	runSteps(t, s, []step{
		{name: "create", method: "POST", path: authn + "/users/carol", status: 200},
		{name: "password", method: "POST", path: authn + "/users/carol/credentials", body: `{"password":"pw"}`, status: 200},
		{name: "no authorizer user", who: &creds{"carol", "pw"}, method: "GET", path: authz + "/roles", status: 403, want: "Forbidden"},
		{name: "no credentials", method: "POST", path: authn + "/users/dave", status: 200},
		{name: "user without credentials", who: &creds{"dave", ""}, method: "GET", path: authz + "/roles", status: 401, want: "Unauthorized"},
	})
}

func TestColonInPasswordIsRejected(t *testing.T) {
	s := newServer(t, fakecoordinator.Options{AdminPassword: "pass:word"})
	status, _ := call(t, s, &creds{"admin", "pass:word"}, "GET", authz+"/roles", "")
	if status != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401: Druid splits the Basic header on ':' into exactly two parts", status)
	}
	// A header that is not base64 is rejected too.
	req, _ := http.NewRequest("GET", s.URL+authz+"/roles", nil)
	req.Header.Set("Authorization", "Basic !!!")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", resp.StatusCode)
	}
	// The raw header is decoded exactly like Druid does: "admin:pass:word" has three parts.
	req, _ = http.NewRequest("GET", s.URL+authz+"/roles", nil)
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("admin:pass:word")))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", resp.StatusCode)
	}
}

func TestInternalClientUser(t *testing.T) {
	s := newServer(t, fakecoordinator.Options{InternalClientPassword: "internal"})
	runSteps(t, s, []step{
		{name: "druid_system is a superuser", who: &creds{"druid_system", "internal"}, method: "POST", path: authz + "/roles/x", status: 200},
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
