package implycluster

import (
	"context"
	"errors"
	"maps"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/apply"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// scope is one reconcile of an ImplyCluster: the object as read (before), the copy whose status
// is being computed, and what the phases gathered for the status.
type scope struct {
	before, cluster *implyv1alpha1.ImplyCluster
	obs             observedWorkloads
	// revisionKey makes the revisions of secret material HMACs (<cluster>-revision-key).
	revisionKey []byte
	// stopped says a phase found a problem with the user's input: no later phase runs, so
	// nothing live changes while it lasts.
	stopped bool
}

// phase is one step of a reconcile. It returns how soon the cluster must be looked at again
// (zero: no need), and an error only for failures worth retrying with backoff.
type phase func(ctx context.Context, s *scope) (time.Duration, error)

// soonest is the earlier of two requeue delays, zero meaning none.
func soonest(a, b time.Duration) time.Duration {
	if a == 0 || (b > 0 && b < a) {
		return b
	}
	return a
}

// stop records an input problem that stops the reconcile and warns about it once.
func (r *Reconciler) stop(s *scope, p *apply.Problem) {
	s.stopped = true
	if !waiting(p) {
		apply.WarnOnce(r.Recorder, s.before, s.cluster, implyv1alpha1.ConditionReady, "Reconcile", p)
	}
}

// checkSecretsPhase stops the reconcile while node groups would give two objects one name, or
// a Secret the spec references is missing or lacks a key.
func (r *Reconciler) checkSecretsPhase(ctx context.Context, s *scope) (time.Duration, error) {
	if p := groupNameProblem(s.cluster); p != nil {
		s.obs.SecretProblem = p
		r.stop(s, p)
		return 0, nil
	}
	problem, err := checkReferencedSecrets(ctx, userSecrets(ctx, r.APIReader), s.cluster)
	if err != nil || problem == nil {
		return 0, err
	}
	s.obs.SecretProblem = problem
	r.stop(s, problem)
	return 0, nil
}

// podSettingsPhase stops the reconcile while the spec's pod settings (nodeGroups[].pod,
// manager.pod) collide with what the operator puts in the pods, naming each refused field.
func (r *Reconciler) podSettingsPhase(_ context.Context, s *scope) (time.Duration, error) {
	refused := specs.PodOverrideConflicts(s.cluster)
	if len(refused) == 0 {
		return 0, nil
	}
	problem := &apply.Problem{
		Reason:  implyv1alpha1.ReasonInvalidPodOverrides,
		Message: "Pod settings refused, nothing live was changed: " + strings.Join(refused, "; "),
	}
	s.obs.PodSettingsProblem = problem
	r.stop(s, problem)
	return 0, nil
}

// certificatesPhase gathers the certificate material (generated, the user's CA, or
// cert-manager's) and deletes the cert-manager Certificates a cluster no longer uses. It
// returns the time until the earliest leaf renewal.
func (r *Reconciler) certificatesPhase(ctx context.Context, s *scope) (time.Duration, error) {
	if !usesCertManager(s.cluster) {
		if err := r.pruneCertificates(ctx, s.cluster, nil); err != nil {
			return 0, err
		}
	}
	if !specs.TLSEnabled(s.cluster) {
		return 0, nil
	}
	tls, problem, err := r.reconcileTLS(ctx, s.cluster, s.revisionKey)
	if conflict := apply.AsConflict(err); conflict != nil {
		// A leaf Secret that is not the cluster's: its values are never reused, and issuing
		// into it every reconcile would roll its group forever.
		problem, err = conflict.Problem(), nil
	}
	if err != nil {
		return 0, err
	}
	if problem != nil {
		s.obs.TLSProblem = problem
		r.stop(s, problem)
		return 0, nil
	}
	s.obs.TLS = tls
	apply.WarnOnce(r.Recorder, s.before, s.cluster, implyv1alpha1.ConditionCertificatesReady, "Reconcile", tls.Degraded)
	return r.untilRenewal(tls), nil
}

// authPhase gathers the auth material: Druid passwords (generated, rotated or the user's), the
// rendered policy and the agent token. It returns the time until a password is due.
func (r *Reconciler) authPhase(ctx context.Context, s *scope) (time.Duration, error) {
	if !specs.AuthEnabled(s.cluster) {
		return 0, nil
	}
	auth, problem, err := r.reconcileAuth(ctx, s.cluster, s.revisionKey)
	if err != nil {
		return 0, err
	}
	if problem != nil {
		s.obs.AuthProblem = problem
		r.stop(s, problem)
		return 0, nil
	}
	s.obs.Auth = auth
	return r.untilPasswordRotation(auth), nil
}

// workloadsPhase applies every owned object through the rollout gate and records what could
// not be applied: changes the apiserver refuses in place, and the error that stopped applying
// (reported in the status, then returned). It returns when the rollout must be looked at again.
func (r *Reconciler) workloadsPhase(ctx context.Context, s *scope) (time.Duration, error) {
	c, obs := s.cluster, &s.obs
	obs.Rollout, obs.ImmutableDrift, obs.NameConflicts, obs.ApplyError = r.applyWorkloads(ctx, c, obs.TLS, obs.MetadataTLS, obs.Auth, obs.PodSecrets)
	if errors.Is(obs.ApplyError, errCacheBehind) {
		return 0, obs.ApplyError
	}
	if p := nameConflictProblem(obs.NameConflicts); p != nil {
		apply.WarnOnce(r.Recorder, s.before, c, implyv1alpha1.ConditionReady, "Reconcile", p)
	}
	if len(obs.ImmutableDrift) > 0 && !degradedWith(s.before, implyv1alpha1.ReasonImmutableFieldChanged) {
		r.Recorder.Eventf(c, nil, corev1.EventTypeWarning, implyv1alpha1.ReasonImmutableFieldChanged, "Reconcile", "%s", strings.Join(obs.ImmutableDrift, "; "))
	}
	if obs.ApplyError != nil {
		if !apierrors.IsConflict(obs.ApplyError) {
			apply.WarnOnce(r.Recorder, s.before, c, implyv1alpha1.ConditionReady, "Reconcile",
				&apply.Problem{Reason: implyv1alpha1.ReasonApplyFailed, Message: obs.ApplyError.Error()})
		}
		return 0, nil
	}
	issued := map[string]string{}
	if obs.TLS != nil {
		maps.Copy(issued, obs.TLS.Issued)
	}
	if obs.MetadataTLS != nil {
		maps.Copy(issued, obs.MetadataTLS.Issued)
	}
	if len(issued) > 0 {
		r.Recorder.Eventf(c, nil, corev1.EventTypeNormal, implyv1alpha1.EventCertificateIssued, "IssueCertificate", "%s", issuedNote(issued))
	}
	if obs.TLS != nil && len(obs.TLS.Repacked) > 0 {
		r.Recorder.Eventf(c, nil, corev1.EventTypeNormal, implyv1alpha1.EventKeystoresRepacked, "RepackKeystores", "%s", repackedNote(obs.TLS.Repacked))
	}
	if obs.Rollout == nil {
		return 0, nil
	}
	return obs.Rollout.Decision.RequeueAfter, nil
}

// nameConflictProblem is the NameConflict problem naming every conflicting object, nil when
// there is none.
func nameConflictProblem(conflicts []*apply.ConflictError) *apply.Problem {
	if len(conflicts) == 0 {
		return nil
	}
	msgs := make([]string, 0, len(conflicts))
	for _, c := range conflicts {
		msgs = append(msgs, c.Error())
	}
	return &apply.Problem{Reason: implyv1alpha1.ReasonNameConflict, Message: strings.Join(msgs, "; ")}
}
