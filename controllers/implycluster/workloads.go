package implycluster

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// desiredWorkloads builds every object an ImplyCluster owns in this capability: the common and
// per-group configuration, one StatefulSet with its Services and PodDisruptionBudget per group,
// and the manager with its Services. It also returns the user runtime properties it ignored
// because the operator owns them. liveCommon is the common ConfigMap as it is (nil for a new
// cluster): a running cluster keeps its ZooKeeper base path.
//
// With TLS, the certificate material comes first, so pods never start without it, and each
// workload's pod template carries the tls-revision of what it mounts.
//
// With auth, the credentials, the rendered policy and the agent token are mounted by reference,
// and every pod template carries the auth-revision of them. Every pod template carries the
// cluster's restart annotation, so a new value rolls them (in order, see planRollout), and the
// secrets-revision of the user's Secrets its pods read (see podSecretsPhase). The manager's
// imply_defaults_zkBasePath is the base path Druid runs under.
func desiredWorkloads(c *implyv1alpha1.ImplyCluster, tls *tlsMaterial, metadataTLS *metadataMaterial, auth *authMaterial, secrets podSecretRevisions, liveCommon *corev1.ConfigMap) ([]client.Object, []string) {
	var objs []client.Object
	tlsRevision := func(string) string { return "" }
	if tls != nil {
		objs = append(objs, tls.Objects...)
		tlsRevision = func(key string) string { return tls.Revisions[key] }
	}
	metadataRevision := &metadataMaterial{}
	if metadataTLS != nil {
		objs = append(objs, metadataTLS.Objects...)
		metadataRevision = metadataTLS
	}
	authRevision, internalUser := "", ""
	withToken := func(*corev1.PodSpec) {}
	if auth != nil {
		objs = append(objs, auth.Objects...)
		authRevision, internalUser = auth.Revision, auth.InternalClientUser
		if auth.TokenSecret != "" {
			withToken = func(pod *corev1.PodSpec) { specs.WithAgentToken(pod, auth.TokenSecret, auth.TokenKey) }
		}
	}
	restart := c.Annotations[implyv1alpha1.AnnotationRestart]
	common, ignored := specs.BuildCommonConfigMap(c, specs.WithInternalClientUser(internalUser), specs.WithLiveCommonConfig(liveCommon))
	objs = append(objs, common)
	for i := range c.Spec.NodeGroups {
		g := &c.Spec.NodeGroups[i]
		groupConfig, groupIgnored := specs.BuildGroupConfigMap(c, g)
		ignored = append(ignored, groupIgnored...)
		rev := specs.Revisions{Config: specs.ConfigRevision(common, groupConfig), TLS: tlsRevision(g.Name), Auth: authRevision, Restart: restart,
			MetadataTLS: metadataRevision.Druid, Secrets: secrets.Agents}
		sts := specs.BuildStatefulSet(c, g, rev)
		withToken(&sts.Spec.Template.Spec)
		specs.ApplyGroupPodOverrides(c, i, sts) // refusals stop the reconcile earlier (podSettingsPhase)
		objs = append(objs,
			groupConfig,
			specs.BuildHeadlessService(c, g),
			specs.BuildClientService(c, g),
			specs.BuildPodDisruptionBudget(c, g),
			sts,
		)
	}
	managerRev := specs.Revisions{TLS: tlsRevision(specs.ComponentManager), Auth: authRevision, Restart: restart,
		MetadataTLS: metadataRevision.Manager, Secrets: secrets.Manager}
	var policy *corev1.ConfigMap
	if auth != nil {
		for _, obj := range auth.Objects {
			if cm, ok := obj.(*corev1.ConfigMap); ok && cm.Name == specs.SecurityPolicyConfigName(c.Name) {
				policy = cm
				managerRev.Config = specs.ConfigRevision(cm)
			}
		}
	}
	manager := specs.BuildManagerDeployment(c, managerRev, specs.WithZooKeeperBasePath(specs.ZooKeeperBasePath(c, liveCommon)))
	if policy != nil {
		specs.WithSecurityPolicy(manager, c)
	}
	withToken(&manager.Spec.Template.Spec)
	specs.ApplyManagerPodOverrides(c, manager)
	managerService := specs.BuildManagerService(c)
	if c.Spec.Exposure != nil {
		specs.ApplyServiceExposure(managerService, c.Spec.Exposure.Manager)
	}
	objs = append(objs,
		managerService,
		specs.BuildManagerInternalService(c),
		manager,
	)
	return append(objs, exposureObjects(c)...), dedupe(ignored)
}

// exposureObjects are the optional objects of spec.exposure and spec.networkPolicy: the router
// and Pivot Services, the Ingress and the NetworkPolicies, when the spec asks for them.
func exposureObjects(c *implyv1alpha1.ImplyCluster) []client.Object {
	var objs []client.Object
	for _, svc := range specs.BuildExposedServices(c) {
		objs = append(objs, svc)
	}
	if ing := specs.BuildIngress(c); ing != nil {
		objs = append(objs, ing)
	}
	for _, np := range specs.BuildNetworkPolicies(c) {
		objs = append(objs, np)
	}
	return objs
}

// optionalObjects are every object exposureObjects may build for c, whether the spec asks for
// it or not: those it does not ask for are deleted (pruneOptional).
func optionalObjects(c *implyv1alpha1.ImplyCluster) []client.Object {
	meta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: c.Namespace, Name: name} }
	objs := []client.Object{
		&corev1.Service{ObjectMeta: meta(specs.RouterServiceName(c.Name))},
		&corev1.Service{ObjectMeta: meta(specs.PivotServiceName(c.Name))},
		&networkingv1.Ingress{ObjectMeta: meta(specs.IngressName(c.Name))},
	}
	for _, role := range specs.NetworkPolicyRoles {
		objs = append(objs, &networkingv1.NetworkPolicy{ObjectMeta: meta(specs.NetworkPolicyName(c.Name, role))})
	}
	return objs
}

// pruneOptional deletes the optional objects (optionalObjects) this cluster controls that
// desired no longer holds: an exposure removed from the spec, NetworkPolicies switched off.
func (r *Reconciler) pruneOptional(ctx context.Context, c *implyv1alpha1.ImplyCluster, desired []client.Object) error {
	want := map[string]bool{}
	for _, obj := range desired {
		want[fmt.Sprintf("%T/%s", obj, obj.GetName())] = true
	}
	for _, obj := range optionalObjects(c) {
		if want[fmt.Sprintf("%T/%s", obj, obj.GetName())] {
			continue
		}
		err := r.Get(ctx, client.ObjectKeyFromObject(obj), obj)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("while reading %T %s: %w", obj, obj.GetName(), err)
		}
		if !metav1.IsControlledBy(obj, c) {
			continue
		}
		if err := r.Delete(ctx, obj, client.Preconditions{UID: ptr.To(obj.GetUID())}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("while deleting %T %s: %w", obj, obj.GetName(), err)
		}
	}
	return nil
}

// pruneRemovedGroups deletes the objects of node groups that are no longer in the spec: every
// object labelled with this cluster and a node group it does not have, controlled by it.
func (r *Reconciler) pruneRemovedGroups(ctx context.Context, c *implyv1alpha1.ImplyCluster) error {
	keep := map[string]bool{specs.ComponentManager: true, specs.ComponentCommon: true}
	for _, g := range c.Spec.NodeGroups {
		keep[g.Name] = true
	}
	lists := []client.ObjectList{
		&appsv1.StatefulSetList{}, &corev1.ServiceList{}, &policyv1.PodDisruptionBudgetList{}, &corev1.ConfigMapList{},
		&corev1.SecretList{},
	}
	for _, list := range lists {
		if err := r.List(ctx, list, client.InNamespace(c.Namespace),
			client.MatchingLabels{specs.LabelCluster: c.Name}, client.HasLabels{specs.LabelNodeGroup}); err != nil {
			return fmt.Errorf("while listing owned objects: %w", err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return err
		}
		var objs []client.Object
		for _, item := range items {
			if obj, ok := item.(client.Object); ok {
				objs = append(objs, obj)
			}
		}
		for _, obj := range objs {
			if keep[obj.GetLabels()[specs.LabelNodeGroup]] || !metav1.IsControlledBy(obj, c) {
				continue
			}
			if err := r.Delete(ctx, obj, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("while deleting %T %s of a removed node group: %w", obj, obj.GetName(), err)
			}
			r.Recorder.Eventf(c, obj, corev1.EventTypeNormal, implyv1alpha1.EventNodeGroupRemoved, "Delete",
				"Deleted %s of node group %q, which is no longer in the spec", obj.GetName(), obj.GetLabels()[specs.LabelNodeGroup])
		}
	}
	return nil
}

// dedupe returns the distinct strings of list in first-seen order.
func dedupe(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
