package druid

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestBackoffWait(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Factor: 2, Max: time.Second}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000, 1000}
	for n, w := range want {
		if got := b.wait(n); got != w*time.Millisecond {
			t.Errorf("wait(%d) = %s, want %s", n, got, w*time.Millisecond)
		}
	}
	j := Backoff{Initial: 100 * time.Millisecond, Factor: 2, Max: time.Second, Jitter: 0.5}
	seen := map[time.Duration]bool{}
	for range 200 {
		got := j.wait(1)
		if got < 100*time.Millisecond || got > 300*time.Millisecond {
			t.Fatalf("jittered wait %s outside 200ms±50%%", got)
		}
		seen[got] = true
	}
	if len(seen) < 10 {
		t.Fatalf("jitter produced only %d distinct waits", len(seen))
	}
}

func TestErrorClassification(t *testing.T) {
	bad := func(msg string) error {
		return fmt.Errorf("wrapped: %w", &APIError{StatusCode: 400, Message: msg})
	}
	cases := []struct {
		err                                              error
		notFound, exists, assigned, notAssigned, unknown bool
	}{
		{err: bad("User [x] does not exist."), notFound: true},
		{err: bad("Role [a b] does not exist."), notFound: true},
		{err: bad("Group mapping [g] does not exist."), notFound: true},
		{err: bad("User [x] already exists."), exists: true},
		{err: bad("Role [x] already exists."), exists: true},
		{err: bad("Group mapping [x] already exists."), exists: true},
		{err: bad("User [x] already has role [r]."), assigned: true},
		{err: bad("Group mapping [x] already has role [r]."), assigned: true},
		{err: bad("User [x] does not have role [r]."), notAssigned: true},
		{err: bad("Group mapping [x] does not have role [r]."), notAssigned: true},
		{err: bad("Basic authenticator with name [b] does not exist."), unknown: true},
		{err: bad("Basic authorizer with name [b] does not exist."), unknown: true},
		{err: bad("Invalid permission, resource name regex[(] does not compile.")},
		{err: &APIError{StatusCode: 500, Message: "User [x] does not exist."}},
		{err: fmt.Errorf("%s", "User [x] does not exist.")},
	}
	for _, c := range cases {
		got := [5]bool{IsNotFound(c.err), IsAlreadyExists(c.err), IsAlreadyAssigned(c.err), IsNotAssigned(c.err), IsUnknownAuthenticatorOrAuthorizer(c.err)}
		want := [5]bool{c.notFound, c.exists, c.assigned, c.notAssigned, c.unknown}
		if got != want {
			t.Errorf("%v: got %v, want %v", c.err, got, want)
		}
	}
	if !IsUnauthorized(&APIError{StatusCode: 401}) || !IsForbidden(&APIError{StatusCode: 403}) || IsForbidden(&APIError{StatusCode: 401}) {
		t.Error("401/403 helpers")
	}
}

func TestErrorMessage(t *testing.T) {
	longRole := strings.Repeat("r", 256)
	longUser := strings.Repeat("u", 256)
	for body, want := range map[string]string{
		`{"error":"Role [r] does not exist."}`: "Role [r] does not exist.",
		// Druid's longest domain message fits whole, so it is still classified.
		`{"error":"Group mapping [` + longUser + `] already has role [` + longRole + `]."}`: "Group mapping [" + longUser + "] already has role [" + longRole + "].",
		// Not Druid's JSON: nothing of the body is reflected.
		"Forbidden\n":     "",
		`{"message":"x"}`: "",
		`{"error":42}`:    "",
		`["error"]`:       "",
		"<html><body>admin:hunter2</body></html>": "",
		"": "",
		// Control and formatting characters go, whitespace folds, the message stays on one line.
		`{"error":"line one\nline two\r\n\tthree\u001b[31m red\u0000\u202eevil\u200b"}`: "line one line two three[31m redevil",
		`{"error":"  padded  "}`: "padded",
	} {
		if got := errorMessage([]byte(body)); got != want {
			t.Errorf("errorMessage(%q) = %q, want %q", body, got, want)
		}
	}
	if !IsAlreadyAssigned(&APIError{StatusCode: 400, Message: errorMessage([]byte(`{"error":"User [` + longUser + `] already has role [` + longRole + `]."}`))}) {
		t.Error("Druid's message about a 256-character user and role is no longer classified")
	}
}

func TestErrorMessageIsBounded(t *testing.T) {
	huge := strings.Repeat("secret-", 100_000)
	got := errorMessage([]byte(`{"error":"` + huge + `"}`))
	if n := utf8.RuneCountInString(got); n != MaxMessageLength {
		t.Fatalf("%d characters, want the bound %d", n, MaxMessageLength)
	}
	if !strings.HasSuffix(got, "…") {
		t.Errorf("a cut message does not say so: %q", got[len(got)-20:])
	}
	if got := sanitize(strings.Repeat("ü", 10), 10); got != strings.Repeat("ü", 10) {
		t.Errorf("a message of exactly the bound was cut: %q", got)
	}
	if got := sanitize(strings.Repeat("ü", 11), 10); got != strings.Repeat("ü", 9)+"…" {
		t.Errorf("cut by bytes, not characters: %q", got)
	}
	if got := sanitize("ok\xff\xfe!", 10); got != "ok!" {
		t.Errorf("invalid UTF-8 kept: %q", got)
	}
}

func TestRetryable(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&APIError{StatusCode: 500}, true},
		{&APIError{StatusCode: 503}, true},
		{&APIError{StatusCode: 400}, false},
		{&APIError{StatusCode: 401}, false},
		{&APIError{StatusCode: 404}, false},
		{errors.New("plain"), false},
	} {
		if got := retryable(c.err); got != c.want {
			t.Errorf("retryable(%v) = %v", c.err, got)
		}
	}
}
