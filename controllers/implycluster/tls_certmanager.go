package implycluster

import (
	"context"
	"crypto/x509"
	"fmt"
	"slices"
	"sort"
	"strings"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

// reconcileCertManagerTLS gathers the certificate material of a cluster whose CA is a
// cert-manager Issuer or ClusterIssuer. For every leaf (each node group and the manager) it
// applies a Certificate controlled by the cluster; cert-manager issues it into the leaf's issued
// Secret (<leaf>-issued), which no pod mounts. The leaf Secret pods mount stays the operator's:
// it copies an issued leaf into it, with a PKCS#12 keystore and a truststore it builds from the
// trusted CAs, only when the CA rotation phase allows (chooseLeaf). So a change of the CA behind
// the issuer, or a switch of CA source to the issuer, goes through the same three phases as any
// other change of the signing CA (docs/ca-lifecycle.md): the CA of the newest issued leaf is the
// desired one, trusted beside the old ones first, then served, then alone. A leaf cert-manager
// still holds from the old CA when the new one must sign is re-issued on request (its Issuing
// condition, as `cmctl renew` sets it).
//
// Until every leaf has something to serve (an issued leaf, or a live one still usable), it
// returns a WaitingForIssuer problem, so no workload is created or rolled onto missing
// material. Client certificates (mutual TLS) are the operator's own, signed by the client CA it
// generates, in the same leaf Secrets.
func (r *Reconciler) reconcileCertManagerTLS(ctx context.Context, c *implyv1alpha1.ImplyCluster, clientCA *clientCAState, revisionKey []byte) (*tlsMaterial, *apply.Problem, error) {
	if problem := certManagerProblem(r.certManagerInstalled); problem != nil {
		return nil, problem, nil
	}
	logger := log.FromContext(ctx)
	targets := specs.LeafTargets(c)
	keep := map[string]bool{}
	for _, t := range targets {
		keep[t.SecretName] = true
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
	issued, noCA, err := r.readIssuedLeaves(ctx, c, targets)
	if err != nil {
		return nil, nil, err
	}
	issuer := specs.IssuerRef(c)
	if len(noCA) > 0 {
		return nil, &apply.Problem{Reason: implyv1alpha1.ReasonIssuerProvidesNoCA, Message: fmt.Sprintf(
			"%s %q issued %s without a CA certificate (ca.crt); the operator needs it for the trust bundle and the truststores: use an issuer that returns its CA (CA, Vault, self-signed)",
			issuer.Kind, issuer.Name, strings.Join(noCA, ", "))}, nil
	}
	served := map[string]*corev1.Secret{}
	for _, t := range targets {
		if served[t.SecretName], err = r.liveServedSecret(ctx, c, t); err != nil {
			return nil, nil, err
		}
	}
	desired := newestIssuerCA(targets, issued)
	if desired == nil {
		return nil, waitingForIssuerProblem(c, targets, issued, nil), nil
	}
	live, err := r.readLiveTrust(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	phase, trusted, cause := planTrust(desired, live, "")
	if phase != "" && live.Phase == "" {
		r.Recorder.Eventf(c, nil, corev1.EventTypeNormal, implyv1alpha1.EventCARotationStarted, "RotateCA",
			"Changing the signing CA (%s, the CA behind %s %q): phase %s", cause, issuer.Kind, issuer.Name, phaseMessage(phase))
	}
	src := &caSource{Desired: &pki.KeyPair{Certificate: desired}}
	build := func(state *caState) (*tlsMaterial, bool, error) {
		return r.certManagerMaterialFor(ctx, c, state, issued, served, clientCA, revisionKey)
	}
	m, err := r.advanceRotation(ctx, c, src, stateFor(src, phase, cause, trusted), build)
	if err != nil {
		return nil, nil, err
	}
	live.deriveBundle(c, m)
	if len(m.waiting) > 0 {
		return nil, waitingForIssuerProblem(c, targets, issued, m.waiting), nil
	}
	return m, nil, nil
}

// certManagerMaterialFor builds the bundle and every leaf Secret for the CA state: each leaf
// Secret serves the live leaf or the issued one as chooseLeaf decides, re-trusted to the
// state's CAs. complete says whether every served leaf is right for the phase (from
// SignWithNew on: signed by the desired CA), so the phase may move on once rolled out.
func (r *Reconciler) certManagerMaterialFor(ctx context.Context, c *implyv1alpha1.ImplyCluster, state *caState, issued map[string]*issuedLeaf,
	served map[string]*corev1.Secret, clientCA *clientCAState, revisionKey []byte) (*tlsMaterial, bool, error) {
	bundle := pki.BundlePEM(state.Trusted...)
	m := &tlsMaterial{Revisions: map[string]string{}, Issued: map[string]string{}, Repacked: map[string]string{}, BundlePEM: bundle}
	if clientCA != nil {
		m.Objects = append(m.Objects, clientCA.Secret)
	}
	m.Objects = append(m.Objects, caBundleConfigMap(c, bundle, state.Phase, state.Cause))
	desired := state.Source.Desired.Certificate
	complete := true
	for _, t := range specs.LeafTargets(c) {
		live, iss := served[t.SecretName], issued[t.SecretName]
		choice := chooseLeaf(leafChoiceInput{
			Phase: state.Phase, ServedCert: live.Data[specs.TLSCertKey], ServedKey: live.Data[specs.TLSPrivateKeyKey], Issued: iss,
			Request: t.Request, Trusted: state.Trusted, Desired: desired, Now: r.Clock.Now(),
			RenewBefore: c.Spec.Security.TLS.Certificate.RenewBefore.Duration,
		})
		if choice.RequestReissue {
			if err := r.requestReissue(ctx, c, iss.crt, desired); err != nil {
				return nil, false, err
			}
		}
		data := live.Data
		var err error
		switch choice.Action {
		case awaitIssuer:
			m.waiting = append(m.waiting, t.SecretName)
			complete = false
			continue
		case serveIssued:
			if data, err = packIssuedLeaf(iss, state.Trusted, live.Data[specs.KeystorePasswordKey]); err != nil {
				return nil, false, fmt.Errorf("while packing the leaf cert-manager issued into %s: %w", t.IssuedSecretName, err)
			}
			m.Issued[t.SecretName] = choice.Why
		default:
			switch {
			case missingStore(live.Data) != "":
				if data, err = m.repackLeaf(t.SecretName, live.Data, state.Trusted, r.Clock.Now()); err != nil {
					return nil, false, err
				}
			case string(live.Data[specs.TLSCAKey]) != string(bundle):
				if data, err = retrust(live.Data, state.Trusted); err != nil {
					return nil, false, fmt.Errorf("while updating the truststore of %s: %w", t.SecretName, err)
				}
			}
		}
		if state.Phase == caPhaseSignWithNew && !verifiesWith(data[specs.TLSCertKey], []*x509.Certificate{desired}, r.Clock.Now()) {
			complete = false
		}
		if err := r.addLeaf(m, c, t, live, data, clientCA, revisionKey); err != nil {
			return nil, false, err
		}
	}
	return m, complete, nil
}

// waitingForIssuerProblem says which leaves have nothing to serve yet and why: those named in
// waiting (all targets when nil) whose issued leaf is not ready, or not of the issuer's CA.
func waitingForIssuerProblem(c *implyv1alpha1.ImplyCluster, targets []specs.LeafTarget, issued map[string]*issuedLeaf, waiting []string) *apply.Problem {
	issuer := specs.IssuerRef(c)
	var pending []string
	for _, t := range targets {
		if waiting != nil && !slices.Contains(waiting, t.SecretName) {
			continue
		}
		why := issued[t.SecretName].notReady()
		if why == "" {
			if waiting == nil {
				continue
			}
			why = "its issued leaf is not signed by a CA the pods may trust yet; re-issue requested"
		}
		pending = append(pending, fmt.Sprintf("Certificate %s: %s", t.SecretName, why))
	}
	return &apply.Problem{Reason: implyv1alpha1.ReasonWaitingForIssuer, Message: fmt.Sprintf(
		"Waiting for cert-manager %s %q to issue %d of %d certificates; no workload is created or rolled onto them until then. %s",
		issuer.Kind, issuer.Name, len(pending), len(targets), strings.Join(pending, "; "))}
}

// readIssuedLeaves reads, for every target, its Certificate and the Secret cert-manager issued
// it into. A leaf not (yet) usable carries why (issuedLeaf.notReady); noCA lists the issued
// Secrets that came without a ca.crt.
func (r *Reconciler) readIssuedLeaves(ctx context.Context, c *implyv1alpha1.ImplyCluster, targets []specs.LeafTarget) (map[string]*issuedLeaf, []string, error) {
	out := map[string]*issuedLeaf{}
	var noCA []string
	for _, t := range targets {
		leaf := &issuedLeaf{}
		out[t.SecretName] = leaf
		var crt cmv1.Certificate
		if err := r.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: t.SecretName}, &crt); err != nil {
			if apierrors.IsNotFound(err) {
				leaf.pending = "not created yet"
				continue
			}
			return nil, nil, err
		}
		leaf.crt = &crt
		var secret corev1.Secret
		err := r.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: crt.Spec.SecretName}, &secret)
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, nil, err
		}
		if err == nil && !ownedBy(&secret, c) {
			if err := r.ownIssuedSecret(ctx, c, &secret); err != nil {
				return nil, nil, err
			}
		}
		if leaf.pending = notIssued(&crt, secret.Data); leaf.pending != "" {
			continue
		}
		if len(secret.Data[specs.TLSCAKey]) == 0 {
			noCA = append(noCA, crt.Spec.SecretName)
			continue
		}
		leaf.pending = leaf.parse(secret.Data, r.Clock.Now())
	}
	return out, noCA, nil
}

// ownIssuedSecret makes c a plain owner (not the controller: cert-manager may set its
// Certificate as one) of a Secret cert-manager issued a leaf of c into, so the garbage collector
// deletes the leaf's private key with the cluster, and its changes wake the cluster. Only the
// owner references are patched; cert-manager's fields are left alone.
func (r *Reconciler) ownIssuedSecret(ctx context.Context, c *implyv1alpha1.ImplyCluster, secret *corev1.Secret) error {
	patched := secret.DeepCopy()
	if err := controllerutil.SetOwnerReference(c, patched, r.Scheme); err != nil {
		return err
	}
	if err := r.Patch(ctx, patched, client.MergeFromWithOptions(secret, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("while adding the cluster as an owner of Secret %s: %w", secret.Name, err)
	}
	return nil
}

// liveServedSecret is the live leaf Secret of t (empty when there is none), the operator's.
// A Secret an earlier version had cert-manager write (controlled by the cluster's Certificate
// of the same name, the cluster a plain owner) is taken over: the Certificate's reference is
// removed, its values kept.
func (r *Reconciler) liveServedSecret(ctx context.Context, c *implyv1alpha1.ImplyCluster, t specs.LeafTarget) (*corev1.Secret, error) {
	live, err := r.liveOwnSecret(ctx, c, t.SecretName)
	if apply.AsConflict(err) == nil {
		return live, err
	}
	var secret corev1.Secret
	if gerr := r.APIReader.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: t.SecretName}, &secret); gerr != nil {
		return nil, err
	}
	ctrl := metav1.GetControllerOf(&secret)
	if ctrl == nil || ctrl.Kind != cmv1.CertificateKind || ctrl.APIVersion != cmv1.SchemeGroupVersion.String() || ctrl.Name != t.SecretName || !ownedBy(&secret, c) {
		return nil, err
	}
	var crt cmv1.Certificate
	if gerr := r.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: t.SecretName}, &crt); gerr != nil || crt.UID != ctrl.UID || !metav1.IsControlledBy(&crt, c) {
		return nil, err
	}
	patched := secret.DeepCopy()
	patched.OwnerReferences = slices.DeleteFunc(patched.OwnerReferences, func(ref metav1.OwnerReference) bool { return ref.UID == ctrl.UID })
	if perr := r.Patch(ctx, patched, client.MergeFromWithOptions(&secret, client.MergeFromWithOptimisticLock{})); perr != nil {
		return nil, fmt.Errorf("while taking Secret %s over from its Certificate: %w", t.SecretName, perr)
	}
	return patched, nil // the cache may not have seen the patch yet
}

// requestReissue asks cert-manager to issue crt again, now (its Issuing condition, reason
// ManuallyTriggered, as `cmctl renew` sets it), unless it is issuing already: the leaf it holds
// is not signed by the desired CA, which must sign every leaf before the old CA is dropped.
func (r *Reconciler) requestReissue(ctx context.Context, c *implyv1alpha1.ImplyCluster, crt *cmv1.Certificate, desired *x509.Certificate) error {
	for _, cond := range crt.Status.Conditions {
		if cond.Type == cmv1.CertificateConditionIssuing && cond.Status == cmmeta.ConditionTrue {
			return nil
		}
	}
	patched := crt.DeepCopy()
	now := metav1.NewTime(r.Clock.Now())
	patched.Status.Conditions = append(patched.Status.Conditions, cmv1.CertificateCondition{
		Type: cmv1.CertificateConditionIssuing, Status: cmmeta.ConditionTrue, Reason: "ManuallyTriggered",
		Message:            "Re-issuance requested by imply-operator: the CA rotation needs every leaf signed by " + desired.Subject.String(),
		LastTransitionTime: &now, ObservedGeneration: crt.Generation,
	})
	if err := r.Status().Patch(ctx, patched, client.MergeFromWithOptions(crt, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("while asking cert-manager to re-issue Certificate %s: %w", crt.Name, err)
	}
	crt.Status = patched.Status
	r.Recorder.Eventf(c, crt, corev1.EventTypeNormal, implyv1alpha1.EventCertificateReissueRequested, "RotateCA",
		"Asked cert-manager to re-issue Certificate %s: its leaf is not signed by the issuer's current CA %s", crt.Name, desired.Subject.String())
	return nil
}

// notIssued says why crt's issued Secret (its data) is not ready to serve from, or "" when it
// is: the Certificate must be Ready for its current generation and the Secret must hold the
// certificate and key.
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
	for _, k := range []string{specs.TLSCertKey, specs.TLSPrivateKeyKey} {
		if len(data[k]) == 0 {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return fmt.Sprintf("Secret %s has no %s", crt.Spec.SecretName, strings.Join(missing, ", "))
	}
	return ""
}

// pruneCertificates deletes the Certificates c controls whose name is not in keep, with the
// Secrets cert-manager issued them into: those of node groups removed from the spec, or all of
// them (keep nil) once the CA is no longer a cert-manager issuer, so cert-manager stops issuing
// leaves the operator now signs itself. The leaf Secrets pods mount are the operator's and stay
// (a removed group's go with its other objects). Nothing happens when cert-manager is not
// installed.
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
		if crt.Spec.SecretName != crt.Name && strings.HasSuffix(crt.Spec.SecretName, specs.IssuedSuffix) {
			if err := r.deleteIssuedSecret(ctx, c, crt.Spec.SecretName); err != nil {
				return err
			}
		}
	}
	return nil
}

// deleteIssuedSecret deletes the Secret cert-manager issued a pruned Certificate of c into,
// when it carries c's labels and no controller but a cert-manager Certificate.
func (r *Reconciler) deleteIssuedSecret(ctx context.Context, c *implyv1alpha1.ImplyCluster, name string) error {
	var secret corev1.Secret
	err := r.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: name}, &secret)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if secret.Labels[specs.LabelCluster] != c.Name || secret.Labels[specs.LabelManagedBy] != specs.ManagedBy {
		return nil
	}
	if ctrl := metav1.GetControllerOf(&secret); ctrl != nil && ctrl.Kind != cmv1.CertificateKind {
		return nil
	}
	if err := r.Delete(ctx, &secret, client.Preconditions{UID: &secret.UID}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("while deleting Secret %s: %w", name, err)
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
