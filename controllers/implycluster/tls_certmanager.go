package implycluster

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"sort"
	"strings"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/apply"
	"github.com/imply-operator/imply-operator/pkg/pki"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// certificateGVK is cert-manager's Certificate, whose CRD must be installed for issuerRef.
var certificateGVK = cmv1.SchemeGroupVersion.WithKind(cmv1.CertificateKind)

// waiting says whether p is a normal wait for another controller rather than a fault: the
// cluster then reports Progressing=True and Degraded=False, and no Warning event.
func waiting(p *apply.Problem) bool {
	return p != nil && p.Reason == implyv1alpha1.ReasonWaitingForIssuer
}

// usesCertManager says whether c's certificates are issued by cert-manager (spec.security.tls.ca.issuerRef).
func usesCertManager(c *implyv1alpha1.ImplyCluster) bool {
	if !specs.TLSEnabled(c) {
		return false
	}
	ca := c.Spec.Security.TLS.CA
	return ca != nil && ca.IssuerRef != nil
}

// certManagerInstalled says whether mapper knows cert-manager's Certificate kind, that is
// whether its CRD is installed. Any error but "no match" is returned.
func certManagerInstalled(mapper meta.RESTMapper) (bool, error) {
	_, err := mapper.RESTMapping(certificateGVK.GroupKind(), certificateGVK.Version)
	if meta.IsNoMatchError(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("while looking up the %s CRD: %w", certificateGVK, err)
	}
	return true, nil
}

// certManagerProblem is the problem of a cluster with issuerRef when cert-manager's Certificate
// CRD was not found at setup, nil when it was.
func certManagerProblem(installed bool) *apply.Problem {
	if installed {
		return nil
	}
	return &apply.Problem{Reason: implyv1alpha1.ReasonCertManagerNotInstalled, Message: fmt.Sprintf(
		"spec.security.tls.ca.issuerRef names a cert-manager issuer, but the CustomResourceDefinition certificates.%s (%s, Kind=%s) "+
			"was not installed when the operator started; install cert-manager, then restart the operator",
		certificateGVK.Group, certificateGVK.GroupVersion(), certificateGVK.Kind)}
}

// as the operator's own leaves

// reconcileCertManagerTLS gathers the certificate material of a cluster whose CA is a
// cert-manager Issuer or ClusterIssuer. For every leaf (each node group and the manager) it
// applies a Certificate controlled by the cluster, then reads what cert-manager issued into the
// leaf's Secret. Until every Certificate is Ready for its current spec and every Secret holds
// tls.crt, tls.key, ca.crt, keystore.p12 and truststore.p12, it returns a WaitingForIssuer
// problem, so no workload is created or rolled onto missing material.
//
// The material is then: the c-ca-bundle ConfigMap with every CA the issued Secrets name in ca.crt
// (no c-ca Secret is written: the CA is cert-manager's), a tls-revision per leaf, the
// certificates for the status and the earliest renewal (cert-manager's status.renewalTime). The
// leaf Secrets are not among the objects to apply: cert-manager writes them.
//
// keystore-password: the contract wants it in c-<group>-tls, next to the keystore it opens.
// cert-manager writes its Secret with server-side apply (field manager
// cert-manager-certificates-issuing, forced) and sets only the keys it produces (tls.crt,
// tls.key, ca.crt, keystore.p12, truststore.p12), so a key another manager owns is kept. The
// operator therefore creates the Secret first (type kubernetes.io/tls, with the empty tls.crt and
// tls.key that type requires, which cert-manager then takes over) holding a generated
// keystore-password, and points the Certificate's passwordSecretRef at that key of the same
// Secret. cert-manager reads the password when it encodes the keystores; the operator never
// changes a password once set, because cert-manager re-encodes only on issuance.
//
// Client certificates (mutual TLS) are the operator's own, signed by the client CA it
// generates: it writes them into the same Secrets next to cert-manager's keys (which
// cert-manager keeps, as it keeps keystore-password), once cert-manager has issued the serving
// leaf, and removes them when mutual TLS is turned off.
func (r *Reconciler) reconcileCertManagerTLS(ctx context.Context, c *implyv1alpha1.ImplyCluster, clientCA *clientCAState, revisionKey []byte) (*tlsMaterial, *apply.Problem, error) {
	if problem := certManagerProblem(r.certManagerInstalled); problem != nil {
		return nil, problem, nil
	}
	logger := log.FromContext(ctx)
	targets := specs.LeafTargets(c)
	keep := map[string]bool{}
	for _, t := range targets {
		keep[t.SecretName] = true
		if err := r.ensureKeystorePassword(ctx, c, t); err != nil {
			return nil, nil, fmt.Errorf("while preparing Secret %s for cert-manager: %w", t.SecretName, err)
		}
		result, err := apply.Apply(ctx, r.Client, r.APIReader, r.Scheme, c, specs.BuildCertificate(c, t))
		if err != nil {
			return nil, nil, fmt.Errorf("while applying Certificate %s: %w", t.SecretName, err)
		}
		if result != apply.Unchanged {
			logger.V(1).Info("Applied cert-manager Certificate", "name", t.SecretName, "result", result)
		}
	}
	if err := r.pruneCertificates(ctx, c, keep); err != nil {
		return nil, nil, err
	}

	type issued struct {
		target specs.LeafTarget
		crt    *cmv1.Certificate
		data   map[string][]byte
		cert   *x509.Certificate
	}
	var leaves []issued
	var pending, noCA []string
	var cas []*x509.Certificate
	for _, t := range targets {
		var crt cmv1.Certificate
		if err := r.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: t.SecretName}, &crt); err != nil {
			if apierrors.IsNotFound(err) {
				pending = append(pending, fmt.Sprintf("Certificate %s: not created yet", t.SecretName))
				continue
			}
			return nil, nil, err
		}
		var secret corev1.Secret
		err := r.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: t.SecretName}, &secret)
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, nil, err
		}
		if why := notIssued(&crt, secret.Data); why != "" {
			pending = append(pending, fmt.Sprintf("Certificate %s: %s", t.SecretName, why))
			continue
		}
		if len(secret.Data[specs.TLSCAKey]) == 0 {
			noCA = append(noCA, t.SecretName)
			continue
		}
		cert, err := pki.ParseKeyPair(secret.Data[specs.TLSCertKey], secret.Data[specs.TLSPrivateKeyKey])
		if err != nil {
			pending = append(pending, fmt.Sprintf("Certificate %s: the issued tls.crt and tls.key are not usable: %v", t.SecretName, err))
			continue
		}
		issuedCAs, err := pki.ParseBundle(secret.Data[specs.TLSCAKey])
		if err != nil {
			pending = append(pending, fmt.Sprintf("Certificate %s: the issued ca.crt is not usable: %v", t.SecretName, err))
			continue
		}
		cas = append(cas, issuedCAs...)
		leaves = append(leaves, issued{target: t, crt: &crt, data: secret.Data, cert: cert.Certificate})
	}
	issuer := specs.IssuerRef(c)
	if len(noCA) > 0 {
		return nil, &apply.Problem{Reason: implyv1alpha1.ReasonIssuerProvidesNoCA, Message: fmt.Sprintf(
			"%s %q issued %s without a CA certificate (ca.crt); the operator needs it for the trust bundle and the truststores: use an issuer that returns its CA (CA, Vault, self-signed)",
			issuer.Kind, issuer.Name, strings.Join(noCA, ", "))}, nil
	}
	if len(pending) > 0 {
		return nil, &apply.Problem{Reason: implyv1alpha1.ReasonWaitingForIssuer, Message: fmt.Sprintf(
			"Waiting for cert-manager %s %q to issue %d of %d certificates; no workload is created or rolled until then. %s",
			issuer.Kind, issuer.Name, len(pending), len(targets), strings.Join(pending, "; "))}, nil
	}

	bundle := pki.BundlePEM(cas...)
	renewBefore := c.Spec.Security.TLS.Certificate.RenewBefore.Duration
	m := &tlsMaterial{Revisions: map[string]string{}, Issued: map[string]string{}, BundlePEM: bundle}
	if clientCA != nil {
		m.Objects = append(m.Objects, clientCA.Secret)
	}
	// cert-manager signs: no rotation of the operator's is under way.
	m.Objects = append(m.Objects, caBundleConfigMap(c, bundle, "", ""))
	for _, l := range leaves {
		data, why, err := r.keepClientMaterial(ctx, c, l.target, clientCA, l.data)
		if err != nil {
			return nil, nil, err
		}
		if why != "" {
			m.Issued[l.target.SecretName] = "client certificate: " + why
		}
		l.data = data
		renewal := pki.RenewalTime(l.cert, renewBefore)
		if l.crt.Status.RenewalTime != nil {
			renewal = l.crt.Status.RenewalTime.Time
		}
		if m.NextRenewal.IsZero() || renewal.Before(m.NextRenewal) {
			m.NextRenewal = renewal
		}
		if cr := clientRenewal(l.data, renewBefore); !cr.IsZero() && cr.Before(m.NextRenewal) {
			m.NextRenewal = cr
		}
		m.Certificates = append(m.Certificates, certificateStatus(l.target.SecretName, l.cert, renewal))
		revision, err := leafRevision(revisionKey, bundle, l.data)
		if err != nil {
			return nil, nil, err
		}
		m.Revisions[l.target.Key] = revision
	}
	return m, nil, nil
}

// keepClientMaterial writes the client certificate of target (signed by clientCA) into the
// leaf Secret cert-manager wrote, or removes it when target wants none, patching only the
// client keys. It returns the Secret's data as it then is, and why a client certificate was
// issued ("" when none was).
func (r *Reconciler) keepClientMaterial(ctx context.Context, c *implyv1alpha1.ImplyCluster, target specs.LeafTarget, clientCA *clientCAState, live map[string][]byte) (map[string][]byte, string, error) {
	var clientData map[string][]byte
	var why string
	if target.Client != nil && clientCA != nil {
		var err error
		clientData, why, err = clientMaterial(r.Clock, clientMaterialInput{
			Live: live, Password: live[specs.KeystorePasswordKey], Request: *target.Client, CA: clientCA.Signer,
			Now: r.Clock.Now(), RenewBefore: c.Spec.Security.TLS.Certificate.RenewBefore.Duration,
		})
		if err != nil {
			return nil, "", fmt.Errorf("while issuing the client certificate of %s: %w", target.SecretName, err)
		}
	}
	data := withClientMaterial(live, clientData)
	if equality.Semantic.DeepEqual(data, live) {
		return data, why, nil
	}
	var secret corev1.Secret
	if err := r.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: target.SecretName}, &secret); err != nil {
		return nil, "", err
	}
	patched := secret.DeepCopy()
	for _, k := range specs.ClientMaterialKeys {
		delete(patched.Data, k)
	}
	for k, v := range clientData {
		patched.Data[k] = v
	}
	if err := r.Patch(ctx, patched, client.MergeFromWithOptions(&secret, client.MergeFromWithOptimisticLock{})); err != nil {
		return nil, "", fmt.Errorf("while writing the client certificate into Secret %s: %w", target.SecretName, err)
	}
	return data, why, nil
}

// notIssued says why crt's Secret (its data) is not ready for pods to mount, or "" when it is:
// the Certificate must be Ready for its current generation and the Secret must hold every key
// the pods read.
func notIssued(crt *cmv1.Certificate, data map[string][]byte) string {
	var ready *cmv1.CertificateCondition
	for i := range crt.Status.Conditions {
		if crt.Status.Conditions[i].Type == cmv1.CertificateConditionReady {
			ready = &crt.Status.Conditions[i]
		}
	}
	switch {
	case ready == nil:
		return "not Ready yet"
	case ready.Status != cmmeta.ConditionTrue:
		return fmt.Sprintf("not Ready (%s: %s)", ready.Reason, ready.Message)
	case ready.ObservedGeneration < crt.Generation:
		return "cert-manager has not observed its latest spec"
	}
	var missing []string
	for _, k := range []string{specs.TLSCertKey, specs.TLSPrivateKeyKey, specs.KeystorePasswordKey} {
		if len(data[k]) == 0 {
			missing = append(missing, k)
		}
	}
	// The cache keeps the PKCS#12 keys without their bytes (dropKeystoreBytes).
	for _, k := range []string{specs.KeystoreKey, specs.TruststoreKey} {
		if _, ok := data[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return fmt.Sprintf("Secret %s has no %s", crt.Spec.SecretName, strings.Join(missing, ", "))
	}
	return ""
}

// ensureKeystorePassword makes sure the leaf's Secret exists, carries the leaf's labels, an
// owner reference to the cluster and a keystore-password before cert-manager is asked to write
// keystores encrypted with it. A password already there is kept. The owner reference is not a
// controller reference: cert-manager sets one to the Certificate when it runs with
// --enable-certificate-owner-ref, and a Secret can have only one controller. Only the keys named
// here are written, so the keys cert-manager owns are never touched.
func (r *Reconciler) ensureKeystorePassword(ctx context.Context, c *implyv1alpha1.ImplyCluster, t specs.LeafTarget) error {
	key := client.ObjectKey{Namespace: c.Namespace, Name: t.SecretName}
	var live corev1.Secret
	err := r.Get(ctx, key, &live)
	if apierrors.IsNotFound(err) {
		created, cerr := r.createPasswordSecret(ctx, c, t)
		if cerr != nil || created {
			return cerr
		}
		// Created since the cache was read: go on with the live one.
		err = r.APIReader.Get(ctx, key, &live)
	}
	if err != nil {
		return err
	}
	if live.Labels[specs.LabelManagedBy] != specs.ManagedBy {
		// The cache drops the values of Secrets the operator does not label yet.
		if err := r.APIReader.Get(ctx, key, &live); err != nil {
			return err
		}
	}
	patched := live.DeepCopy()
	changed := false
	if patched.Labels == nil {
		patched.Labels = map[string]string{}
	}
	for k, v := range t.Labels {
		if patched.Labels[k] != v {
			patched.Labels[k], changed = v, true
		}
	}
	if len(patched.Data[specs.KeystorePasswordKey]) == 0 {
		password, err := pki.GeneratePassword(rand.Reader, keystorePasswordLength)
		if err != nil {
			return err
		}
		if patched.Data == nil {
			patched.Data = map[string][]byte{}
		}
		patched.Data[specs.KeystorePasswordKey], changed = []byte(password), true
	}
	if ownerChanged, err := ownWithoutControlling(c, patched, r.Scheme); err != nil {
		return err
	} else if ownerChanged {
		changed = true
	}
	if !changed {
		return nil
	}
	return r.Patch(ctx, patched, client.MergeFromWithOptions(&live, client.MergeFromWithOptimisticLock{}))
}

// createPasswordSecret creates the leaf's Secret with a generated keystore-password, the empty
// tls.crt and tls.key its type requires, the leaf's labels and c as a plain owner. created is
// false when the Secret already exists.
func (r *Reconciler) createPasswordSecret(ctx context.Context, c *implyv1alpha1.ImplyCluster, t specs.LeafTarget) (created bool, err error) {
	password, err := pki.GeneratePassword(rand.Reader, keystorePasswordLength)
	if err != nil {
		return false, err
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: t.SecretName, Namespace: c.Namespace, Labels: t.Labels},
		Type:       corev1.SecretTypeTLS,
		Data: map[string][]byte{
			specs.TLSCertKey: {}, specs.TLSPrivateKeyKey: {}, specs.KeystorePasswordKey: []byte(password),
		},
	}
	if _, err := ownWithoutControlling(c, secret, r.Scheme); err != nil {
		return false, err
	}
	switch err := r.Create(ctx, secret); {
	case err == nil:
		return true, nil
	case apierrors.IsAlreadyExists(err):
		return false, nil
	default:
		return false, err
	}
}

// ownWithoutControlling makes c an owner, but not the controller, of obj: a controller
// reference to c (left by the operator's own issuance before issuerRef was set) becomes a plain
// one. It says whether obj changed.
func ownWithoutControlling(c *implyv1alpha1.ImplyCluster, obj client.Object, scheme *runtime.Scheme) (bool, error) {
	before := append([]metav1.OwnerReference(nil), obj.GetOwnerReferences()...)
	if err := controllerutil.SetOwnerReference(c, obj, scheme, controllerutil.WithBlockOwnerDeletion(true)); err != nil {
		return false, err
	}
	return !equality.Semantic.DeepEqual(before, obj.GetOwnerReferences()), nil
}

// pruneCertificates deletes the Certificates c controls whose name is not in keep: those of
// node groups removed from the spec, with their Secrets, or all of them (keep nil) once the CA
// is no longer a cert-manager issuer, so cert-manager stops writing Secrets the operator now
// signs itself (those Secrets are kept: the operator re-issues into them). Nothing happens when
// cert-manager is not installed.
func (r *Reconciler) pruneCertificates(ctx context.Context, c *implyv1alpha1.ImplyCluster, keep map[string]bool) error {
	if !r.certManagerInstalled {
		return nil
	}
	var list cmv1.CertificateList
	if err := r.List(ctx, &list, client.InNamespace(c.Namespace), client.MatchingLabels{specs.LabelCluster: c.Name}); err != nil {
		return fmt.Errorf("while listing Certificates: %w", err)
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	for i := range list.Items {
		crt := &list.Items[i]
		if keep[crt.Name] || !metav1.IsControlledBy(crt, c) {
			continue
		}
		if err := r.Delete(ctx, crt); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("while deleting Certificate %s: %w", crt.Name, err)
		}
		r.Recorder.Eventf(c, crt, corev1.EventTypeNormal, implyv1alpha1.EventCertificateDeleted, "Delete",
			"Deleted cert-manager Certificate %s, no longer wanted", crt.Name)
		if keep == nil {
			continue
		}
		var secret corev1.Secret
		err := r.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: crt.Spec.SecretName}, &secret)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		if !ownedBy(&secret, c) {
			continue
		}
		if err := r.Delete(ctx, &secret); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("while deleting Secret %s: %w", secret.Name, err)
		}
	}
	return nil
}

// ownedBy says whether c is among obj's owners, controller or not.
func ownedBy(obj client.Object, c *implyv1alpha1.ImplyCluster) bool {
	for _, ref := range obj.GetOwnerReferences() {
		if ref.UID == c.UID {
			return true
		}
	}
	return false
}
