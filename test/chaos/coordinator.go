package chaos

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/imply-operator/imply-operator/pkg/druid/fakecoordinator"
	"github.com/imply-operator/imply-operator/pkg/pki"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// coordinatorHost is the name the fake coordinator's certificates are issued for.
const coordinatorHost = "localhost"

// Coordinator stands in for the cluster's Druid coordinator, which kwok pods cannot run: the
// in-repo fake (pkg/druid/fakecoordinator, held to Apache Druid by its conformance suite). It is
// used rather than the real Druid because the campaign needs a coordinator whose answers it can
// break on purpose (SetFaults: 5xx, timeouts, resets, for stretches) and whose stored passwords
// it can read at any moment (PasswordMatches), at no JVM start per run; test/realdruid proves the
// same password rotation on Apache Druid. Like the real coordinator, which runs in the master
// group's pods, it presents a certificate of the CA that signed the leaf the master pods mount,
// so it follows a CA rotation when the master group rolls.
type Coordinator struct {
	*fakecoordinator.Server
	rec     *Recorder
	cluster string

	mu    sync.Mutex
	certs map[string]*tls.Certificate // by the signing CA's serial
}

// StartCoordinator serves a fake coordinator knowing the generated admin and internal-client
// passwords in the credentials Secret the recorder has seen.
func StartCoordinator(rec *Recorder, cluster string, iterations int) (*Coordinator, error) {
	creds := rec.Latest(specs.DruidCredentialsName(cluster))
	if creds == nil {
		return nil, fmt.Errorf("no Secret %s yet", specs.DruidCredentialsName(cluster))
	}
	co := &Coordinator{rec: rec, cluster: cluster, certs: map[string]*tls.Certificate{}}
	co.Server = fakecoordinator.New(fakecoordinator.Options{
		AdminPassword:          string(creds.Data[specs.DruidAdminPasswordKey]),
		InternalClientPassword: string(creds.Data[specs.DruidInternalClientPasswordKey]),
		CredentialIterations:   iterations,
		TLS:                    true,
		GetCertificate:         func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return co.certificate() },
	})
	return co, nil
}

// certificate is a leaf for coordinatorHost signed by the CA of the newest master pod's leaf
// (or the current CA before any master pod runs).
func (co *Coordinator) certificate() (*tls.Certificate, error) {
	issuer, err := co.masterIssuer()
	if err != nil {
		return nil, err
	}
	co.mu.Lock()
	defer co.mu.Unlock()
	key := issuer.Certificate.SerialNumber.String()
	if cert, ok := co.certs[key]; ok {
		return cert, nil
	}
	leaf, err := issuer.SignLeaf(clock.RealClock{}, pki.LeafRequest{CommonName: coordinatorHost, DNSNames: []string{coordinatorHost}, Validity: 24 * time.Hour})
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM)
	if err != nil {
		return nil, err
	}
	co.certs[key] = &cert
	return &cert, nil
}

// masterIssuer finds, among every CA the CA Secret ever held, the one that signed the leaf the
// newest running master pod mounts.
func (co *Coordinator) masterIssuer() (*pki.KeyPair, error) {
	var cas []*pki.KeyPair
	for _, v := range co.rec.History()[specs.CASecretName(co.cluster)] {
		for _, keys := range [][2]string{{specs.CACertKey, specs.CAPrivateKeyKey}, {"next-ca.crt", "next-ca.key"}} {
			if kp, err := pki.ParseKeyPair(v.Data[keys[0]], v.Data[keys[1]]); err == nil {
				cas = append(cas, kp)
			}
		}
	}
	if len(cas) == 0 {
		return nil, fmt.Errorf("no CA recorded yet")
	}
	leaf := co.masterLeaf()
	if leaf != nil {
		for i := len(cas) - 1; i >= 0; i-- {
			if leaf.CheckSignatureFrom(cas[i].Certificate) == nil {
				return cas[i], nil
			}
		}
	}
	latest := co.rec.Latest(specs.CASecretName(co.cluster))
	if kp, err := pki.ParseKeyPair(latest.Data[specs.CACertKey], latest.Data[specs.CAPrivateKeyKey]); err == nil {
		return kp, nil
	}
	return cas[len(cas)-1], nil
}

// masterLeaf is the certificate the newest running master pod mounts, nil when none runs.
func (co *Coordinator) masterLeaf() *x509.Certificate {
	co.rec.mu.Lock()
	var newest *PodRecord
	for _, p := range co.rec.pods {
		if p.Group == "master" && p.running && !p.terminating && (newest == nil || p.CreatedRV > newest.CreatedRV) {
			cp := *p
			newest = &cp
		}
	}
	co.rec.mu.Unlock()
	if newest == nil {
		return nil
	}
	v := co.rec.VersionAt(specs.GroupTLSSecretName(co.cluster, "master"), newest.CreatedRV)
	if v == nil {
		return nil
	}
	block, _ := pem.Decode(v.Data[specs.TLSCertKey])
	if block == nil {
		return nil
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil
	}
	return cert
}
