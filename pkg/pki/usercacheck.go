package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"strings"
	"time"
)

// UserCAPolicy is what a user CA must allow beyond being a usable CA (ParseUserCA): the
// cluster's names and its leaves' renewal.
type UserCAPolicy struct {
	// Now is the current time.
	Now time.Time
	// DNSNames are every subject name the operator puts in the cluster's leaves.
	DNSNames []string
	// RenewBefore is spec.security.tls.certificate.renewBefore.
	RenewBefore time.Duration
}

// ValidateUserCA is ParseUserCA followed by CheckUserCA: the CA in data, only if it can sign
// the cluster's leaves as policy describes. Errors wrap exactly one sentinel, as ParseUserCA's.
func ValidateUserCA(data map[string][]byte, policy UserCAPolicy) (*KeyPair, error) {
	ca, err := ParseUserCA(data, policy.Now)
	if err != nil {
		return nil, err
	}
	certName, _, _ := pickUserCAKeys(data)
	if err := CheckUserCA(certName, ca, policy); err != nil {
		return nil, err
	}
	return ca, nil
}

// CheckUserCA checks that ca (read from the Secret key certName) can serve the cluster:
//   - it is valid for longer than policy.RenewBefore (ErrExpiresTooSoon), else every leaf it
//     signs would be due for renewal at once;
//   - a test leaf for policy.DNSNames, signed with it like the operator's leaves, verifies in Go
//     with the CA as the only root, for serverAuth and for clientAuth (ErrCannotSignForCluster).
//     This catches name constraints that exclude a cluster name, critical extensions no TLS
//     stack knows, and anything else that makes a chain from this CA fail.
func CheckUserCA(certName string, ca *KeyPair, policy UserCAPolicy) error {
	cert := ca.Certificate
	if !policy.Now.Add(policy.RenewBefore).Before(cert.NotAfter) {
		return inputErrorf(ErrExpiresTooSoon, "%s expires at %s, within certificate.renewBefore (%s): every certificate it signs would be renewed at once; use a CA valid beyond %s",
			certName, formatTime(cert.NotAfter), policy.RenewBefore, formatTime(policy.Now.Add(policy.RenewBefore)))
	}
	if oids := cert.UnhandledCriticalExtensions; len(oids) > 0 {
		names := make([]string, 0, len(oids))
		for _, oid := range oids {
			names = append(names, oid.String())
		}
		return inputErrorf(ErrCannotSignForCluster, "%s has critical extensions TLS clients do not know (%s): no chain through it verifies",
			certName, strings.Join(names, ", "))
	}
	leaf, err := testLeaf(ca, policy)
	if err != nil {
		return inputErrorf(ErrCannotSignForCluster, "%s cannot sign a certificate for the cluster: %v", certName, err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: policy.Now, KeyUsages: []x509.ExtKeyUsage{usage}})
		if err != nil {
			return inputErrorf(ErrCannotSignForCluster, "a certificate for the cluster's names signed by %s does not verify: %s", certName, verifyProblem(err))
		}
	}
	return nil
}

// testLeaf signs, with ca, a throw-away leaf shaped like the operator's: every name of policy,
// serverAuth and clientAuth, valid one hour (or until the CA expires).
func testLeaf(ca *KeyPair, policy UserCAPolicy) (*x509.Certificate, error) {
	if len(policy.DNSNames) == 0 {
		return nil, errors.New("no cluster names to check")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("while generating the test key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	notAfter := policy.Now.Add(time.Hour)
	if ca.Certificate.NotAfter.Before(notAfter) {
		notAfter = ca.Certificate.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: policy.DNSNames[0]},
		DNSNames:              policy.DNSNames,
		NotBefore:             policy.Now.Add(-Backdate),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		AuthorityKeyId:        ca.Certificate.SubjectKeyId,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Certificate, key.Public(), ca.Key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// verifyProblem explains a verification error in terms a CA owner acts on.
func verifyProblem(err error) string {
	var invalid x509.CertificateInvalidError
	if errors.As(err, &invalid) && invalid.Reason == x509.CANotAuthorizedForThisName {
		return "its name constraints exclude a name of the cluster (" + invalid.Detail + ")"
	}
	return err.Error()
}
