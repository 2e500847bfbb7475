package controllers

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// Condition reasons of CertificatesReady.
const (
	reasonCertificatesIssued = "Issued"
	reasonTLSDisabled        = "TLSDisabled"
	reasonInvalidCA          = "InvalidCA"
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
	// Issued names each leaf issued in this reconcile and why.
	Issued map[string]string
}

// tlsProblem is a CA the operator cannot use; nothing live changes while it lasts.
type tlsProblem struct {
	Reason  string
	Message string
}

// leafTarget is one leaf certificate to keep: its Secret, subject names and the revision key.
type leafTarget struct {
	key        string
	secretName string
	labels     map[string]string
	request    pki.LeafRequest
}

// leafTargets lists the leaves of c: one per node group and one for the manager.
func leafTargets(c *implyv1alpha1.ImplyCluster) []leafTarget {
	tls := c.Spec.Security.TLS
	cert := tls.Certificate
	validity := cert.Validity.Duration
	var targets []leafTarget
	for _, g := range c.Spec.NodeGroups {
		targets = append(targets, leafTarget{
			key:        g.Name,
			secretName: specs.GroupTLSSecretName(c.Name, g.Name),
			labels:     specs.Labels(c.Name, string(g.Type), g.Name),
			request: pki.LeafRequest{
				CommonName: specs.GroupName(c.Name, g.Name),
				DNSNames:   pki.GroupDNSNames(c.Name, g.Name, c.Namespace, tls.ClusterDomain),
				Algorithm:  cert.KeyAlgorithm,
				Validity:   validity,
			},
		})
	}
	return append(targets, leafTarget{
		key:        specs.ComponentManager,
		secretName: specs.ManagerTLSSecretName(c.Name),
		labels:     specs.Labels(c.Name, specs.ComponentManager, specs.ComponentManager),
		request: pki.LeafRequest{
			CommonName: specs.ManagerName(c.Name),
			DNSNames:   pki.ManagerDNSNames(c.Name, c.Namespace, tls.ClusterDomain),
			Algorithm:  cert.KeyAlgorithm,
			Validity:   validity,
		},
	})
}

// resolveCA returns the CA that signs c's leaves and, when the operator generates it, the
// Secret to keep it in. A CA it cannot use is a tlsProblem.
func (r *ImplyClusterReconciler) resolveCA(ctx context.Context, c *implyv1alpha1.ImplyCluster) (*pki.KeyPair, *corev1.Secret, *tlsProblem, error) {
	ca := c.Spec.Security.TLS.CA
	switch {
	case ca == nil || ca.Generate != nil:
		name := specs.CASecretName(c.Name)
		var live corev1.Secret
		err := r.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: name}, &live)
		if err == nil {
			kp, perr := pki.ParseKeyPair(live.Data[specs.TLSCAKey], live.Data["ca.key"])
			if perr != nil {
				return nil, nil, &tlsProblem{reasonInvalidCA, fmt.Sprintf("Secret %q holding the generated CA is damaged: %v; delete it to generate a new CA", name, perr)}, nil
			}
			return kp, secretWithData(c, name, corev1.SecretTypeOpaque, live.Data), nil, nil
		}
		if !apierrors.IsNotFound(err) {
			return nil, nil, nil, err
		}
		gen := implyv1alpha1.GeneratedCASpec{}
		if ca != nil {
			gen = *ca.Generate
		}
		validity := 26280 * time.Hour
		if gen.Validity != nil {
			validity = gen.Validity.Duration
		}
		kp, err := pki.CreateRootCA(r.clock(), fmt.Sprintf("imply-operator CA %s/%s", c.Namespace, c.Name), gen.KeyAlgorithm, validity)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("while generating the CA: %w", err)
		}
		r.Recorder.Eventf(c, nil, corev1.EventTypeNormal, "CAGenerated", "IssueCertificate",
			"Generated a %s CA valid until %s", orDefault(string(gen.KeyAlgorithm), "ECDSA-P256"), kp.Certificate.NotAfter.UTC().Format(time.RFC3339))
		return kp, secretWithData(c, name, corev1.SecretTypeOpaque, map[string][]byte{
			specs.TLSCAKey: kp.CertPEM, "ca.key": kp.KeyPEM,
		}), nil, nil
	case ca.SecretRef != nil:
		var user corev1.Secret
		err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: ca.SecretRef.Name}, &user)
		if apierrors.IsNotFound(err) {
			return nil, nil, &tlsProblem{implyv1alpha1.ReasonSecretNotFound,
				fmt.Sprintf("Secret %q named by spec.security.tls.ca.secretRef does not exist", ca.SecretRef.Name)}, nil
		}
		if err != nil {
			return nil, nil, nil, err
		}
		kp, perr := pki.ParseUserCA(user.Data, r.clock().Now())
		if perr != nil {
			return nil, nil, &tlsProblem{reasonInvalidCA,
				fmt.Sprintf("Secret %q named by spec.security.tls.ca.secretRef cannot be used as the CA: %v", ca.SecretRef.Name, perr)}, nil
		}
		return kp, nil, nil, nil
	default:
		return nil, nil, &tlsProblem{implyv1alpha1.ReasonNotImplemented,
			"spec.security.tls.ca.issuerRef: cert-manager issuers are not supported yet; use generate or secretRef"}, nil
	}
}

// reconcileTLS gathers the certificate material of c: it resolves the CA, keeps each leaf whose
// certificate is still right (never regenerating keys or keystores), and issues the others.
func (r *ImplyClusterReconciler) reconcileTLS(ctx context.Context, c *implyv1alpha1.ImplyCluster) (*tlsMaterial, *tlsProblem, error) {
	ca, caSecret, problem, err := r.resolveCA(ctx, c)
	if err != nil || problem != nil {
		return nil, problem, err
	}
	now := r.clock().Now()
	renewBefore := c.Spec.Security.TLS.Certificate.RenewBefore.Duration
	bundle := pki.BundlePEM(ca.Certificate)
	m := &tlsMaterial{Revisions: map[string]string{}, Issued: map[string]string{}}
	if caSecret != nil {
		m.Objects = append(m.Objects, caSecret)
	}
	m.Objects = append(m.Objects, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: specs.CABundleName(c.Name), Namespace: c.Namespace, Labels: clusterLabels(c)},
		Data:       map[string]string{specs.TLSCAKey: string(bundle)},
	})

	for _, t := range leafTargets(c) {
		var live corev1.Secret
		err := r.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: t.secretName}, &live)
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, nil, err
		}
		data := live.Data
		reason, msg, reissue := pki.NeedsReissue(pki.ReissueInput{
			CertPEM: live.Data[specs.TLSCertKey], KeyPEM: live.Data[specs.TLSPrivateKeyKey],
			Request: t.request, CA: ca.Certificate, Now: now, RenewBefore: renewBefore,
		})
		if !reissue && string(live.Data[specs.TLSCAKey]) != string(bundle) {
			reason, msg, reissue = "TrustChanged", "the trusted CA bundle changed", true
		}
		if reissue {
			data, err = issueLeaf(r, ca, t.request, live.Data[specs.KeystorePasswordKey])
			if err != nil {
				return nil, nil, fmt.Errorf("while issuing the certificate of %s: %w", t.secretName, err)
			}
			m.Issued[t.secretName] = fmt.Sprintf("%s: %s", reason, msg)
		}
		cert, err := pki.ParseKeyPair(data[specs.TLSCertKey], data[specs.TLSPrivateKeyKey])
		if err != nil {
			return nil, nil, fmt.Errorf("while reading the certificate of %s: %w", t.secretName, err)
		}
		renewal := pki.RenewalTime(cert.Certificate, renewBefore)
		if m.NextRenewal.IsZero() || renewal.Before(m.NextRenewal) {
			m.NextRenewal = renewal
		}
		m.Certificates = append(m.Certificates, certificateStatus(t.secretName, cert.Certificate, renewal))
		leafSecret := secretWithData(c, t.secretName, corev1.SecretTypeTLS, data)
		leafSecret.Labels = t.labels
		m.Objects = append(m.Objects, leafSecret)
		m.Revisions[t.key] = revisionOf(bundle, data)
	}
	return m, nil, nil
}

// issueLeaf signs a new leaf for req and packs it with its PKCS#12 keystore and truststore. The
// keystore password is kept when there is one, so only the certificate changes.
func issueLeaf(r *ImplyClusterReconciler, ca *pki.KeyPair, req pki.LeafRequest, password []byte) (map[string][]byte, error) {
	leaf, err := ca.SignLeaf(r.clock(), req)
	if err != nil {
		return nil, err
	}
	pw := string(password)
	if len(pw) < keystorePasswordLength {
		if pw, err = pki.GeneratePassword(rand.Reader, keystorePasswordLength); err != nil {
			return nil, err
		}
	}
	chain := []*x509.Certificate{ca.Certificate}
	keystore, err := pki.Keystore(leaf, chain, pw)
	if err != nil {
		return nil, err
	}
	truststore, err := pki.Truststore(chain, pw)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{
		specs.TLSCertKey:          leaf.CertPEM,
		specs.TLSPrivateKeyKey:    leaf.KeyPEM,
		specs.TLSCAKey:            pki.BundlePEM(chain...),
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

// revisionOf is a short hash of what a pod mounts from its certificate Secret and the bundle.
func revisionOf(bundle []byte, data map[string][]byte) string {
	h := sha256.New()
	h.Write(bundle)
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "\x00%s\x00%d\x00", k, len(data[k]))
		h.Write(data[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// secretWithData is an operator-owned Secret of c (labelled, so its values are cached).
func secretWithData(c *implyv1alpha1.ImplyCluster, name string, typ corev1.SecretType, data map[string][]byte) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: c.Namespace, Labels: clusterLabels(c)},
		Type:       typ,
		Data:       data,
	}
}

// clusterLabels are the labels of cluster-wide objects (CA, bundle, certificates).
func clusterLabels(c *implyv1alpha1.ImplyCluster) map[string]string {
	return specs.Labels(c.Name, specs.ComponentCommon, specs.ComponentCommon)
}
