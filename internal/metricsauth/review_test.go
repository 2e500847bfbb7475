package metricsauth

import (
	"context"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clocktesting "k8s.io/utils/clock/testing"
)

// fakeTokens authenticates the tokens in users and counts the reviews it was asked for.
type fakeTokens struct {
	users map[string]authenticationv1.UserInfo
	err   error
	asked int
}

func (f *fakeTokens) Create(_ context.Context, tr *authenticationv1.TokenReview, _ metav1.CreateOptions) (*authenticationv1.TokenReview, error) {
	f.asked++
	if f.err != nil {
		return nil, f.err
	}
	out := tr.DeepCopy()
	if u, ok := f.users[tr.Spec.Token]; ok {
		out.Status = authenticationv1.TokenReviewStatus{Authenticated: true, User: u}
	}
	return out, nil
}

// fakeAccess allows the users in allowed and keeps the reviews it was asked for.
type fakeAccess struct {
	allowed map[string]bool
	asked   []authorizationv1.SubjectAccessReviewSpec
}

func (f *fakeAccess) Create(_ context.Context, sar *authorizationv1.SubjectAccessReview, _ metav1.CreateOptions) (*authorizationv1.SubjectAccessReview, error) {
	f.asked = append(f.asked, sar.Spec)
	out := sar.DeepCopy()
	out.Status.Allowed = f.allowed[sar.Spec.User]
	return out, nil
}

func TestReviewAsksForTheUserTheTokenIsAndThePath(t *testing.T) {
	tokens := &fakeTokens{users: map[string]authenticationv1.UserInfo{"t": {
		Username: "system:serviceaccount:mon:prometheus", UID: "u-1",
		Groups: []string{"system:serviceaccounts"}, Extra: map[string]authenticationv1.ExtraValue{"k": {"v"}},
	}}}
	access := &fakeAccess{allowed: map[string]bool{"system:serviceaccount:mon:prometheus": true}}
	r := newReviewer(tokens, access, clocktesting.NewFakeClock(time.Now()))
	v, err := r.review(context.Background(), "t", "get", "/metrics")
	if err != nil || !v.authenticated || !v.allowed || v.user != "system:serviceaccount:mon:prometheus" {
		t.Fatalf("review = %+v, %v", v, err)
	}
	if len(access.asked) != 1 {
		t.Fatalf("%d SubjectAccessReviews, want 1", len(access.asked))
	}
	spec := access.asked[0]
	if spec.User != "system:serviceaccount:mon:prometheus" || spec.UID != "u-1" || len(spec.Groups) != 1 ||
		spec.Extra["k"][0] != "v" || spec.ResourceAttributes != nil ||
		spec.NonResourceAttributes == nil || *spec.NonResourceAttributes != (authorizationv1.NonResourceAttributes{Path: "/metrics", Verb: "get"}) {
		t.Fatalf("SubjectAccessReview spec %+v", spec)
	}
}

func TestReviewRemembersAVerdictForItsTTL(t *testing.T) {
	for _, tc := range []struct {
		name          string
		token         string
		ttl           time.Duration
		authenticated bool
		allowed       bool
	}{
		{"allowed", "reader", allowTTL, true, true},
		{"forbidden", "stranger", denyTTL, true, false},
		{"unauthenticated", "garbage", denyTTL, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := clocktesting.NewFakeClock(time.Now())
			tokens := &fakeTokens{users: map[string]authenticationv1.UserInfo{"reader": {Username: "r"}, "stranger": {Username: "s"}}}
			r := newReviewer(tokens, &fakeAccess{allowed: map[string]bool{"r": true}}, clock)
			ask := func() {
				t.Helper()
				v, err := r.review(context.Background(), tc.token, "get", "/metrics")
				if err != nil || v.authenticated != tc.authenticated || v.allowed != tc.allowed {
					t.Fatalf("review = %+v, %v", v, err)
				}
			}
			ask()
			clock.Step(tc.ttl - time.Second)
			ask()
			if tokens.asked != 1 {
				t.Fatalf("%d TokenReviews within the TTL, want 1", tokens.asked)
			}
			clock.Step(2 * time.Second)
			ask()
			if tokens.asked != 2 {
				t.Fatalf("%d TokenReviews after the TTL, want 2", tokens.asked)
			}
		})
	}
}

func TestReviewKeepsVerdictsApartByTokenVerbAndPath(t *testing.T) {
	tokens := &fakeTokens{users: map[string]authenticationv1.UserInfo{"a": {Username: "a"}, "b": {Username: "b"}}}
	r := newReviewer(tokens, &fakeAccess{allowed: map[string]bool{"a": true}}, clocktesting.NewFakeClock(time.Now()))
	for _, q := range [][3]string{{"a", "get", "/metrics"}, {"b", "get", "/metrics"}, {"a", "post", "/metrics"}, {"a", "get", "/other"}} {
		if _, err := r.review(context.Background(), q[0], q[1], q[2]); err != nil {
			t.Fatal(err)
		}
	}
	if tokens.asked != 4 {
		t.Fatalf("%d TokenReviews for four distinct requests, want 4", tokens.asked)
	}
	if v, _ := r.review(context.Background(), "b", "get", "/metrics"); v.allowed {
		t.Fatal("b got a's verdict")
	}
}

func TestReviewDoesNotRememberAnError(t *testing.T) {
	tokens := &fakeTokens{err: apierrors.NewForbidden(schema.GroupResource{Group: "authentication.k8s.io", Resource: "tokenreviews"}, "", nil)}
	r := newReviewer(tokens, &fakeAccess{}, clocktesting.NewFakeClock(time.Now()))
	for range 2 {
		if _, err := r.review(context.Background(), "t", "get", "/metrics"); err == nil {
			t.Fatal("no error when the TokenReview failed")
		}
	}
	if tokens.asked != 2 {
		t.Fatalf("%d TokenReviews, want 2: a failure must not be remembered", tokens.asked)
	}
	tokens.err, tokens.users = nil, map[string]authenticationv1.UserInfo{"t": {Username: "t"}}
	if v, err := r.review(context.Background(), "t", "get", "/metrics"); err != nil || !v.authenticated {
		t.Fatalf("after the apiserver recovered: %+v, %v", v, err)
	}
}
