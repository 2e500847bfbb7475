package pki

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"slices"
	"time"

	"k8s.io/utils/clock"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// LeafRequest describes a leaf certificate to issue.
type LeafRequest struct {
	// CommonName is the subject common name.
	CommonName string
	// DNSNames are the subjectAltName DNS entries, written in this order.
	DNSNames []string
	// Algorithm of the new private key; empty means DefaultKeyAlgorithm.
	Algorithm implyv1alpha1.KeyAlgorithm
	// Validity is the wanted lifetime from issuance; the certificate never outlives its CA.
	Validity time.Duration
	// ClientOnly asks for a client certificate: extended key usage clientAuth alone, and no
	// DNS name required (a server does not check a client's name; a database matches the common
	// name against its user, see ClientLeafRequest).
	ClientOnly bool
}

// ExtKeyUsages are the extended key usages of a leaf issued for req: clientAuth for a
// ClientOnly request, else serverAuth and clientAuth (every Druid service is both).
func (req LeafRequest) ExtKeyUsages() []x509.ExtKeyUsage {
	if req.ClientOnly {
		return []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	return []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
}

// SignLeaf generates a key of req.Algorithm and a certificate for it signed by ca: valid from
// now-Backdate to the earlier of now+req.Validity and the CA's notAfter, extended key usages
// req.ExtKeyUsages(), keyUsage digitalSignature (plus
// keyEncipherment for RSA keys, which RSA key exchange needs), a random 128-bit serial and the
// CA's SubjectKeyId as AuthorityKeyId.
func (ca *KeyPair) SignLeaf(clk clock.PassiveClock, req LeafRequest) (*KeyPair, error) {
	if ca == nil || ca.Certificate == nil || ca.Key == nil {
		return nil, errors.New("no CA to sign with")
	}
	if !ca.Certificate.IsCA {
		return nil, fmt.Errorf("%q is not a CA certificate", ca.Certificate.Subject.CommonName)
	}
	if len(req.DNSNames) == 0 && !req.ClientOnly {
		return nil, errors.New("a leaf certificate needs at least one DNS name")
	}
	if req.ClientOnly && req.CommonName == "" {
		return nil, errors.New("a client certificate needs a common name")
	}
	if req.Validity <= 0 {
		return nil, fmt.Errorf("the leaf validity %s is not positive", req.Validity)
	}
	now := clk.Now()
	notAfter := now.Add(req.Validity)
	if ca.Certificate.NotAfter.Before(notAfter) {
		notAfter = ca.Certificate.NotAfter
	}
	if !notAfter.After(now) {
		return nil, fmt.Errorf("the CA expired at %s", ca.Certificate.NotAfter.UTC().Format(time.RFC3339))
	}

	key, serial, skid, err := newIdentity(req.Algorithm, "leaf")
	if err != nil {
		return nil, err
	}
	usage := x509.KeyUsageDigitalSignature
	if _, isRSA := key.(*rsa.PrivateKey); isRSA {
		usage |= x509.KeyUsageKeyEncipherment
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: req.CommonName},
		DNSNames:              slices.Clone(req.DNSNames),
		NotBefore:             now.Add(-Backdate),
		NotAfter:              notAfter,
		KeyUsage:              usage,
		ExtKeyUsage:           req.ExtKeyUsages(),
		BasicConstraintsValid: true,
		IsCA:                  false,
		SubjectKeyId:          skid,
		AuthorityKeyId:        ca.Certificate.SubjectKeyId,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Certificate, key.Public(), ca.Key)
	if err != nil {
		return nil, fmt.Errorf("while signing the leaf certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("while parsing the new leaf certificate: %w", err)
	}
	return newKeyPair(cert, key)
}

// GroupDNSNames returns the SANs of a node group's certificate, sorted: the client Service
// "<cluster>-<group>" in its short, namespaced, svc and fully qualified forms, and a wildcard
// for every pod behind the headless Service "<cluster>-<group>-headless" (svc and fully
// qualified). An empty clusterDomain leaves out the fully qualified names.
func GroupDNSNames(cluster, group, namespace, clusterDomain string) []string {
	svc := cluster + "-" + group
	names := serviceDNSNames(svc, namespace, clusterDomain)
	names = append(names, "*."+svc+"-headless."+namespace+".svc")
	if clusterDomain != "" {
		names = append(names, "*."+svc+"-headless."+namespace+".svc."+clusterDomain)
	}
	slices.Sort(names)
	return names
}

// ManagerDNSNames returns the SANs of the Imply Manager's certificate, sorted: the Services
// "<cluster>-manager" and "<cluster>-manager-int" in their short, namespaced, svc and fully
// qualified forms. An empty clusterDomain leaves out the fully qualified names.
func ManagerDNSNames(cluster, namespace, clusterDomain string) []string {
	names := serviceDNSNames(cluster+"-manager", namespace, clusterDomain)
	names = append(names, serviceDNSNames(cluster+"-manager-int", namespace, clusterDomain)...)
	slices.Sort(names)
	return names
}

// serviceDNSNames returns the names a Service answers to in-cluster.
func serviceDNSNames(svc, namespace, clusterDomain string) []string {
	names := []string{svc, svc + "." + namespace, svc + "." + namespace + ".svc"}
	if clusterDomain != "" {
		names = append(names, svc+"."+namespace+".svc."+clusterDomain)
	}
	return names
}
