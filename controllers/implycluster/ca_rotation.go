package implycluster

import (
	"context"
	"crypto/x509"
	"fmt"
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

// A rotation of the generated CA moves through three phases, each rolled out before the next,
// so trust never breaks. The phase and the rotate-ca value it answers are annotations of the
// <cluster>-ca Secret: all rotation state lives in the API.
const (
	// caPhaseTrustBoth: the new CA is trusted beside the old one; leaves are still signed by the old.
	caPhaseTrustBoth = "TrustBoth"
	// caPhaseSignWithNew: leaves are signed by the new CA; the old one is still trusted.
	caPhaseSignWithNew = "SignWithNew"
	// caPhaseDropOld: the old CA is no longer trusted; once rolled out the rotation is done.
	caPhaseDropOld = "DropOld"

	keyNextCACert     = "next-ca.crt"
	keyNextCAKey      = "next-ca.key"
	keyPreviousCACert = "previous-ca.crt"
)

// caState is the CA side of a TLS cluster: who signs, who is trusted, and the generated CA's
// Secret when the operator owns it.
type caState struct {
	// Signer signs new leaves.
	Signer *pki.KeyPair
	// Trusted are the CAs in the bundle and truststores, the signer first.
	Trusted []*x509.Certificate
	// Secret is the desired <cluster>-ca Secret; nil when the CA is the user's.
	Secret *corev1.Secret
	// Phase is the CA rotation phase, empty when none is under way.
	Phase string
}

// generatedCA reads (or creates) the operator's CA and moves a requested rotation forward one
// phase once the previous phase has rolled out everywhere.
func (r *Reconciler) generatedCA(ctx context.Context, c *implyv1alpha1.ImplyCluster) (*caState, *apply.Problem, error) {
	name := specs.CASecretName(c.Name)
	var live corev1.Secret
	// Uncached: a phase read from a stale cache would re-sign leaves with the previous CA.
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: name}, &live)
	if apierrors.IsNotFound(err) {
		kp, err := r.newCA(c, "CA")
		if err != nil {
			return nil, nil, err
		}
		r.Recorder.Eventf(c, nil, corev1.EventTypeNormal, implyv1alpha1.EventCAGenerated, "IssueCertificate",
			"Generated a CA valid until %s", kp.Certificate.NotAfter.UTC().Format(time.RFC3339))
		secret := specs.BuildClusterSecret(c, name, corev1.SecretTypeOpaque, map[string][]byte{specs.CACertKey: kp.CertPEM, specs.CAPrivateKeyKey: kp.KeyPEM})
		// A new cluster starts with nothing to rotate, whatever rotate-ca says.
		specs.AddAnnotations(&secret.ObjectMeta, map[string]string{implyv1alpha1.AnnotationCARotationRequested: c.Annotations[implyv1alpha1.AnnotationRotateCA]})
		return &caState{Signer: kp, Trusted: []*x509.Certificate{kp.Certificate}, Secret: secret}, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	data := map[string][]byte{}
	for k, v := range live.Data {
		data[k] = v
	}
	annotations := map[string]string{
		implyv1alpha1.AnnotationCARotationPhase:     live.Annotations[implyv1alpha1.AnnotationCARotationPhase],
		implyv1alpha1.AnnotationCARotationRequested: live.Annotations[implyv1alpha1.AnnotationCARotationRequested],
	}
	requested := c.Annotations[implyv1alpha1.AnnotationRotateCA]
	if annotations[implyv1alpha1.AnnotationCARotationPhase] == "" && requested != "" && requested != annotations[implyv1alpha1.AnnotationCARotationRequested] {
		next, err := r.newCA(c, "CA")
		if err != nil {
			return nil, nil, err
		}
		data[keyNextCACert], data[keyNextCAKey] = next.CertPEM, next.KeyPEM
		annotations[implyv1alpha1.AnnotationCARotationPhase], annotations[implyv1alpha1.AnnotationCARotationRequested] = caPhaseTrustBoth, requested
		r.Recorder.Eventf(c, nil, corev1.EventTypeNormal, implyv1alpha1.EventCARotationStarted, "RotateCA",
			"Rotating the CA (rotate-ca %q): phase %s trusts the new CA beside the old one", requested, caPhaseTrustBoth)
	}

	secret := specs.BuildClusterSecret(c, name, corev1.SecretTypeOpaque, data)
	specs.AddAnnotations(&secret.ObjectMeta, annotations)
	return caStateFromSecret(secret)
}

// caStateFromSecret reads who signs and who is trusted from the generated CA's Secret, in the
// rotation phase its annotation names.
func caStateFromSecret(secret *corev1.Secret) (*caState, *apply.Problem, error) {
	damaged := func(err error) (*caState, *apply.Problem, error) {
		return nil, &apply.Problem{Reason: implyv1alpha1.ReasonInvalidCA, Message: fmt.Sprintf("Secret %q holding the generated CA is damaged: %v; delete it to generate a new CA", secret.Name, err)}, nil
	}
	data := secret.Data
	signer, err := pki.ParseKeyPair(data[specs.CACertKey], data[specs.CAPrivateKeyKey])
	if err != nil {
		return damaged(err)
	}
	state := &caState{Signer: signer, Trusted: []*x509.Certificate{signer.Certificate}, Phase: secret.Annotations[implyv1alpha1.AnnotationCARotationPhase], Secret: secret}
	switch state.Phase {
	case caPhaseTrustBoth:
		next, err := pki.ParseKeyPair(data[keyNextCACert], data[keyNextCAKey])
		if err != nil {
			return damaged(err)
		}
		state.Trusted = append(state.Trusted, next.Certificate)
	case caPhaseSignWithNew:
		previous, err := pki.ParseBundle(data[keyPreviousCACert])
		if err != nil || len(previous) == 0 {
			return damaged(fmt.Errorf("%s does not parse", keyPreviousCACert))
		}
		state.Trusted = append(state.Trusted, previous...)
	}
	return state, nil, nil
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
	kp, err := pki.CreateRootCA(r.Clock, fmt.Sprintf("imply-operator %s %s/%s", what, c.Namespace, c.Name), gen.KeyAlgorithm, validity)
	if err != nil {
		return nil, fmt.Errorf("while generating the %s: %w", what, err)
	}
	return kp, nil
}

// advanceRotation moves the CA Secret of state to the next phase. It returns false when no
// rotation is under way.
func advanceRotation(state *caState) bool {
	s := state.Secret
	if s == nil {
		return false
	}
	switch state.Phase {
	case caPhaseTrustBoth:
		s.Data[keyPreviousCACert] = s.Data[specs.CACertKey]
		s.Data[specs.CACertKey], s.Data[specs.CAPrivateKeyKey] = s.Data[keyNextCACert], s.Data[keyNextCAKey]
		delete(s.Data, keyNextCACert)
		delete(s.Data, keyNextCAKey)
		s.Annotations[implyv1alpha1.AnnotationCARotationPhase] = caPhaseSignWithNew
	case caPhaseSignWithNew:
		delete(s.Data, keyPreviousCACert)
		s.Annotations[implyv1alpha1.AnnotationCARotationPhase] = caPhaseDropOld
	case caPhaseDropOld:
		// Emptied rather than removed: apply never removes annotations of a live object.
		s.Annotations[implyv1alpha1.AnnotationCARotationPhase] = ""
	default:
		return false
	}
	return true
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
