// Package pki is the operator's certificate authority toolkit: generated root CAs, leaf
// certificates for the node groups and the Imply Manager, a user-supplied CA parser that
// explains exactly what is wrong with bad input, the re-issue policy for live leaves, the trust
// bundle and the PKCS#12 keystores and truststores Druid reads.
//
// Everything here is pure: no Kubernetes API calls, no hidden time.Now. Functions that depend on
// the current time take a k8s.io/utils/clock.PassiveClock (or a time.Time) so expiry and renewal
// are tested with a fake clock. Private keys come from crypto/rand; GeneratePassword takes its
// randomness as an io.Reader.
//
// The shape follows CloudNativePG's pkg/certs: a KeyPair carries a certificate, its private key
// and both PEM encodings; CreateRootCA makes a CA and (*KeyPair).SignLeaf issues from it.
package pki
