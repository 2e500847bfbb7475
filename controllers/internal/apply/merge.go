package apply

import (
	"fmt"
	"maps"
	"slices"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/cache"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// mergeOwnedLabels sets desired's labels on live and says whether any changed.
func mergeOwnedLabels(desired, live client.Object) bool {
	changed := false
	labels := live.GetLabels()
	for k, v := range desired.GetLabels() {
		if cur, ok := labels[k]; !ok || cur != v {
			if labels == nil {
				labels = map[string]string{}
			}
			labels[k] = v
			changed = true
		}
	}
	live.SetLabels(labels)
	return changed
}

// mergeOwnedMetadata copies desired's labels and annotations into live, makes owner its
// controller (or, when retained, removes every reference to owner), and says whether that
// changed anything. Labels and annotations others add are kept, but for the retained-for
// annotation, which follows desired.
func mergeOwnedMetadata(owner, desired, live client.Object, retained bool) bool {
	changed := mergeOwnedLabels(desired, live)
	annotations := live.GetAnnotations()
	for k, v := range desired.GetAnnotations() {
		if cur, ok := annotations[k]; !ok || cur != v {
			if annotations == nil {
				annotations = map[string]string{}
			}
			annotations[k] = v
			changed = true
		}
	}
	if _, ok := annotations[implyv1alpha1.AnnotationRetainedFor]; ok && !retained {
		delete(annotations, implyv1alpha1.AnnotationRetainedFor)
		changed = true
	}
	live.SetAnnotations(annotations)
	if retained {
		var refs []metav1.OwnerReference
		for _, ref := range live.GetOwnerReferences() {
			if ref.UID != owner.GetUID() {
				refs = append(refs, ref)
			}
		}
		if len(refs) != len(live.GetOwnerReferences()) {
			live.SetOwnerReferences(refs)
			changed = true
		}
		return changed
	}
	want := metav1.GetControllerOf(desired)
	if have := metav1.GetControllerOf(live); want != nil && (have == nil || have.UID != want.UID) {
		refs := []metav1.OwnerReference{*want}
		for _, ref := range live.GetOwnerReferences() {
			// A plain reference to the same owner (left by the cert-manager backend, see
			// ownWithoutControlling) gives way to the controller reference.
			if (ref.Controller == nil || !*ref.Controller) && ref.UID != want.UID {
				refs = append(refs, ref)
			}
		}
		live.SetOwnerReferences(refs)
		changed = true
	}
	return changed
}

// derives reports whether every field set in desired has the same value in live; fields desired
// leaves empty are left to apiserver defaults and other controllers.
func derives(desired, live any) bool {
	return equality.Semantic.DeepDerivative(desired, live)
}

// mergeOwnedSpec copies the fields the operator owns from desired into live, for each kind it
// manages, and says whether live differed. Immutable fields (selectors, claim templates) are not
// touched.
func mergeOwnedSpec(desired, live client.Object) (bool, error) {
	switch d := desired.(type) {
	case *corev1.ConfigMap:
		return mergeConfigMap(d, live.(*corev1.ConfigMap)), nil
	case *corev1.Secret:
		return mergeSecret(d, live.(*corev1.Secret)), nil
	case *corev1.Service:
		return mergeService(d, live.(*corev1.Service)), nil
	case *appsv1.StatefulSet:
		return mergeStatefulSet(d, live.(*appsv1.StatefulSet)), nil
	case *appsv1.Deployment:
		return mergeDeployment(d, live.(*appsv1.Deployment)), nil
	case *policyv1.PodDisruptionBudget:
		return mergePodDisruptionBudget(d, live.(*policyv1.PodDisruptionBudget)), nil
	case *cmv1.Certificate:
		return mergeCertificate(d, live.(*cmv1.Certificate)), nil
	case *networkingv1.NetworkPolicy:
		return mergeNetworkPolicy(d, live.(*networkingv1.NetworkPolicy)), nil
	case *networkingv1.Ingress:
		return mergeIngress(d, live.(*networkingv1.Ingress)), nil
	default:
		return false, fmt.Errorf("apply does not know how to compare %T", desired)
	}
}

// mergeConfigMap copies the fields of a ConfigMap the operator owns and says whether they differed.
func mergeConfigMap(d, l *corev1.ConfigMap) bool {
	if cache.ConfigDataMatches(d.Data, l.Data) && equality.Semantic.DeepEqual(d.BinaryData, l.BinaryData) {
		return false
	}
	l.Data, l.BinaryData = d.Data, d.BinaryData
	return true
}

// mergeSecret copies the fields of a Secret the operator owns and says whether they differed.
func mergeSecret(d, l *corev1.Secret) bool {
	want := withUnheldValuesKept(d.Data, l.Data)
	if equality.Semantic.DeepEqual(want, l.Data) {
		return false
	}
	l.Data, l.StringData = want, nil
	return true
}

// withUnheldValuesKept returns desired with each key that has no value (nil) given live's value,
// or left out when live has none. A nil value is one the cache does not hold (the PKCS#12
// files, see cache.Options) carried into desired from the cached Secret: when live is the
// apiserver's copy (Apply read it uncached), writing it would erase the real bytes. desired is
// not modified.
func withUnheldValuesKept(desired, live map[string][]byte) map[string][]byte {
	out, copied := desired, false
	for k, v := range desired {
		if v != nil {
			continue
		}
		if !copied {
			out, copied = maps.Clone(desired), true
		}
		if lv, ok := live[k]; ok {
			out[k] = lv
		} else {
			delete(out, k)
		}
	}
	return out
}

// mergeService copies the fields of a Service the operator owns and says whether they differed.
// The node ports the apiserver allocated to a NodePort or LoadBalancer Service are kept.
func mergeService(d, l *corev1.Service) bool {
	d = d.DeepCopy()
	if d.Spec.Type == corev1.ServiceTypeNodePort || d.Spec.Type == corev1.ServiceTypeLoadBalancer {
		keepAllocatedNodePorts(d.Spec.Ports, l.Spec.Ports)
	}
	if derives(d.Spec.Ports, l.Spec.Ports) && len(d.Spec.Ports) == len(l.Spec.Ports) &&
		equality.Semantic.DeepEqual(d.Spec.Selector, l.Spec.Selector) &&
		d.Spec.PublishNotReadyAddresses == l.Spec.PublishNotReadyAddresses &&
		derives(d.Spec.Type, l.Spec.Type) && slices.Equal(d.Spec.LoadBalancerSourceRanges, l.Spec.LoadBalancerSourceRanges) {
		return false
	}
	l.Spec.Ports, l.Spec.Selector = d.Spec.Ports, d.Spec.Selector
	l.Spec.PublishNotReadyAddresses = d.Spec.PublishNotReadyAddresses
	l.Spec.LoadBalancerSourceRanges = d.Spec.LoadBalancerSourceRanges
	if d.Spec.Type != "" {
		l.Spec.Type = d.Spec.Type
	}
	return true
}

// keepAllocatedNodePorts gives each desired port without a node port the one the live port of
// the same name and number has.
func keepAllocatedNodePorts(desired, live []corev1.ServicePort) {
	for i := range desired {
		if desired[i].NodePort != 0 {
			continue
		}
		for _, lp := range live {
			if lp.Name == desired[i].Name && lp.Port == desired[i].Port {
				desired[i].NodePort = lp.NodePort
			}
		}
	}
}

// mergeStatefulSet copies the fields of a StatefulSet the operator owns and says whether they differed.
func mergeStatefulSet(d, l *appsv1.StatefulSet) bool {
	if derives(d.Spec.Replicas, l.Spec.Replicas) && PodTemplateDerives(d.Spec.Template, l.Spec.Template) &&
		derives(d.Spec.UpdateStrategy, l.Spec.UpdateStrategy) && d.Spec.MinReadySeconds == l.Spec.MinReadySeconds {
		return false
	}
	l.Spec.Replicas, l.Spec.Template = d.Spec.Replicas, d.Spec.Template
	l.Spec.UpdateStrategy, l.Spec.MinReadySeconds = d.Spec.UpdateStrategy, d.Spec.MinReadySeconds
	return true
}

// mergeDeployment copies the fields of a Deployment the operator owns and says whether they differed.
func mergeDeployment(d, l *appsv1.Deployment) bool {
	if derives(d.Spec.Replicas, l.Spec.Replicas) && PodTemplateDerives(d.Spec.Template, l.Spec.Template) &&
		derives(d.Spec.Strategy, l.Spec.Strategy) {
		return false
	}
	l.Spec.Replicas, l.Spec.Template = d.Spec.Replicas, d.Spec.Template
	if d.Spec.Strategy.Type != "" {
		l.Spec.Strategy = d.Spec.Strategy
	}
	return true
}

// mergePodDisruptionBudget copies the fields of a PodDisruptionBudget the operator owns and says whether they differed.
func mergePodDisruptionBudget(d, l *policyv1.PodDisruptionBudget) bool {
	if equality.Semantic.DeepEqual(d.Spec.MaxUnavailable, l.Spec.MaxUnavailable) &&
		equality.Semantic.DeepEqual(d.Spec.MinAvailable, l.Spec.MinAvailable) &&
		equality.Semantic.DeepEqual(d.Spec.Selector, l.Spec.Selector) {
		return false
	}
	l.Spec.MaxUnavailable, l.Spec.MinAvailable, l.Spec.Selector = d.Spec.MaxUnavailable, d.Spec.MinAvailable, d.Spec.Selector
	return true
}

// mergeCertificate copies the fields of a Certificate the operator owns and says whether they differed.
func mergeCertificate(d, l *cmv1.Certificate) bool {
	if derives(d.Spec, l.Spec) && len(d.Spec.DNSNames) == len(l.Spec.DNSNames) && len(d.Spec.Usages) == len(l.Spec.Usages) {
		return false
	}
	l.Spec = d.Spec
	return true
}

// mergeNetworkPolicy copies a NetworkPolicy's spec, which the operator owns whole, and says
// whether it differed (the builder sets what the apiserver would default).
func mergeNetworkPolicy(d, l *networkingv1.NetworkPolicy) bool {
	if derives(d.Spec, l.Spec) && derives(l.Spec, d.Spec) {
		return false
	}
	l.Spec = d.Spec
	return true
}

// mergeIngress copies an Ingress's spec, which the operator owns whole, and says whether it
// differed.
func mergeIngress(d, l *networkingv1.Ingress) bool {
	if derives(d.Spec, l.Spec) && derives(l.Spec, d.Spec) {
		return false
	}
	l.Spec = d.Spec
	return true
}

// PodTemplateDerives compares pod templates field by field as derives does, and also requires
// the same containers, env and volumes in number, so an entry added by hand is reverted too; the
// same labels, service account, priority class and number of topology spread constraints; and
// the same record of the user's pod labels and annotations (specs.AnnotationPodMetadata), so
// one removed from the spec is removed from the pods.
func PodTemplateDerives(desired, live corev1.PodTemplateSpec) bool {
	if !derives(desired, live) || !maps.Equal(desired.Labels, live.Labels) ||
		desired.Annotations[specs.AnnotationPodMetadata] != live.Annotations[specs.AnnotationPodMetadata] {
		return false
	}
	d, l := desired.Spec, live.Spec
	if len(d.Containers) != len(l.Containers) || len(d.InitContainers) != len(l.InitContainers) ||
		len(d.Volumes) != len(l.Volumes) || len(d.Tolerations) != len(l.Tolerations) ||
		len(d.TopologySpreadConstraints) != len(l.TopologySpreadConstraints) ||
		d.ServiceAccountName != l.ServiceAccountName || d.PriorityClassName != l.PriorityClassName {
		return false
	}
	for i := range d.Containers {
		if len(d.Containers[i].Env) != len(l.Containers[i].Env) ||
			len(d.Containers[i].EnvFrom) != len(l.Containers[i].EnvFrom) ||
			len(d.Containers[i].VolumeMounts) != len(l.Containers[i].VolumeMounts) ||
			len(d.Containers[i].Ports) != len(l.Containers[i].Ports) {
			return false
		}
	}
	return true
}
