package druid_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/imply-operator/imply-operator/pkg/druid"
)

// hostile serves every request with status and body, as something answering in Druid's place
// (a wrong apiURL, a metadata endpoint, a compromised pod) might.
func hostile(t *testing.T, status int, body string) *druid.Client {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(s.Close)
	c, err := druid.New(druid.Config{BaseURL: s.URL, Username: "admin", Password: "admin-pw", Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func credentialsBody(iterations, hashLen, saltLen int) string {
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }
	return fmt.Sprintf(`{"name":"admin","credentials":{"salt":%q,"hash":%q,"iterations":%d}}`, b64(saltLen), b64(hashLen), iterations)
}

func TestRefusesCredentialsBeyondTheCaps(t *testing.T) {
	for _, tc := range []struct {
		name                         string
		iterations, hashLen, saltLen int
		want                         string
	}{
		{"5M iterations", 5_000_000, 64, 32, "5000000 PBKDF2 iterations, more than the 1000000"},
		{"one iteration over", druid.MaxCredentialIterations + 1, 64, 32, "1000001 PBKDF2 iterations"},
		{"a 4 KiB hash", 10_000, 4096, 32, "4096-byte hash"},
		{"a 1 KiB salt", 10_000, 64, 1024, "1024-byte salt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := hostile(t, http.StatusOK, credentialsBody(tc.iterations, tc.hashLen, tc.saltLen))
			start := time.Now()
			user, err := c.GetAuthenticatorUser(context.Background(), "basic", "admin")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, druid.ErrCredentialsBeyondLimits) {
				t.Fatalf("got %+v, %v; want ErrCredentialsBeyondLimits saying %q", user, err, tc.want)
			}
			creds := &druid.Credentials{Salt: make([]byte, tc.saltLen), Hash: make([]byte, tc.hashLen), Iterations: tc.iterations}
			if creds.Matches("admin-pw") {
				t.Error("credentials beyond the caps matched")
			}
			// 5M rounds of PBKDF2-SHA512 take seconds; refusing them takes none.
			if d := time.Since(start); d > time.Second {
				t.Errorf("refusing took %v: the hash was computed", d)
			}
		})
	}

	t.Run("at the caps: accepted", func(t *testing.T) {
		c := hostile(t, http.StatusOK, credentialsBody(druid.MaxCredentialIterations, druid.MaxCredentialHashLength, druid.MaxCredentialSaltLength))
		user, err := c.GetAuthenticatorUser(context.Background(), "basic", "admin")
		if err != nil || user.Credentials == nil || user.Credentials.Iterations != druid.MaxCredentialIterations {
			t.Fatalf("got %+v, %v", user, err)
		}
	})
	t.Run("a user without credentials", func(t *testing.T) {
		c := hostile(t, http.StatusOK, `{"name":"bob","credentials":null}`)
		user, err := c.GetAuthenticatorUser(context.Background(), "basic", "bob")
		if err != nil || user.Credentials != nil {
			t.Fatalf("got %+v, %v", user, err)
		}
	})
}

// secretLike is what a hostile or mistaken endpoint might answer with: a credential, HTML and
// line breaks that would forge log lines.
const secretLike = "AKIAIOSFODNN7EXAMPLE hunter2"

func TestErrorsNeverReflectTheBody(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
	}{
		{"HTML", "<html><body><h1>Error</h1><pre>" + secretLike + "</pre></body></html>\n", http.StatusInternalServerError},
		{"metadata text", "ami-id\ninstance-id\nsecret-access-key=" + secretLike + "\n", http.StatusNotFound},
		{"JSON without error", `{"message":"` + secretLike + `","code":"AccessDenied"}`, http.StatusForbidden},
		{"huge plain text", strings.Repeat(secretLike+"\n", 100_000), http.StatusBadGateway},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := hostile(t, tc.status, tc.body)
			err := c.CreateRole(context.Background(), "basic", "r")
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, leak := range []string{"AKIA", "hunter2", "<html", "\n", "instance-id", "AccessDenied"} {
				if strings.Contains(msg, leak) {
					t.Errorf("the error reflects the body (%q): %q", leak, msg)
				}
			}
			if !strings.Contains(msg, fmt.Sprint(tc.status)) {
				t.Errorf("the error does not give the status %d: %q", tc.status, msg)
			}
		})
	}

	t.Run("Druid's JSON error: bounded, on one line", func(t *testing.T) {
		body := `{"error":"Role [r] does not exist.\n2026-01-01 INFO forged log line\u001b[2J` + strings.Repeat(" "+secretLike, 1000) + `"}`
		c := hostile(t, http.StatusBadRequest, body)
		err := c.CreateRole(context.Background(), "basic", "r")
		msg := err.Error()
		if !strings.Contains(msg, "Role [r] does not exist. 2026-01-01 INFO forged log line") {
			t.Errorf("Druid's message was lost: %q", msg)
		}
		if strings.ContainsAny(msg, "\n\r\x1b") {
			t.Errorf("control characters kept: %q", msg)
		}
		if len([]rune(msg)) > druid.MaxMessageLength+100 {
			t.Errorf("the error is %d characters long", len([]rune(msg)))
		}
	})
}

func TestRefusesURLsWithUserInfoQueryOrFragment(t *testing.T) {
	for _, u := range []string{
		"https://admin:hunter2@coordinator:8281",
		"https://coordinator:8281/?x=1",
		"https://coordinator:8281/#frag",
		"https://169.254.169.254/latest/meta-data#x",
		"https://coordinator:8281?",
	} {
		_, err := druid.New(druid.Config{BaseURL: u, Username: "admin", Password: "pw"})
		if err == nil {
			t.Errorf("%s accepted", u)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the error repeats the password: %v", err)
		}
	}
	if _, err := druid.New(druid.Config{BaseURL: "https://a:hunter2@host:bad-port", Username: "admin", Password: "pw"}); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("an unparsable URL with a password: %v", err)
	}
	if _, err := druid.New(druid.Config{BaseURL: "https://coordinator:8281/base/path"}); err != nil {
		t.Errorf("a URL with a path prefix: %v", err)
	}
}

func TestRefusesRedirectsToPlaintext(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, ok := r.BasicAuth(); ok {
			t.Error("the credentials reached the plaintext server")
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer plain.Close()
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer secure.Close()
	c, err := druid.New(druid.Config{BaseURL: secure.URL, Username: "admin", Password: "admin-pw", Retries: -1,
		Transport: secure.Client().Transport})
	if err != nil {
		t.Fatal(err)
	}
	err = c.CreateRole(context.Background(), "basic", "r")
	if err == nil || !strings.Contains(err.Error(), "refused a redirect from https to http") {
		t.Fatalf("got %v, want the downgrade refused", err)
	}
	if strings.Contains(err.Error(), "admin-pw") {
		t.Errorf("the error repeats the password: %v", err)
	}
}
