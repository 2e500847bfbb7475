package implycluster

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/apply"
	"github.com/imply-operator/imply-operator/pkg/pki"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// keystorePasswordLength is the length of generated keystore passwords.
const keystorePasswordLength = 24

// tlsMaterial is the certificate material of a TLS cluster, ready to apply.
type tlsMaterial struct {
	// Objects are the CA Secret (when generated), the CA bundle and every leaf Secret.
	Objects []client.Object
	// Revisions are the tls-revision of each node group and of the manager (key "manager").
	Revisions map[string]string
	// Certificates describe the leaves for the status.
	Certificates []implyv1alpha1.CertificateStatus
	// NextRenewal is the earliest renewal time of the leaves.
	NextRenewal time.Time
	// BundlePEM is every CA the cluster trusts (<cluster>-ca-bundle).
	BundlePEM []byte
	// Signer is the CA that signs the operator's own leaves; nil when cert-manager issues them.
	Signer *pki.KeyPair
	// Issued names each leaf issued in this reconcile and why.
	Issued map[string]string
	// Repacked names each leaf Secret whose stores were packed again (repack), with the key it
	// lacked.
	Repacked map[string]string
	// Degraded is a fault that does not stop the reconcile (a lost <cluster>-ca being replaced
	// through a rotation): CertificatesReady=False with its reason, and a Warning.
	Degraded *apply.Problem
	// waiting names the leaves with nothing to serve yet (cert-manager has not issued them).
	waiting []string
}

// resolveCA returns the CA the spec asks for: the operator's generated CA (rotated when asked
// or due), or the user's CA Secret, which it only reads and checks. A CA it cannot use is an
// input problem.
func (r *Reconciler) resolveCA(ctx context.Context, c *implyv1alpha1.ImplyCluster, live liveTrust) (*caSource, *apply.Problem, error) {
	ca := c.Spec.Security.TLS.CA
	if ca == nil || ca.Generate != nil {
		return r.generatedCA(ctx, c, live)
	}
	// spec.security.tls.ca.secretRef: the API admits exactly one CA source, and reconcileTLS
	// hands issuerRef to cert-manager before this.
	return r.userCA(ctx, c)
}

// reconcileTLS gathers the certificate material of c: it resolves the CA, plans the rotation
// phase against what the pods trust (planTrust), keeps each leaf whose certificate is still
// right (never regenerating keys or keystores), and issues the others. A rotation moves one
// phase forward once the current phase has rolled out.
func (r *Reconciler) reconcileTLS(ctx context.Context, c *implyv1alpha1.ImplyCluster, revisionKey []byte) (*tlsMaterial, *apply.Problem, error) {
	clientCA, problem, err := r.resolveClientCA(ctx, c)
	if err != nil || problem != nil {
		return nil, problem, err
	}
	if usesCertManager(c) {
		return r.reconcileCertManagerTLS(ctx, c, clientCA, revisionKey)
	}
	live, err := r.readLiveTrust(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	src, problem, err := r.resolveCA(ctx, c, live)
	if err != nil || problem != nil {
		return nil, problem, err
	}
	phase, trusted, cause := planTrust(src.Desired.Certificate, live, src.Cause)
	if phase != "" && live.Phase == "" {
		r.Recorder.Eventf(c, nil, corev1.EventTypeNormal, implyv1alpha1.EventCARotationStarted, "RotateCA",
			"Changing the signing CA (%s): phase %s", cause, phaseMessage(phase))
	}
	state := stateFor(src, phase, cause, trusted)
	build := func(state *caState) (*tlsMaterial, bool, error) {
		m, err := r.tlsMaterialFor(ctx, c, state, clientCA, revisionKey)
		return m, true, err
	}
	m, err := r.advanceRotation(ctx, c, src, state, build)
	if err != nil {
		return nil, nil, err
	}
	live.deriveBundle(c, m)
	return m, nil, nil
}

// advanceRotation builds the material of state and, when a rotation is under way, moves it one
// phase on once that material has rolled out and build says the phase's leaves are all in
// place (complete), returning the material of the phase it is then in.
func (r *Reconciler) advanceRotation(ctx context.Context, c *implyv1alpha1.ImplyCluster, src *caSource, state *caState,
	build func(*caState) (m *tlsMaterial, complete bool, err error)) (*tlsMaterial, error) {
	m, complete, err := build(state)
	if err != nil || state.Phase == "" || !complete {
		return m, err
	}
	done, err := r.rolledOut(ctx, c, withTLSRevisions(m.Revisions))
	if err != nil || !done {
		return m, err
	}
	from := state.Phase
	phase, trusted := nextPhase(state.Phase, state.Trusted)
	state = stateFor(src, phase, state.Cause, trusted)
	if state.Phase == "" {
		r.Recorder.Eventf(c, nil, corev1.EventTypeNormal, implyv1alpha1.EventCARotationCompleted, "RotateCA", "The CA rotation is complete: only the new CA is trusted")
	} else {
		r.Recorder.Eventf(c, nil, corev1.EventTypeNormal, implyv1alpha1.EventCARotationPhase, "RotateCA", "Phase %s rolled out; starting phase %s", from, phaseMessage(state.Phase))
	}
	m, _, err = build(state)
	return m, err
}

// tlsMaterialFor builds the bundle and every leaf Secret for the CA state, with the client
// certificates of clientCA (nil without mutual TLS).
func (r *Reconciler) tlsMaterialFor(ctx context.Context, c *implyv1alpha1.ImplyCluster, state *caState, clientCA *clientCAState, revisionKey []byte) (*tlsMaterial, error) {
	now := r.Clock.Now()
	renewBefore := c.Spec.Security.TLS.Certificate.RenewBefore.Duration
	bundle := pki.BundlePEM(state.Trusted...)
	src := state.Source
	m := &tlsMaterial{Revisions: map[string]string{}, Issued: map[string]string{}, Repacked: map[string]string{}, BundlePEM: bundle, Signer: state.Signer, NextRenewal: src.RenewalTime}
	if src.Secret != nil {
		m.Objects = append(m.Objects, src.Secret)
	}
	if clientCA != nil {
		m.Objects = append(m.Objects, clientCA.Secret)
	}
	m.Objects = append(m.Objects, caBundleConfigMap(c, bundle, state.Phase, state.Cause))
	m.Certificates = append(m.Certificates, certificateStatus(src.SecretName, src.Desired.Certificate, src.RenewalTime))
	if state.Phase != "" && state.Cause == causeCAMissing {
		m.Degraded = caMissingProblem(c)
	}
	// In TrustBoth the live leaves stay (any trusted CA may have signed them); from
	// SignWithNew on, a leaf not signed by the signer is issued again.
	var issuer *x509.Certificate
	if state.Phase != caPhaseTrustBoth {
		issuer = state.Signer.Certificate
	}

	for _, t := range specs.LeafTargets(c) {
		live, err := r.liveOwnSecret(ctx, c, t.SecretName)
		if err != nil {
			return nil, err
		}
		data := live.Data
		reason, msg, reissue := pki.NeedsReissue(pki.ReissueInput{
			CertPEM: live.Data[specs.TLSCertKey], KeyPEM: live.Data[specs.TLSPrivateKeyKey],
			Request: t.Request, CA: issuer, Now: now, RenewBefore: renewBefore,
		})
		if !reissue && issuer == nil && !chainsToAny(live.Data[specs.TLSCertKey], state.Trusted) {
			reason, msg, reissue = pki.ReissueIssuerChanged, "not signed by any trusted CA", true
		}
		switch {
		case reissue:
			data, err = issueLeaf(r, state, t.Request, live.Data[specs.KeystorePasswordKey])
			if err != nil {
				return nil, fmt.Errorf("while issuing the certificate of %s: %w", t.SecretName, err)
			}
			m.Issued[t.SecretName] = fmt.Sprintf("%s: %s", reason, msg)
		case missingStore(live.Data) != "":
			if data, err = m.repackLeaf(t.SecretName, live.Data, state.Trusted, now); err != nil {
				return nil, err
			}
		case string(live.Data[specs.TLSCAKey]) != string(bundle):
			if data, err = retrust(live.Data, state.Trusted); err != nil {
				return nil, fmt.Errorf("while updating the truststore of %s: %w", t.SecretName, err)
			}
		}
		if err := r.addLeaf(m, c, t, live, data, clientCA, revisionKey); err != nil {
			return nil, err
		}
	}
	if specs.ManagerSignsCertificates(c) && m.Signer != nil {
		if err := withManagerSigningCA(c, m, revisionKey); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// addLeaf adds leaf Secret t, holding data (its serving material) and the client certificate
// of clientCA (nil without mutual TLS) kept from live or issued, to m with its status entry,
// renewal time and tls-revision. The Secret is derived from live (apply.DerivedFrom): apply
// writes it over that version only, never over a newer one, such as one a lagging cache did not
// show, whose certificate it would revert or whose keystores, which the cache does not hold, it
// would drop; and only creates it when there was no live Secret.
func (r *Reconciler) addLeaf(m *tlsMaterial, c *implyv1alpha1.ImplyCluster, t specs.LeafTarget, live *corev1.Secret, data map[string][]byte, clientCA *clientCAState, revisionKey []byte) error {
	now := r.Clock.Now()
	renewBefore := c.Spec.Security.TLS.Certificate.RenewBefore.Duration
	var clientData map[string][]byte
	if t.Client != nil && clientCA != nil {
		var why string
		var err error
		clientData, why, err = clientMaterial(r.Clock, clientMaterialInput{
			Live: live.Data, Password: data[specs.KeystorePasswordKey], Request: *t.Client, CA: clientCA.Signer,
			Now: now, RenewBefore: renewBefore,
		})
		if err != nil {
			return fmt.Errorf("while issuing the client certificate of %s: %w", t.SecretName, err)
		}
		if why != "" {
			m.Issued[t.SecretName] = strings.TrimPrefix(m.Issued[t.SecretName]+"; client certificate: "+why, "; ")
		}
	}
	data = withClientMaterial(data, clientData)
	cert, err := pki.ParseKeyPair(data[specs.TLSCertKey], data[specs.TLSPrivateKeyKey])
	if err != nil {
		return fmt.Errorf("while reading the certificate of %s: %w", t.SecretName, err)
	}
	renewal := pki.RenewalTime(cert.Certificate, renewBefore)
	if m.NextRenewal.IsZero() || renewal.Before(m.NextRenewal) {
		m.NextRenewal = renewal
	}
	if cr := clientRenewal(data, renewBefore); !cr.IsZero() && cr.Before(m.NextRenewal) {
		m.NextRenewal = cr
	}
	m.Certificates = append(m.Certificates, certificateStatus(t.SecretName, cert.Certificate, renewal))
	leafSecret := specs.BuildClusterSecret(c, t.SecretName, corev1.SecretTypeTLS, data)
	leafSecret.Labels = t.Labels
	apply.DerivedFrom(leafSecret, live)
	m.Objects = append(m.Objects, leafSecret)
	m.Revisions[t.Key], err = leafRevision(revisionKey, m.BundlePEM, data)
	return err
}

// withManagerSigningCA adds <cluster>-manager-ca, the current signing CA's certificate and key,
// to m, and folds them into the manager's tls-revision, so a new signer rolls the manager.
func withManagerSigningCA(c *implyv1alpha1.ImplyCluster, m *tlsMaterial, revisionKey []byte) error {
	signer := m.Signer
	m.Objects = append(m.Objects, specs.BuildManagerSigningCASecret(c, signer.CertPEM, signer.KeyPEM))
	rev, err := specs.SecretRevision(revisionKey, map[string][]byte{
		"leaf": []byte(m.Revisions[specs.ComponentManager]), specs.CACertKey: signer.CertPEM, specs.CAPrivateKeyKey: signer.KeyPEM,
	})
	m.Revisions[specs.ComponentManager] = rev
	return err
}

// retrust replaces the trusted CAs of a leaf Secret (ca.crt and the truststore) and keeps its
// certificate, key, keystore and password.
func retrust(live map[string][]byte, trusted []*x509.Certificate) (map[string][]byte, error) {
	truststore, err := pki.Truststore(trusted, string(live[specs.KeystorePasswordKey]))
	if err != nil {
		return nil, err
	}
	data := map[string][]byte{}
	for k, v := range live {
		data[k] = v
	}
	data[specs.TLSCAKey] = pki.BundlePEM(trusted...)
	data[specs.TruststoreKey] = truststore
	return data, nil
}

// issueLeaf signs a new leaf for req and packs it with its PKCS#12 keystore and truststore. The
// keystore password is kept when there is one, so only the certificate changes.
func issueLeaf(r *Reconciler, state *caState, req pki.LeafRequest, password []byte) (map[string][]byte, error) {
	leaf, err := state.Signer.SignLeaf(r.Clock, req)
	if err != nil {
		return nil, err
	}
	pw := string(password)
	if len(pw) < keystorePasswordLength {
		if pw, err = pki.GeneratePassword(rand.Reader, keystorePasswordLength); err != nil {
			return nil, err
		}
	}
	keystore, err := pki.Keystore(leaf, []*x509.Certificate{state.Signer.Certificate}, pw)
	if err != nil {
		return nil, err
	}
	truststore, err := pki.Truststore(state.Trusted, pw)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{
		specs.TLSCertKey:          leaf.CertPEM,
		specs.TLSPrivateKeyKey:    leaf.KeyPEM,
		specs.TLSCAKey:            pki.BundlePEM(state.Trusted...),
		specs.KeystoreKey:         keystore,
		specs.TruststoreKey:       truststore,
		specs.KeystorePasswordKey: []byte(pw),
	}, nil
}

// certificateStatus describes one leaf for status.certificates.
func certificateStatus(secretName string, cert *x509.Certificate, renewal time.Time) implyv1alpha1.CertificateStatus {
	notAfter, renewAt := metav1.NewTime(cert.NotAfter.UTC()), metav1.NewTime(renewal.UTC())
	return implyv1alpha1.CertificateStatus{
		SecretName: secretName, NotAfter: &notAfter, RenewalTime: &renewAt, Serial: cert.SerialNumber.Text(16),
	}
}

// mountedMaterial is what a pod's TLS restart depends on in a leaf Secret: the certificate, key,
// CA and keystore password, and with mutual TLS the client certificate, its key and the client
// CA (only when present, so the revisions of other clusters do not change). The PKCS#12 files are left out: they are derived from those (so they
// change only with them), the cache does not hold their bytes (dropKeystoreBytes), and
// cert-manager re-encodes them (with new random salts) whenever it repairs the Secret's
// metadata, which must not restart every pod.
func mountedMaterial(data map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	for _, k := range []string{specs.TLSCertKey, specs.TLSPrivateKeyKey, specs.TLSCAKey, specs.KeystorePasswordKey} {
		out[k] = data[k]
	}
	for _, k := range []string{specs.ClientCertKey, specs.ClientPrivateKeyKey, specs.ClientCAKey} {
		if v, ok := data[k]; ok {
			out[k] = v
		}
	}
	return out
}

// leafRevision is the tls-revision of a leaf: an HMAC, with the cluster's revision key, of the
// CA bundle and of what a pod mounts from the leaf's Secret (mountedMaterial).
func leafRevision(key, bundle []byte, data map[string][]byte) (string, error) {
	material := mountedMaterial(data)
	material["bundle"] = bundle
	return specs.SecretRevision(key, material)
}
