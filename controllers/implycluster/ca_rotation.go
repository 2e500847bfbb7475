package implycluster

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/apply"
	"github.com/imply-operator/imply-operator/pkg/pki"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// Every change of the CA that signs the leaves (rotate-ca, a generated CA inside its
// renewBefore, a lost <cluster>-ca, a change of CA source, a new CA in the user's Secret) moves
// through three phases, each rolled out before the next, so trust never breaks. The phase is an
// annotation of the CA bundle ConfigMap, whose ca.crt is what the pods trust: all rotation state
// lives in the API, and one mechanism serves every CA source the operator signs with. See
// docs/ca-lifecycle.md.
const (
	// caPhaseTrustBoth: the new CA is trusted beside the old ones; live leaves are kept.
	caPhaseTrustBoth = "TrustBoth"
	// caPhaseSignWithNew: leaves are signed by the new CA; the old ones are still trusted.
	caPhaseSignWithNew = "SignWithNew"
	// caPhaseDropOld: only the new CA is trusted; once rolled out the rotation is done.
	caPhaseDropOld = "DropOld"

	// Causes of a rotation (AnnotationCARotationCause).
	causeRotateCA  = "RotateCA"
	causeRenewal   = "CARenewal"
	causeCAChanged = "CAChanged"
	causeCAMissing = "CAMissing"

	// keyPreviousCACert and keyPreviousCAKey keep, in <cluster>-ca, the generated CA a rotation
	// replaces, until the rotation completes.
	keyPreviousCACert = "previous-ca.crt"
	keyPreviousCAKey  = "previous-ca.key"
	// keyNextCACert and keyNextCAKey are the layout of earlier versions, which staged the new CA
	// beside the old one; read once to carry a rotation under way over.
	keyNextCACert = "next-ca.crt"
	keyNextCAKey  = "next-ca.key"
)

// caSource is the CA the spec asks for: the one that signs once any rotation is through.
type caSource struct {
	// Desired is the CA that must end up signing every leaf.
	Desired *pki.KeyPair
	// Previous is a CA Desired replaces whose key the operator still holds (the generated CA
	// before a rotation or a switch to the user's CA), nil when none.
	Previous *pki.KeyPair
	// Secret is the desired <cluster>-ca Secret; nil when the CA is the user's.
	Secret *corev1.Secret
	// SecretName names the Secret holding Desired, for status.certificates.
	SecretName string
	// RenewalTime is when Desired must be replaced: the start of its renewBefore (generated),
	// or when it can no longer sign leaves that outlive certificate.renewBefore (the user's).
	RenewalTime time.Time
	// Cause says why Desired is new in this reconcile ("" when it is not).
	Cause string
}

// liveTrust is what the running pods are told to trust: the CA bundle ConfigMap's certificates
// (or, when it is gone, the ca.crt of the live leaf Secrets) and the rotation phase under way.
type liveTrust struct {
	CAs   []*x509.Certificate
	Phase string
	Cause string
	// BundleAbsent says there is no bundle ConfigMap: the one built now is only created.
	BundleAbsent bool
}

// caState is the CA side of a TLS cluster in one reconcile: who signs, who is trusted, and in
// which rotation phase.
type caState struct {
	// Signer signs new leaves.
	Signer *pki.KeyPair
	// Source is the CA the spec asks for.
	Source *caSource
	// Trusted are the CAs in the bundle and truststores.
	Trusted []*x509.Certificate
	// Phase is the rotation phase, empty when none is under way.
	Phase string
	// Cause says why the rotation under way started.
	Cause string
}

// steady says whether live trusts exactly desired, with no rotation under way.
func (l liveTrust) steady(desired *x509.Certificate) bool {
	return l.Phase == "" && (len(l.CAs) == 0 || (len(l.CAs) == 1 && l.CAs[0].Equal(desired)))
}

// planTrust decides the phase and the trusted CAs of this reconcile from the CA the spec asks
// for and what the pods are told to trust. The invariant: a CA signs leaves only once a bundle
// holding it has rolled out (phase SignWithNew or later), and a CA is dropped only once every
// leaf is signed by the desired one.
//   - Nothing live (a new cluster): trust desired alone.
//   - No rotation, and desired is the only live CA: steady.
//   - No rotation and desired differs from the live CAs, or desired changed under a rotation
//     past TrustBoth: (re)start at TrustBoth, trusting desired beside every live CA.
//   - Otherwise keep the live phase: TrustBoth and SignWithNew trust desired and the live CAs,
//     DropOld desired alone.
func planTrust(desired *x509.Certificate, live liveTrust, cause string) (phase string, trusted []*x509.Certificate, why string) {
	if len(live.CAs) == 0 {
		return "", []*x509.Certificate{desired}, ""
	}
	if live.steady(desired) {
		return "", []*x509.Certificate{desired}, ""
	}
	withDesired := []*x509.Certificate{desired}
	known := false
	for _, ca := range live.CAs {
		if ca.Equal(desired) {
			known = true
			continue
		}
		withDesired = append(withDesired, ca)
	}
	if live.Phase == "" || !known {
		if cause == "" {
			cause = causeCAChanged
		}
		if live.Phase == caPhaseTrustBoth && live.Cause != "" {
			cause = live.Cause
		}
		return caPhaseTrustBoth, withDesired, cause
	}
	if live.Phase == caPhaseDropOld {
		return caPhaseDropOld, []*x509.Certificate{desired}, live.Cause
	}
	return live.Phase, withDesired, live.Cause
}

// nextPhase is the phase after a rolled-out phase, and what it trusts.
func nextPhase(phase string, trusted []*x509.Certificate) (string, []*x509.Certificate) {
	switch phase {
	case caPhaseTrustBoth:
		return caPhaseSignWithNew, trusted
	case caPhaseSignWithNew:
		return caPhaseDropOld, trusted[:1]
	default:
		return "", trusted[:1]
	}
}

// stateFor builds the CA state of a phase: in TrustBoth live leaves are kept and any leaf that
// must be issued is signed by the CA being replaced when the operator holds its key (else by
// the desired one); from SignWithNew on, the desired CA signs.
func stateFor(src *caSource, phase, cause string, trusted []*x509.Certificate) *caState {
	state := &caState{Signer: src.Desired, Source: src, Trusted: trusted, Phase: phase, Cause: cause}
	if phase == caPhaseTrustBoth && src.Previous != nil && containsCert(trusted, src.Previous.Certificate) {
		state.Signer = src.Previous
	}
	if phase == "" {
		state.Cause = ""
		if src.Secret != nil {
			// The rotation is over: the replaced CA's key is no longer needed.
			delete(src.Secret.Data, keyPreviousCACert)
			delete(src.Secret.Data, keyPreviousCAKey)
		}
	}
	return state
}

// containsCert says whether certs holds cert.
func containsCert(certs []*x509.Certificate, cert *x509.Certificate) bool {
	for _, c := range certs {
		if c.Equal(cert) {
			return true
		}
	}
	return false
}

// chainsToAny says whether leaf was signed by one of cas.
func chainsToAny(leafPEM []byte, cas []*x509.Certificate) bool {
	leaf, err := pki.ParseBundle(leafPEM)
	if err != nil || len(leaf) == 0 {
		return false
	}
	for _, ca := range cas {
		if string(leaf[0].RawIssuer) == string(ca.RawSubject) && leaf[0].CheckSignatureFrom(ca) == nil {
			return true
		}
	}
	return false
}

// readLiveTrust reads, uncached, what c's pods are told to trust: the bundle ConfigMap, or the
// ca.crt of the live leaf Secrets when the ConfigMap is gone (for a cluster never reconciled,
// only those a cache holds: a new cluster has none).
func (r *Reconciler) readLiveTrust(ctx context.Context, c *implyv1alpha1.ImplyCluster) (liveTrust, error) {
	var cm corev1.ConfigMap
	err := r.readOwnConfigMap(ctx, c, specs.CABundleName(c.Name), &cm)
	live := liveTrust{BundleAbsent: apierrors.IsNotFound(err)}
	switch {
	case err == nil:
		live = liveTrust{Phase: cm.Annotations[implyv1alpha1.AnnotationCARotationPhase], Cause: cm.Annotations[implyv1alpha1.AnnotationCARotationCause]}
		if live.CAs, _ = pki.ParseBundle([]byte(cm.Data[specs.TLSCAKey])); len(live.CAs) > 0 {
			return live, nil
		}
		// An emptied or damaged bundle: what the leaves carry is what the pods trust.
	case !apierrors.IsNotFound(err):
		return liveTrust{}, err
	}
	for _, t := range specs.LeafTargets(c) {
		key := client.ObjectKey{Namespace: c.Namespace, Name: t.SecretName}
		if neverReconciled(c) {
			absent, err := r.secretAbsentFromCaches(ctx, key)
			if err != nil {
				return liveTrust{}, err
			}
			if absent {
				continue
			}
		}
		var s corev1.Secret
		if err := r.APIReader.Get(ctx, key, &s); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return liveTrust{}, err
		}
		cas, _ := pki.ParseBundle(s.Data[specs.TLSCAKey])
		for _, ca := range cas {
			if !containsCert(live.CAs, ca) {
				live.CAs = append(live.CAs, ca)
			}
		}
	}
	return live, nil
}

// generatedCA reads (or creates) the operator's CA. With no rotation under way it starts one by
// generating a new CA, keeping the replaced one as previous-ca.*, when rotate-ca asks for it or
// the CA enters its renewBefore. A <cluster>-ca lost while leaves it signed are live is
// replaced by a new CA that planTrust then phases in (cause CAMissing).
func (r *Reconciler) generatedCA(ctx context.Context, c *implyv1alpha1.ImplyCluster, live liveTrust) (*caSource, *apply.Problem, error) {
	name := specs.CASecretName(c.Name)
	requested := c.Annotations[implyv1alpha1.AnnotationRotateCA]
	var secret corev1.Secret
	err := r.readGeneratedCA(ctx, c, name, &secret)
	if apierrors.IsNotFound(err) {
		kp, err := r.newCA(c, "CA")
		if err != nil {
			return nil, nil, err
		}
		r.Recorder.Eventf(c, nil, corev1.EventTypeNormal, implyv1alpha1.EventCAGenerated, "IssueCertificate",
			"Generated a CA valid until %s", kp.Certificate.NotAfter.UTC().Format(time.RFC3339))
		desired := specs.BuildClusterSecret(c, name, corev1.SecretTypeOpaque, map[string][]byte{specs.CACertKey: kp.CertPEM, specs.CAPrivateKeyKey: kp.KeyPEM})
		// A new CA starts with nothing to rotate, whatever rotate-ca says.
		specs.AddAnnotations(&desired.ObjectMeta, map[string]string{implyv1alpha1.AnnotationCARotationRequested: requested})
		apply.DerivedFrom(desired, &secret) // only created: never a second CA over the first
		src := &caSource{Desired: kp, Secret: desired, SecretName: name, RenewalTime: r.caRenewalTime(c, kp.Certificate)}
		if generatedCALost(c, live.CAs) {
			src.Cause = causeCAMissing
		}
		return src, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if err := apply.CheckOwner(r.Scheme, c, &secret); err != nil {
		return nil, apply.AsConflict(err).Problem(), nil // never sign with a CA that is not the cluster's
	}
	data := map[string][]byte{}
	for k, v := range secret.Data {
		data[k] = v
	}
	if len(data[keyNextCACert]) > 0 {
		// An earlier version's rotation under way: the staged CA is the desired one.
		data[keyPreviousCACert], data[keyPreviousCAKey] = data[specs.CACertKey], data[specs.CAPrivateKeyKey]
		data[specs.CACertKey], data[specs.CAPrivateKeyKey] = data[keyNextCACert], data[keyNextCAKey]
		delete(data, keyNextCACert)
		delete(data, keyNextCAKey)
	}
	damaged := func(err error) (*caSource, *apply.Problem, error) {
		return nil, &apply.Problem{Reason: implyv1alpha1.ReasonInvalidCA, Message: fmt.Sprintf("Secret %q holding the generated CA is damaged: %v; delete it to generate a new CA, which the operator then rolls in through a rotation", name, err)}, nil
	}
	kp, err := pki.ParseKeyPair(data[specs.CACertKey], data[specs.CAPrivateKeyKey])
	if err != nil {
		return damaged(err)
	}
	answered := secret.Annotations[implyv1alpha1.AnnotationCARotationRequested]
	src := &caSource{Desired: kp, SecretName: name, RenewalTime: r.caRenewalTime(c, kp.Certificate)}
	if len(data[keyPreviousCACert]) > 0 {
		if src.Previous, err = pki.ParseKeyPair(data[keyPreviousCACert], data[keyPreviousCAKey]); err != nil {
			return damaged(err)
		}
	}
	if live.steady(kp.Certificate) {
		switch {
		case requested != "" && requested != answered:
			src.Cause = causeRotateCA
		case !r.Clock.Now().Before(src.RenewalTime):
			src.Cause = causeRenewal
		}
	}
	if src.Cause != "" {
		next, err := r.newCA(c, "CA")
		if err != nil {
			return nil, nil, err
		}
		data[keyPreviousCACert], data[keyPreviousCAKey] = kp.CertPEM, kp.KeyPEM
		data[specs.CACertKey], data[specs.CAPrivateKeyKey] = next.CertPEM, next.KeyPEM
		src.Previous, src.Desired, src.RenewalTime = kp, next, r.caRenewalTime(c, next.Certificate)
		answered = requested
	}
	src.Secret = specs.BuildClusterSecret(c, name, corev1.SecretTypeOpaque, data)
	specs.AddAnnotations(&src.Secret.ObjectMeta, map[string]string{implyv1alpha1.AnnotationCARotationRequested: answered})
	if _, ok := secret.Annotations[implyv1alpha1.AnnotationCARotationPhase]; ok {
		// Earlier versions kept the phase here; emptied rather than removed, as apply never
		// removes annotations of a live object.
		src.Secret.Annotations[implyv1alpha1.AnnotationCARotationPhase] = ""
	}
	return src, nil, nil
}

// readOwnConfigMap reads c's ConfigMap name uncached: a rotation phase read from a stale cache
// would move a rotation backwards. For a cluster never reconciled, one the cache of the
// operator's ConfigMaps does not hold is NotFound without asking the apiserver (see
// liveOwnSecret): what is built from its absence is only created (apply.DerivedFrom).
func (r *Reconciler) readOwnConfigMap(ctx context.Context, c *implyv1alpha1.ImplyCluster, name string, cm *corev1.ConfigMap) error {
	key := client.ObjectKey{Namespace: c.Namespace, Name: name}
	if neverReconciled(c) {
		if err := r.Get(ctx, key, &corev1.ConfigMap{}); err != nil {
			return err
		}
	}
	return r.APIReader.Get(ctx, key, cm)
}

// deriveBundle marks the CA bundle ConfigMap of m as derived from the live one: when there was
// none, it is only created.
func (l liveTrust) deriveBundle(c *implyv1alpha1.ImplyCluster, m *tlsMaterial) {
	if l.BundleAbsent {
		createOnlyConfigMap(m.Objects, specs.CABundleName(c.Name))
	}
}

// readGeneratedCA reads the operator's CA Secret name of c into secret, uncached: a CA read from
// a stale cache would start a second rotation. For a cluster never reconciled, a CA Secret
// neither cache holds is NotFound without asking the apiserver (see liveOwnSecret): the CA
// generated then is only created (apply.DerivedFrom).
func (r *Reconciler) readGeneratedCA(ctx context.Context, c *implyv1alpha1.ImplyCluster, name string, secret *corev1.Secret) error {
	key := client.ObjectKey{Namespace: c.Namespace, Name: name}
	if neverReconciled(c) {
		absent, err := r.secretAbsentFromCaches(ctx, key)
		if err != nil {
			return err
		}
		if absent {
			return apierrors.NewNotFound(corev1.Resource("secrets"), name)
		}
	}
	return r.APIReader.Get(ctx, key, secret)
}

// generatedCALost says whether one of the live CAs is a CA the operator generated for c: then
// <cluster>-ca was lost rather than never needed (a switch from the user's CA).
func generatedCALost(c *implyv1alpha1.ImplyCluster, live []*x509.Certificate) bool {
	for _, ca := range live {
		if ca.Subject.CommonName == caCommonName(c, "CA") {
			return true
		}
	}
	return false
}

// caRenewalTime is when the generated CA cert must be replaced: renewBefore (default a third
// of its lifetime) ahead of its notAfter.
func (r *Reconciler) caRenewalTime(c *implyv1alpha1.ImplyCluster, cert *x509.Certificate) time.Time {
	var renewBefore time.Duration
	if ca := c.Spec.Security.TLS.CA; ca != nil && ca.Generate != nil && ca.Generate.RenewBefore != nil {
		renewBefore = ca.Generate.RenewBefore.Duration
	}
	return pki.RenewalTime(cert, renewBefore)
}

// userCA reads and checks the user's CA Secret (spec.security.tls.ca.secretRef), which the
// operator never writes. A CA that cannot sign the cluster's leaves is a problem naming why;
// the generated CA, when <cluster>-ca still holds one, is the CA being replaced.
func (r *Reconciler) userCA(ctx context.Context, c *implyv1alpha1.ImplyCluster) (*caSource, *apply.Problem, error) {
	ref := c.Spec.Security.TLS.CA.SecretRef.Name
	var user corev1.Secret
	err := userSecrets(ctx, r.APIReader).Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: ref}, &user)
	if apierrors.IsNotFound(err) {
		return nil, &apply.Problem{Reason: implyv1alpha1.ReasonSecretNotFound, Message: fmt.Sprintf("Secret %q named by spec.security.tls.ca.secretRef does not exist", ref)}, nil
	}
	if err != nil {
		return nil, nil, err
	}
	renewBefore := c.Spec.Security.TLS.Certificate.RenewBefore.Duration
	kp, perr := pki.ValidateUserCA(user.Data, pki.UserCAPolicy{Now: r.Clock.Now(), DNSNames: clusterDNSNames(c), RenewBefore: renewBefore})
	if perr != nil {
		return nil, &apply.Problem{Reason: userCAReason(perr), Message: fmt.Sprintf("Secret %q named by spec.security.tls.ca.secretRef cannot be used as the CA: %v; nothing was changed", ref, perr)}, nil
	}
	src := &caSource{Desired: kp, SecretName: ref, RenewalTime: kp.Certificate.NotAfter.Add(-renewBefore)}
	var generated corev1.Secret
	err = r.APIReader.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: specs.CASecretName(c.Name)}, &generated)
	switch {
	case err == nil:
		if prev, perr := pki.ParseKeyPair(generated.Data[specs.CACertKey], generated.Data[specs.CAPrivateKeyKey]); perr == nil && !prev.Certificate.Equal(kp.Certificate) {
			src.Previous = prev
		}
	case !apierrors.IsNotFound(err):
		return nil, nil, err
	}
	return src, nil, nil
}

// userCAReason is the condition reason of a user CA ValidateUserCA refused.
func userCAReason(err error) string {
	switch {
	case errors.Is(err, pki.ErrUnsupportedKey):
		return implyv1alpha1.ReasonCAKeyUnsupported
	case errors.Is(err, pki.ErrExpiresTooSoon):
		return implyv1alpha1.ReasonCAExpiresTooSoon
	case errors.Is(err, pki.ErrCannotSignForCluster):
		return implyv1alpha1.ReasonCACannotSignForCluster
	default:
		return implyv1alpha1.ReasonInvalidCA
	}
}

// clusterDNSNames are every DNS name of c's serving leaves.
func clusterDNSNames(c *implyv1alpha1.ImplyCluster) []string {
	var names []string
	for _, t := range specs.LeafTargets(c) {
		names = append(names, t.Request.DNSNames...)
	}
	return names
}

// caCommonName is the common name of the CA (what: "CA", "client CA") generated for c.
func caCommonName(c *implyv1alpha1.ImplyCluster, what string) string {
	return fmt.Sprintf("imply-operator %s %s/%s", what, c.Namespace, c.Name)
}

// newCA generates a CA (what names it: "CA", "client CA") with the key algorithm and validity
// of spec.security.tls.ca.generate when there is one, else the defaults.
func (r *Reconciler) newCA(c *implyv1alpha1.ImplyCluster, what string) (*pki.KeyPair, error) {
	gen := implyv1alpha1.GeneratedCASpec{}
	if ca := c.Spec.Security.TLS.CA; ca != nil && ca.Generate != nil {
		gen = *ca.Generate
	}
	validity := 26280 * time.Hour
	if gen.Validity != nil {
		validity = gen.Validity.Duration
	}
	kp, err := pki.CreateRootCA(r.Clock, caCommonName(c, what), gen.KeyAlgorithm, validity)
	if err != nil {
		return nil, fmt.Errorf("while generating the %s: %w", what, err)
	}
	return kp, nil
}

// caBundleConfigMap is the CA bundle ConfigMap of a state: the trusted CAs and the rotation
// phase and cause (emptied rather than removed: apply never removes annotations).
func caBundleConfigMap(c *implyv1alpha1.ImplyCluster, bundle []byte, phase, cause string) *corev1.ConfigMap {
	cm := specs.BuildCABundleConfigMap(c, bundle)
	specs.AddAnnotations(&cm.ObjectMeta, map[string]string{implyv1alpha1.AnnotationCARotationPhase: phase, implyv1alpha1.AnnotationCARotationCause: cause})
	return cm
}

// caMissingProblem is what CertificatesReady says while a lost <cluster>-ca is being replaced.
func caMissingProblem(c *implyv1alpha1.ImplyCluster) *apply.Problem {
	return &apply.Problem{Reason: implyv1alpha1.ReasonCAMissing, Message: fmt.Sprintf(
		"Secret %s holding the generated CA was deleted while certificates it signed are live; a new CA is being rolled in through a three-phase rotation "+
			"(trusted beside the old one first, then signing, then the old one dropped; phase on ConfigMap %s)",
		specs.CASecretName(c.Name), specs.CABundleName(c.Name))}
}

// phaseMessage names a rotation phase for events.
func phaseMessage(phase string) string {
	return strings.TrimSpace(map[string]string{
		caPhaseTrustBoth:   "TrustBoth (the new CA is trusted beside the old one)",
		caPhaseSignWithNew: "SignWithNew (leaves are signed by the new CA)",
		caPhaseDropOld:     "DropOld (only the new CA is trusted)",
	}[phase])
}

// rolledOut reports whether every workload of c runs, fully updated and ready, a pod template
// whose annotations satisfy wanted (given the group name, or "manager").
func (r *Reconciler) rolledOut(ctx context.Context, c *implyv1alpha1.ImplyCluster, wanted func(component string, annotations map[string]string) bool) (bool, error) {
	for _, g := range c.Spec.NodeGroups {
		var sts appsv1.StatefulSet
		if err := workloads(ctx, r.Client).Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: specs.GroupName(c.Name, g.Name)}, &sts); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		if !wanted(g.Name, sts.Spec.Template.Annotations) || !statefulSetReady(&sts, ptr.Deref(g.Replicas, 1)) {
			return false, nil
		}
	}
	var d appsv1.Deployment
	if err := workloads(ctx, r.Client).Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: specs.ManagerName(c.Name)}, &d); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	return wanted(specs.ComponentManager, d.Spec.Template.Annotations) && managerReady(c, &d), nil
}

// withTLSRevisions is a rolledOut condition: each workload carries its tls revision.
func withTLSRevisions(revisions map[string]string) func(string, map[string]string) bool {
	return func(component string, annotations map[string]string) bool {
		return annotations[specs.AnnotationTLSRevision] == revisions[component]
	}
}
