package druid

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
)

// APIError is a non-2xx answer from Druid.
type APIError struct {
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Message is Druid's own text, the "error" field of a JSON {"error": "..."} body,
	// sanitised and bounded (see MaxMessageLength); empty when the body is not such JSON, whose
	// content is never reflected.
	Message string
	// Method and Path identify the request (the path is escaped; it never holds credentials).
	Method, Path string
}

// Error implements error.
func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("druid %s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	}
	return fmt.Sprintf("druid %s %s: %d: %s", e.Method, e.Path, e.StatusCode, e.Message)
}

// Druid's exact domain messages (CoordinatorBasicAuthenticatorMetadataStorageUpdater,
// CoordinatorBasicAuthorizerMetadataStorageUpdater and their resource handlers).
var (
	notFoundRe        = regexp.MustCompile(`^(User|Role|Group mapping) \[.*\] does not exist\.$`)
	alreadyExistsRe   = regexp.MustCompile(`^(User|Role|Group mapping) \[.*\] already exists\.$`)
	alreadyAssignedRe = regexp.MustCompile(`^(User|Group mapping) \[.*\] already has role \[.*\]\.$`)
	notAssignedRe     = regexp.MustCompile(`^(User|Group mapping) \[.*\] does not have role \[.*\]\.$`)
	unknownDBRe       = regexp.MustCompile(`^Basic (authenticator|authorizer) with name \[.*\] does not exist\.$`)
)

func asAPIError(err error) (*APIError, bool) {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr, true
	}
	return nil, false
}

func isBadRequestMatching(err error, re *regexp.Regexp) bool {
	apiErr, ok := asAPIError(err)
	return ok && apiErr.StatusCode == http.StatusBadRequest && re.MatchString(apiErr.Message)
}

// IsNotFound reports whether err is Druid's 400 "User|Role|Group mapping [x] does not exist.".
// A missing authenticator or authorizer is not "not found" (see IsUnknownAuthenticatorOrAuthorizer).
func IsNotFound(err error) bool { return isBadRequestMatching(err, notFoundRe) }

// IsAlreadyExists reports whether err is Druid's 400 "User|Role|Group mapping [x] already exists.".
func IsAlreadyExists(err error) bool { return isBadRequestMatching(err, alreadyExistsRe) }

// IsAlreadyAssigned reports whether err is Druid's 400 "User|Group mapping [x] already has role [r].".
func IsAlreadyAssigned(err error) bool { return isBadRequestMatching(err, alreadyAssignedRe) }

// IsNotAssigned reports whether err is Druid's 400 "User|Group mapping [x] does not have role [r].".
func IsNotAssigned(err error) bool { return isBadRequestMatching(err, notAssignedRe) }

// IsUnknownAuthenticatorOrAuthorizer reports whether err is Druid's 400
// "Basic authenticator|authorizer with name [x] does not exist." (a configuration mismatch).
func IsUnknownAuthenticatorOrAuthorizer(err error) bool {
	return isBadRequestMatching(err, unknownDBRe)
}

// IsUnauthorized reports whether Druid answered 401 (missing or wrong credentials).
func IsUnauthorized(err error) bool {
	apiErr, ok := asAPIError(err)
	return ok && apiErr.StatusCode == http.StatusUnauthorized
}

// IsForbidden reports whether Druid answered 403 (no CONFIG "security" permission).
func IsForbidden(err error) bool {
	apiErr, ok := asAPIError(err)
	return ok && apiErr.StatusCode == http.StatusForbidden
}
