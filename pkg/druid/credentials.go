package druid

import (
	"crypto/pbkdf2"
	"crypto/sha512"
	"crypto/subtle"
)

// Matches reports whether password is the one these credentials were made from. Druid's
// metadata authenticator stores PBKDF2-HMAC-SHA512 of the password with a random salt; hashing
// the candidate the same way tells whether Druid holds it without writing anything, so a
// converged user costs one GET.
func (c *Credentials) Matches(password string) bool {
	if c == nil || len(c.Hash) == 0 || c.Iterations <= 0 {
		return false
	}
	key, err := pbkdf2.Key(sha512.New, password, c.Salt, c.Iterations, len(c.Hash))
	return err == nil && subtle.ConstantTimeCompare(key, c.Hash) == 1
}
