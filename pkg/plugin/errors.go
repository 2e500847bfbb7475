package plugin

import (
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Exit codes of kubectl-imply.
const (
	// ExitOK is success.
	ExitOK = 0
	// ExitError is any failure that is not one of the others (API errors, bad data).
	ExitError = 1
	// ExitUsage is a bad command line: unknown flag, wrong number of arguments, bad value.
	ExitUsage = 2
	// ExitNotFound is a named object (the cluster, an AuthToken) that does not exist.
	ExitNotFound = 3
)

// notFoundError says a named object does not exist in the namespace.
type notFoundError struct {
	Kind, Namespace, Name string
}

func (e notFoundError) Error() string {
	return fmt.Sprintf("%s %q not found in namespace %q", e.Kind, e.Name, e.Namespace)
}

// usageError is a bad command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef builds a usageError.
func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// notFoundOr turns an API NotFound into a notFoundError and wraps any other error.
func notFoundOr(err error, kind, namespace, name string) error {
	if apierrors.IsNotFound(err) {
		return notFoundError{Kind: kind, Namespace: namespace, Name: name}
	}
	return fmt.Errorf("while reading %s %s/%s: %w", kind, namespace, name, err)
}

// ExitCode maps an error returned by the command to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var nf notFoundError
	if errors.As(err, &nf) {
		return ExitNotFound
	}
	var u usageError
	if errors.As(err, &u) {
		return ExitUsage
	}
	return ExitError
}
