package auth

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Password history hashes: PBKDF2-HMAC-SHA-256 (crypto/pbkdf2) over a random salt, encoded as
// "pbkdf2-sha256$<iterations>$<salt>$<hash>" with salt and hash in unpadded standard base64.
const (
	// HashScheme is the first field of a history hash.
	HashScheme = "pbkdf2-sha256"
	// HashIterations is the PBKDF2 iteration count of new hashes. It is stored in each hash,
	// so it can be raised later without invalidating the history. About 0.1s of one core per
	// hash: checking a password against a history of n entries costs n times that, so
	// callers check a password once when it changes, not on every resync.
	HashIterations = 210_000
	// HashSaltBytes is the length of the random salt of a hash.
	HashSaltBytes = 16
	// hashKeyBytes is the length of the derived key.
	hashKeyBytes = 32
	// Iteration counts MatchesHistory accepts from a stored hash; anything else is treated as
	// malformed, so an edited history can neither weaken the check nor stall the caller.
	minHashIterations = 1_000
	maxHashIterations = 2_000_000
)

var hashEncoding = base64.RawStdEncoding

// HashPassword returns a salted hash of password for the password history: HashSaltBytes of
// salt from r (nil means crypto/rand) and HashIterations of PBKDF2-HMAC-SHA-256, in the format
// "pbkdf2-sha256$<iterations>$<salt>$<hash>". The password cannot be recovered from it;
// MatchesHistory tells whether a password matches it.
func HashPassword(r io.Reader, password string) (string, error) {
	return hashPassword(r, password, HashIterations)
}

func hashPassword(r io.Reader, password string, iterations int) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	salt := make([]byte, HashSaltBytes)
	if _, err := io.ReadFull(r, salt); err != nil {
		return "", fmt.Errorf("while reading randomness for a password salt: %w", err)
	}
	key, err := pbkdf2.Key(sha256.New, password, salt, iterations, hashKeyBytes)
	if err != nil {
		return "", fmt.Errorf("while hashing a password: %w", err)
	}
	return strings.Join([]string{HashScheme, strconv.Itoa(iterations),
		hashEncoding.EncodeToString(salt), hashEncoding.EncodeToString(key)}, "$"), nil
}

// MatchesHistory reports whether password is the password of one of the hashes in history
// (made by HashPassword). Malformed entries, and entries of another scheme or an iteration
// count outside 1000..2000000, match nothing.
func MatchesHistory(password string, history []string) bool {
	for _, h := range history {
		if matchesHash(password, h) {
			return true
		}
	}
	return false
}

func matchesHash(password, encoded string) bool {
	fields := strings.Split(encoded, "$")
	if len(fields) != 4 || fields[0] != HashScheme {
		return false
	}
	iterations, err := strconv.Atoi(fields[1])
	if err != nil || iterations < minHashIterations || iterations > maxHashIterations {
		return false
	}
	salt, err := hashEncoding.DecodeString(fields[2])
	if err != nil || len(salt) < HashSaltBytes {
		return false
	}
	want, err := hashEncoding.DecodeString(fields[3])
	if err != nil || len(want) != hashKeyBytes {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, password, salt, iterations, hashKeyBytes)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(got, want) == 1
}

// PushHistory returns a new history with hash first, then the entries of history (newest
// first), trimmed to keep entries. keep <= 0 keeps nothing and returns nil. history is not
// modified.
func PushHistory(history []string, hash string, keep int) []string {
	if keep <= 0 {
		return nil
	}
	out := make([]string, 0, min(len(history)+1, keep))
	out = append(out, hash)
	for _, h := range history {
		if len(out) == keep {
			break
		}
		out = append(out, h)
	}
	return out
}

// ParseHistory reads a password history stored as a JSON array of hashes (newest first), as
// the operator keeps it in a Secret's annotation; a missing or unreadable history is empty.
func ParseHistory(encoded string) []string {
	var history []string
	if encoded != "" {
		_ = json.Unmarshal([]byte(encoded), &history)
	}
	return history
}

// PushHashed puts a salted hash of password first in history, keeping keep entries: the history
// to store when password is replaced. keep <= 0 keeps none; an empty password adds nothing.
// r is the source of randomness for the salt; nil means crypto/rand.
func PushHashed(r io.Reader, history []string, password string, keep int) ([]string, error) {
	if keep <= 0 {
		return []string{}, nil
	}
	if password == "" {
		return history, nil
	}
	hash, err := HashPassword(r, password)
	if err != nil {
		return nil, err
	}
	return PushHistory(history, hash, keep), nil
}
