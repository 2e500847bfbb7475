// Package druid is a client for the Druid coordinator's basic-security API
// (/druid-ext/basic-security/authentication and /druid-ext/basic-security/authorization):
// authenticator users and credentials, authorizer users, roles, permissions, role assignments,
// group mappings and cache load status.
//
// Domain errors come back from Druid as 400 {"error": "..."} and are returned as *APIError;
// IsNotFound, IsAlreadyExists, IsAlreadyAssigned, IsNotAssigned, IsUnauthorized and IsForbidden
// classify them by Druid's exact messages and status codes. Requests are retried with exponential
// backoff and jitter on 5xx answers, timeouts, refused and reset connections and unexpected EOFs,
// never on 4xx, a bounded number of times, and never past the caller's context.
//
// Retried POSTs are not idempotent on Druid's side: a create whose answer was lost may come back
// as "already exists" on the retry, an assignment as "already has role". Callers that converge
// state should treat IsAlreadyExists / IsAlreadyAssigned (and IsNotFound / IsNotAssigned on
// deletes) as success.
//
// Nothing an answer says reaches an error verbatim: an error carries the status code and, for
// Druid's own {"error": "..."} bodies only, that message sanitised (one line, no control or
// formatting characters) and cut at MaxMessageLength, because errors end up in status, events
// and logs. Stored credentials read back are refused beyond MaxCredentialIterations,
// MaxCredentialHashLength and MaxCredentialSaltLength before any hash is computed.
package druid
