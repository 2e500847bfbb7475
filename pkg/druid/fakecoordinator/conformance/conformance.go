// Package conformance is the basic-security API behaviour the operator relies on, as one table
// of HTTP requests and Druid's answers, run against any coordinator: the in-repo fake
// (pkg/druid/fakecoordinator's tests) and a real Apache Druid coordinator (test/realdruid). A
// difference between the two fails one of them.
//
// The suite only creates names that start with Target.Prefix (users, roles, group mappings),
// so it can run against a coordinator that holds other state, and twice against the same one
// with two prefixes. Lists are compared after keeping only the built-in names and the suite's
// own; JSON answers are compared as JSON, with every array of strings sorted (Druid's order of
// names is not part of its API: its lists keep insertion order, the fake's are sorted).
package conformance

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// druidAdmin is Druid's built-in admin user and role.
const druidAdmin = "admin"

// Target is a coordinator under test.
type Target struct {
	// URL is the coordinator's base URL (http or https).
	URL string
	// Client sends the requests; nil means http.DefaultClient.
	Client *http.Client
	// AdminPassword is the password of the built-in admin user.
	AdminPassword string
	// InternalClientPassword is druid_system's password (initialInternalClientPassword); empty
	// when the coordinator has none, as then the authenticator has no druid_system user.
	InternalClientPassword string
	// Authenticator and Authorizer are the configured names; default "basic".
	Authenticator, Authorizer string
	// Prefix starts every name the suite creates; it must be unique per run against one
	// coordinator.
	Prefix string
}

type creds struct{ user, password string }

// Run runs every conformance check against target as subtests of t.
func Run(t *testing.T, target Target) {
	t.Helper()
	if target.Client == nil {
		target.Client = http.DefaultClient
	}
	if target.Authenticator == "" {
		target.Authenticator = "basic"
	}
	if target.Authorizer == "" {
		target.Authorizer = "basic"
	}
	if target.Prefix == "" {
		target.Prefix = fmt.Sprintf("conf%d-", time.Now().UnixNano())
	}
	s := &suite{Target: target, admin: creds{druidAdmin, target.AdminPassword}}
	t.Run("DocumentedSemantics", s.documentedSemantics)
	t.Run("AuthenticatedButNotAuthorizerUser", s.authenticatedButNotAuthorizerUser)
	t.Run("PasswordWithColon", s.passwordWithColon)
	t.Run("BuiltInUsers", s.builtInUsers)
	t.Run("MalformedBodies", s.malformedBodies)
}

type suite struct {
	Target
	admin creds
}

func (s *suite) authnPath(rest string) string {
	return "/druid-ext/basic-security/authentication/db/" + s.Authenticator + rest
}

func (s *suite) authzPath(rest string) string {
	return "/druid-ext/basic-security/authorization/db/" + s.Authorizer + rest
}

// n prefixes a name the suite creates.
func (s *suite) n(name string) string { return s.Prefix + name }

// step is one request and the answer Druid gives.
type step struct {
	name string
	// who sends it; nil means admin (unless noAuth).
	who    *creds
	noAuth bool
	method string
	path   string
	body   string
	status int
	// want is the expected body: JSON compared as JSON (arrays of strings sorted), else the
	// exact trimmed text. Empty means an empty body; "*" skips the check.
	want string
	// names marks a list of names: only built-ins and the suite's own are compared.
	names bool
}

func (s *suite) call(t *testing.T, who *creds, rawAuth, method, path, body string) (int, string) {
	t.Helper()
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, reader)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	switch {
	case rawAuth != "":
		req.Header.Set("Authorization", rawAuth)
	case who != nil:
		req.SetBasicAuth(who.user, who.password)
	}
	resp, err := s.Client.Do(req)
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

func (s *suite) run(t *testing.T, steps []step) {
	t.Helper()
	for i, st := range steps {
		who := st.who
		if who == nil && !st.noAuth {
			who = &s.admin
		}
		status, body := s.call(t, who, "", st.method, st.path, st.body)
		if status != st.status {
			t.Errorf("step %d %q: %s %s: status %d, want %d (body %.300q)", i, st.name, st.method, st.path, status, st.status, body)
			continue
		}
		if st.want == "*" {
			continue
		}
		if st.names {
			body = s.ownNames(t, body)
		}
		if msg := compareBodies(body, st.want); msg != "" {
			t.Errorf("step %d %q: %s %s: %s", i, st.name, st.method, st.path, msg)
		}
	}
}

// ownNames keeps the built-in names and the suite's own in a JSON list of names.
func (s *suite) ownNames(t *testing.T, body string) string {
	var names []string
	if err := json.Unmarshal([]byte(body), &names); err != nil {
		t.Fatalf("not a list of names: %q", body)
	}
	kept := []string{}
	for _, n := range names {
		if n == druidAdmin || n == "druid_system" || strings.HasPrefix(n, s.Prefix) {
			kept = append(kept, n)
		}
	}
	data, _ := json.Marshal(kept)
	return string(data)
}

// compareBodies returns "" when got matches want (see step.want), else what differs.
func compareBodies(got, want string) string {
	got, want = strings.TrimSpace(got), strings.TrimSpace(want)
	var g, w any
	if json.Unmarshal([]byte(want), &w) == nil {
		if err := json.Unmarshal([]byte(got), &g); err != nil {
			return fmt.Sprintf("body %.300q is not JSON, want %s", got, want)
		}
		if !reflect.DeepEqual(normalize(g), normalize(w)) {
			return fmt.Sprintf("body %s, want %s", got, want)
		}
		return ""
	}
	if got != want {
		return fmt.Sprintf("body %.300q, want %q", got, want)
	}
	return ""
}

// normalize sorts every array of strings in v, recursively.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
		return x
	case []any:
		allStrings := true
		for i, e := range x {
			x[i] = normalize(e)
			if _, ok := x[i].(string); !ok {
				allStrings = false
			}
		}
		if allStrings {
			slices.SortFunc(x, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
		}
		return x
	default:
		return v
	}
}

// errorBody is Druid's 400 answer for a domain error.
func errorBody(format string, args ...any) string {
	data, _ := json.Marshal(map[string]string{"error": fmt.Sprintf(format, args...)})
	return string(data)
}

// list renders a JSON list of the built-ins given and the suite's names.
func (s *suite) list(builtins []string, own ...string) string {
	all := append([]string{}, builtins...)
	for _, o := range own {
		all = append(all, s.n(o))
	}
	data, _ := json.Marshal(all)
	return string(data)
}

// builtIns are the authorizer's built-in users and roles.
var builtIns = []string{druidAdmin, "druid_system"}

// authnBuiltIns are the authenticator's built-in users: druid_system only when Druid was given
// an initialInternalClientPassword.
func (s *suite) authnBuiltIns() []string {
	if s.InternalClientPassword == "" {
		return []string{druidAdmin}
	}
	return builtIns
}

// The 403 body of Druid's ForbiddenExceptionMapper / PreResponseAuthorizationCheckFilter.
const forbiddenBody = "Access-Check-Result: Unauthorized"

func (s *suite) documentedSemantics(t *testing.T) {
	alice, bob, r1, r2, r3, gm1, secread := s.n("alice"), s.n("bob"), s.n("r1"), s.n("r2"), s.n("r3"), s.n("gm1"), s.n("secread")
	nope := s.n("nope")
	aliceCreds := &creds{alice, "alice-pw"}
	authn, authz := s.authnPath, s.authzPath
	perm := func(name, typ, action string) string {
		return fmt.Sprintf(`{"resource":{"name":%q,"type":%q},"action":%q}`, name, typ, action)
	}
	wiki := perm("wiki.*", "DATASOURCE", "READ")
	// wikiStored is wiki as Druid stores and returns it.
	wikiStored := fmt.Sprintf(`{"resourceAction":%s,"resourceNamePattern":%q}`, wiki, "wiki.*")
	s.run(t, []step{
		// Authentication users and credentials.
		{name: "create", method: http.MethodPost, path: authn("/users/" + alice), status: 200},
		{name: "list", method: http.MethodGet, path: authn("/users"), status: 200, names: true, want: s.list(s.authnBuiltIns(), "alice")},
		{name: "create twice", method: http.MethodPost, path: authn("/users/" + alice), status: 400, want: errorBody("User [%s] already exists.", alice)},
		{name: "no credentials yet", method: http.MethodGet, path: authn("/users/" + alice), status: 200, want: fmt.Sprintf(`{"name":%q,"credentials":null}`, alice)},
		{name: "credentials of a missing user", method: http.MethodPost, path: authn("/users/" + bob + "/credentials"), body: `{"password":"x"}`, status: 400, want: errorBody("User [%s] does not exist.", bob)},
		{name: "get missing", method: http.MethodGet, path: authn("/users/" + bob), status: 400, want: errorBody("User [%s] does not exist.", bob)},
		{name: "delete missing", method: http.MethodDelete, path: authn("/users/" + bob), status: 400, want: errorBody("User [%s] does not exist.", bob)},
		{name: "set credentials", method: http.MethodPost, path: authn("/users/" + alice + "/credentials"), body: `{"password":"alice-pw","iterations":7}`, status: 200},
		{name: "empty password refused", method: http.MethodPost, path: authn("/users/" + alice + "/credentials"), body: `{"password":""}`, status: 400,
			want: errorBody("Cannot construct instance of `org.apache.druid.security.basic.authentication.entity.BasicAuthenticatorCredentialUpdate`, problem: Cannot assign empty password.")},
		{name: "unknown authenticator", method: http.MethodGet, path: "/druid-ext/basic-security/authentication/db/" + nope + "/users", status: 400, want: errorBody("Basic authenticator with name [%s] does not exist.", nope)},
		{name: "authn load status", method: http.MethodGet, path: "/druid-ext/basic-security/authentication/loadStatus", status: 200, want: fmt.Sprintf(`{%q:true}`, s.Authenticator)},

		// Authorizer users and roles.
		{name: "builtin users", method: http.MethodGet, path: authz("/users"), status: 200, names: true, want: s.list(builtIns)},
		{name: "authz create", method: http.MethodPost, path: authz("/users/" + alice), status: 200},
		{name: "authz create twice", method: http.MethodPost, path: authz("/users/" + alice), status: 400, want: errorBody("User [%s] already exists.", alice)},
		{name: "authz delete missing", method: http.MethodDelete, path: authz("/users/" + bob), status: 400, want: errorBody("User [%s] does not exist.", bob)},
		{name: "role create", method: http.MethodPost, path: authz("/roles/" + r1), status: 200},
		{name: "role create twice", method: http.MethodPost, path: authz("/roles/" + r1), status: 400, want: errorBody("Role [%s] already exists.", r1)},
		{name: "role r2", method: http.MethodPost, path: authz("/roles/" + r2), status: 200},
		{name: "role get missing", method: http.MethodGet, path: authz("/roles/" + nope), status: 400, want: errorBody("Role [%s] does not exist.", nope)},
		{name: "roles", method: http.MethodGet, path: authz("/roles"), status: 200, names: true, want: s.list(builtIns, "r1", "r2")},
		{name: "new role", method: http.MethodGet, path: authz("/roles/" + r1), status: 200, want: fmt.Sprintf(`{"name":%q,"permissions":[]}`, r1)},
		{name: "new role full", method: http.MethodGet, path: authz("/roles/" + r1 + "?full"), status: 200, want: fmt.Sprintf(`{"name":%q,"users":[],"groups":[],"permissions":[]}`, r1)},

		// Assignment.
		{name: "assign to missing user", method: http.MethodPost, path: authz("/users/" + bob + "/roles/" + r1), status: 400, want: errorBody("User [%s] does not exist.", bob)},
		{name: "assign missing role", method: http.MethodPost, path: authz("/users/" + alice + "/roles/" + nope), status: 400, want: errorBody("Role [%s] does not exist.", nope)},
		{name: "assign", method: http.MethodPost, path: authz("/users/" + alice + "/roles/" + r1), status: 200},
		{name: "assign twice", method: http.MethodPost, path: authz("/users/" + alice + "/roles/" + r1), status: 400, want: errorBody("User [%s] already has role [%s].", alice, r1)},
		{name: "unassign not held", method: http.MethodDelete, path: authz("/users/" + alice + "/roles/" + r2), status: 400, want: errorBody("User [%s] does not have role [%s].", alice, r2)},
		{name: "user roles", method: http.MethodGet, path: authz("/users/" + alice), status: 200, want: fmt.Sprintf(`{"name":%q,"roles":[%q]}`, alice, r1)},

		// Permissions: POST replaces the whole set.
		{name: "set permissions", method: http.MethodPost, path: authz("/roles/" + r1 + "/permissions"), body: "[" + perm("A", "DATASOURCE", "READ") + "," + perm("B", "DATASOURCE", "WRITE") + "]", status: 200},
		{name: "replace permissions", method: http.MethodPost, path: authz("/roles/" + r1 + "/permissions"), body: "[" + wiki + "]", status: 200},
		{name: "permissions are stored, simplifyPermissions or not", method: http.MethodGet, path: authz("/roles/" + r1 + "/permissions?simplifyPermissions"), status: 200, want: "[" + wikiStored + "]"},
		{name: "permissions stored form", method: http.MethodGet, path: authz("/roles/" + r1 + "/permissions"), status: 200, want: "[" + wikiStored + "]"},
		{name: "role simplified", method: http.MethodGet, path: authz("/roles/" + r1 + "?simplifyPermissions"), status: 200, want: fmt.Sprintf(`{"name":%q,"users":null,"permissions":[%s]}`, r1, wiki)},
		{name: "role stored form", method: http.MethodGet, path: authz("/roles/" + r1), status: 200, want: fmt.Sprintf(`{"name":%q,"permissions":[%s]}`, r1, wikiStored)},
		{name: "user full", method: http.MethodGet, path: authz("/users/" + alice + "?full"), status: 200,
			want: fmt.Sprintf(`{"name":%q,"roles":[{"name":%q,"permissions":[%s]}]}`, alice, r1, wikiStored)},
		{name: "user full simplified", method: http.MethodGet, path: authz("/users/" + alice + "?full&simplifyPermissions"), status: 200,
			want: fmt.Sprintf(`{"name":%q,"roles":[{"name":%q,"users":null,"permissions":[%s]}]}`, alice, r1, wiki)},
		{name: "bad regex", method: http.MethodPost, path: authz("/roles/" + r1 + "/permissions"), body: "[" + perm("(", "DATASOURCE", "READ") + "]", status: 400, want: errorBody("Invalid permission, resource name regex[(] does not compile.")},
		{name: "bad regex changed nothing", method: http.MethodGet, path: authz("/roles/" + r1 + "/permissions"), status: 200, want: "[" + wikiStored + "]"},
		{name: "permissions of missing role", method: http.MethodPost, path: authz("/roles/" + nope + "/permissions"), body: `[]`, status: 400, want: errorBody("Role [%s] does not exist.", nope)},

		// Group mappings.
		{name: "gm create", method: http.MethodPost, path: authz("/groupMappings/" + gm1), body: fmt.Sprintf(`{"name":%q,"groupPattern":"CN=admins,.*","roles":[]}`, gm1), status: 200},
		{name: "gm create twice", method: http.MethodPost, path: authz("/groupMappings/" + gm1), body: fmt.Sprintf(`{"name":%q,"groupPattern":"x","roles":[]}`, gm1), status: 400, want: errorBody("Group mapping [%s] already exists.", gm1)},
		{name: "gm path name wins over the body's", method: http.MethodPost, path: authz("/groupMappings/" + s.n("gm2")), body: fmt.Sprintf(`{"name":%q,"groupPattern":"x","roles":[%q]}`, s.n("other"), r2), status: 200},
		{name: "gm under the path name", method: http.MethodGet, path: authz("/groupMappings/" + s.n("gm2")), status: 200, want: fmt.Sprintf(`{"name":%q,"groupPattern":"x","roles":[%q]}`, s.n("gm2"), r2)},
		{name: "gm not under the body name", method: http.MethodGet, path: authz("/groupMappings/" + s.n("other")), status: 400, want: errorBody("Group mapping [%s] does not exist.", s.n("other"))},
		{name: "gm body roles are not checked", method: http.MethodPost, path: authz("/groupMappings/" + s.n("gm3")), body: fmt.Sprintf(`{"name":%q,"groupPattern":"x","roles":[%q]}`, s.n("gm3"), nope), status: 200},
		{name: "gm keeps the unknown role", method: http.MethodGet, path: authz("/groupMappings/" + s.n("gm3")), status: 200, want: fmt.Sprintf(`{"name":%q,"groupPattern":"x","roles":[%q]}`, s.n("gm3"), nope)},
		{name: "gm get missing", method: http.MethodGet, path: authz("/groupMappings/" + nope), status: 400, want: errorBody("Group mapping [%s] does not exist.", nope)},
		{name: "gm delete missing", method: http.MethodDelete, path: authz("/groupMappings/" + nope), status: 400, want: errorBody("Group mapping [%s] does not exist.", nope)},
		{name: "gm assign to missing", method: http.MethodPost, path: authz("/groupMappings/" + nope + "/roles/" + r1), status: 400, want: errorBody("Group mapping [%s] does not exist.", nope)},
		{name: "gm assign missing role", method: http.MethodPost, path: authz("/groupMappings/" + gm1 + "/roles/" + nope), status: 400, want: errorBody("Role [%s] does not exist.", nope)},
		{name: "gm assign", method: http.MethodPost, path: authz("/groupMappings/" + gm1 + "/roles/" + r1), status: 200},
		{name: "gm assign twice", method: http.MethodPost, path: authz("/groupMappings/" + gm1 + "/roles/" + r1), status: 400, want: errorBody("Group mapping [%s] already has role [%s].", gm1, r1)},
		{name: "gm unassign not held", method: http.MethodDelete, path: authz("/groupMappings/" + gm1 + "/roles/" + r2), status: 400, want: errorBody("Group mapping [%s] does not have role [%s].", gm1, r2)},
		{name: "gm list", method: http.MethodGet, path: authz("/groupMappings"), status: 200, names: true, want: s.list(nil, "gm1", "gm2", "gm3")},
		{name: "gm get", method: http.MethodGet, path: authz("/groupMappings/" + gm1), status: 200, want: fmt.Sprintf(`{"name":%q,"groupPattern":"CN=admins,.*","roles":[%q]}`, gm1, r1)},
		{name: "role full simplified has no groups", method: http.MethodGet, path: authz("/roles/" + r1 + "?full&simplifyPermissions"), status: 200,
			want: fmt.Sprintf(`{"name":%q,"users":[%q],"permissions":[%s]}`, r1, alice, wiki)},
		{name: "role full stored", method: http.MethodGet, path: authz("/roles/" + r1 + "?full"), status: 200,
			want: fmt.Sprintf(`{"name":%q,"users":[%q],"groups":[%q],"permissions":[%s]}`, r1, alice, gm1, wikiStored)},

		// Deleting a role unassigns it everywhere.
		{name: "delete role", method: http.MethodDelete, path: authz("/roles/" + r1), status: 200},
		{name: "delete role twice", method: http.MethodDelete, path: authz("/roles/" + r1), status: 400, want: errorBody("Role [%s] does not exist.", r1)},
		{name: "user lost role", method: http.MethodGet, path: authz("/users/" + alice), status: 200, want: fmt.Sprintf(`{"name":%q,"roles":[]}`, alice)},
		{name: "mapping lost role", method: http.MethodGet, path: authz("/groupMappings/" + gm1), status: 200, want: fmt.Sprintf(`{"name":%q,"groupPattern":"CN=admins,.*","roles":[]}`, gm1)},
		{name: "gm delete", method: http.MethodDelete, path: authz("/groupMappings/" + s.n("gm3")), status: 200},
		{name: "gm deleted", method: http.MethodGet, path: authz("/groupMappings/" + s.n("gm3")), status: 400, want: errorBody("Group mapping [%s] does not exist.", s.n("gm3"))},
		{name: "unknown authorizer", method: http.MethodGet, path: "/druid-ext/basic-security/authorization/db/" + nope + "/roles", status: 400, want: errorBody("Basic authorizer with name [%s] does not exist.", nope)},
		{name: "authz load status", method: http.MethodGet, path: "/druid-ext/basic-security/authorization/loadStatus", status: 200, want: fmt.Sprintf(`{%q:true}`, s.Authorizer)},

		// 403 without CONFIG security; READ for GET, WRITE otherwise.
		{name: "alice has no security permission", who: aliceCreds, method: http.MethodGet, path: authz("/roles"), status: 403, want: forbiddenBody},
		{name: "security read role", method: http.MethodPost, path: authz("/roles/" + secread), status: 200},
		{name: "security read perms", method: http.MethodPost, path: authz("/roles/" + secread + "/permissions"), body: "[" + perm("secur.*", "CONFIG", "READ") + "]", status: 200},
		{name: "assign secread", method: http.MethodPost, path: authz("/users/" + alice + "/roles/" + secread), status: 200},
		{name: "alice may read", who: aliceCreds, method: http.MethodGet, path: authz("/roles"), status: 200, names: true, want: s.list(builtIns, "r2", "secread")},
		{name: "alice may not write", who: aliceCreds, method: http.MethodPost, path: authz("/roles/" + r3), status: 403, want: forbiddenBody},
		{name: "grant write too", method: http.MethodPost, path: authz("/roles/" + secread + "/permissions"), body: "[" + perm("security", "CONFIG", "READ") + "," + perm("security", "CONFIG", "WRITE") + "]", status: 200},
		{name: "alice may write", who: aliceCreds, method: http.MethodPost, path: authz("/roles/" + r3), status: 200},
		{name: "pattern is anchored", method: http.MethodPost, path: authz("/roles/" + secread + "/permissions"), body: "[" + perm("secur", "CONFIG", "READ") + "]", status: 200},
		{name: "partial match is no match", who: aliceCreds, method: http.MethodGet, path: authz("/roles"), status: 403, want: forbiddenBody},

		// 401 (Druid answers with an HTML page; only the status is the contract).
		{name: "no header", noAuth: true, method: http.MethodGet, path: authz("/roles"), status: 401, want: "*"},
		{name: "wrong password", who: &creds{druidAdmin, "wrong"}, method: http.MethodGet, path: authz("/roles"), status: 401, want: "*"},
		{name: "unknown user", who: &creds{s.n("mallory"), "x"}, method: http.MethodGet, path: authz("/roles"), status: 401, want: "*"},
		{name: "authenticator user deleted", method: http.MethodDelete, path: authn("/users/" + alice), status: 200},
		{name: "deleted user rejected", who: aliceCreds, method: http.MethodGet, path: authz("/roles"), status: 401, want: "*"},

		// Escaped path segments.
		{name: "escaped name", method: http.MethodPost, path: authz("/users/" + s.n("a%2Fb%20c")), status: 200},
		{name: "escaped name exists", method: http.MethodPost, path: authz("/users/" + s.n("a%2Fb%20c")), status: 400, want: errorBody("User [%s] already exists.", s.n("a/b c"))},
		{name: "escaped name listed", method: http.MethodGet, path: authz("/users"), status: 200, names: true, want: s.list(builtIns, "alice", "a/b c")},
	})
}

func (s *suite) authenticatedButNotAuthorizerUser(t *testing.T) {
	carol, dave := s.n("carol"), s.n("dave")
	s.run(t, []step{
		{name: "create", method: http.MethodPost, path: s.authnPath("/users/" + carol), status: 200},
		{name: "password", method: http.MethodPost, path: s.authnPath("/users/" + carol + "/credentials"), body: `{"password":"pw"}`, status: 200},
		{name: "no authorizer user", who: &creds{carol, "pw"}, method: http.MethodGet, path: s.authzPath("/roles"), status: 403, want: forbiddenBody},
		{name: "no credentials", method: http.MethodPost, path: s.authnPath("/users/" + dave), status: 200},
		{name: "user without credentials", who: &creds{dave, "any"}, method: http.MethodGet, path: s.authzPath("/roles"), status: 401, want: "*"},
	})
}

// passwordWithColon: Druid splits the decoded Basic header at its first ':', so a password may
// hold ':' (the username then cannot). This contradicts the older note that the header must
// split into exactly two parts; the operator still never generates a password with ':'.
func (s *suite) passwordWithColon(t *testing.T) {
	erin := s.n("erin")
	s.run(t, []step{
		{name: "create", method: http.MethodPost, path: s.authnPath("/users/" + erin), status: 200},
		{name: "password with a colon is stored", method: http.MethodPost, path: s.authnPath("/users/" + erin + "/credentials"), body: `{"password":"pass:word"}`, status: 200},
		{name: "authorizer user", method: http.MethodPost, path: s.authzPath("/users/" + erin), status: 200},
		{name: "role", method: http.MethodPost, path: s.authzPath("/roles/" + erin), status: 200},
		{name: "security read", method: http.MethodPost, path: s.authzPath("/roles/" + erin + "/permissions"), body: `[{"resource":{"name":"security","type":"CONFIG"},"action":"READ"}]`, status: 200},
		{name: "assign", method: http.MethodPost, path: s.authzPath("/users/" + erin + "/roles/" + erin), status: 200},
		{name: "usable", who: &creds{erin, "pass:word"}, method: http.MethodGet, path: s.authzPath("/users/" + erin), status: 200, want: fmt.Sprintf(`{"name":%q,"roles":[%q]}`, erin, erin)},
		{name: "the part after the first colon is the password", who: &creds{erin, "pass"}, method: http.MethodGet, path: s.authzPath("/users/" + erin), status: 401, want: "*"},
	})
	// A header that is not base64, and one whose password part is the admin's plus more.
	for _, raw := range []string{"Basic !!!", "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+s.AdminPassword+":x"))} {
		if status, _ := s.call(t, nil, raw, http.MethodGet, s.authzPath("/roles"), ""); status != http.StatusUnauthorized {
			t.Errorf("Authorization %.12q...: status %d, want 401", raw, status)
		}
	}
}

func (s *suite) builtInUsers(t *testing.T) {
	steps := []step{
		{name: "admin holds the admin role", method: http.MethodGet, path: s.authzPath("/users/admin"), status: 200, want: `{"name":"admin","roles":["admin"]}`},
		{name: "druid_system holds its role", method: http.MethodGet, path: s.authzPath("/users/druid_system"), status: 200, want: `{"name":"druid_system","roles":["druid_system"]}`},
		{name: "admin has credentials", method: http.MethodGet, path: s.authnPath("/users/admin"), status: 200, want: "*"},
	}
	if s.InternalClientPassword != "" {
		internal := &creds{"druid_system", s.InternalClientPassword}
		steps = append(steps,
			step{name: "druid_system is a superuser", who: internal, method: http.MethodPost, path: s.authzPath("/roles/" + s.n("by-druid-system")), status: 200},
			step{name: "and reads", who: internal, method: http.MethodGet, path: s.authzPath("/roles/" + s.n("by-druid-system")), status: 200, want: fmt.Sprintf(`{"name":%q,"permissions":[]}`, s.n("by-druid-system"))},
		)
	}
	s.run(t, steps)
}

// malformedBodies: Druid does not map a JSON parse failure to 400; Jersey answers 500 (an HTML
// page), so the operator's client retries it like any 5xx.
func (s *suite) malformedBodies(t *testing.T) {
	frank, role, gm := s.n("frank"), s.n("malformed"), s.n("malformed-gm")
	s.run(t, []step{
		{name: "user", method: http.MethodPost, path: s.authnPath("/users/" + frank), status: 200},
		{name: "role", method: http.MethodPost, path: s.authzPath("/roles/" + role), status: 200},
		{name: "credentials", method: http.MethodPost, path: s.authnPath("/users/" + frank + "/credentials"), body: `garbage`, status: 500, want: "*"},
		{name: "permissions", method: http.MethodPost, path: s.authzPath("/roles/" + role + "/permissions"), body: `garbage`, status: 500, want: "*"},
		{name: "group mapping", method: http.MethodPost, path: s.authzPath("/groupMappings/" + gm), body: `garbage`, status: 500, want: "*"},
		{name: "nothing created", method: http.MethodGet, path: s.authzPath("/groupMappings/" + gm), status: 400, want: errorBody("Group mapping [%s] does not exist.", gm)},
	})
}
