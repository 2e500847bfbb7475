package druid

import (
	"crypto/pbkdf2"
	"crypto/sha512"
	"crypto/subtle"
	"errors"
	"fmt"
)

// Bounds on the stored credentials the client accepts from the server. Checking a password
// costs Iterations rounds of PBKDF2 per 64 bytes of Hash, so a server (or anything answering in
// its place) that returned a huge count or length could stall a worker for as long as it liked.
const (
	// MaxCredentialIterations is the highest PBKDF2 iteration count accepted; admission caps
	// spec.security.auth.druid.credentialIterations at the same value.
	MaxCredentialIterations = 1_000_000
	// MaxCredentialHashLength is the longest hash accepted, in bytes: one SHA-512 block, the
	// 512-bit key Druid derives.
	MaxCredentialHashLength = sha512.Size
	// MaxCredentialSaltLength is the longest salt accepted, in bytes (Druid's salt is 32).
	MaxCredentialSaltLength = 64
)

// ErrCredentialsBeyondLimits is what Validate's errors wrap (errors.Is), so a caller can tell
// credentials refused by the client from a failure to read them.
var ErrCredentialsBeyondLimits = errors.New("stored credentials beyond the operator's limits")

// Validate returns an error when the credentials are beyond what the client accepts: more than
// MaxCredentialIterations iterations, a hash longer than MaxCredentialHashLength or a salt
// longer than MaxCredentialSaltLength. Nil credentials (a user without a password) are valid.
func (c *Credentials) Validate() error {
	switch {
	case c == nil:
		return nil
	case c.Iterations > MaxCredentialIterations:
		return fmt.Errorf("%w: they use %d PBKDF2 iterations, more than the %d the operator accepts", ErrCredentialsBeyondLimits, c.Iterations, MaxCredentialIterations)
	case len(c.Hash) > MaxCredentialHashLength:
		return fmt.Errorf("%w: a %d-byte hash, longer than the %d bytes the operator accepts", ErrCredentialsBeyondLimits, len(c.Hash), MaxCredentialHashLength)
	case len(c.Salt) > MaxCredentialSaltLength:
		return fmt.Errorf("%w: a %d-byte salt, longer than the %d bytes the operator accepts", ErrCredentialsBeyondLimits, len(c.Salt), MaxCredentialSaltLength)
	}
	return nil
}

// Matches reports whether password is the one these credentials were made from. Druid's
// metadata authenticator stores PBKDF2-HMAC-SHA512 of the password with a random salt; hashing
// the candidate the same way tells whether Druid holds it without writing anything, so a
// converged user costs one GET. Credentials that fail Validate never match, and nothing is
// computed for them.
func (c *Credentials) Matches(password string) bool {
	if c == nil || len(c.Hash) == 0 || c.Iterations <= 0 || c.Validate() != nil {
		return false
	}
	key, err := pbkdf2.Key(sha512.New, password, c.Salt, c.Iterations, len(c.Hash))
	return err == nil && subtle.ConstantTimeCompare(key, c.Hash) == 1
}
