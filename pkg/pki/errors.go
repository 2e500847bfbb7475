package pki

import (
	"errors"
	"fmt"
)

// Sentinel errors of certificate and key parsing. Every error this package returns for bad
// input wraps exactly one of them, with a message that names the Secret key and the problem and
// never contains key material; callers pick a condition reason with errors.Is and show the
// message to the user as it is.
var (
	// ErrMalformed: the data is not PEM, or a PEM block does not parse as a certificate or key.
	ErrMalformed = errors.New("malformed")
	// ErrNotCA: the certificate cannot act as a CA (basicConstraints CA:FALSE or absent,
	// keyUsage without keyCertSign, an extended key usage excluding TLS, or an empty subject).
	ErrNotCA = errors.New("not a CA certificate")
	// ErrExpired: the certificate's notAfter has passed.
	ErrExpired = errors.New("expired")
	// ErrNotYetValid: the certificate's notBefore is in the future.
	ErrNotYetValid = errors.New("not yet valid")
	// ErrKeyMismatch: the private key is not the key of the certificate.
	ErrKeyMismatch = errors.New("key mismatch")
	// ErrWeakKey: the key is too weak or of an unsupported kind (RSA under 2048 bits, DSA).
	ErrWeakKey = errors.New("weak key")
	// ErrUnsupportedKey: the key is one Java's default providers cannot verify (ECDSA on a curve
	// other than P-256, P-384 or P-521; Ed25519).
	ErrUnsupportedKey = errors.New("unsupported key")
	// ErrExpiresTooSoon: the CA expires within certificate.renewBefore, so every leaf it signed
	// would be due for renewal at once.
	ErrExpiresTooSoon = errors.New("expires too soon")
	// ErrCannotSignForCluster: a leaf for the cluster's names signed by the CA does not verify
	// with the CA as root (name constraints exclude a name, an unknown critical extension...).
	ErrCannotSignForCluster = errors.New("cannot sign for the cluster")
	// ErrMissingKey: a required Secret key (data entry) or the private key is absent or empty.
	ErrMissingKey = errors.New("missing key")
	// ErrNotClientCertificate: the certificate's extended key usage does not allow clientAuth.
	ErrNotClientCertificate = errors.New("not a client certificate")
)

// The Secret keys a user CA is read from.
const (
	// SecretKeyTLSCert is the certificate of a kubernetes.io/tls Secret.
	SecretKeyTLSCert = "tls.crt"
	// SecretKeyTLSKey is the private key of a kubernetes.io/tls Secret.
	SecretKeyTLSKey = "tls.key"
	// SecretKeyCACert is the CA certificate key, also used by the generated CA Secret.
	SecretKeyCACert = "ca.crt"
	// SecretKeyCAKey is the CA private key key, also used by the generated CA Secret.
	SecretKeyCAKey = "ca.key"
)

// inputError is a problem with user input: Error is the whole human message, Unwrap the
// sentinel kind, so errors.Is(err, ErrNotCA) works and the message reads naturally.
type inputError struct {
	kind error
	msg  string
}

// Error returns the human message.
func (e *inputError) Error() string { return e.msg }

// Unwrap returns the sentinel kind.
func (e *inputError) Unwrap() error { return e.kind }

// inputErrorf builds an inputError of the given kind.
func inputErrorf(kind error, format string, args ...any) error {
	return &inputError{kind: kind, msg: fmt.Sprintf(format, args...)}
}
