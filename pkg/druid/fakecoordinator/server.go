// Package fakecoordinator is an in-memory stand-in for a Druid coordinator's basic-security API
// (druid-basic-security extension, metadata-store authenticator and authorizer), for tests.
//
// It answers like Druid: 200 with an empty body on success (GETs return the entity), 400
// {"error": "<Druid's exact message>"} for domain errors, 401 when the Basic credentials are
// missing or wrong (the decoded header is split at its first ':'), 403 "Access-Check-Result:
// Unauthorized" when the caller has no role granting CONFIG "security" (READ for GET, WRITE
// otherwise), 500 for a body that is not JSON. Deleting a role unassigns it from every user and
// group mapping; POSTing permissions replaces the whole set. Faults can be injected: FailNext,
// ResetNext, Delay, and SetFaults for stretches of random 5xx answers, timeouts and resets.
//
// Its behaviour is held to a real Druid coordinator by the shared suite in
// pkg/druid/fakecoordinator/conformance, which test/realdruid runs against Apache Druid.
//
// Known simplifications: permission regexes are compiled with Go's regexp (RE2), not Java's;
// only one authenticator chain entry (the first authenticator) authenticates requests and the
// first authorizer authorizes them; the cache notification machinery is not modelled
// (loadStatus is always true); lists of names are sorted (Druid keeps insertion order); 401
// answers carry a short text where Druid's Jetty sends an HTML page, and so do 500s; the
// built-in admin and druid_system roles hold every resource type the fake knows, LOOKUP included.
package fakecoordinator

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Built-in names, as in Druid.
const (
	AdminName    = "admin"
	InternalName = "druid_system"
)

// DefaultCredentialIterations is Druid's default credentialIterations.
const DefaultCredentialIterations = 10000

// Options configure a Server.
type Options struct {
	// Authenticators and Authorizers are the configured names; default ["basic"] each.
	Authenticators []string
	Authorizers    []string
	// AdminPassword is the initialAdminPassword of every authenticator; default "admin-password".
	AdminPassword string
	// InternalClientPassword, when set, creates druid_system with it in every authenticator.
	InternalClientPassword string
	// CredentialIterations is the PBKDF2 iteration count; default DefaultCredentialIterations.
	// Tests may lower it for speed.
	CredentialIterations int
	// TLS serves https: with Certificate when set, else with httptest's built-in certificate.
	TLS         bool
	Certificate *tls.Certificate
	// GetCertificate, with TLS, picks the certificate of each handshake (it wins over
	// Certificate): a coordinator whose certificate changes while it runs, as when its pod
	// restarts with a renewed one.
	GetCertificate func(*tls.ClientHelloInfo) (*tls.Certificate, error)
	// ClientCAs, with TLS, makes the server require client certificates signed by one of them,
	// as Druid does with druid.server.https.requireClientCertificate.
	ClientCAs *x509.CertPool
}

// Request is one logged request.
type Request struct {
	Method string
	// Path is the escaped request path, without the query.
	Path string
	// Query is the raw query.
	Query string
	// User is the Basic username ("" when none could be decoded).
	User string
	// Status is the answered status; 0 for a reset connection.
	Status int
}

// Server is a fake coordinator. Its URL is in URL.
type Server struct {
	// URL is the base URL (https when Options.TLS).
	URL string

	httpServer *httptest.Server
	iterations int
	closed     chan struct{}
	closeOnce  sync.Once

	mu       sync.Mutex
	authns   map[string]map[string]*authnUser
	authzs   map[string]*authorizer
	failN    int
	failCode int
	resetN   int
	delay    time.Duration
	faults   *Faults
	log      []Request
	// authnName is the authenticator that authenticates requests.
	authnName string
}

// Faults make a share of requests fail, for as long as they are set (SetFaults): each request
// draws once and gets, in this order of the ranges, a 5xx answer, a delay (a timeout for a
// client that waits less), a reset connection, or the normal answer.
type Faults struct {
	// Status5xx, Timeout and Reset are the shares (0 to 1, summing to at most 1) of requests
	// answered 503, delayed by TimeoutDelay before the normal answer, or reset.
	Status5xx, Timeout, Reset float64
	// TimeoutDelay is how long a request drawn for Timeout waits.
	TimeoutDelay time.Duration
	// Draw returns a number in [0, 1) per request; math/rand's Float64 of a seeded source.
	Draw func() float64
	// Injected counts the faults injected so far, by kind ("5xx", "timeout", "reset").
	Injected map[string]int
}

type credential struct {
	salt, hash []byte
	iterations int
}

type authnUser struct {
	cred *credential
}

type storedPermission struct {
	perm    permission
	pattern *regexp.Regexp
}

type permission struct {
	Resource resource `json:"resource"`
	Action   string   `json:"action"`
}

type resource struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

type authorizer struct {
	users    map[string]map[string]bool
	roles    map[string][]storedPermission
	mappings map[string]*groupMapping
}

type groupMapping struct {
	pattern string
	roles   map[string]bool
}

// resourceTypes are the types the superuser roles are granted.
var resourceTypes = []string{"DATASOURCE", "VIEW", "CONFIG", "STATE", "SYSTEM_TABLE", "QUERY_CONTEXT", "EXTERNAL", "LOOKUP"}

// New starts a Server; call Close when done.
func New(opts Options) *Server {
	if len(opts.Authenticators) == 0 {
		opts.Authenticators = []string{"basic"}
	}
	if len(opts.Authorizers) == 0 {
		opts.Authorizers = []string{"basic"}
	}
	if opts.AdminPassword == "" {
		opts.AdminPassword = "admin-password"
	}
	s := &Server{
		iterations: opts.CredentialIterations,
		authns:     map[string]map[string]*authnUser{},
		authzs:     map[string]*authorizer{},
		closed:     make(chan struct{}),
	}
	if s.iterations <= 0 {
		s.iterations = DefaultCredentialIterations
	}
	for _, name := range opts.Authenticators {
		users := map[string]*authnUser{AdminName: {cred: s.hash(opts.AdminPassword, s.iterations)}}
		if opts.InternalClientPassword != "" {
			users[InternalName] = &authnUser{cred: s.hash(opts.InternalClientPassword, s.iterations)}
		}
		s.authns[name] = users
	}
	for _, name := range opts.Authorizers {
		a := &authorizer{users: map[string]map[string]bool{}, roles: map[string][]storedPermission{}, mappings: map[string]*groupMapping{}}
		for _, builtin := range []string{AdminName, InternalName} {
			var perms []storedPermission
			for _, t := range resourceTypes {
				for _, action := range []string{"READ", "WRITE"} {
					perms = append(perms, storedPermission{perm: permission{Resource: resource{Name: ".*", Type: t}, Action: action}, pattern: regexp.MustCompile(`^(?:.*)$`)})
				}
			}
			a.roles[builtin] = perms
			a.users[builtin] = map[string]bool{builtin: true}
		}
		s.authzs[name] = a
	}
	authnName, authzName := opts.Authenticators[0], opts.Authorizers[0]
	s.authnName = authnName
	handler := s.handler(authnName, authzName)
	if opts.TLS {
		s.httpServer = httptest.NewUnstartedServer(handler)
		if opts.GetCertificate != nil {
			s.httpServer.TLS = &tls.Config{GetCertificate: opts.GetCertificate, MinVersion: tls.VersionTLS12}
		} else if opts.Certificate != nil {
			s.httpServer.TLS = &tls.Config{Certificates: []tls.Certificate{*opts.Certificate}, MinVersion: tls.VersionTLS12}
		}
		if s.httpServer.TLS != nil {
			if opts.ClientCAs != nil {
				s.httpServer.TLS.ClientCAs, s.httpServer.TLS.ClientAuth = opts.ClientCAs, tls.RequireAndVerifyClientCert
			}
		}
		s.httpServer.StartTLS()
	} else {
		s.httpServer = httptest.NewServer(handler)
	}
	s.URL = s.httpServer.URL
	return s
}

// Close shuts the server down; delayed requests are released at once.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
	s.httpServer.Close()
}

// Client returns httptest's *http.Client for the server. With TLS it trusts httptest's built-in
// certificate only; with Options.Certificate, build a client trusting that certificate's CA.
func (s *Server) Client() *http.Client { return s.httpServer.Client() }

// FailNext answers the next n requests with status (and a plain-text body), before any check.
func (s *Server) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failCode = n, status
}

// ResetNext closes the connection of the next n requests without answering (a TCP reset).
func (s *Server) ResetNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetN = n
}

// Delay makes every following request wait d before it is handled (0 turns it off). A request
// whose client gave up meanwhile is still handled when the delay ends, as a real coordinator would.
func (s *Server) Delay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// SetFaults makes requests fail as f says until it is called again; nil turns faults off.
// f.Injected is updated under the server's lock: read it after SetFaults(nil).
func (s *Server) SetFaults(f *Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f != nil && f.Injected == nil {
		f.Injected = map[string]int{}
	}
	s.faults = f
}

// drawFault picks what the faults set make of one request: "" (none), "5xx", "timeout" or
// "reset". Called with s.mu held.
func (s *Server) drawFault() string {
	f := s.faults
	if f == nil || f.Draw == nil {
		return ""
	}
	x := f.Draw()
	kind := ""
	switch {
	case x < f.Status5xx:
		kind = "5xx"
	case x < f.Status5xx+f.Timeout:
		kind = "timeout"
	case x < f.Status5xx+f.Timeout+f.Reset:
		kind = "reset"
	}
	if kind != "" {
		f.Injected[kind]++
	}
	return kind
}

// PasswordMatches reports whether user's stored credentials (in the authenticator that
// authenticates requests) match password: what Druid would answer to a login.
func (s *Server) PasswordMatches(user, password string) bool {
	s.mu.Lock()
	u := s.authns[s.authnName][user]
	s.mu.Unlock()
	return u != nil && u.cred != nil && u.cred.matches(password)
}

// Requests returns a copy of the request log.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

// ResetLog empties the request log.
func (s *Server) ResetLog() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
}

func (s *Server) hash(password string, iterations int) *credential {
	salt := make([]byte, 32)
	_, _ = rand.Read(salt)
	key, err := pbkdf2.Key(sha512.New, password, salt, iterations, 64)
	if err != nil {
		panic(fmt.Sprintf("pbkdf2: %v", err))
	}
	return &credential{salt: salt, hash: key, iterations: iterations}
}

func (c *credential) matches(password string) bool {
	key, err := pbkdf2.Key(sha512.New, password, c.salt, c.iterations, len(c.hash))
	return err == nil && subtle.ConstantTimeCompare(key, c.hash) == 1
}

// statusRecorder remembers the status for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (s *Server) handler(authnName, authzName string) http.Handler {
	mux := http.NewServeMux()
	s.routes(mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _, _ := basicAuth(r)
		entry := Request{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, User: user}

		s.mu.Lock()
		delay := s.delay
		reset := s.resetN > 0
		if reset {
			s.resetN--
		}
		fail := 0
		if !reset && s.failN > 0 {
			s.failN--
			fail = s.failCode
		}
		if !reset && fail == 0 {
			switch s.drawFault() {
			case "5xx":
				fail = http.StatusServiceUnavailable
			case "timeout":
				delay += s.faults.TimeoutDelay
			case "reset":
				reset = true
			}
		}
		s.mu.Unlock()

		if delay > 0 {
			// Like a slow coordinator, keep going when the client gives up; stop early only
			// when the server closes.
			timer := time.NewTimer(delay)
			select {
			case <-timer.C:
			case <-s.closed:
				timer.Stop()
			}
		}
		if reset {
			s.appendLog(entry)
			resetConnection(w)
			return
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			entry.Status = rec.status
			s.appendLog(entry)
		}()
		if fail != 0 {
			http.Error(rec, "injected failure", fail)
			return
		}
		if !s.authorize(rec, r, authnName, authzName) {
			return
		}
		mux.ServeHTTP(rec, r)
	})
}

func (s *Server) appendLog(entry Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, entry)
}

// resetConnection hijacks the connection and closes it with SO_LINGER 0, so the peer sees a reset.
func resetConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("fakecoordinator: the ResponseWriter cannot be hijacked")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	raw := conn
	if tc, ok := conn.(*tls.Conn); ok {
		raw = tc.NetConn()
	}
	if tcp, ok := raw.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = raw.Close()
}

// basicAuth decodes the Basic header as Druid does: the decoded text is split at its first ':'
// (a password may contain ':'; a username cannot).
func basicAuth(r *http.Request) (user, password string, ok bool) {
	h := r.Header.Get("Authorization")
	const prefix = "Basic "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", "", false
	}
	decoded, err := base64.StdEncoding.DecodeString(h[len(prefix):])
	if err != nil {
		return "", "", false
	}
	parts := strings.SplitN(string(decoded), ":", 2)
	if len(parts) != 2 {
		return "", "", false
	}
	return parts[0], parts[1], true
}

// authorize answers 401/403 and returns false unless the caller may make this request.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, authnName, authzName string) bool {
	user, password, ok := basicAuth(r)
	s.mu.Lock()
	var cred *credential
	if ok {
		if u := s.authns[authnName][user]; u != nil {
			cred = u.cred
		}
	}
	s.mu.Unlock()
	if cred == nil || !cred.matches(password) {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return false
	}
	action := "WRITE"
	if r.Method == http.MethodGet {
		action = "READ"
	}
	s.mu.Lock()
	allowed := s.authzs[authzName].allows(user, "CONFIG", "security", action)
	s.mu.Unlock()
	if !allowed {
		http.Error(w, "Access-Check-Result: Unauthorized", http.StatusForbidden)
		return false
	}
	return true
}

func (a *authorizer) allows(user, resourceType, name, action string) bool {
	roles, ok := a.users[user]
	if !ok {
		return false
	}
	for role := range roles {
		for _, p := range a.roles[role] {
			if p.perm.Resource.Type == resourceType && p.perm.Action == action && p.pattern.MatchString(name) {
				return true
			}
		}
	}
	return false
}

// Answers.

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, format string, args ...any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": fmt.Sprintf(format, args...)})
}

func ok(w http.ResponseWriter) { w.WriteHeader(http.StatusOK) }

// malformed answers a body that is not JSON as Druid does: Jersey's 500, not a 400.
func malformed(w http.ResponseWriter, err error) {
	http.Error(w, "javax.servlet.ServletException: "+err.Error(), http.StatusInternalServerError)
}

// emptyPasswordError is Druid's 400 text for {"password": ""}: the Jackson creator of
// BasicAuthenticatorCredentialUpdate refuses it.
const emptyPasswordError = "Cannot construct instance of `org.apache.druid.security.basic.authentication.entity.BasicAuthenticatorCredentialUpdate`, problem: Cannot assign empty password."

func hasFlag(r *http.Request, name string) bool {
	_, present := r.URL.Query()[name]
	return present
}

const (
	authnPrefix = "/druid-ext/basic-security/authentication"
	authzPrefix = "/druid-ext/basic-security/authorization"
)

// routes registers every endpoint. Handlers run with s.mu held.
func (s *Server) routes(mux *http.ServeMux) {
	s.authenticationRoutes(mux)
	s.authorizationRoutes(mux)
	s.groupMappingRoutes(mux)
}

// locked runs h with s.mu held.
func (s *Server) locked(h func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		h(w, r)
	}
}

// withAuthn runs h with the users of the path's authenticator, s.mu held.
func (s *Server) withAuthn(h func(w http.ResponseWriter, r *http.Request, users map[string]*authnUser)) http.HandlerFunc {
	return s.locked(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("authn")
		users, found := s.authns[name]
		if !found {
			writeError(w, "Basic authenticator with name [%s] does not exist.", name)
			return
		}
		h(w, r, users)
	})
}

// withAuthz runs h with the path's authorizer, s.mu held.
func (s *Server) withAuthz(h func(w http.ResponseWriter, r *http.Request, a *authorizer)) http.HandlerFunc {
	return s.locked(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("authz")
		a, found := s.authzs[name]
		if !found {
			writeError(w, "Basic authorizer with name [%s] does not exist.", name)
			return
		}
		h(w, r, a)
	})
}

// authenticationRoutes registers the authenticator's users and credentials.
func (s *Server) authenticationRoutes(mux *http.ServeMux) {
	// Authentication.
	mux.HandleFunc("GET "+authnPrefix+"/loadStatus", s.locked(func(w http.ResponseWriter, _ *http.Request) {
		status := map[string]bool{}
		for name := range s.authns {
			status[name] = true
		}
		writeJSON(w, status)
	}))
	mux.HandleFunc("GET "+authnPrefix+"/refreshAll", func(w http.ResponseWriter, _ *http.Request) { ok(w) })
	mux.HandleFunc("GET "+authnPrefix+"/db/{authn}/users", s.withAuthn(func(w http.ResponseWriter, _ *http.Request, users map[string]*authnUser) {
		writeJSON(w, sortedKeys(users))
	}))
	mux.HandleFunc("GET "+authnPrefix+"/db/{authn}/users/{user}", s.withAuthn(func(w http.ResponseWriter, r *http.Request, users map[string]*authnUser) {
		name := r.PathValue("user")
		u, found := users[name]
		if !found {
			writeError(w, "User [%s] does not exist.", name)
			return
		}
		type creds struct {
			Salt       []byte `json:"salt"`
			Hash       []byte `json:"hash"`
			Iterations int    `json:"iterations"`
		}
		out := struct {
			Name        string `json:"name"`
			Credentials *creds `json:"credentials"`
		}{Name: name}
		if u.cred != nil {
			out.Credentials = &creds{Salt: u.cred.salt, Hash: u.cred.hash, Iterations: u.cred.iterations}
		}
		writeJSON(w, out)
	}))
	mux.HandleFunc("POST "+authnPrefix+"/db/{authn}/users/{user}", s.withAuthn(func(w http.ResponseWriter, r *http.Request, users map[string]*authnUser) {
		name := r.PathValue("user")
		if _, found := users[name]; found {
			writeError(w, "User [%s] already exists.", name)
			return
		}
		users[name] = &authnUser{}
		ok(w)
	}))
	mux.HandleFunc("DELETE "+authnPrefix+"/db/{authn}/users/{user}", s.withAuthn(func(w http.ResponseWriter, r *http.Request, users map[string]*authnUser) {
		name := r.PathValue("user")
		if _, found := users[name]; !found {
			writeError(w, "User [%s] does not exist.", name)
			return
		}
		delete(users, name)
		ok(w)
	}))
	mux.HandleFunc("POST "+authnPrefix+"/db/{authn}/users/{user}/credentials", s.withAuthn(func(w http.ResponseWriter, r *http.Request, users map[string]*authnUser) {
		name := r.PathValue("user")
		var body struct {
			Password   string `json:"password"`
			Iterations *int   `json:"iterations"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			malformed(w, err)
			return
		}
		if body.Password == "" {
			// Refused while Druid reads the body, before it looks the user up.
			writeError(w, emptyPasswordError)
			return
		}
		u, found := users[name]
		if !found {
			writeError(w, "User [%s] does not exist.", name)
			return
		}
		iterations := s.iterations
		if body.Iterations != nil && *body.Iterations > 0 {
			iterations = *body.Iterations
		}
		u.cred = s.hash(body.Password, iterations)
		ok(w)
	}))

}

// authorizationRoutes registers the authorizer's users, roles and permissions.
func (s *Server) authorizationRoutes(mux *http.ServeMux) {
	// Authorization.
	mux.HandleFunc("GET "+authzPrefix+"/loadStatus", s.locked(func(w http.ResponseWriter, _ *http.Request) {
		status := map[string]bool{}
		for name := range s.authzs {
			status[name] = true
		}
		writeJSON(w, status)
	}))
	mux.HandleFunc("GET "+authzPrefix+"/refreshAll", func(w http.ResponseWriter, _ *http.Request) { ok(w) })

	mux.HandleFunc("GET "+authzPrefix+"/db/{authz}/users", s.withAuthz(func(w http.ResponseWriter, _ *http.Request, a *authorizer) {
		writeJSON(w, sortedKeys(a.users))
	}))
	mux.HandleFunc("GET "+authzPrefix+"/db/{authz}/users/{user}", s.withAuthz(func(w http.ResponseWriter, r *http.Request, a *authorizer) {
		name := r.PathValue("user")
		roles, found := a.users[name]
		if !found {
			writeError(w, "User [%s] does not exist.", name)
			return
		}
		if !hasFlag(r, "full") {
			writeJSON(w, map[string]any{"name": name, "roles": sortedKeys(roles)})
			return
		}
		full := []any{}
		for _, role := range sortedKeys(roles) {
			full = append(full, a.roleJSON(role, false, hasFlag(r, "simplifyPermissions")))
		}
		writeJSON(w, map[string]any{"name": name, "roles": full})
	}))
	mux.HandleFunc("POST "+authzPrefix+"/db/{authz}/users/{user}", s.withAuthz(func(w http.ResponseWriter, r *http.Request, a *authorizer) {
		name := r.PathValue("user")
		if _, found := a.users[name]; found {
			writeError(w, "User [%s] already exists.", name)
			return
		}
		a.users[name] = map[string]bool{}
		ok(w)
	}))
	mux.HandleFunc("DELETE "+authzPrefix+"/db/{authz}/users/{user}", s.withAuthz(func(w http.ResponseWriter, r *http.Request, a *authorizer) {
		name := r.PathValue("user")
		if _, found := a.users[name]; !found {
			writeError(w, "User [%s] does not exist.", name)
			return
		}
		delete(a.users, name)
		ok(w)
	}))
	mux.HandleFunc("POST "+authzPrefix+"/db/{authz}/users/{user}/roles/{role}", s.withAuthz(func(w http.ResponseWriter, r *http.Request, a *authorizer) {
		user, role := r.PathValue("user"), r.PathValue("role")
		roles, found := a.users[user]
		switch {
		case !found:
			writeError(w, "User [%s] does not exist.", user)
		case !a.hasRole(role):
			writeError(w, "Role [%s] does not exist.", role)
		case roles[role]:
			writeError(w, "User [%s] already has role [%s].", user, role)
		default:
			roles[role] = true
			ok(w)
		}
	}))
	mux.HandleFunc("DELETE "+authzPrefix+"/db/{authz}/users/{user}/roles/{role}", s.withAuthz(func(w http.ResponseWriter, r *http.Request, a *authorizer) {
		user, role := r.PathValue("user"), r.PathValue("role")
		roles, found := a.users[user]
		switch {
		case !found:
			writeError(w, "User [%s] does not exist.", user)
		case !a.hasRole(role):
			writeError(w, "Role [%s] does not exist.", role)
		case !roles[role]:
			writeError(w, "User [%s] does not have role [%s].", user, role)
		default:
			delete(roles, role)
			ok(w)
		}
	}))

	mux.HandleFunc("GET "+authzPrefix+"/db/{authz}/roles", s.withAuthz(func(w http.ResponseWriter, _ *http.Request, a *authorizer) {
		writeJSON(w, sortedKeys(a.roles))
	}))
	mux.HandleFunc("GET "+authzPrefix+"/db/{authz}/roles/{role}", s.withAuthz(func(w http.ResponseWriter, r *http.Request, a *authorizer) {
		role := r.PathValue("role")
		if !a.hasRole(role) {
			writeError(w, "Role [%s] does not exist.", role)
			return
		}
		writeJSON(w, a.roleJSON(role, hasFlag(r, "full"), hasFlag(r, "simplifyPermissions")))
	}))
	mux.HandleFunc("POST "+authzPrefix+"/db/{authz}/roles/{role}", s.withAuthz(func(w http.ResponseWriter, r *http.Request, a *authorizer) {
		role := r.PathValue("role")
		if a.hasRole(role) {
			writeError(w, "Role [%s] already exists.", role)
			return
		}
		a.roles[role] = []storedPermission{}
		ok(w)
	}))
	mux.HandleFunc("DELETE "+authzPrefix+"/db/{authz}/roles/{role}", s.withAuthz(func(w http.ResponseWriter, r *http.Request, a *authorizer) {
		role := r.PathValue("role")
		if !a.hasRole(role) {
			writeError(w, "Role [%s] does not exist.", role)
			return
		}
		delete(a.roles, role)
		for _, roles := range a.users {
			delete(roles, role)
		}
		for _, gm := range a.mappings {
			delete(gm.roles, role)
		}
		ok(w)
	}))
	mux.HandleFunc("GET "+authzPrefix+"/db/{authz}/roles/{role}/permissions", s.withAuthz(func(w http.ResponseWriter, r *http.Request, a *authorizer) {
		role := r.PathValue("role")
		if !a.hasRole(role) {
			writeError(w, "Role [%s] does not exist.", role)
			return
		}
		// Druid ignores ?simplifyPermissions here: always the stored form.
		writeJSON(w, permissionsJSON(a.roles[role], false))
	}))
	mux.HandleFunc("POST "+authzPrefix+"/db/{authz}/roles/{role}/permissions", s.withAuthz(func(w http.ResponseWriter, r *http.Request, a *authorizer) {
		role := r.PathValue("role")
		var perms []permission
		if err := json.NewDecoder(r.Body).Decode(&perms); err != nil {
			malformed(w, err)
			return
		}
		if !a.hasRole(role) {
			writeError(w, "Role [%s] does not exist.", role)
			return
		}
		stored := make([]storedPermission, 0, len(perms))
		for _, p := range perms {
			re, err := regexp.Compile(`^(?:` + p.Resource.Name + `)$`)
			if err != nil {
				writeError(w, "Invalid permission, resource name regex[%s] does not compile.", p.Resource.Name)
				return
			}
			stored = append(stored, storedPermission{perm: p, pattern: re})
		}
		a.roles[role] = stored
		ok(w)
	}))

}

// groupMappingRoutes registers the authorizer's LDAP group mappings.
func (s *Server) groupMappingRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+authzPrefix+"/db/{authz}/groupMappings", s.withAuthz(func(w http.ResponseWriter, _ *http.Request, a *authorizer) {
		writeJSON(w, sortedKeys(a.mappings))
	}))
	mux.HandleFunc("GET "+authzPrefix+"/db/{authz}/groupMappings/{name}", s.withAuthz(func(w http.ResponseWriter, r *http.Request, a *authorizer) {
		name := r.PathValue("name")
		gm, found := a.mappings[name]
		if !found {
			writeError(w, "Group mapping [%s] does not exist.", name)
			return
		}
		writeJSON(w, map[string]any{"name": name, "groupPattern": gm.pattern, "roles": sortedKeys(gm.roles)})
	}))
	mux.HandleFunc("POST "+authzPrefix+"/db/{authz}/groupMappings/{name}", s.withAuthz(func(w http.ResponseWriter, r *http.Request, a *authorizer) {
		name := r.PathValue("name")
		var body struct {
			GroupPattern string   `json:"groupPattern"`
			Roles        []string `json:"roles"`
		}
		data := new(bytes.Buffer)
		_, _ = data.ReadFrom(r.Body)
		if err := json.Unmarshal(data.Bytes(), &body); err != nil {
			malformed(w, err)
			return
		}
		if _, found := a.mappings[name]; found {
			writeError(w, "Group mapping [%s] already exists.", name)
			return
		}
		gm := &groupMapping{pattern: body.GroupPattern, roles: map[string]bool{}}
		for _, role := range body.Roles {
			gm.roles[role] = true
		}
		a.mappings[name] = gm
		ok(w)
	}))
	mux.HandleFunc("DELETE "+authzPrefix+"/db/{authz}/groupMappings/{name}", s.withAuthz(func(w http.ResponseWriter, r *http.Request, a *authorizer) {
		name := r.PathValue("name")
		if _, found := a.mappings[name]; !found {
			writeError(w, "Group mapping [%s] does not exist.", name)
			return
		}
		delete(a.mappings, name)
		ok(w)
	}))
	mux.HandleFunc("POST "+authzPrefix+"/db/{authz}/groupMappings/{name}/roles/{role}", s.withAuthz(func(w http.ResponseWriter, r *http.Request, a *authorizer) {
		name, role := r.PathValue("name"), r.PathValue("role")
		gm, found := a.mappings[name]
		switch {
		case !found:
			writeError(w, "Group mapping [%s] does not exist.", name)
		case !a.hasRole(role):
			writeError(w, "Role [%s] does not exist.", role)
		case gm.roles[role]:
			writeError(w, "Group mapping [%s] already has role [%s].", name, role)
		default:
			gm.roles[role] = true
			ok(w)
		}
	}))
	mux.HandleFunc("DELETE "+authzPrefix+"/db/{authz}/groupMappings/{name}/roles/{role}", s.withAuthz(func(w http.ResponseWriter, r *http.Request, a *authorizer) {
		name, role := r.PathValue("name"), r.PathValue("role")
		gm, found := a.mappings[name]
		switch {
		case !found:
			writeError(w, "Group mapping [%s] does not exist.", name)
		case !a.hasRole(role):
			writeError(w, "Role [%s] does not exist.", role)
		case !gm.roles[role]:
			writeError(w, "Group mapping [%s] does not have role [%s].", name, role)
		default:
			delete(gm.roles, role)
			ok(w)
		}
	}))
}

func (a *authorizer) hasRole(role string) bool {
	_, found := a.roles[role]
	return found
}

func permissionsJSON(perms []storedPermission, simplify bool) []any {
	out := make([]any, 0, len(perms))
	for _, p := range perms {
		if simplify {
			out = append(out, p.perm)
			continue
		}
		out = append(out, map[string]any{"resourceAction": p.perm, "resourceNamePattern": p.perm.Resource.Name})
	}
	return out
}

// roleJSON renders a role as GET /roles/{role} does (BasicAuthorizerResourceHandler.getRole):
// the stored role {name, permissions}; with simplify {name, users, permissions} in simplified
// form, users null unless full; with full alone {name, users, groups, permissions}. Druid drops
// the groups when both full and simplify are asked for.
func (a *authorizer) roleJSON(role string, full, simplify bool) map[string]any {
	out := map[string]any{"name": role, "permissions": permissionsJSON(a.roles[role], simplify)}
	if !full {
		if simplify {
			out["users"] = nil
		}
		return out
	}
	users := []string{}
	for _, u := range sortedKeys(a.users) {
		if a.users[u][role] {
			users = append(users, u)
		}
	}
	out["users"] = users
	if simplify {
		return out
	}
	groups := []string{}
	for _, g := range sortedKeys(a.mappings) {
		if a.mappings[g].roles[role] {
			groups = append(groups, g)
		}
	}
	out["groups"] = groups
	return out
}

// sortedKeys returns the keys of m in order, never nil: Druid answers [] for none.
func sortedKeys[V any](m map[string]V) []string {
	return append([]string{}, slices.Sorted(maps.Keys(m))...)
}
