package implycluster

import (
	"context"
	"crypto/x509"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/apply"
	"github.com/imply-operator/imply-operator/pkg/pki"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// With requireClientCertificate, Druid servers trust as clients only the certificates of the
// cluster's client CA, <cluster>-client-ca. The operator generates it once per cluster, whatever
// signs the serving certificates (its generated CA, the user's CA, a cert-manager issuer), and
// signs nothing with it but the node groups' client certificates, so a certificate the serving
// CA gave anyone else is refused.

// clientCAState is the client CA of a cluster with mutual TLS.
type clientCAState struct {
	// Signer signs the client certificates.
	Signer *pki.KeyPair
	// Secret is the desired <cluster>-client-ca Secret (the live values, the cluster's labels).
	Secret *corev1.Secret
}

// resolveClientCA returns the client CA of c: nil without mutual TLS. The CA is generated once,
// created at once in <cluster>-client-ca and never replaced: a Secret of that name is read
// through the cache, else uncached (one that lost its labels is not cached with its values),
// and used as it is. One the cluster does not control, or that holds no usable CA, is a problem.
func (r *Reconciler) resolveClientCA(ctx context.Context, c *implyv1alpha1.ImplyCluster) (*clientCAState, *apply.Problem, error) {
	if !specs.MutualTLS(c) {
		return nil, nil, nil
	}
	live, err := r.clientCASecret(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	if err := apply.CheckOwner(r.Scheme, c, live); err != nil {
		return nil, apply.AsConflict(err).Problem(), nil
	}
	signer, err := pki.ParseKeyPair(live.Data[specs.CACertKey], live.Data[specs.CAPrivateKeyKey])
	if err == nil && !signer.Certificate.IsCA {
		err = fmt.Errorf("%s is not a CA certificate", specs.CACertKey)
	}
	if err != nil {
		return nil, &apply.Problem{Reason: implyv1alpha1.ReasonInvalidCA, Message: fmt.Sprintf(
			"Secret %q holding the client CA is damaged: %v; delete it to generate a new client CA", live.Name, err)}, nil
	}
	if now := r.Clock.Now(); !now.Before(signer.Certificate.NotAfter) {
		// No rotation of the client CA yet: say so rather than fail every reconcile signing.
		return nil, &apply.Problem{Reason: implyv1alpha1.ReasonInvalidCA, Message: fmt.Sprintf(
			"the client CA in Secret %q expired at %s; delete it to generate a new client CA (every node group then rolls onto it)",
			live.Name, signer.Certificate.NotAfter.UTC().Format(time.RFC3339))}, nil
	}
	desired := specs.BuildClusterSecret(c, live.Name, corev1.SecretTypeOpaque, map[string][]byte{
		specs.CACertKey: live.Data[specs.CACertKey], specs.CAPrivateKeyKey: live.Data[specs.CAPrivateKeyKey],
	})
	return &clientCAState{Signer: signer, Secret: desired}, nil, nil
}

// clientCASecret reads <cluster>-client-ca, creating it with a new CA (controlled by c) when
// it does not exist.
func (r *Reconciler) clientCASecret(ctx context.Context, c *implyv1alpha1.ImplyCluster) (*corev1.Secret, error) {
	name := specs.ClientCASecretName(c.Name)
	return r.getOrCreateSecret(ctx, c, name, func() (*corev1.Secret, func(), error) {
		kp, err := r.newCA(c, "client CA")
		if err != nil {
			return nil, nil, err
		}
		desired := specs.BuildClusterSecret(c, name, corev1.SecretTypeOpaque, map[string][]byte{specs.CACertKey: kp.CertPEM, specs.CAPrivateKeyKey: kp.KeyPEM})
		created := func() {
			r.Recorder.Eventf(c, nil, corev1.EventTypeNormal, implyv1alpha1.EventCAGenerated, "IssueCertificate",
				"Generated the client CA in Secret %s, valid until %s", name, kp.Certificate.NotAfter.UTC().Format(time.RFC3339))
		}
		return desired, created, nil
	})
}

// clientMaterialInput is what the client material of one leaf Secret is decided from.
type clientMaterialInput struct {
	// Live is the Secret's data as it is (the cache's copy).
	Live map[string][]byte
	// Password is the keystore-password the stores are encrypted with (the desired one).
	Password []byte
	// Request is the client certificate wanted.
	Request pki.LeafRequest
	// CA is the client CA.
	CA *pki.KeyPair
	// Now and RenewBefore decide renewal as for the serving leaf.
	Now         time.Time
	RenewBefore time.Duration
}

// clientMaterial returns the client keys (specs.ClientMaterialKeys) of a leaf Secret: the live
// ones while the certificate is right for in.Request, signed by the client CA, not due for
// renewal, and its stores are of that CA and that password; else a new client certificate with
// its PKCS#12 keystore and a truststore holding the client CA alone. why says why it was
// issued ("" when the live one is kept).
func clientMaterial(clk clock.PassiveClock, in clientMaterialInput) (data map[string][]byte, why string, err error) {
	live := in.Live
	caPEM := pki.BundlePEM(in.CA.Certificate)
	reason, msg, reissue := pki.NeedsReissue(pki.ReissueInput{
		CertPEM: live[specs.ClientCertKey], KeyPEM: live[specs.ClientPrivateKeyKey],
		Request: in.Request, CA: in.CA.Certificate, Now: in.Now, RenewBefore: in.RenewBefore,
	})
	_, hasKeystore := live[specs.ClientKeystoreKey]
	_, hasTruststore := live[specs.ClientTruststoreKey]
	switch {
	case reissue:
		why = fmt.Sprintf("%s: %s", reason, msg)
	case string(live[specs.ClientCAKey]) != string(caPEM) || !hasKeystore || !hasTruststore:
		why = "the client stores are missing or not of the client CA"
	case string(live[specs.KeystorePasswordKey]) != string(in.Password):
		why = "the keystore password changed"
	default:
		data = map[string][]byte{}
		for _, k := range specs.ClientMaterialKeys {
			data[k] = live[k]
		}
		return data, "", nil
	}
	leaf, err := in.CA.SignLeaf(clk, in.Request)
	if err != nil {
		return nil, "", err
	}
	keystore, err := pki.Keystore(leaf, []*x509.Certificate{in.CA.Certificate}, string(in.Password))
	if err != nil {
		return nil, "", err
	}
	truststore, err := pki.Truststore([]*x509.Certificate{in.CA.Certificate}, string(in.Password))
	if err != nil {
		return nil, "", err
	}
	return map[string][]byte{
		specs.ClientCertKey:       leaf.CertPEM,
		specs.ClientPrivateKeyKey: leaf.KeyPEM,
		specs.ClientCAKey:         caPEM,
		specs.ClientKeystoreKey:   keystore,
		specs.ClientTruststoreKey: truststore,
	}, why, nil
}

// withClientMaterial is data with the client keys replaced by client (removed when client is
// nil), in a new map.
func withClientMaterial(data, client map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range data {
		out[k] = v
	}
	for _, k := range specs.ClientMaterialKeys {
		delete(out, k)
	}
	for k, v := range client {
		out[k] = v
	}
	return out
}

// clientRenewal is the renewal time of the client certificate in data, zero when there is none.
func clientRenewal(data map[string][]byte, renewBefore time.Duration) time.Time {
	if len(data[specs.ClientCertKey]) == 0 {
		return time.Time{}
	}
	certs, err := pki.ParseBundle(data[specs.ClientCertKey])
	if err != nil || len(certs) == 0 {
		return time.Time{}
	}
	return pki.RenewalTime(certs[0], renewBefore)
}
