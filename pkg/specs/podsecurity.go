package specs

import (
	"reflect"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// DefaultPodUserID is the user, group and fsGroup the operator's pods run as unless the spec
// says otherwise: the uid and gid of the druid user of Apache Druid's own image. Imply does not
// document the user of its images (docs/pod-security.md).
const DefaultPodUserID = int64(1000)

// secretFileMode is the mode of every file of a Secret volume: readable by the owner and by the
// pod's fsGroup, which the kubelet makes the files' group, and by no one else.
const secretFileMode = int32(0o440)

// DefaultPodSecurityContext is the pod securityContext the operator's pods get unless the spec
// changes it: non-root user, group and fsGroup DefaultPodUserID (so the containers can read
// their 0440 Secret files and write their volumes), ownership changed only when the volume's
// root does not match (a large segment cache is not walked at every start), and the
// RuntimeDefault seccomp profile.
func DefaultPodSecurityContext() *corev1.PodSecurityContext {
	return &corev1.PodSecurityContext{
		RunAsNonRoot:        ptr.To(true),
		RunAsUser:           ptr.To(DefaultPodUserID),
		RunAsGroup:          ptr.To(DefaultPodUserID),
		FSGroup:             ptr.To(DefaultPodUserID),
		FSGroupChangePolicy: ptr.To(corev1.FSGroupChangeOnRootMismatch),
		SeccompProfile:      &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// DefaultContainerSecurityContext is the securityContext every container and init container
// gets unless the spec changes it: no privilege escalation and no capabilities.
func DefaultContainerSecurityContext() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr.To(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
}

// PodSecurityContext is DefaultPodSecurityContext with the spec's podSecurityContext merged over
// it (see mergeOver).
func PodSecurityContext(ps *implyv1alpha1.PodSecurity) *corev1.PodSecurityContext {
	sc := DefaultPodSecurityContext()
	if ps.PodSecurityContext != nil {
		mergeOver(reflect.ValueOf(sc).Elem(), reflect.ValueOf(ps.PodSecurityContext.DeepCopy()).Elem())
	}
	return sc
}

// ContainerSecurityContext is DefaultContainerSecurityContext with the spec's securityContext
// merged over it (see mergeOver).
func ContainerSecurityContext(ps *implyv1alpha1.PodSecurity) *corev1.SecurityContext {
	sc := DefaultContainerSecurityContext()
	if ps.SecurityContext != nil {
		mergeOver(reflect.ValueOf(sc).Elem(), reflect.ValueOf(ps.SecurityContext.DeepCopy()).Elem())
	}
	return sc
}

// applyPodSecurity gives pod the security settings of ps over the defaults: the pod
// securityContext, a securityContext on every container and init container, and the
// service-account token mounted only when ps asks for it.
func applyPodSecurity(pod *corev1.PodSpec, ps *implyv1alpha1.PodSecurity) {
	pod.SecurityContext = PodSecurityContext(ps)
	pod.AutomountServiceAccountToken = ptr.To(ps.AutomountServiceAccountToken != nil && *ps.AutomountServiceAccountToken)
	for i := range pod.InitContainers {
		pod.InitContainers[i].SecurityContext = ContainerSecurityContext(ps)
	}
	for i := range pod.Containers {
		pod.Containers[i].SecurityContext = ContainerSecurityContext(ps)
	}
}

// mergeOver sets every field of the struct dst that src sets, as a JSON merge patch of src
// would: a nil pointer, nil slice, nil map or zero value in src leaves dst's field alone; a
// pointer to a struct that dst also has is merged field by field (capabilities, seccompProfile,
// seLinuxOptions); anything else, lists included, replaces dst's. src must not be shared: its
// values are moved into dst.
func mergeOver(dst, src reflect.Value) {
	for i := 0; i < src.NumField(); i++ {
		s, d := src.Field(i), dst.Field(i)
		switch {
		case s.IsZero():
		case s.Kind() == reflect.Pointer && s.Elem().Kind() == reflect.Struct && !d.IsNil():
			mergeOver(d.Elem(), s.Elem())
		default:
			d.Set(s)
		}
	}
}
