package cache_test

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	crcache "sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/cache"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

var _ = Describe("The operator's cache", func() {
	It("caches only its own Secrets, and of every other Secret the name and what maps it to its users", func() {
		ns := newNamespace("cache")
		helmRelease := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "sh.helm.release.v1.app.v1", Namespace: ns,
				Labels:      map[string]string{"owner": "helm", "name": "app", "status": "deployed"},
				Annotations: map[string]string{"meta.helm.sh/release-name": "app"}},
			Type: "helm.sh/release.v1",
			Data: map[string][]byte{"release": []byte("H4sI-not-for-the-operator")},
		}
		referenced := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "agent-token", Namespace: ns},
			StringData: map[string]string{"token": "not-for-the-operator"},
		}
		handedOver := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "kept", Namespace: ns, Labels: map[string]string{"team": "a"},
				Annotations: map[string]string{implyv1alpha1.AnnotationRetainedFor: "ImplyCluster/" + ns + "/demo", "note": "x"}},
			StringData: map[string]string{"password": "not-for-the-operator"},
		}
		own := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "ours", Namespace: ns, Labels: managedByLabels()},
			StringData: map[string]string{"ca.crt": "pem"},
		}
		for _, s := range []*corev1.Secret{helmRelease, referenced, handedOver, own} {
			Expect(k8sClient.Create(testCtx, s)).To(Succeed())
		}
		token := &implyv1alpha1.AuthToken{
			ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: ns},
			Spec: implyv1alpha1.AuthTokenSpec{Type: implyv1alpha1.AuthTokenAgent,
				SecretRef: &implyv1alpha1.SecretKeySelector{Name: referenced.Name}},
		}
		Expect(k8sClient.Create(testCtx, token)).To(Succeed())

		Eventually(func(g Gomega) {
			var cached corev1.Secret
			g.Expect(cachedClient.Get(testCtx, client.ObjectKeyFromObject(own), &cached)).To(Succeed())
			g.Expect(cached.Data).To(HaveKeyWithValue("ca.crt", []byte("pem")))
			g.Expect(cached.ManagedFields).To(BeEmpty())

			var secrets corev1.SecretList
			g.Expect(cachedClient.List(testCtx, &secrets, client.InNamespace(ns))).To(Succeed())
			g.Expect(secrets.Items).To(HaveLen(1), "the operator's cache holds its own Secrets only, values or not")
			g.Expect(secrets.Items[0].Name).To(Equal(own.Name))

			var foreign metav1.PartialObjectMetadataList
			foreign.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
			g.Expect(foreignSecrets.List(testCtx, &foreign, client.InNamespace(ns))).To(Succeed())
			byName := map[string]metav1.ObjectMeta{}
			for _, m := range foreign.Items {
				byName[m.Name] = m.ObjectMeta
			}
			g.Expect(byName).To(HaveLen(3), "every other Secret is watched, as metadata")
			g.Expect(byName).NotTo(HaveKey(own.Name))
			for _, name := range []string{helmRelease.Name, referenced.Name} {
				g.Expect(byName[name].Labels).To(BeEmpty(), name)
				g.Expect(byName[name].Annotations).To(BeEmpty(), name)
				g.Expect(byName[name].ManagedFields).To(BeEmpty(), name)
				g.Expect(byName[name].UID).NotTo(BeEmpty(), name)
			}
			g.Expect(byName[handedOver.Name].Labels).To(BeEmpty())
			g.Expect(byName[handedOver.Name].Annotations).To(Equal(map[string]string{
				implyv1alpha1.AnnotationRetainedFor: "ImplyCluster/" + ns + "/demo"}), "what hands a Secret over is kept")
		}).WithTimeout(settle).Should(Succeed())

		By("a change to a referenced Secret, read uncached when needed, makes its user reconcile")
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(token), token)).To(Succeed())
			ready := meta.FindStatusCondition(token.Status.Conditions, implyv1alpha1.ConditionReady)
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.Reason).To(Equal(implyv1alpha1.ReasonSecretKeyNotFound))
		}).WithTimeout(settle).Should(Succeed())
		referenced.Data = map[string][]byte{specs.AuthTokenKey: []byte("cache-test-agent-token-000000000000")}
		Expect(k8sClient.Update(testCtx, referenced)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(token), token)).To(Succeed())
			g.Expect(meta.IsStatusConditionTrue(token.Status.Conditions, implyv1alpha1.ConditionReady)).To(BeTrue(), "%v", token.Status.Conditions)
		}).WithTimeout(settle).Should(Succeed())
	})

	It("keeps no managedFields", func() {
		ns := newNamespace("cache-fields")
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: ns, Labels: managedByLabels()}, Data: map[string]string{"k": "v"}}
		Expect(k8sClient.Create(testCtx, cm)).To(Succeed())
		Expect(cm.ManagedFields).NotTo(BeEmpty(), "the apiserver records managedFields")
		Eventually(func(g Gomega) {
			var cached corev1.ConfigMap
			g.Expect(cachedClient.Get(testCtx, client.ObjectKeyFromObject(cm), &cached)).To(Succeed())
			g.Expect(cached.Data).To(HaveKeyWithValue("k", cache.CachedDigest("v")), "the cache holds digests of the operator's rendered values")
			g.Expect(cached.ManagedFields).To(BeEmpty())
		}).WithTimeout(settle).Should(Succeed())
	})

	It("holds only the operator's own ConfigMaps, Services and workloads", func() {
		ns := newNamespace("cache-scope")
		theirs := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "theirs", Namespace: ns}, Data: map[string]string{"k": "v"}}
		ours := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "ours", Namespace: ns, Labels: managedByLabels()}, Data: map[string]string{"k": "v"}}
		Expect(k8sClient.Create(testCtx, theirs)).To(Succeed())
		Expect(k8sClient.Create(testCtx, ours)).To(Succeed())
		Eventually(func(g Gomega) {
			var list corev1.ConfigMapList
			g.Expect(cachedClient.List(testCtx, &list, client.InNamespace(ns))).To(Succeed())
			names := []string{}
			for _, cm := range list.Items {
				names = append(names, cm.Name)
			}
			g.Expect(names).To(ConsistOf("ours"))
		}).WithTimeout(settle).Should(Succeed())
		Expect(apierrors.IsNotFound(cachedClient.Get(testCtx, client.ObjectKeyFromObject(theirs), &corev1.ConfigMap{}))).To(BeTrue())
	})

	It("holds the keystore keys of the operator's leaf Secrets without their bytes", func() {
		c := readyCluster("cache-keystores")
		key := client.ObjectKey{Namespace: c.Namespace, Name: "c-data-tls"}
		live := getSecret(c.Namespace, key.Name)
		Expect(live.Data["keystore.p12"]).NotTo(BeEmpty())
		Expect(live.Data["truststore.p12"]).NotTo(BeEmpty())
		var cached corev1.Secret
		Expect(cachedClient.Get(testCtx, key, &cached)).To(Succeed())
		Expect(cached.Data).To(HaveKey("keystore.p12"))
		Expect(cached.Data).To(HaveKey("truststore.p12"))
		Expect(cached.Data["keystore.p12"]).To(BeEmpty())
		Expect(cached.Data["truststore.p12"]).To(BeEmpty())
		Expect(cached.Data["tls.crt"]).To(Equal(live.Data["tls.crt"]))
	})

	It("holds the operator's workloads without their pod spec, with what the rollout reads", func() {
		c := readyCluster("cache-workloads")
		key := client.ObjectKey{Namespace: c.Namespace, Name: "c-data"}
		var live, cached appsv1.StatefulSet
		Expect(k8sClient.Get(testCtx, key, &live)).To(Succeed())
		Expect(live.Spec.Template.Spec.Containers).NotTo(BeEmpty())
		Eventually(func(g Gomega) {
			g.Expect(cachedClient.Get(testCtx, key, &cached)).To(Succeed())
			g.Expect(cached.ResourceVersion).To(Equal(live.ResourceVersion))
		}).WithTimeout(settle).Should(Succeed())
		Expect(cache.PodSpecDropped(&cached)).To(BeTrue())
		Expect(live.Annotations).NotTo(HaveKey(HavePrefix("imply-operator.cache/")), "nothing of the cache's is written")
		Expect(cached.Annotations).To(Equal(live.Annotations))
		Expect(cached.Spec.Template.Spec.Containers).To(BeEmpty())
		Expect(cached.Spec.Template.Spec.Volumes).To(BeEmpty())
		Expect(cached.Spec.Template.Annotations).To(Equal(live.Spec.Template.Annotations))
		Expect(cached.Spec.Replicas).To(Equal(live.Spec.Replicas))
		Expect(cached.Generation).To(Equal(live.Generation))
		Expect(cached.Status).To(Equal(live.Status))
	})

	It("holds the operator's Services with only the fields apply owns, and repairs them without touching the allocated ones", func() {
		c := readyCluster("cache-services")
		var services corev1.ServiceList
		Expect(k8sClient.List(testCtx, &services, client.InNamespace(c.Namespace))).To(Succeed())
		var live *corev1.Service
		for i := range services.Items {
			if s := &services.Items[i]; s.Spec.ClusterIP != "" && s.Spec.ClusterIP != corev1.ClusterIPNone {
				live = s
			}
		}
		Expect(live).NotTo(BeNil(), "the cluster has no Service with a cluster IP")
		key := client.ObjectKeyFromObject(live)
		var cached corev1.Service
		Eventually(func(g Gomega) {
			g.Expect(cachedClient.Get(testCtx, key, &cached)).To(Succeed())
			g.Expect(cached.ResourceVersion).To(Equal(live.ResourceVersion))
		}).WithTimeout(settle).Should(Succeed())
		Expect(cached.Spec).To(Equal(corev1.ServiceSpec{
			Type: live.Spec.Type, Ports: live.Spec.Ports, Selector: live.Spec.Selector,
			PublishNotReadyAddresses: live.Spec.PublishNotReadyAddresses, LoadBalancerSourceRanges: live.Spec.LoadBalancerSourceRanges,
		}))
		Expect(cached.Status).To(Equal(live.Status))

		// Someone changes a port: the reconcile patches it back from the trimmed copy, and the
		// fields the cache does not hold stay as the apiserver allocated them.
		changed := live.DeepCopy()
		changed.Spec.Ports[0].Port++
		Expect(k8sClient.Update(testCtx, changed)).To(Succeed())
		Eventually(func(g Gomega) {
			var repaired corev1.Service
			g.Expect(k8sClient.Get(testCtx, key, &repaired)).To(Succeed())
			g.Expect(repaired.Spec.Ports).To(Equal(live.Spec.Ports))
			g.Expect(repaired.Spec.ClusterIP).To(Equal(live.Spec.ClusterIP))
			g.Expect(repaired.Spec.ClusterIPs).To(Equal(live.Spec.ClusterIPs))
			g.Expect(repaired.Spec.IPFamilies).To(Equal(live.Spec.IPFamilies))
			g.Expect(repaired.Spec.SessionAffinity).To(Equal(live.Spec.SessionAffinity))
		}).WithTimeout(settle).Should(Succeed())
	})

	It("holds the operator's NetworkPolicies as the digest of the spec the apiserver holds, which the desired spec restores", func() {
		withPeers := func(c *implyv1alpha1.ImplyCluster) {
			c.Spec.NetworkPolicy = &implyv1alpha1.NetworkPolicySpec{
				Clients:   []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8", Except: []string{"10.1.0.0/16"}}}},
				ZooKeeper: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}}},
				ExtraEgress: []networkingv1.NetworkPolicyEgressRule{{
					Ports: []networkingv1.NetworkPolicyPort{{Port: ptr.To(intstr.FromInt32(8020))}},
				}},
			}
		}
		for _, c := range []*implyv1alpha1.ImplyCluster{readyCluster("cache-netpol"), readyCluster("cache-netpol-peers", withPeers)} {
			desired := specs.BuildNetworkPolicies(c)
			Expect(desired).NotTo(BeEmpty())
			for _, want := range desired {
				key := client.ObjectKeyFromObject(want)
				var live, cached networkingv1.NetworkPolicy
				Expect(k8sClient.Get(testCtx, key, &live)).To(Succeed())
				Expect(live.Spec.Ingress).NotTo(BeEmpty())
				Eventually(func(g Gomega) {
					g.Expect(cachedClient.Get(testCtx, key, &cached)).To(Succeed())
					g.Expect(cached.ResourceVersion).To(Equal(live.ResourceVersion))
				}).WithTimeout(settle).Should(Succeed())
				Expect(cache.SpecDigested(&cached)).To(BeTrue())
				Expect(cached.Spec.Ingress).To(BeEmpty())
				Expect(cached.Spec.PodSelector).To(Equal(metav1.LabelSelector{}))
				Expect(cached.Annotations).To(Equal(live.Annotations))
				Expect(live.Annotations).NotTo(HaveKey(HavePrefix("imply-operator.cache/")), "the digest is the cache's alone, never written")
				// A converged reconcile reads nothing: the desired spec has the digest the cache
				// took of the apiserver's (defaults included).
				restored, err := cache.RestoreDigestedSpec(want, &cached)
				Expect(err).NotTo(HaveOccurred())
				Expect(restored).To(BeTrue(), "%s: the desired spec is not the apiserver's", key)
				Expect(cache.SpecDigested(&cached)).To(BeFalse())
				Expect(cached.Spec).To(Equal(live.Spec))
				Expect(cached.Annotations).To(Equal(live.Annotations))
			}
		}
	})

	It("holds in a cache started after the objects exist (listed, not watched) what the apiserver holds", func() {
		c := readyCluster("cache-listed")
		ctx, cancel := context.WithCancel(testCtx)
		defer cancel()
		fresh, err := crcache.New(cfg, func() crcache.Options { o := cache.Options(nil); o.Scheme = scheme; return o }())
		Expect(err).NotTo(HaveOccurred())
		go func() {
			defer GinkgoRecover()
			Expect(fresh.Start(ctx)).To(Succeed())
		}()
		Expect(fresh.WaitForCacheSync(ctx)).To(BeTrue())
		key := client.ObjectKey{Namespace: c.Namespace, Name: "c-common-config"}
		var cached corev1.ConfigMap
		Expect(fresh.Get(ctx, key, &cached)).To(Succeed()) // starts the informer and waits for its list
		var live corev1.ConfigMap
		Expect(k8sClient.Get(testCtx, key, &live)).To(Succeed())
		Expect(cache.ConfigDataMatches(live.Data, cached.Data)).To(BeTrue(), "a restarted operator would rewrite every ConfigMap: %v", cached.Data)
		var leaf corev1.Secret
		Expect(fresh.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: "c-data-tls"}, &leaf)).To(Succeed())
		Expect(leaf.Data["tls.crt"]).To(Equal(getSecret(c.Namespace, "c-data-tls").Data["tls.crt"]))
	})

	It("still applies an owned object that lost its labels, which the cache does not hold", func() {
		ns := newNamespace("cache-unlabelled")
		createSecrets(ns)
		c := testobj.ImplyCluster("c", ns)
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		key := client.ObjectKey{Namespace: ns, Name: "c-common-config"}
		var stale corev1.ConfigMap
		Eventually(func() error { return k8sClient.Get(testCtx, key, &stale) }).WithTimeout(settle).Should(Succeed())
		Expect(metav1.IsControlledBy(&stale, c)).To(BeTrue())
		stale.Labels = nil
		stale.Annotations = map[string]string{"kept": "yes"}
		stale.Data = map[string]string{"common.runtime.properties": "druid.stale=true"}
		Expect(k8sClient.Update(testCtx, &stale)).To(Succeed())
		// Wake the cluster: the ConfigMap left the cache, so its edit does not.
		patch := client.MergeFrom(c.DeepCopy())
		c.Annotations = map[string]string{"test/nudge": "1"}
		Expect(k8sClient.Patch(testCtx, c, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			var cm corev1.ConfigMap
			g.Expect(k8sClient.Get(testCtx, key, &cm)).To(Succeed())
			g.Expect(cm.Labels).To(HaveKeyWithValue(specs.LabelManagedBy, specs.ManagedBy))
			g.Expect(cm.Annotations).To(HaveKeyWithValue("kept", "yes"))
			g.Expect(metav1.IsControlledBy(&cm, c)).To(BeTrue())
			g.Expect(cm.Data["common.runtime.properties"]).NotTo(ContainSubstring("druid.stale"))
			g.Expect(cm.Data["common.runtime.properties"]).To(ContainSubstring("druid.extensions.loadList"))
			cond := condition(g, c, implyv1alpha1.ConditionDegraded)
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.Status).To(Equal(metav1.ConditionFalse), cond.Message)
		}).WithTimeout(settle).Should(Succeed())
	})
})

// managedByLabels marks an object as the operator's.
func managedByLabels() map[string]string {
	return map[string]string{specs.LabelManagedBy: specs.ManagedBy}
}
