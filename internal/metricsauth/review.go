package metricsauth

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilcache "k8s.io/apimachinery/pkg/util/cache"
	"k8s.io/client-go/util/retry"
)

// How long a verdict is reused, as controller-runtime's filter does: an allowed token keeps
// access for at most allowTTL after its ServiceAccount or binding is gone (its authentication
// cache), a denied one is asked again after denyTTL (its authorizer's deny cache).
const (
	allowTTL = time.Minute
	denyTTL  = 30 * time.Second
	// reviewTimeout bounds one review request to the apiserver.
	reviewTimeout = 10 * time.Second
	// maxVerdicts bounds the cache: a caller chooses the token and the path it sends.
	maxVerdicts = 1024
)

// tokenReviewer creates TokenReviews (authenticationv1client.TokenReviewInterface).
type tokenReviewer interface {
	Create(ctx context.Context, review *authenticationv1.TokenReview, opts metav1.CreateOptions) (*authenticationv1.TokenReview, error)
}

// accessReviewer creates SubjectAccessReviews (authorizationv1client.SubjectAccessReviewInterface).
type accessReviewer interface {
	Create(ctx context.Context, review *authorizationv1.SubjectAccessReview, opts metav1.CreateOptions) (*authorizationv1.SubjectAccessReview, error)
}

// verdict is what the apiserver said of a token, a verb and a path.
type verdict struct {
	authenticated bool
	allowed       bool
	// user is the authenticated user's name, for the 403 answer and the log.
	user string
}

// reviewer asks the apiserver about requests and remembers its verdicts for a while, keyed by a
// digest of the token (the cache never holds a token).
type reviewer struct {
	tokens   tokenReviewer
	access   accessReviewer
	verdicts *utilcache.LRUExpireCache
}

func newReviewer(tokens tokenReviewer, access accessReviewer, clock utilcache.Clock) *reviewer {
	return &reviewer{tokens: tokens, access: access, verdicts: utilcache.NewLRUExpireCacheWithClock(maxVerdicts, clock)}
}

// verdictKey identifies a token, a verb and a path in the cache.
type verdictKey struct {
	token      [sha256.Size]byte
	verb, path string
}

// review says whether token authenticates and may use verb on path. An error (the apiserver
// did not answer) is not remembered.
func (r *reviewer) review(ctx context.Context, token, verb, path string) (verdict, error) {
	key := verdictKey{token: sha256.Sum256([]byte(token)), verb: verb, path: path}
	if v, ok := r.verdicts.Get(key); ok {
		return v.(verdict), nil
	}
	v, err := r.ask(ctx, token, verb, path)
	if err != nil {
		return verdict{}, err
	}
	ttl := denyTTL
	if v.allowed {
		ttl = allowTTL
	}
	r.verdicts.Add(key, v, ttl)
	return v, nil
}

// ask authenticates token with a TokenReview and, when it is valid, authorizes its user for
// verb on path with a SubjectAccessReview.
func (r *reviewer) ask(ctx context.Context, token, verb, path string) (verdict, error) {
	ctx, cancel := context.WithTimeout(ctx, reviewTimeout)
	defer cancel()
	var tr *authenticationv1.TokenReview
	err := retry.OnError(retry.DefaultBackoff, transient, func() (err error) {
		tr, err = r.tokens.Create(ctx, &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
		return err
	})
	if err != nil {
		return verdict{}, fmt.Errorf("while creating a TokenReview: %w", err)
	}
	if !tr.Status.Authenticated {
		return verdict{}, nil
	}
	user := tr.Status.User
	extra := make(map[string]authorizationv1.ExtraValue, len(user.Extra))
	for k, v := range user.Extra {
		extra[k] = authorizationv1.ExtraValue(v)
	}
	request := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:                  user.Username,
		UID:                   user.UID,
		Groups:                user.Groups,
		Extra:                 extra,
		NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: path, Verb: verb},
	}}
	var sar *authorizationv1.SubjectAccessReview
	err = retry.OnError(retry.DefaultBackoff, transient, func() (err error) {
		sar, err = r.access.Create(ctx, request, metav1.CreateOptions{})
		return err
	})
	if err != nil {
		return verdict{}, fmt.Errorf("while creating a SubjectAccessReview for %s: %w", user.Username, err)
	}
	return verdict{authenticated: true, allowed: sar.Status.Allowed && !sar.Status.Denied, user: user.Username}, nil
}

// transient says whether a review is worth asking again at once.
func transient(err error) bool {
	return apierrors.IsTooManyRequests(err) || apierrors.IsServerTimeout(err) ||
		apierrors.IsTimeout(err) || apierrors.IsInternalError(err) || apierrors.IsServiceUnavailable(err)
}
