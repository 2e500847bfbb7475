package specs

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
)

// ErrMetadataTLSInput marks a metadata-store TLS error caused by user input (a missing or bad
// CA, client certificate or Secret): the controller reports it as CertificatesReady=False with
// the message, emits a Warning event and changes nothing live.
var ErrMetadataTLSInput = errors.New("metadata-store TLS input")

// metadataTLSPasswordLength is the length of a generated store keystore password.
const metadataTLSPasswordLength = 24

// MetadataTLSInputs is what the controller gathers for one store connection's TLS Secret.
type MetadataTLSInputs struct {
	// Plan is PlanMetadataTLS's decision; its error must have been reported already.
	Plan MetadataTLSPlan
	// CASecretData is the data of the Secret in plan.CASecret; nil when it does not exist.
	CASecretData map[string][]byte
	// ClusterBundlePEM is ca.crt of <cluster>-ca-bundle (every CA the cluster trusts).
	ClusterBundlePEM []byte
	// ClusterCA signs generated client certificates (the cluster's current signing CA).
	ClusterCA *pki.KeyPair
	// Username is the database user (credentialsSecretRef's username key): the generated
	// certificate's common name.
	Username string
	// UserClientData is the data of the Secret in plan.ClientSecretName; nil when it does not
	// exist.
	UserClientData map[string][]byte
	// Live is the data of the operator's live Secret plan.SecretName (nil when there is none),
	// as cached: its PKCS#12 values may be empty.
	Live map[string][]byte
	// Validity, RenewBefore and Algorithm of a generated client certificate: those of
	// spec.security.tls.certificate, like the cluster's other leaves.
	Validity, RenewBefore time.Duration
	Algorithm             implyv1alpha1.KeyAlgorithm
	// RevisionKey is the cluster's revision key (see RevisionKey), for MetadataTLSRevision.
	RevisionKey []byte
	// Clock is the operator's clock; Rand the randomness of a new password (nil: crypto/rand).
	Clock clock.PassiveClock
	Rand  io.Reader
}

// MetadataTLSResult is the desired TLS Secret of a store connection.
type MetadataTLSResult struct {
	// Secret is the desired Secret: the live data unchanged when nothing it depends on changed
	// (so its PKCS#12 files are not re-encoded), else freshly built.
	Secret *corev1.Secret
	// Revision is MetadataTLSRevision of its data, for WithMetadataTLSRevision.
	Revision string
	// Issued is why a generated client certificate was (re-)issued ("Missing: ..."), else empty.
	Issued string
	// Client is the client certificate in the Secret (nil without one), for status.certificates
	// and the expiry metric.
	Client *x509.Certificate
	// RenewalTime is when a generated client certificate is renewed (zero otherwise): requeue
	// then.
	RenewalTime time.Time
}

// DesiredMetadataTLS decides the TLS Secret of a store connection: the trusted CAs
// (MetadataTrustedCAs), the client certificate (a generated one kept until pki.NeedsReissue says
// otherwise: missing, another user, another CA, another key algorithm, renewal due; a user's
// checked by pki.ParseClientCertificate), and the live keystore password (a new one when there is
// none). It returns nil for a plan that mounts nothing. Errors caused by user input wrap
// ErrMetadataTLSInput and name the field and Secret.
func DesiredMetadataTLS(c *implyv1alpha1.ImplyCluster, in MetadataTLSInputs) (*MetadataTLSResult, error) {
	plan := in.Plan
	if !plan.Enabled || plan.SecretName == "" {
		return nil, nil
	}
	trusted, err := MetadataTrustedCAs(plan, in.CASecretData, in.ClusterBundlePEM)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMetadataTLSInput, err)
	}
	m := MetadataTLSMaterial{Trusted: trusted, Password: string(in.Live[KeystorePasswordKey])}
	if len(m.Password) < pki.MinPasswordLength {
		if m.Password, err = pki.GeneratePassword(in.Rand, metadataTLSPasswordLength); err != nil {
			return nil, err
		}
	}
	res := &MetadataTLSResult{}
	switch plan.Client {
	case MetadataClientGenerate:
		if in.ClusterCA == nil {
			return nil, fmt.Errorf("%w: %s.tls.clientCertificate.generate needs the cluster CA", ErrMetadataTLSInput, plan.Field)
		}
		if in.Username == "" {
			return nil, fmt.Errorf("%w: the username of %s.credentialsSecretRef is empty: it is the client certificate's common name", ErrMetadataTLSInput, plan.Field)
		}
		req := pki.ClientLeafRequest(in.Username, in.Algorithm, in.Validity)
		reason, msg, reissue := pki.NeedsReissue(pki.ReissueInput{
			CertPEM: in.Live[TLSCertKey], KeyPEM: in.Live[TLSPrivateKeyKey], Request: req,
			CA: in.ClusterCA.Certificate, Now: in.Clock.Now(), RenewBefore: in.RenewBefore,
		})
		if reissue {
			if m.Client, err = in.ClusterCA.SignLeaf(in.Clock, req); err != nil {
				return nil, fmt.Errorf("while issuing the client certificate of %s: %w", plan.Field, err)
			}
			res.Issued = fmt.Sprintf("%s: %s", reason, msg)
		} else if m.Client, err = pki.ParseKeyPair(in.Live[TLSCertKey], in.Live[TLSPrivateKeyKey]); err != nil {
			return nil, fmt.Errorf("while reading the client certificate of %s: %w", plan.SecretName, err)
		}
		m.ClientChain = []*x509.Certificate{in.ClusterCA.Certificate}
	case MetadataClientSecretRef:
		field := plan.Field + ".tls.clientCertificate.secretRef"
		if in.UserClientData == nil {
			return nil, fmt.Errorf("%w: Secret %q named by %s does not exist", ErrMetadataTLSInput, plan.ClientSecretName, field)
		}
		if m.Client, err = pki.ParseClientCertificate(in.UserClientData, in.Clock.Now()); err != nil {
			return nil, fmt.Errorf("%w: Secret %q named by %s cannot be used as a client certificate: %w",
				ErrMetadataTLSInput, plan.ClientSecretName, field, err)
		}
		if certs, perr := pki.ParseBundle(in.UserClientData[TLSCertKey]); perr == nil && len(certs) > 1 {
			m.ClientChain = certs[1:]
		}
	}
	if m.Client != nil {
		res.Client = m.Client.Certificate
		if plan.Client == MetadataClientGenerate {
			res.RenewalTime = pki.RenewalTime(res.Client, in.RenewBefore)
		}
	}

	secret, err := BuildMetadataTLSSecret(c, plan, m)
	if err != nil {
		return nil, err
	}
	if liveMatches(in.Live, secret.Data) {
		secret.Data = in.Live
	}
	res.Secret = secret
	if res.Revision, err = MetadataTLSRevision(in.RevisionKey, secret.Data); err != nil {
		return nil, err
	}
	return res, nil
}

// liveMatches reports whether the live data holds the same material as the desired (the same
// keys, equal values but for the PKCS#12 files, which are derived and re-encoded with new salts).
func liveMatches(live, desired map[string][]byte) bool {
	if live == nil || len(live) != len(desired) {
		return false
	}
	for k, v := range desired {
		lv, ok := live[k]
		if !ok {
			return false
		}
		if k != KeystoreKey && k != TruststoreKey && !bytes.Equal(lv, v) {
			return false
		}
	}
	return true
}
