package implycluster

import (
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/apply"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// observedWorkloads is what the status is computed from: the live workloads and what went wrong
// while reconciling.
type observedWorkloads struct {
	// StatefulSets by node-group name; a missing entry means not created yet.
	StatefulSets map[string]*appsv1.StatefulSet
	// Manager is the manager Deployment, nil when not created yet.
	Manager *appsv1.Deployment
	// SecretProblem is a referenced Secret that is missing or incomplete.
	SecretProblem *apply.Problem
	// PodSettingsProblem names the pod settings the operator refuses.
	PodSettingsProblem *apply.Problem
	// ApplyError is the error that stopped creating or patching owned objects.
	ApplyError error
	// NameConflicts are the objects of owned names that are not the cluster's, left untouched.
	NameConflicts []*apply.ConflictError
	// TLS is the certificate material in effect, nil without TLS or when it is not usable.
	TLS *tlsMaterial
	// MetadataTLS is the metadata-store TLS material, nil when it was not gathered.
	MetadataTLS *metadataMaterial
	// TLSProblem is a CA the operator cannot use.
	TLSProblem *apply.Problem
	// Auth is the auth material in effect, nil without security.auth or when it is not usable.
	Auth *authMaterial
	// AuthProblem is an auth input the operator cannot use.
	AuthProblem *apply.Problem
	// ImmutableDrift describes spec changes the apiserver does not allow in place.
	ImmutableDrift []string
	// Rollout is what the rollout gate decided, nil when nothing was applied.
	Rollout *rolloutPlan
	// PodSecrets are the revisions of the user's Secrets the pods read.
	PodSecrets podSecretRevisions
}

// computeStatus derives the ImplyCluster's status from what was observed. It is pure: each
// condition has its own setter, and conditions keep their transition times through
// meta.SetStatusCondition.
func computeStatus(c *implyv1alpha1.ImplyCluster, obs observedWorkloads) {
	groups, notReady := nodeGroupStatuses(c, obs.StatefulSets)
	c.Status.NodeGroups = groups
	if !managerReady(c, obs.Manager) {
		notReady = append(notReady, "manager")
	}
	endpoints := specs.Endpoints(c)
	c.Status.Endpoints = &endpoints
	c.Status.ObservedGeneration = c.Generation

	setCertificateStatus(c, obs)
	setAuthStatus(c, obs)
	blocked := blockingProblem(obs)
	setReady(c, blocked, notReady)
	setDegraded(c, blocked, obs.ImmutableDrift)
	setProgressing(c, blocked, notReady)
}

// blocked is what keeps a cluster from converging: a problem that stopped the reconcile or the
// error that stopped applying, whether it is a wait for another controller rather than a fault,
// and what Progressing says while it lasts.
type blocked struct {
	apply.Problem
	waiting bool
	// progress is the Progressing message of a fault.
	progress string
}

// blockingProblem is the first of obs's problems in the order they are reported (auth, CA,
// referenced Secret, apply), nil when none.
func blockingProblem(obs observedWorkloads) *blocked {
	switch {
	case obs.AuthProblem != nil:
		return &blocked{Problem: *obs.AuthProblem, progress: "Waiting for usable credentials; nothing live was changed"}
	case waiting(obs.TLSProblem):
		return &blocked{Problem: *obs.TLSProblem, waiting: true}
	case obs.TLSProblem != nil:
		return &blocked{Problem: *obs.TLSProblem, progress: "Waiting for a usable CA; nothing live was changed"}
	case obs.SecretProblem != nil:
		return &blocked{Problem: *obs.SecretProblem, progress: "Waiting for the Secret; nothing live was changed"}
	case obs.PodSettingsProblem != nil:
		return &blocked{Problem: *obs.PodSettingsProblem, progress: "Waiting for usable pod settings; nothing live was changed"}
	case len(obs.NameConflicts) > 0:
		p := nameConflictProblem(obs.NameConflicts)
		return &blocked{Problem: *p, progress: "Every other object is applied; waiting for the conflicting objects to be removed or renamed"}
	case obs.ApplyError != nil:
		msg := obs.ApplyError.Error()
		return &blocked{Problem: apply.Problem{Reason: implyv1alpha1.ReasonApplyFailed, Message: msg}, progress: msg}
	}
	return nil
}

// setReady: False with the blocking problem, False while a group or the manager is not updated
// and ready, True otherwise.
func setReady(c *implyv1alpha1.ImplyCluster, b *blocked, notReady []string) {
	switch {
	case b != nil:
		apply.SetCondition(c, implyv1alpha1.ConditionReady, metav1.ConditionFalse, b.Reason, b.Message)
	case len(notReady) > 0:
		apply.SetCondition(c, implyv1alpha1.ConditionReady, metav1.ConditionFalse, implyv1alpha1.ReasonReplicasNotReady,
			"Not yet updated and ready: "+strings.Join(notReady, ", "))
	default:
		apply.SetCondition(c, implyv1alpha1.ConditionReady, metav1.ConditionTrue, implyv1alpha1.ReasonAllReplicasReady,
			"Every node group and the manager are updated and ready")
	}
}

// setDegraded: True with a blocking fault or with spec changes the apiserver refuses in place;
// False while merely waiting, or when nothing is wrong.
func setDegraded(c *implyv1alpha1.ImplyCluster, b *blocked, immutableDrift []string) {
	switch {
	case b != nil && !b.waiting:
		apply.SetCondition(c, implyv1alpha1.ConditionDegraded, metav1.ConditionTrue, b.Reason, b.Message)
	case b == nil && len(immutableDrift) > 0:
		apply.SetCondition(c, implyv1alpha1.ConditionDegraded, metav1.ConditionTrue, implyv1alpha1.ReasonImmutableFieldChanged, strings.Join(immutableDrift, "; "))
	default:
		apply.SetCondition(c, implyv1alpha1.ConditionDegraded, metav1.ConditionFalse, implyv1alpha1.ReasonAsExpected, "")
	}
}

// setProgressing: True while waiting for another controller or while workloads roll; False
// with a blocking fault (nothing moves until it is fixed) or once everything is ready.
func setProgressing(c *implyv1alpha1.ImplyCluster, b *blocked, notReady []string) {
	switch {
	case b != nil && b.waiting:
		apply.SetCondition(c, implyv1alpha1.ConditionProgressing, metav1.ConditionTrue, b.Reason, b.Message)
	case b != nil:
		apply.SetCondition(c, implyv1alpha1.ConditionProgressing, metav1.ConditionFalse, b.Reason, b.progress)
	case len(notReady) > 0:
		apply.SetCondition(c, implyv1alpha1.ConditionProgressing, metav1.ConditionTrue, implyv1alpha1.ReasonRollingOut,
			"Not yet updated and ready: "+strings.Join(notReady, ", "))
	default:
		apply.SetCondition(c, implyv1alpha1.ConditionProgressing, metav1.ConditionFalse, implyv1alpha1.ReasonReconciled, "")
	}
}

// degradedWith reports whether c already carries Degraded=True with reason, so a persisting
// problem's Warning event is not repeated.
func degradedWith(c *implyv1alpha1.ImplyCluster, reason string) bool {
	cond := meta.FindStatusCondition(c.Status.Conditions, implyv1alpha1.ConditionDegraded)
	return cond != nil && cond.Status == metav1.ConditionTrue && cond.Reason == reason
}

// setCertificateStatus reports the leaves, the earliest expiry and CertificatesReady. Without
// TLS there is no such condition; when the CA is unusable the last known certificates stay.
func setCertificateStatus(c *implyv1alpha1.ImplyCluster, obs observedWorkloads) {
	switch {
	case !specs.TLSEnabled(c):
		c.Status.Certificates, c.Status.NextCertificateExpiry = nil, nil
		conds := c.Status.Conditions
		meta.RemoveStatusCondition(&conds, implyv1alpha1.ConditionCertificatesReady)
		c.Status.Conditions = conds
	case obs.TLSProblem != nil:
		apply.SetCondition(c, implyv1alpha1.ConditionCertificatesReady, metav1.ConditionFalse, obs.TLSProblem.Reason, obs.TLSProblem.Message)
	case obs.TLS != nil:
		c.Status.Certificates = obs.TLS.Certificates
		c.Status.NextCertificateExpiry = nil
		for _, cert := range obs.TLS.Certificates {
			if c.Status.NextCertificateExpiry == nil || cert.NotAfter.Before(c.Status.NextCertificateExpiry) {
				c.Status.NextCertificateExpiry = cert.NotAfter.DeepCopy()
			}
		}
		if p := obs.TLS.Degraded; p != nil {
			apply.SetCondition(c, implyv1alpha1.ConditionCertificatesReady, metav1.ConditionFalse, p.Reason, p.Message)
			return
		}
		apply.SetCondition(c, implyv1alpha1.ConditionCertificatesReady, metav1.ConditionTrue, implyv1alpha1.ReasonCertificatesIssued,
			fmt.Sprintf("%d certificates issued; the next renewal is due %s", len(obs.TLS.Certificates), obs.TLS.NextRenewal.UTC().Format(time.RFC3339)))
	}
}

// setAuthStatus reports AuthReady: absent without security.auth, False with the problem, True
// once the credentials, policy and token are in place.
func setAuthStatus(c *implyv1alpha1.ImplyCluster, obs observedWorkloads) {
	switch {
	case !specs.AuthEnabled(c):
		conds := c.Status.Conditions
		meta.RemoveStatusCondition(&conds, implyv1alpha1.ConditionAuthReady)
		c.Status.Conditions = conds
	case obs.AuthProblem != nil:
		apply.SetCondition(c, implyv1alpha1.ConditionAuthReady, metav1.ConditionFalse, obs.AuthProblem.Reason, obs.AuthProblem.Message)
	case obs.Auth != nil && len(obs.Auth.Warnings) > 0:
		apply.SetCondition(c, implyv1alpha1.ConditionAuthReady, metav1.ConditionFalse, implyv1alpha1.ReasonPasswordRotationPending, strings.Join(obs.Auth.Warnings, "; "))
	case obs.Auth != nil:
		apply.SetCondition(c, implyv1alpha1.ConditionAuthReady, metav1.ConditionTrue, implyv1alpha1.ReasonAuthConfigured,
			"Druid basic security is configured; credentials and the agent token are mounted by reference")
	}
}

// nodeGroupStatuses reports each group of the spec, in spec order, and names the groups whose
// StatefulSet has not caught up with its spec or is not fully updated and ready.
func nodeGroupStatuses(c *implyv1alpha1.ImplyCluster, sets map[string]*appsv1.StatefulSet) ([]implyv1alpha1.NodeGroupStatus, []string) {
	statuses := make([]implyv1alpha1.NodeGroupStatus, 0, len(c.Spec.NodeGroups))
	var notReady []string
	for _, g := range c.Spec.NodeGroups {
		want := ptr.Deref(g.Replicas, 1)
		st := implyv1alpha1.NodeGroupStatus{Name: g.Name, Type: g.Type, Replicas: want}
		sts := sets[g.Name]
		if sts != nil {
			st.ReadyReplicas = sts.Status.ReadyReplicas
			st.UpdatedReplicas = sts.Status.UpdatedReplicas
			st.Revision = sts.Status.UpdateRevision
		}
		if !statefulSetReady(sts, want) {
			notReady = append(notReady, g.Name)
		}
		statuses = append(statuses, st)
	}
	sort.SliceStable(notReady, func(i, j int) bool { return notReady[i] < notReady[j] })
	return statuses, notReady
}

// statefulSetReady is true when the StatefulSet has observed its spec and every one of want
// replicas runs the current revision and is ready.
func statefulSetReady(sts *appsv1.StatefulSet, want int32) bool {
	if sts == nil || sts.Status.ObservedGeneration < sts.Generation {
		return false
	}
	s := sts.Status
	return s.Replicas == want && s.ReadyReplicas == want && s.UpdatedReplicas == want &&
		(want == 0 || s.CurrentRevision == s.UpdateRevision)
}

// managerReady is true when the manager Deployment has observed its spec, every replica is
// updated and available, and no old pod is still terminating.
func managerReady(c *implyv1alpha1.ImplyCluster, d *appsv1.Deployment) bool {
	if d == nil || d.Status.ObservedGeneration < d.Generation {
		return false
	}
	want := ptr.Deref(c.Spec.Manager.Replicas, 1)
	s := d.Status
	return s.Replicas == want && s.UpdatedReplicas == want && s.AvailableReplicas == want && noneTerminating(d)
}

// noneTerminating reports whether no pod of the Deployment is still shutting down. status.replicas
// leaves out terminating pods, but an old pod runs its old material until it is gone: a rollout
// (or a CA rotation's phase) that moved on meanwhile could drop the CA that pod's certificate
// chains to while it still talks to the others (found by the fault campaign, test/chaos).
func noneTerminating(d *appsv1.Deployment) bool {
	return ptr.Deref(d.Status.TerminatingReplicas, 0) == 0
}
