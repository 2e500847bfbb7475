package implycluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/apply"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// metadataMaterial is the TLS material of the cluster's metadata-store connections
// (docs/metadata-store-tls.md): the Secrets the pods mount and the revision each carries.
type metadataMaterial struct {
	// Objects are the store TLS Secrets to apply.
	Objects []client.Object
	// Druid and Manager are the metadata-tls-revision of the Druid processes and the manager.
	Druid, Manager string
	// Issued names each client certificate issued in this reconcile and why.
	Issued map[string]string
	// Certificates are the generated client certificates, for the status and the expiry metric.
	Certificates []implyv1alpha1.CertificateStatus
	// NextRenewal is when the first generated client certificate is renewed; zero without one.
	NextRenewal time.Time
}

// metadataTLSPhase gathers the TLS of Druid's metadata-store connection and, when it has a store
// of its own, the manager's: the trusted CAs, a client certificate (generated from the cluster's
// CA with CN = the database user, or the user's, checked) and its keystores, in the Secret the
// pods mount. Input the operator cannot use stops the reconcile. It returns the time until the
// first generated client certificate is due for renewal.
func (r *Reconciler) metadataTLSPhase(ctx context.Context, s *scope) (time.Duration, error) {
	m := &metadataMaterial{Issued: map[string]string{}}
	managerRole := specs.ManagerMetadataStoreRole(s.cluster)
	roles := []specs.MetadataStoreRole{specs.MetadataStoreDruid}
	if managerRole != specs.MetadataStoreDruid {
		roles = append(roles, managerRole)
	}
	for _, role := range roles {
		revision, problem, err := r.metadataTLS(ctx, s, role, m)
		if err != nil {
			return 0, err
		}
		if problem != nil {
			s.obs.TLSProblem = problem
			r.stop(s, problem)
			return 0, nil
		}
		if role == specs.MetadataStoreDruid {
			m.Druid = revision
		} else {
			m.Manager = revision
		}
	}
	if managerRole == specs.MetadataStoreDruid {
		m.Manager = m.Druid
	}
	s.obs.MetadataTLS = m
	if tls := s.obs.TLS; tls != nil {
		tls.Certificates = append(tls.Certificates, m.Certificates...)
	}
	if m.NextRenewal.IsZero() {
		return 0, nil
	}
	return max(m.NextRenewal.Sub(r.Clock.Now()), time.Second), nil
}

// metadataTLS is the store TLS of one role: it adds the Secret to mount to m and returns its
// revision, or the problem that keeps it from being built.
func (r *Reconciler) metadataTLS(ctx context.Context, s *scope, role specs.MetadataStoreRole, m *metadataMaterial) (string, *apply.Problem, error) {
	c := s.cluster
	plan, err := specs.PlanMetadataTLS(c, role)
	if err != nil {
		return "", &apply.Problem{Reason: implyv1alpha1.ReasonInvalidMetadataStoreTLS, Message: err.Error()}, nil
	}
	if err := r.pruneMetadataTLSSecrets(ctx, c, role, plan.SecretName); err != nil {
		return "", nil, err
	}
	if plan.SecretName == "" {
		return "", nil, nil
	}
	in := specs.MetadataTLSInputs{Plan: plan, RevisionKey: s.revisionKey, Clock: r.Clock}
	if tls := s.obs.TLS; tls != nil {
		in.ClusterBundlePEM, in.ClusterCA = tls.BundlePEM, tls.Signer
		cert := c.Spec.Security.TLS.Certificate
		in.Validity, in.RenewBefore, in.Algorithm = cert.Validity.Duration, cert.RenewBefore.Duration, cert.KeyAlgorithm
	}
	if plan.CASecret != nil {
		if in.CASecretData, err = r.secretData(ctx, c.Namespace, plan.CASecret.Name); err != nil {
			return "", nil, err
		}
	}
	if plan.ClientSecretName != "" {
		if in.UserClientData, err = r.secretData(ctx, c.Namespace, plan.ClientSecretName); err != nil {
			return "", nil, err
		}
	}
	if plan.Client == specs.MetadataClientGenerate {
		if in.Username, err = r.metadataUsername(ctx, c, role); err != nil {
			return "", nil, err
		}
	}
	live, err := r.liveOwnSecret(ctx, c, plan.SecretName)
	if conflict := apply.AsConflict(err); conflict != nil {
		return "", conflict.Problem(), nil // never reuse, nor issue every reconcile into, a Secret that is not the cluster's
	}
	if err != nil {
		return "", nil, err
	}
	in.Live = live.Data
	res, err := specs.DesiredMetadataTLS(c, in)
	if errors.Is(err, specs.ErrMetadataTLSInput) {
		return "", &apply.Problem{Reason: implyv1alpha1.ReasonInvalidMetadataStoreTLS, Message: err.Error()}, nil
	}
	if err != nil || res == nil {
		return "", nil, err
	}
	apply.DerivedFrom(res.Secret, live) // applied over this version of it only (see addLeaf)
	m.Objects = append(m.Objects, res.Secret)
	if res.Issued != "" {
		m.Issued[res.Secret.Name] = res.Issued
	}
	if res.Client != nil && !res.RenewalTime.IsZero() {
		m.Certificates = append(m.Certificates, certificateStatus(res.Secret.Name, res.Client, res.RenewalTime))
		if m.NextRenewal.IsZero() || res.RenewalTime.Before(m.NextRenewal) {
			m.NextRenewal = res.RenewalTime
		}
	}
	return res.Revision, nil, nil
}

// metadataUsername is the database user of the role's store (its credentialsSecretRef's
// username), the common name of a generated client certificate.
func (r *Reconciler) metadataUsername(ctx context.Context, c *implyv1alpha1.ImplyCluster, role specs.MetadataStoreRole) (string, error) {
	ms := &c.Spec.Druid.MetadataStore
	if role == specs.MetadataStoreManager {
		ms = c.Spec.Manager.MetadataStore
	}
	data, err := r.secretData(ctx, c.Namespace, ms.CredentialsSecretRef.Name)
	if err != nil {
		return "", err
	}
	key := ms.CredentialsSecretRef.UsernameKey
	if key == "" {
		key = corev1.BasicAuthUsernameKey
	}
	return string(data[key]), nil // a missing one is reported by checkReferencedSecrets
}

// secretData reads a user's Secret uncached (the cache keeps no values of Secrets that are not
// the operator's); nil when it does not exist.
func (r *Reconciler) secretData(ctx context.Context, namespace, name string) (map[string][]byte, error) {
	var secret corev1.Secret
	err := userSecrets(ctx, r.APIReader).Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &secret)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("while reading Secret %s: %w", name, err)
	}
	return secret.Data, nil
}

// pruneMetadataTLSSecrets deletes the store TLS Secrets of role the cluster owns and no longer
// mounts (keep is the one it mounts, "" for none): the mode changed between trust only and a
// client certificate, whose Secrets differ in name and type.
func (r *Reconciler) pruneMetadataTLSSecrets(ctx context.Context, c *implyv1alpha1.ImplyCluster, role specs.MetadataStoreRole, keep string) error {
	for _, withClient := range []bool{false, true} {
		name := specs.MetadataTLSSecretName(c.Name, role, withClient)
		if name == keep {
			continue
		}
		var secret corev1.Secret
		err := r.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: name}, &secret)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("while reading Secret %s: %w", name, err)
		}
		if metav1.IsControlledBy(&secret, c) {
			if err := r.Delete(ctx, &secret); client.IgnoreNotFound(err) != nil {
				return fmt.Errorf("while deleting Secret %s: %w", name, err)
			}
		}
	}
	return nil
}
