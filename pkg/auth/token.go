package auth

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
)

// TokenBytes is the number of random bytes in an agent token.
const TokenBytes = 32

// GenerateToken returns an agent token: TokenBytes random bytes from r (nil means crypto/rand)
// encoded as unpadded URL-safe base64, so it is 43 characters of A-Z a-z 0-9 - _ and safe in
// URLs, headers, environment variables and properties files.
func GenerateToken(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	buf := make([]byte, TokenBytes)
	if _, err := io.ReadFull(r, buf); err != nil {
		return "", fmt.Errorf("while reading randomness for a token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(buf), nil
}
