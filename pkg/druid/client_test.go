package druid_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/utils/clock"

	"github.com/imply-operator/imply-operator/pkg/druid"
	"github.com/imply-operator/imply-operator/pkg/druid/fakecoordinator"
	"github.com/imply-operator/imply-operator/pkg/pki"
)

const (
	adminPassword = "admin-secret"
	authn         = "basic"
	authz         = "basic"
)

// env is a fake coordinator served over TLS with a leaf signed by a fresh CA.
type env struct {
	server *fakecoordinator.Server
	url    string
	caPEM  []byte
}

func newEnv(t *testing.T) *env {
	t.Helper()
	clk := clock.RealClock{}
	ca, err := pki.CreateRootCA(clk, "druid-test-ca", "", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.SignLeaf(clk, pki.LeafRequest{CommonName: "localhost", DNSNames: []string{"localhost"}, Validity: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	s := fakecoordinator.New(fakecoordinator.Options{AdminPassword: adminPassword, CredentialIterations: 10, TLS: true, Certificate: &cert})
	t.Cleanup(s.Close)
	if !strings.HasPrefix(s.URL, "https://127.0.0.1:") {
		t.Fatalf("unexpected fake URL %s", s.URL)
	}
	// The leaf names localhost only.
	return &env{server: s, url: strings.Replace(s.URL, "127.0.0.1", "localhost", 1), caPEM: ca.CertPEM}
}

func (e *env) client(t *testing.T, mutate ...func(*druid.Config)) *druid.Client {
	t.Helper()
	cfg := druid.Config{
		BaseURL:  e.url,
		CABundle: e.caPEM,
		Username: "admin",
		Password: adminPassword,
		Timeout:  2 * time.Second,
		Retries:  3,
		Backoff:  druid.Backoff{Initial: time.Millisecond, Factor: 2, Max: 5 * time.Millisecond},
	}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := druid.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestClientWorkflowOverTLS(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	ctx := context.Background()

	must(t, c.CreateAuthenticatorUser(ctx, authn, "pivot"))
	if err := c.CreateAuthenticatorUser(ctx, authn, "pivot"); !druid.IsAlreadyExists(err) {
		t.Fatalf("second create: %v, want already exists", err)
	}
	u, err := c.GetAuthenticatorUser(ctx, authn, "pivot")
	must(t, err)
	if u.Name != "pivot" || u.Credentials != nil {
		t.Fatalf("user before credentials: %+v", u)
	}
	must(t, c.SetCredentials(ctx, authn, "pivot", "pivot-pw"))
	u, err = c.GetAuthenticatorUser(ctx, authn, "pivot")
	must(t, err)
	if u.Credentials == nil || len(u.Credentials.Hash) != 64 || len(u.Credentials.Salt) != 32 || u.Credentials.Iterations != 10 {
		t.Fatalf("credentials not stored: %+v", u.Credentials)
	}
	users, err := c.ListAuthenticatorUsers(ctx, authn)
	must(t, err)
	if !reflect.DeepEqual(users, []string{"admin", "pivot"}) {
		t.Fatalf("authenticator users %v", users)
	}

	must(t, c.CreateAuthorizerUser(ctx, authz, "pivot"))
	must(t, c.CreateRole(ctx, authz, "readers"))
	perms := []druid.Permission{
		{Resource: druid.Resource{Name: "wiki.*", Type: druid.ResourceDatasource}, Action: druid.ActionRead},
		{Resource: druid.Resource{Name: ".*", Type: druid.ResourceState}, Action: druid.ActionRead},
	}
	must(t, c.SetPermissions(ctx, authz, "readers", perms))
	must(t, c.SetPermissions(ctx, authz, "readers", perms[:1])) // replaces
	must(t, c.AssignRole(ctx, authz, "pivot", "readers"))
	if err := c.AssignRole(ctx, authz, "pivot", "readers"); !druid.IsAlreadyAssigned(err) {
		t.Fatalf("second assign: %v, want already assigned", err)
	}
	must(t, c.CreateGroupMapping(ctx, authz, druid.GroupMapping{Name: "analysts", GroupPattern: "CN=analysts,.*"}))
	must(t, c.AssignGroupMappingRole(ctx, authz, "analysts", "readers"))

	role, err := c.GetRole(ctx, authz, "readers")
	must(t, err)
	want := &druid.Role{Name: "readers", Users: []string{"pivot"}, Groups: []string{"analysts"}, Permissions: perms[:1]}
	if !reflect.DeepEqual(role, want) {
		t.Fatalf("role %+v, want %+v", role, want)
	}
	au, err := c.GetAuthorizerUser(ctx, authz, "pivot")
	must(t, err)
	if !reflect.DeepEqual(au, &druid.AuthorizerUser{Name: "pivot", Roles: []string{"readers"}}) {
		t.Fatalf("authorizer user %+v", au)
	}
	gm, err := c.GetGroupMapping(ctx, authz, "analysts")
	must(t, err)
	if !reflect.DeepEqual(gm, &druid.GroupMapping{Name: "analysts", GroupPattern: "CN=analysts,.*", Roles: []string{"readers"}}) {
		t.Fatalf("group mapping %+v", gm)
	}
	names, err := c.ListGroupMappings(ctx, authz)
	must(t, err)
	if !reflect.DeepEqual(names, []string{"analysts"}) {
		t.Fatalf("group mappings %v", names)
	}
	roles, err := c.ListRoles(ctx, authz)
	must(t, err)
	if !reflect.DeepEqual(roles, []string{"admin", "druid_system", "readers"}) {
		t.Fatalf("roles %v", roles)
	}
	azUsers, err := c.ListAuthorizerUsers(ctx, authz)
	must(t, err)
	if !reflect.DeepEqual(azUsers, []string{"admin", "druid_system", "pivot"}) {
		t.Fatalf("authorizer users %v", azUsers)
	}

	must(t, c.UnassignGroupMappingRole(ctx, authz, "analysts", "readers"))
	if err := c.UnassignGroupMappingRole(ctx, authz, "analysts", "readers"); !druid.IsNotAssigned(err) {
		t.Fatalf("second unassign: %v, want not assigned", err)
	}
	must(t, c.UnassignRole(ctx, authz, "pivot", "readers"))
	if err := c.UnassignRole(ctx, authz, "pivot", "readers"); !druid.IsNotAssigned(err) {
		t.Fatalf("second unassign: %v, want not assigned", err)
	}
	must(t, c.DeleteGroupMapping(ctx, authz, "analysts"))
	must(t, c.DeleteRole(ctx, authz, "readers"))
	_, err = c.GetRole(ctx, authz, "readers")
	if !druid.IsNotFound(err) || druid.IsAlreadyExists(err) {
		t.Fatalf("deleted role: %v, want not found", err)
	}
	var apiErr *druid.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Message != "Role [readers] does not exist." {
		t.Fatalf("error %#v does not carry Druid's message", err)
	}
	must(t, c.DeleteAuthorizerUser(ctx, authz, "pivot"))
	must(t, c.DeleteAuthenticatorUser(ctx, authn, "pivot"))
	if err := c.DeleteAuthenticatorUser(ctx, authn, "pivot"); !druid.IsNotFound(err) {
		t.Fatalf("second delete: %v, want not found", err)
	}

	if _, err := c.ListRoles(ctx, "other"); !druid.IsUnknownAuthenticatorOrAuthorizer(err) || druid.IsNotFound(err) {
		t.Fatalf("unknown authorizer: %v", err)
	}
	for name, load := range map[string]func(context.Context) (map[string]bool, error){
		"authentication": c.AuthenticationLoadStatus, "authorization": c.AuthorizationLoadStatus,
	} {
		status, err := load(ctx)
		must(t, err)
		if !reflect.DeepEqual(status, map[string]bool{"basic": true}) {
			t.Fatalf("%s load status %v", name, status)
		}
	}
}

func TestPathSegmentsAreEscaped(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	ctx := context.Background()
	name := "team/a b?c#d%"
	must(t, c.CreateAuthorizerUser(ctx, authz, name))
	au, err := c.GetAuthorizerUser(ctx, authz, name)
	must(t, err)
	if au.Name != name {
		t.Fatalf("round trip gave %q", au.Name)
	}
	log := e.server.Requests()
	if got := log[0].Path; got != "/druid-ext/basic-security/authorization/db/basic/users/team%2Fa%20b%3Fc%23d%25" {
		t.Fatalf("escaped path %q", got)
	}
}

func TestAuthErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	wrong := e.client(t, func(c *druid.Config) { c.Password = "wrong" })
	err := wrong.CreateRole(ctx, authz, "r")
	if !druid.IsUnauthorized(err) || druid.IsForbidden(err) {
		t.Fatalf("wrong password: %v, want unauthorized", err)
	}
	if n := len(e.server.Requests()); n != 1 {
		t.Fatalf("a 401 was retried: %d requests", n)
	}

	admin := e.client(t)
	must(t, admin.CreateAuthenticatorUser(ctx, authn, "viewer"))
	must(t, admin.SetCredentials(ctx, authn, "viewer", "viewer-pw"))
	must(t, admin.CreateAuthorizerUser(ctx, authz, "viewer"))
	viewer := e.client(t, func(c *druid.Config) { c.Username, c.Password = "viewer", "viewer-pw" })
	if _, err := viewer.ListRoles(ctx, authz); !druid.IsForbidden(err) || druid.IsUnauthorized(err) {
		t.Fatalf("viewer: %v, want forbidden", err)
	}
}

func TestTrust(t *testing.T) {
	e := newEnv(t)
	other := newEnv(t)
	ctx := context.Background()

	wrongCA := e.client(t, func(c *druid.Config) { c.CABundle = other.caPEM })
	if _, err := wrongCA.ListRoles(ctx, authz); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted server: %v, want a certificate error", err)
	}
	systemRoots := e.client(t, func(c *druid.Config) { c.CABundle = nil })
	if _, err := systemRoots.ListRoles(ctx, authz); err == nil {
		t.Fatal("system roots trusted the test CA")
	}
	if n := len(e.server.Requests()); n != 0 {
		t.Fatalf("requests reached the server without a trusted handshake: %d", n)
	}

	if _, err := druid.New(druid.Config{BaseURL: e.url, CABundle: []byte("not pem")}); err == nil {
		t.Fatal("New accepted a bundle without certificates")
	}
	for _, bad := range []string{"", "localhost:8281", "ftp://x", "http://"} {
		if _, err := druid.New(druid.Config{BaseURL: bad}); err == nil {
			t.Errorf("New accepted URL %q", bad)
		}
	}
}

// codes records OnRequest calls.
type codes struct {
	mu  sync.Mutex
	got []string
}

func (c *codes) record(method, code string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, method+" "+code)
}

func (c *codes) list() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.got...)
}

func TestRetriesOn5xx(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rec := &codes{}
	c := e.client(t, func(cfg *druid.Config) { cfg.OnRequest = rec.record })

	e.server.FailNext(3, http.StatusInternalServerError)
	must(t, c.CreateRole(ctx, authz, "r"))
	want := []string{"POST 500", "POST 500", "POST 500", "POST 200"}
	if got := rec.list(); !reflect.DeepEqual(got, want) {
		t.Fatalf("attempts %v, want %v", got, want)
	}

	e.server.ResetLog()
	e.server.FailNext(4, http.StatusServiceUnavailable)
	err := c.CreateRole(ctx, authz, "r2")
	var apiErr *druid.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusServiceUnavailable || apiErr.Message != "" || !strings.Contains(err.Error(), "503 Service Unavailable") {
		t.Fatalf("after the budget: %v, want the 503", err)
	}
	if n := len(e.server.Requests()); n != 4 {
		t.Fatalf("%d attempts, want 1 + 3 retries", n)
	}

	e.server.ResetLog()
	noRetry := e.client(t, func(cfg *druid.Config) { cfg.Retries = -1 })
	e.server.FailNext(1, http.StatusBadGateway)
	if err := noRetry.CreateRole(ctx, authz, "r3"); err == nil {
		t.Fatal("Retries -1 retried")
	}
	if n := len(e.server.Requests()); n != 1 {
		t.Fatalf("%d attempts with retries disabled", n)
	}
}

func TestNoRetryOn4xx(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client(t)
	must(t, c.CreateRole(ctx, authz, "r"))
	e.server.ResetLog()
	if err := c.CreateRole(ctx, authz, "r"); !druid.IsAlreadyExists(err) {
		t.Fatalf("%v, want already exists", err)
	}
	if n := len(e.server.Requests()); n != 1 {
		t.Fatalf("a 400 was retried: %d requests", n)
	}
}

func TestRetriesOnReset(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rec := &codes{}
	c := e.client(t, func(cfg *druid.Config) { cfg.OnRequest = rec.record })

	e.server.ResetNext(2)
	must(t, c.CreateRole(ctx, authz, "r"))
	if got, want := rec.list(), []string{"POST error", "POST error", "POST 200"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("attempts %v, want %v", got, want)
	}
	roles, err := c.ListRoles(ctx, authz)
	must(t, err)
	if !reflect.DeepEqual(roles, []string{"admin", "druid_system", "r"}) {
		t.Fatalf("roles %v", roles)
	}

	e.server.ResetLog()
	e.server.ResetNext(4)
	if err := c.CreateRole(ctx, authz, "r2"); err == nil {
		t.Fatal("succeeded through 4 resets with 3 retries")
	}
	if n := len(e.server.Requests()); n != 4 {
		t.Fatalf("%d attempts, want 4", n)
	}
}

func TestRetriesOnConnectionRefused(t *testing.T) {
	e := newEnv(t)
	url := e.url
	e.server.Close()
	rec := &codes{}
	c := e.client(t, func(cfg *druid.Config) { cfg.BaseURL = url; cfg.Retries = 2; cfg.OnRequest = rec.record })
	if _, err := c.ListRoles(context.Background(), authz); err == nil {
		t.Fatal("a closed server answered")
	}
	if got := rec.list(); len(got) != 3 {
		t.Fatalf("attempts %v, want 3", got)
	}
}

func TestTimeoutIsRetried(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rec := &codes{}
	c := e.client(t, func(cfg *druid.Config) {
		cfg.Timeout, cfg.Retries, cfg.OnRequest = 100*time.Millisecond, 1, rec.record
	})
	e.server.Delay(3 * time.Second)
	start := time.Now()
	_, err := c.ListRoles(ctx, authz)
	elapsed := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v, want a deadline error", err)
	}
	if elapsed < 200*time.Millisecond || elapsed > 2500*time.Millisecond {
		t.Fatalf("took %s, want two attempts of 100ms", elapsed)
	}
	if got, want := rec.list(), []string{"GET error", "GET error"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("attempts %v, want %v", got, want)
	}
	e.server.Delay(0)
	_, err = c.ListRoles(ctx, authz)
	must(t, err)
}

func TestContextCancel(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, func(cfg *druid.Config) { cfg.Timeout = 10 * time.Second })

	e.server.Delay(5 * time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.ListRoles(ctx, authz)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("%v, want context canceled", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Fatalf("cancel took %s", elapsed)
	}
	e.server.Delay(0)

	// Cancelled while backing off.
	slow := e.client(t, func(cfg *druid.Config) {
		cfg.Backoff = druid.Backoff{Initial: time.Minute, Factor: 2, Max: time.Minute}
	})
	e.server.FailNext(1, http.StatusInternalServerError)
	ctx, cancel = context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start = time.Now()
	err = slow.CreateRole(ctx, authz, "r")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v, want deadline exceeded", err)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Fatalf("backoff ignored the context: %s", elapsed)
	}
	var apiErr *druid.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 500 {
		t.Fatalf("%v does not keep the last error", err)
	}
}

func TestRefusesOldTLS(t *testing.T) {
	clk := clock.RealClock{}
	ca, err := pki.CreateRootCA(clk, "old-tls-ca", "", time.Hour)
	must(t, err)
	leaf, err := ca.SignLeaf(clk, pki.LeafRequest{CommonName: "localhost", DNSNames: []string{"localhost"}, Validity: time.Hour})
	must(t, err)
	cert, err := tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM)
	must(t, err)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`[]`))
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	c, err := druid.New(druid.Config{
		BaseURL: strings.Replace(srv.URL, "127.0.0.1", "localhost", 1), CABundle: ca.CertPEM,
		Retries: -1, Timeout: 2 * time.Second,
	})
	must(t, err)
	if _, err := c.ListRoles(context.Background(), authz); err == nil || !strings.Contains(err.Error(), "protocol version") {
		t.Fatalf("TLS 1.1 server: %v, want a protocol version error", err)
	}
}
