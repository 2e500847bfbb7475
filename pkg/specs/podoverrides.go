package specs

import (
	"fmt"
	"maps"
	"path"
	"reflect"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// Default termination grace periods (spec pod.terminationGracePeriodSeconds overrides them).
const (
	// DataGracePeriodSeconds is a data group's: a day, as Imply's Helm chart gives its agents,
	// so the ingestion tasks a middleManager runs can finish.
	DataGracePeriodSeconds = int64(86400)
	// DefaultGracePeriodSeconds is that of master and query groups and the manager.
	DefaultGracePeriodSeconds = int64(60)
)

// GroupPodField is the field path of a node group's pod overrides, for messages.
func GroupPodField(index int) string { return fmt.Sprintf("spec.nodeGroups[%d].pod", index) }

// ManagerPodField is the field path of the manager's pod overrides.
const ManagerPodField = "spec.manager.pod"

// ApplyGroupPodOverrides merges spec.nodeGroups[index].pod over a node group's StatefulSet
// built by BuildStatefulSet (and WithAgentToken), see ApplyPodOverrides.
func ApplyGroupPodOverrides(c *implyv1alpha1.ImplyCluster, index int, sts *appsv1.StatefulSet) []string {
	g := &c.Spec.NodeGroups[index]
	var claims []string
	for _, t := range sts.Spec.VolumeClaimTemplates {
		claims = append(claims, t.Name)
	}
	return ApplyPodOverrides(&sts.Spec.Template, podTarget{
		container: AgentContainerName, selector: SelectorLabels(c.Name, g.Name), claims: claims,
		security: &g.PodSecurity, field: GroupPodField(index),
	}, g.Pod)
}

// ApplyManagerPodOverrides merges spec.manager.pod over the manager Deployment built by
// BuildManagerDeployment (and WithSecurityPolicy, WithAgentToken), see ApplyPodOverrides.
func ApplyManagerPodOverrides(c *implyv1alpha1.ImplyCluster, d *appsv1.Deployment) []string {
	return ApplyPodOverrides(&d.Spec.Template, podTarget{
		container: ManagerContainerName, selector: SelectorLabels(c.Name, ComponentManager),
		security: &c.Spec.Manager.PodSecurity, field: ManagerPodField,
	}, c.Spec.Manager.Pod)
}

// podTarget is what ApplyPodOverrides needs to know about the pods it changes.
type podTarget struct {
	// container is the main container (agent or manager) that gets env and mounts.
	container string
	// selector are the workload's selector labels, the default labelSelector of a topology
	// spread constraint.
	selector map[string]string
	// claims are the names of the workload's volume claim templates, which are volumes too.
	claims []string
	// security are the pods' security settings, which user containers also get.
	security *implyv1alpha1.PodSecurity
	// field is the path of the overrides in the spec, for messages.
	field string
}

// ApplyPodOverrides merges o over a pod template the operator built, and returns what it
// refused, each naming the field: an env variable the operator sets (or a druid_* variable for
// a property it owns), a volume or container name it uses, a mount of one of its volumes, a
// mount path equal to, inside or above one of its own, a label or annotation it sets to another
// value. A refused item is left out; the caller applies nothing while any is refused. User init
// containers and sidecars get the pods' container securityContext (see ContainerSecurityContext)
// with their own merged over it; a topology spread constraint without labelSelector spreads
// the workload's own pods. With o nil, the template is left as built.
func ApplyPodOverrides(tmpl *corev1.PodTemplateSpec, t podTarget, o *implyv1alpha1.PodOverrides) []string {
	if o == nil {
		return nil
	}
	pod := &tmpl.Spec
	var refused []string
	refuse := func(format string, args ...any) { refused = append(refused, fmt.Sprintf(format, args...)) }

	tmpl.Labels, refused = mergeStrings(tmpl.Labels, o.Labels, t.field+".labels", refused)
	tmpl.Annotations, refused = mergeStrings(tmpl.Annotations, o.Annotations, t.field+".annotations", refused)
	if record := podMetadataRecord(o); record != "" {
		if tmpl.Annotations == nil {
			tmpl.Annotations = map[string]string{}
		}
		tmpl.Annotations[AnnotationPodMetadata] = record
	}
	if o.ServiceAccountName != "" {
		pod.ServiceAccountName = o.ServiceAccountName
	}
	if o.PriorityClassName != "" {
		pod.PriorityClassName = o.PriorityClassName
	}
	if o.TerminationGracePeriodSeconds != nil {
		pod.TerminationGracePeriodSeconds = ptr.To(*o.TerminationGracePeriodSeconds)
	}
	for i := range o.TopologySpreadConstraints {
		tsc := *o.TopologySpreadConstraints[i].DeepCopy()
		if tsc.LabelSelector == nil {
			tsc.LabelSelector = &metav1.LabelSelector{MatchLabels: copyMap(t.selector)}
		}
		pod.TopologySpreadConstraints = append(pod.TopologySpreadConstraints, tsc)
	}

	volumes := map[string]bool{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = true
	}
	for _, n := range t.claims {
		volumes[n] = true
	}
	for i := range o.Volumes {
		v := o.Volumes[i].Volume
		if volumes[v.Name] {
			refuse("%s.volumes[%d]: the operator uses the volume name %q", t.field, i, v.Name)
			continue
		}
		pod.Volumes = append(pod.Volumes, *v.DeepCopy())
	}

	names := map[string]bool{}
	for _, list := range [][]corev1.Container{pod.InitContainers, pod.Containers} {
		for _, ctr := range list {
			names[ctr.Name] = true
		}
	}
	addContainers := func(list []implyv1alpha1.PodContainer, kind string, to *[]corev1.Container) {
		for i := range list {
			ctr := *list[i].Container.DeepCopy()
			if names[ctr.Name] {
				refuse("%s.%s[%d]: the operator uses the container name %q", t.field, kind, i, ctr.Name)
				continue
			}
			ctr.SecurityContext = userContainerSecurityContext(t.security, ctr.SecurityContext)
			*to = append(*to, ctr)
		}
	}
	addContainers(o.InitContainers, "initContainers", &pod.InitContainers)

	if main := findContainer(pod, t.container); main != nil {
		refused = append(refused, mergeMainContainer(main, o, volumes, t.field)...)
	}
	addContainers(o.Sidecars, "sidecars", &pod.Containers)
	return refused
}

// mergeMainContainer adds o's env, envFrom and mounts to the main container and returns what it
// refused. ownedVolumes are the volumes the operator put in the pod.
func mergeMainContainer(main *corev1.Container, o *implyv1alpha1.PodOverrides, ownedVolumes map[string]bool, field string) []string {
	var refused []string
	owned := map[string]bool{}
	for _, e := range main.Env {
		owned[e.Name] = true
	}
	for i, e := range o.Env {
		switch {
		case owned[e.Name]:
			refused = append(refused, fmt.Sprintf("%s.env[%d]: the operator sets %s", field, i, e.Name))
		case ownsDruidEnv(e.Name):
			refused = append(refused, fmt.Sprintf("%s.env[%d]: %s would set a Druid property the operator owns", field, i, e.Name))
		default:
			main.Env = append(main.Env, *e.DeepCopy())
		}
	}
	for i := range o.EnvFrom {
		main.EnvFrom = append(main.EnvFrom, *o.EnvFrom[i].DeepCopy())
	}
	ownedPaths := make([]string, 0, len(main.VolumeMounts))
	for _, m := range main.VolumeMounts {
		ownedPaths = append(ownedPaths, m.MountPath)
	}
	for i, m := range o.VolumeMounts {
		if ownedVolumes[m.Name] {
			refused = append(refused, fmt.Sprintf("%s.volumeMounts[%d]: the volume %q is the operator's", field, i, m.Name))
			continue
		}
		if p, clash := pathClash(m.MountPath, ownedPaths); clash {
			refused = append(refused, fmt.Sprintf("%s.volumeMounts[%d]: %s clashes with %s, which the operator mounts", field, i, m.MountPath, p))
			continue
		}
		main.VolumeMounts = append(main.VolumeMounts, *m.DeepCopy())
	}
	return refused
}

// AnnotationPodMetadata records on a pod template the keys of the labels and annotations the
// spec's pod settings added, so that removing one from the spec changes the template (apply
// compares it) and the pods lose it; without it an annotation others add to a template is
// indistinguishable from one the user removed.
const AnnotationPodMetadata = "imply.operator.dev/pod-metadata"

// podMetadataRecord is the value of AnnotationPodMetadata: "labels=k1,k2;annotations=k3", the
// keys sorted; empty when o adds neither.
func podMetadataRecord(o *implyv1alpha1.PodOverrides) string {
	if len(o.Labels) == 0 && len(o.Annotations) == 0 {
		return ""
	}
	return "labels=" + strings.Join(slices.Sorted(maps.Keys(o.Labels)), ",") +
		";annotations=" + strings.Join(slices.Sorted(maps.Keys(o.Annotations)), ",")
}

// mergeStrings adds add to base (a copy) and returns it with what it refused: keys base already
// has with another value.
func mergeStrings(base, add map[string]string, field string, refused []string) (map[string]string, []string) {
	if len(add) == 0 {
		return base, refused
	}
	out := copyMap(base)
	if out == nil {
		out = map[string]string{}
	}
	for _, k := range slices.Sorted(maps.Keys(add)) {
		if have, ok := out[k]; ok && have != add[k] {
			refused = append(refused, fmt.Sprintf("%s[%s]: the operator sets this key", field, k))
			continue
		}
		out[k] = add[k]
	}
	return out, refused
}

// pathClash reports the owned mount path that p equals, lies inside of, or contains.
func pathClash(p string, owned []string) (string, bool) {
	p = path.Clean(p)
	for _, o := range owned {
		o = path.Clean(o)
		if p == o || strings.HasPrefix(p, o+"/") || strings.HasPrefix(o, p+"/") || p == "/" {
			return o, true
		}
	}
	return "", false
}

// ownsDruidEnv reports whether an environment variable would set a Druid property the operator
// owns: Druid's container start script turns druid_a_b into the property druid.a.b.
func ownsDruidEnv(name string) bool {
	if !strings.HasPrefix(name, "druid_") {
		return false
	}
	return IsOperatorOwnedKey(strings.ReplaceAll(name, "_", "."))
}

// userContainerSecurityContext is the pods' container securityContext with the container's own
// merged over it.
func userContainerSecurityContext(ps *implyv1alpha1.PodSecurity, own *corev1.SecurityContext) *corev1.SecurityContext {
	sc := ContainerSecurityContext(ps)
	if own != nil {
		mergeOver(reflect.ValueOf(sc).Elem(), reflect.ValueOf(own.DeepCopy()).Elem())
	}
	return sc
}

func findContainer(pod *corev1.PodSpec, name string) *corev1.Container {
	for i := range pod.Containers {
		if pod.Containers[i].Name == name {
			return &pod.Containers[i]
		}
	}
	return nil
}

// PodOverrideConflicts returns what ApplyGroupPodOverrides and ApplyManagerPodOverrides would
// refuse for c, checked against everything the operator may put in the pods: the workloads as
// built, with the agent token and the security policy mounted whenever the spec asks for them.
// The controller checks it before changing anything live.
func PodOverrideConflicts(c *implyv1alpha1.ImplyCluster) []string {
	withToken := func(*corev1.PodSpec) {}
	if c.Spec.Security != nil && c.Spec.Security.Auth != nil && c.Spec.Security.Auth.TokenRef != nil {
		name := c.Spec.Security.Auth.TokenRef.Name
		withToken = func(pod *corev1.PodSpec) { WithAgentToken(pod, AuthTokenSecretName(name), AgentTokenFile) }
	}
	var refused []string
	for i := range c.Spec.NodeGroups {
		if c.Spec.NodeGroups[i].Pod == nil {
			continue
		}
		sts := BuildStatefulSet(c, &c.Spec.NodeGroups[i], Revisions{})
		withToken(&sts.Spec.Template.Spec)
		refused = append(refused, ApplyGroupPodOverrides(c, i, sts)...)
	}
	if c.Spec.Manager.Pod != nil {
		d := BuildManagerDeployment(c, Revisions{})
		WithSecurityPolicy(d, c)
		withToken(&d.Spec.Template.Spec)
		refused = append(refused, ApplyManagerPodOverrides(c, d)...)
	}
	return refused
}
