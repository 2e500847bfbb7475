package druidconn

import (
	"errors"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/apply"
	"github.com/imply-operator/imply-operator/pkg/druid"
)

// ProblemOf is the problem of a Druid error, for a condition: Druid's own text for its answers.
func ProblemOf(err error) *apply.Problem {
	var apiErr *druid.APIError
	if errors.As(err, &apiErr) && apiErr.Message != "" {
		return &apply.Problem{Reason: implyv1alpha1.ReasonDruidError, Message: joinMessages(err)}
	}
	return &apply.Problem{Reason: implyv1alpha1.ReasonDruidError, Message: err.Error()}
}

// IsDomainError reports whether every error in err is a 4xx answer of Druid, which retrying
// soon does not fix.
func IsDomainError(err error) bool {
	for _, e := range flatten(err) {
		var apiErr *druid.APIError
		if !errors.As(e, &apiErr) || apiErr.StatusCode >= 500 {
			return false
		}
	}
	return true
}

// IgnoreNotFound is err unless it says Druid does not have the object.
func IgnoreNotFound(err error) error {
	if druid.IsNotFound(err) {
		return nil
	}
	return err
}

// flatten returns the errors joined in err (err itself when it is not a join).
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// joinMessages is Druid's texts of the errors in err, "; "-separated.
func joinMessages(err error) string {
	var msg string
	for i, e := range flatten(err) {
		if i > 0 {
			msg += "; "
		}
		var apiErr *druid.APIError
		if errors.As(e, &apiErr) && apiErr.Message != "" {
			msg += apiErr.Message
		} else {
			msg += e.Error()
		}
	}
	return msg
}
