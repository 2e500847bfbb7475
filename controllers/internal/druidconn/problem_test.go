package druidconn

import (
	"errors"
	"fmt"
	"testing"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/druid"
)

func TestProblemOfAndIsDomainError(t *testing.T) {
	notFound := &druid.APIError{StatusCode: 400, Message: "User [x] does not exist.", Method: "GET", Path: "/p"}
	badRequest := &druid.APIError{StatusCode: 400, Message: "bad pattern", Method: "POST", Path: "/p"}
	unavailable := &druid.APIError{StatusCode: 503, Method: "GET", Path: "/p"}
	reset := errors.New("connection reset by peer")
	for _, tc := range []struct {
		name    string
		err     error
		message string
		domain  bool
	}{
		{"one answer of Druid", fmt.Errorf("while syncing: %w", notFound), "User [x] does not exist.", true},
		{"two answers joined", errors.Join(notFound, badRequest), "User [x] does not exist.; bad pattern", true},
		{"a 5xx among them", errors.Join(badRequest, unavailable), "bad pattern; " + unavailable.Error(), false},
		{"a transport error", reset, "connection reset by peer", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := ProblemOf(tc.err)
			if p.Reason != implyv1alpha1.ReasonDruidError || p.Message != tc.message {
				t.Errorf("ProblemOf = %+v, want message %q", p, tc.message)
			}
			if got := IsDomainError(tc.err); got != tc.domain {
				t.Errorf("IsDomainError = %v, want %v", got, tc.domain)
			}
		})
	}
	if IgnoreNotFound(notFound) != nil || IgnoreNotFound(badRequest) == nil {
		t.Error("IgnoreNotFound does not tell Druid's \"does not exist\" from other answers")
	}
}
