package implycluster

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/apply"
	"github.com/imply-operator/imply-operator/pkg/rollout"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// Annotations on the StatefulSets and the manager Deployment (their metadata, not the pod
// template) that keep the rollout's state in the API, so a restarted operator resumes exactly.
const (
	// annotationRolloutStarted is when the operator last changed the workload's pod template
	// (RFC 3339), emptied once the workload has settled. It drives the progress deadline.
	annotationRolloutStarted = "imply.operator.dev/rollout-started"
	// annotationCertificateNotAfter is the notAfter (RFC 3339) of the leaf certificate the live
	// pod template mounts: the certificate the pods run even after its Secret was renewed.
	annotationCertificateNotAfter = "imply.operator.dev/certificate-not-after"
)

// rolloutPlan is what planRollout decided for one reconcile.
type rolloutPlan struct {
	// Input is what Decide was given.
	Input rollout.Input
	// Decision is rollout.Decide's answer.
	Decision rollout.Decision
	// Trigger is why the wanted pod templates differ from the live ones.
	Trigger rollout.Trigger
	// WindowsError says why spec.rollout.maintenanceWindows cannot be used, if so.
	WindowsError error
}

// rolloutStep is one step of the rollout with its wanted and live workload.
type rolloutStep struct {
	rollout.StepState
	// wanted is the desired StatefulSet or Deployment, rewritten in place by planRollout.
	wanted client.Object
	// live is the workload as it is, nil when it does not exist yet.
	live client.Object
	// trigger is why wanted's template differs from live's (0 when it does not).
	trigger rollout.Trigger
	// notAfter is the notAfter of the leaf certificate wanted mounts, zero without TLS.
	notAfter time.Time
}

// planRollout gates pod-template changes: it reads the live workloads, asks rollout.Decide which
// step may change its template now, and rewrites desired so that every other existing step keeps
// its live template. Everything else (replicas, Services, ConfigMaps, Secrets) is still applied
// at once. The step allowed to roll is stamped with annotationRolloutStarted, which is emptied
// once its workload has settled. Nothing is remembered between reconciles: the wanted templates
// are rebuilt and the live ones read every time.
func (r *Reconciler) planRollout(ctx context.Context, c *implyv1alpha1.ImplyCluster, desired []client.Object, tls *tlsMaterial) (*rolloutPlan, error) {
	steps, err := r.rolloutSteps(ctx, c, desired, tls)
	if err != nil {
		return nil, err
	}
	now := r.Clock.Now()
	spec := implyv1alpha1.RolloutSpec{}
	if c.Spec.Rollout != nil {
		spec = *c.Spec.Rollout
	}
	windows, windowsErr := rollout.ParseWindows(spec.MaintenanceWindows)
	in := rollout.Input{
		Now: now, Spec: spec, Windows: windows, ProgressDeadline: r.ProgressDeadline, Previous: c.Status.Rollout,
	}
	for _, s := range steps {
		in.Steps = append(in.Steps, s.StepState)
		if s.AppliedRevision != s.DesiredRevision {
			in.Trigger |= s.trigger
		}
		if expiry := liveCertificateExpiry(s); !expiry.IsZero() && (in.EarliestCertExpiry == nil || expiry.Before(*in.EarliestCertExpiry)) {
			in.EarliestCertExpiry = &expiry
		}
	}
	plan := &rolloutPlan{Input: in, Decision: rollout.Decide(in), Trigger: in.Trigger, WindowsError: windowsErr}
	apply := map[string]bool{}
	for _, name := range plan.Decision.Apply {
		apply[name] = true
	}
	for _, s := range steps {
		holdOrRoll(s, apply[s.Name], now)
	}
	return plan, nil
}

// holdOrRoll rewrites the wanted workload of s: a step that may roll keeps its wanted template
// and is stamped with the time; an existing step that may not keeps its live template.
func holdOrRoll(s rolloutStep, roll bool, now time.Time) {
	annotations := map[string]string{}
	switch {
	case s.live == nil:
		// Created with its wanted template: no pod restarts.
	case roll:
		annotations[annotationRolloutStarted] = now.UTC().Format(time.RFC3339)
	case s.AppliedRevision != s.DesiredRevision:
		setPodTemplate(s.wanted, podTemplate(s.live))
		if v, ok := s.live.GetAnnotations()[annotationCertificateNotAfter]; ok {
			annotations[annotationCertificateNotAfter] = v
		}
	}
	if s.live != nil && s.NotReadySince != nil && settled(s.StepState) && !roll {
		annotations[annotationRolloutStarted] = ""
	}
	if _, kept := annotations[annotationCertificateNotAfter]; !kept && !s.notAfter.IsZero() {
		annotations[annotationCertificateNotAfter] = s.notAfter.UTC().Format(time.RFC3339)
	}
	if len(annotations) == 0 {
		return
	}
	merged := s.wanted.GetAnnotations()
	if merged == nil {
		merged = map[string]string{}
	}
	for k, v := range annotations {
		merged[k] = v
	}
	s.wanted.SetAnnotations(merged)
}

// settled reports whether the step's workload has every replica updated and ready and its
// revisions equal, whatever template it runs.
func settled(s rollout.StepState) bool {
	return s.ObservedGeneration >= s.Generation && s.UpdatedReplicas == s.Replicas &&
		s.ReadyReplicas == s.Replicas && s.CurrentRevision == s.UpdateRevision
}

// liveCertificateExpiry is the notAfter of the certificate the step's pods run: recorded on the
// live workload, else (a workload written before this was recorded, or not created yet) that of
// the certificate it is about to mount.
func liveCertificateExpiry(s rolloutStep) time.Time {
	if s.live != nil {
		if v := s.live.GetAnnotations()[annotationCertificateNotAfter]; v != "" {
			if t, err := time.Parse(time.RFC3339, v); err == nil {
				return t
			}
		}
	}
	return s.notAfter
}

// rolloutSteps pairs each step of rollout.Order with its wanted workload in desired and its live
// one, and observes its state.
func (r *Reconciler) rolloutSteps(ctx context.Context, c *implyv1alpha1.ImplyCluster, desired []client.Object, tls *tlsMaterial) ([]rolloutStep, error) {
	byName := map[string]client.Object{}
	for _, obj := range desired {
		switch obj.(type) {
		case *appsv1.StatefulSet, *appsv1.Deployment:
			byName[obj.GetName()] = obj
		}
	}
	notAfter := map[string]time.Time{}
	if tls != nil {
		for _, cert := range tls.Certificates {
			if cert.NotAfter != nil {
				notAfter[cert.SecretName] = cert.NotAfter.Time
			}
		}
	}
	var steps []rolloutStep
	for _, step := range rollout.Order(c.Spec.NodeGroups) {
		name, secret := specs.GroupName(c.Name, step.Name), specs.GroupTLSSecretName(c.Name, step.Name)
		var live client.Object = &appsv1.StatefulSet{}
		if step.Type == rollout.ManagerStepType {
			name, secret, live = specs.ManagerName(c.Name), specs.ManagerTLSSecretName(c.Name), &appsv1.Deployment{}
		}
		wanted := byName[name]
		if wanted == nil {
			continue
		}
		if err := workloads(ctx, r.Client).Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: name}, live); err != nil {
			if !apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("while reading %s for the rollout: %w", name, err)
			}
			live = nil
		} else if !metav1.IsControlledBy(live, c) {
			live = nil // apply refuses it; nothing to gate
		} else if err := r.withPodSpec(ctx, wanted, live); err != nil {
			return nil, err
		}
		s := rolloutStep{wanted: wanted, live: live, notAfter: notAfter[secret]}
		s.StepState = observeStep(step.Name, wanted, live)
		if live != nil && s.AppliedRevision != s.DesiredRevision {
			s.trigger = templateTrigger(podTemplate(wanted), podTemplate(live))
		}
		steps = append(steps, s)
	}
	return steps, nil
}

// Revisions in rollout.StepState: the templates are compared as apply compares them, so a step
// is pending exactly when apply would patch its template.
const (
	revisionWanted = "wanted"
	revisionOther  = "other"
)

// observeStep reads a step's state from its live workload.
func observeStep(name string, wanted, live client.Object) rollout.StepState {
	s := rollout.StepState{Name: name, DesiredRevision: revisionWanted}
	switch w := wanted.(type) {
	case *appsv1.StatefulSet:
		s.Replicas = ptr.Deref(w.Spec.Replicas, 1)
	case *appsv1.Deployment:
		s.Replicas = ptr.Deref(w.Spec.Replicas, 1)
	}
	if live == nil {
		return s
	}
	s.AppliedRevision = revisionOther
	if apply.PodTemplateDerives(podTemplate(wanted), podTemplate(live)) {
		s.AppliedRevision = revisionWanted
	}
	s.Generation = live.GetGeneration()
	switch l := live.(type) {
	case *appsv1.StatefulSet:
		st := l.Status
		s.ObservedGeneration, s.ReadyReplicas, s.UpdatedReplicas = st.ObservedGeneration, st.ReadyReplicas, st.UpdatedReplicas
		s.CurrentRevision, s.UpdateRevision = st.CurrentRevision, st.UpdateRevision
	case *appsv1.Deployment:
		st := l.Status
		s.ObservedGeneration, s.ReadyReplicas, s.UpdatedReplicas = st.ObservedGeneration, st.ReadyReplicas, st.UpdatedReplicas
		// A Deployment has no revisions in its status: it is on one revision once no pod of an
		// older ReplicaSet is left (status.replicas counts them all), none is still terminating,
		// and every pod is available.
		s.CurrentRevision, s.UpdateRevision = "old", "new"
		if st.Replicas == s.Replicas && st.UpdatedReplicas == s.Replicas && st.AvailableReplicas == s.Replicas && noneTerminating(l) {
			s.CurrentRevision = "new"
		}
	}
	if v := live.GetAnnotations()[annotationRolloutStarted]; v != "" {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			s.NotReadySince = &t
		}
	}
	return s
}

// templateTrigger classifies how wanted differs from live (see rollout.TriggerOf).
func templateTrigger(wanted, live corev1.PodTemplateSpec) rollout.Trigger {
	stripped := *wanted.DeepCopy()
	annotations := map[string]string{}
	for k, v := range wanted.Annotations {
		annotations[k] = v
	}
	for _, k := range rollout.TriggerAnnotations {
		delete(annotations, k)
		if v, ok := live.Annotations[k]; ok {
			annotations[k] = v
		}
	}
	stripped.Annotations = annotations
	return rollout.TriggerOf(wanted.Annotations, live.Annotations, !apply.PodTemplateDerives(stripped, live))
}

// podTemplate returns the pod template of a StatefulSet or Deployment.
func podTemplate(obj client.Object) corev1.PodTemplateSpec {
	switch o := obj.(type) {
	case *appsv1.StatefulSet:
		return o.Spec.Template
	case *appsv1.Deployment:
		return o.Spec.Template
	}
	return corev1.PodTemplateSpec{}
}

// setPodTemplate replaces the pod template of a StatefulSet or Deployment with a copy of t.
func setPodTemplate(obj client.Object, t corev1.PodTemplateSpec) {
	switch o := obj.(type) {
	case *appsv1.StatefulSet:
		o.Spec.Template = *t.DeepCopy()
	case *appsv1.Deployment:
		o.Spec.Template = *t.DeepCopy()
	}
}
