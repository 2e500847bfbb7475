package druid

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Defaults used for zero Config fields.
const (
	DefaultTimeout = 10 * time.Second
	DefaultRetries = 3
)

// DefaultBackoff is used when Config.Backoff is zero: 200ms doubling up to 5s, ±20% jitter.
var DefaultBackoff = Backoff{Initial: 200 * time.Millisecond, Factor: 2, Max: 5 * time.Second, Jitter: 0.2}

// maxBody bounds how much of an answer is read.
const maxBody = 4 << 20

// Backoff is the wait between attempts: Initial, multiplied by Factor after every retry, capped
// at Max, each wait randomised by ±Jitter (a fraction).
type Backoff struct {
	Initial time.Duration
	Factor  float64
	Max     time.Duration
	Jitter  float64
}

// wait returns the wait before retry number n (0-based).
func (b Backoff) wait(n int) time.Duration {
	d := float64(b.Initial)
	factor := b.Factor
	if factor < 1 {
		factor = 1
	}
	for range n {
		d *= factor
		if b.Max > 0 && d > float64(b.Max) {
			break
		}
	}
	if b.Max > 0 && d > float64(b.Max) {
		d = float64(b.Max)
	}
	if b.Jitter > 0 {
		d *= 1 + b.Jitter*(2*rand.Float64()-1) //nolint:gosec // jitter needs no cryptographic randomness
	}
	return time.Duration(d)
}

// Config configures a Client.
type Config struct {
	// BaseURL is the coordinator (or router) URL, e.g. https://c-master.ns.svc:8281; a path
	// prefix is kept.
	BaseURL string
	// CABundle is the PEM bundle of CAs trusted for an https BaseURL; nil means system roots.
	CABundle []byte
	// ClientCertPEM and ClientKeyPEM are the certificate (and key) presented to a coordinator
	// that requires client certificates; empty means none.
	ClientCertPEM, ClientKeyPEM []byte
	// Username and Password are the admin credentials sent as HTTP Basic auth.
	Username, Password string
	// Timeout bounds each attempt; zero means DefaultTimeout.
	Timeout time.Duration
	// Retries is how many times a failed attempt is retried; zero means DefaultRetries and a
	// negative value disables retries.
	Retries int
	// Backoff between attempts; zero means DefaultBackoff.
	Backoff Backoff
	// OnRequest, if set, is called after every attempt with the HTTP method and the status code
	// ("200", "400", ...) or "error" when no answer came (for request metrics).
	OnRequest func(method, code string)
	// Transport replaces the HTTP transport (tests); CABundle is then ignored.
	Transport http.RoundTripper
}

// Client talks to Druid's basic-security API. It is safe for concurrent use.
type Client struct {
	base      string
	username  string
	password  string
	timeout   time.Duration
	retries   int
	backoff   Backoff
	onRequest func(method, code string)
	http      *http.Client
	// pinnedTLS is true when every https peer must present a certificate of CABundle: only
	// then may the credentials follow a redirect to another host (see checkRedirect).
	pinnedTLS bool
}

// New returns a Client for cfg. It fails on an unparseable BaseURL, one that is not http or
// https or carries user info, a query or a fragment, or a CABundle without any certificate.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil {
		// url.Error repeats the URL, user info included; keep only the reason.
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return nil, fmt.Errorf("while parsing the Druid URL: %w", err)
	}
	// The URL appears in errors, and the client sends its own credentials and paths.
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(cfg.BaseURL, "#") {
		return nil, errors.New("the Druid URL must not carry user info, a query or a fragment")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("the Druid URL %q is not http or https", cfg.BaseURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("the Druid URL %q has no host", cfg.BaseURL)
	}
	transport := cfg.Transport
	if transport == nil {
		tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.CABundle != nil {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(cfg.CABundle) {
				return nil, errors.New("the CA bundle holds no PEM certificate")
			}
			tlsConfig.RootCAs = pool
		}
		if len(cfg.ClientCertPEM) > 0 {
			cert, err := tls.X509KeyPair(cfg.ClientCertPEM, cfg.ClientKeyPEM)
			if err != nil {
				return nil, errors.New("the client certificate and key do not form a key pair") // never echo key material
			}
			tlsConfig.Certificates = []tls.Certificate{cert}
		}
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = tlsConfig
		t.ForceAttemptHTTP2 = false
		transport = t
	}
	c := &Client{
		base:      strings.TrimRight(u.String(), "/"),
		username:  cfg.Username,
		password:  cfg.Password,
		timeout:   cfg.Timeout,
		retries:   cfg.Retries,
		backoff:   cfg.Backoff,
		onRequest: cfg.OnRequest,
		pinnedTLS: cfg.Transport == nil && cfg.CABundle != nil,
	}
	c.http = &http.Client{Transport: transport, CheckRedirect: c.checkRedirect}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	switch {
	case c.retries == 0:
		c.retries = DefaultRetries
	case c.retries < 0:
		c.retries = 0
	}
	if c.backoff == (Backoff{}) {
		c.backoff = DefaultBackoff
	}
	return c, nil
}

// maxRedirects bounds the redirects followed for one request (a non-leader coordinator
// redirects to the leader once).
const maxRedirects = 3

// checkRedirect follows a redirect only while it keeps to the scheme of the first request: the
// admin credentials ride on every request, and a redirect from https to http would send them in
// plaintext.
//
// net/http drops the credentials on a redirect to another host, and a non-leader coordinator
// redirects to the leader's own host name: the request would then reach the leader without them
// and fail with 401. When the client trusts only the cluster's CA (pinnedTLS), the new host
// proves it holds a certificate of that CA before any header is sent, so the credentials are put
// back; with system roots or plaintext they stay dropped.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	if req.URL.Scheme != via[0].URL.Scheme {
		return fmt.Errorf("refused a redirect from %s to %s", via[0].URL.Scheme, req.URL.Scheme)
	}
	if c.pinnedTLS && req.URL.Scheme == "https" && req.Header.Get("Authorization") == "" {
		req.SetBasicAuth(c.username, c.password)
	}
	return nil
}

// escapedPath joins a root with URL-escaped segments.
func escapedPath(root string, segments ...string) string {
	var b strings.Builder
	b.WriteString(root)
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

const (
	authnRoot = "/druid-ext/basic-security/authentication"
	authzRoot = "/druid-ext/basic-security/authorization"
)

func authnPath(authn string, segments ...string) string {
	return escapedPath(authnRoot, append([]string{"db", authn}, segments...)...)
}

func authzPath(authz string, segments ...string) string {
	return escapedPath(authzRoot, append([]string{"db", authz}, segments...)...)
}

// do sends method path (already escaped, optionally with a query) with body marshalled as JSON
// when non-nil, retrying as documented, and decodes a 2xx answer into out when non-nil.
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("while encoding the request to %s: %w", path, err)
		}
	}
	var lastErr error
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			timer := time.NewTimer(c.backoff.wait(attempt - 1))
			select {
			case <-ctx.Done():
				timer.Stop()
				return fmt.Errorf("%w (last error: %w)", ctx.Err(), lastErr)
			case <-timer.C:
			}
		}
		respBody, err := c.attempt(ctx, method, path, payload)
		if err == nil {
			if out == nil || len(bytes.TrimSpace(respBody)) == 0 {
				return nil
			}
			if err := json.Unmarshal(respBody, out); err != nil {
				return fmt.Errorf("while decoding the answer of %s %s: %w", method, path, err)
			}
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		lastErr = err
		if !retryable(err) || attempt >= c.retries {
			return err
		}
	}
}

// attempt sends one request and returns the answer body of a 2xx answer or an error.
func (c *Client) attempt(ctx context.Context, method, path string, payload []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var reader io.Reader
	if payload != nil {
		reader = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, reader)
	if err != nil {
		return nil, err
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(c.username, c.password)
	resp, err := c.http.Do(req)
	if err != nil {
		c.record(method, "error")
		return nil, &transportError{method: method, path: path, err: err}
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	c.record(method, strconv.Itoa(resp.StatusCode))
	if err != nil {
		return nil, &transportError{method: method, path: path, err: err}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return data, nil
	}
	return nil, &APIError{StatusCode: resp.StatusCode, Message: errorMessage(data), Method: method, Path: path}
}

func (c *Client) record(method, code string) {
	if c.onRequest != nil {
		c.onRequest(method, code)
	}
}

// transportError is a failure to get an answer at all.
type transportError struct {
	method, path string
	err          error
}

func (e *transportError) Error() string {
	return fmt.Sprintf("druid %s %s: %v", e.method, e.path, e.err)
}

func (e *transportError) Unwrap() error { return e.err }

// retryable reports whether err is worth another attempt: 5xx answers, timeouts, refused or
// reset connections and unexpected EOFs. 4xx answers never are.
func retryable(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode >= 500
	}
	var tErr *transportError
	if !errors.As(err, &tErr) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return true
	}
	// net/http reports some closed connections only as text.
	msg := err.Error()
	return strings.Contains(msg, "connection reset") || strings.Contains(msg, "server closed idle connection") ||
		strings.Contains(msg, "EOF")
}

// Authentication.

// CreateAuthenticatorUser creates user in authenticator authn (no credentials yet).
func (c *Client) CreateAuthenticatorUser(ctx context.Context, authn, user string) error {
	return c.do(ctx, http.MethodPost, authnPath(authn, "users", user), nil, nil)
}

// DeleteAuthenticatorUser deletes user from authenticator authn.
func (c *Client) DeleteAuthenticatorUser(ctx context.Context, authn, user string) error {
	return c.do(ctx, http.MethodDelete, authnPath(authn, "users", user), nil, nil)
}

// GetAuthenticatorUser returns user of authenticator authn.
func (c *Client) GetAuthenticatorUser(ctx context.Context, authn, user string) (*AuthenticatorUser, error) {
	var out AuthenticatorUser
	path := authnPath(authn, "users", user)
	if err := c.do(ctx, http.MethodGet, path, nil, &out); err != nil {
		return nil, err
	}
	if err := out.Credentials.Validate(); err != nil {
		return nil, fmt.Errorf("druid GET %s: %w", path, err)
	}
	return &out, nil
}

// ListAuthenticatorUsers returns the user names of authenticator authn.
func (c *Client) ListAuthenticatorUsers(ctx context.Context, authn string) ([]string, error) {
	var out []string
	if err := c.do(ctx, http.MethodGet, authnPath(authn, "users"), nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// SetCredentials sets the password of user in authenticator authn, with the authenticator's
// default iteration count.
func (c *Client) SetCredentials(ctx context.Context, authn, user, password string) error {
	body := map[string]string{"password": password}
	return c.do(ctx, http.MethodPost, authnPath(authn, "users", user, "credentials"), body, nil)
}

// AuthenticationLoadStatus returns, per authenticator, whether its cache is loaded.
func (c *Client) AuthenticationLoadStatus(ctx context.Context) (map[string]bool, error) {
	var out map[string]bool
	if err := c.do(ctx, http.MethodGet, authnRoot+"/loadStatus", nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Authorization.

// CreateAuthorizerUser creates user in authorizer authz.
func (c *Client) CreateAuthorizerUser(ctx context.Context, authz, user string) error {
	return c.do(ctx, http.MethodPost, authzPath(authz, "users", user), nil, nil)
}

// DeleteAuthorizerUser deletes user from authorizer authz.
func (c *Client) DeleteAuthorizerUser(ctx context.Context, authz, user string) error {
	return c.do(ctx, http.MethodDelete, authzPath(authz, "users", user), nil, nil)
}

// GetAuthorizerUser returns user of authorizer authz with its role names.
func (c *Client) GetAuthorizerUser(ctx context.Context, authz, user string) (*AuthorizerUser, error) {
	var out AuthorizerUser
	if err := c.do(ctx, http.MethodGet, authzPath(authz, "users", user), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListAuthorizerUsers returns the user names of authorizer authz.
func (c *Client) ListAuthorizerUsers(ctx context.Context, authz string) ([]string, error) {
	var out []string
	if err := c.do(ctx, http.MethodGet, authzPath(authz, "users"), nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// CreateRole creates role in authorizer authz, with no permissions.
func (c *Client) CreateRole(ctx context.Context, authz, role string) error {
	return c.do(ctx, http.MethodPost, authzPath(authz, "roles", role), nil, nil)
}

// DeleteRole deletes role from authorizer authz; Druid unassigns it from every user and group
// mapping.
func (c *Client) DeleteRole(ctx context.Context, authz, role string) error {
	return c.do(ctx, http.MethodDelete, authzPath(authz, "roles", role), nil, nil)
}

// GetRole returns role of authorizer authz with its users, group mappings and permissions.
// It asks for ?full without simplifyPermissions: Druid leaves the group mappings out when both
// are given, so the permissions come in their stored form and are simplified here.
func (c *Client) GetRole(ctx context.Context, authz, role string) (*Role, error) {
	var full struct {
		Name        string   `json:"name"`
		Users       []string `json:"users"`
		Groups      []string `json:"groups"`
		Permissions []struct {
			ResourceAction Permission `json:"resourceAction"`
		} `json:"permissions"`
	}
	if err := c.do(ctx, http.MethodGet, authzPath(authz, "roles", role)+"?full", nil, &full); err != nil {
		return nil, err
	}
	out := &Role{Name: full.Name, Users: full.Users, Groups: full.Groups, Permissions: make([]Permission, 0, len(full.Permissions))}
	for _, p := range full.Permissions {
		out.Permissions = append(out.Permissions, p.ResourceAction)
	}
	return out, nil
}

// ListRoles returns the role names of authorizer authz.
func (c *Client) ListRoles(ctx context.Context, authz string) ([]string, error) {
	var out []string
	if err := c.do(ctx, http.MethodGet, authzPath(authz, "roles"), nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// SetPermissions replaces the whole permission set of role in authorizer authz; nil or empty
// perms clears it.
func (c *Client) SetPermissions(ctx context.Context, authz, role string, perms []Permission) error {
	if perms == nil {
		perms = []Permission{}
	}
	return c.do(ctx, http.MethodPost, authzPath(authz, "roles", role, "permissions"), perms, nil)
}

// AssignRole assigns role to user in authorizer authz.
func (c *Client) AssignRole(ctx context.Context, authz, user, role string) error {
	return c.do(ctx, http.MethodPost, authzPath(authz, "users", user, "roles", role), nil, nil)
}

// UnassignRole removes role from user in authorizer authz.
func (c *Client) UnassignRole(ctx context.Context, authz, user, role string) error {
	return c.do(ctx, http.MethodDelete, authzPath(authz, "users", user, "roles", role), nil, nil)
}

// CreateGroupMapping creates group mapping gm (with its initial roles) in authorizer authz.
func (c *Client) CreateGroupMapping(ctx context.Context, authz string, gm GroupMapping) error {
	if gm.Roles == nil {
		gm.Roles = []string{}
	}
	return c.do(ctx, http.MethodPost, authzPath(authz, "groupMappings", gm.Name), gm, nil)
}

// DeleteGroupMapping deletes group mapping name from authorizer authz.
func (c *Client) DeleteGroupMapping(ctx context.Context, authz, name string) error {
	return c.do(ctx, http.MethodDelete, authzPath(authz, "groupMappings", name), nil, nil)
}

// GetGroupMapping returns group mapping name of authorizer authz with its role names.
func (c *Client) GetGroupMapping(ctx context.Context, authz, name string) (*GroupMapping, error) {
	var out GroupMapping
	if err := c.do(ctx, http.MethodGet, authzPath(authz, "groupMappings", name), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListGroupMappings returns the group mapping names of authorizer authz.
func (c *Client) ListGroupMappings(ctx context.Context, authz string) ([]string, error) {
	var out []string
	if err := c.do(ctx, http.MethodGet, authzPath(authz, "groupMappings"), nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// AssignGroupMappingRole assigns role to group mapping name in authorizer authz.
func (c *Client) AssignGroupMappingRole(ctx context.Context, authz, name, role string) error {
	return c.do(ctx, http.MethodPost, authzPath(authz, "groupMappings", name, "roles", role), nil, nil)
}

// UnassignGroupMappingRole removes role from group mapping name in authorizer authz.
func (c *Client) UnassignGroupMappingRole(ctx context.Context, authz, name, role string) error {
	return c.do(ctx, http.MethodDelete, authzPath(authz, "groupMappings", name, "roles", role), nil, nil)
}

// AuthorizationLoadStatus returns, per authorizer, whether its cache is loaded.
func (c *Client) AuthorizationLoadStatus(ctx context.Context) (map[string]bool, error) {
	var out map[string]bool
	if err := c.do(ctx, http.MethodGet, authzRoot+"/loadStatus", nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}
