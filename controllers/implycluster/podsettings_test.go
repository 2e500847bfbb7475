package implycluster

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// dataGroup is the index of the data group in testobj.ImplyCluster.
const dataGroup = 2

var _ = Describe("ImplyCluster pod settings", func() {
	It("merges every pod setting over the operator's pods and never lets one remove what the operator owns", func() {
		ns := newNamespace("ic-podset")
		createSecrets(ns)
		c := testobj.ImplyCluster("c", ns)
		c.Spec.NodeGroups[dataGroup].Pod = &implyv1alpha1.PodOverrides{
			ServiceAccountName: "imply-irsa",
			Labels:             map[string]string{"team": "analytics"},
			Annotations:        map[string]string{"example.com/scrape": "true"},
			Env:                []corev1.EnvVar{{Name: "GOOGLE_APPLICATION_CREDENTIALS", Value: "/etc/gcs/key.json"}},
			EnvFrom:            []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "extra"}}}},
			Volumes:            []implyv1alpha1.PodVolume{{Volume: corev1.Volume{Name: "gcs-key", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "gcs-key"}}}}},
			VolumeMounts:       []corev1.VolumeMount{{Name: "gcs-key", MountPath: "/etc/gcs", ReadOnly: true}},
			InitContainers:     []implyv1alpha1.PodContainer{{Container: corev1.Container{Name: "sysctl", Image: "busybox:1.36", Command: []string{"true"}}}},
			Sidecars:           []implyv1alpha1.PodContainer{{Container: corev1.Container{Name: "shipper", Image: "fluent-bit:3"}}},
			PriorityClassName:  "imply-critical",
			TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{
				MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: corev1.ScheduleAnyway,
			}},
			TerminationGracePeriodSeconds: ptr.To(int64(3600)),
		}
		c.Spec.NodeGroups[dataGroup].DruidServices = map[string]implyv1alpha1.DruidServiceSpec{
			specs.ServiceHistorical: {
				RuntimeProperties: map[string]string{
					"druid.server.maxSize":                "100000000",
					"druid.server.https.keyStorePassword": "user-chosen",
				},
				JVMOptions: []string{"-XX:+UseZGC"},
			},
		}
		c.Spec.Manager.Pod = &implyv1alpha1.PodOverrides{ServiceAccountName: "manager-sa"}
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())

		var sts appsv1.StatefulSet
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-data"}, &sts)).To(Succeed())
		}).WithTimeout(settle).Should(Succeed())
		pod := sts.Spec.Template.Spec
		Expect(pod.ServiceAccountName).To(Equal("imply-irsa"))
		Expect(pod.PriorityClassName).To(Equal("imply-critical"))
		Expect(*pod.TerminationGracePeriodSeconds).To(Equal(int64(3600)))
		Expect(pod.TopologySpreadConstraints).To(HaveLen(1))
		Expect(pod.TopologySpreadConstraints[0].LabelSelector.MatchLabels).To(Equal(specs.SelectorLabels("c", "data")))
		Expect(sts.Spec.Template.Labels).To(HaveKeyWithValue("team", "analytics"))
		Expect(sts.Spec.Template.Annotations).To(HaveKeyWithValue("example.com/scrape", "true"))
		Expect(sts.Spec.Template.Annotations).To(HaveKey(specs.AnnotationTLSRevision))
		Expect(pod.InitContainers).To(ConsistOf(HaveField("Name", "sysctl")))
		Expect(*pod.InitContainers[0].SecurityContext.AllowPrivilegeEscalation).To(BeFalse(), "user containers get the restricted defaults")
		Expect(pod.Containers).To(HaveLen(2))
		Expect(pod.Containers[1].Name).To(Equal("shipper"))
		agent := pod.Containers[0]
		Expect(agent.Env).To(ContainElement(corev1.EnvVar{Name: "GOOGLE_APPLICATION_CREDENTIALS", Value: "/etc/gcs/key.json"}))
		Expect(agent.Env).To(ContainElement(HaveField("Name", specs.EnvManagerHost)))
		Expect(agent.EnvFrom).To(ContainElement(HaveField("ConfigMapRef.Name", "extra")))
		Expect(agent.VolumeMounts).To(ContainElement(HaveField("MountPath", "/etc/gcs")))
		Expect(agent.VolumeMounts).To(ContainElement(HaveField("MountPath", specs.TLSMountPath)), "the TLS mount stays")
		Expect(agent.ReadinessProbe.HTTPGet.Path).To(Equal(specs.HistoricalReadinessPath))
		Expect(agent.ReadinessProbe.HTTPGet.Scheme).To(Equal(corev1.URISchemeHTTPS))

		Eventually(func(g Gomega) {
			var manager appsv1.Deployment
			g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-manager"}, &manager)).To(Succeed())
			g.Expect(manager.Spec.Template.Spec.ServiceAccountName).To(Equal("manager-sa"))
		}).WithTimeout(settle).Should(Succeed())

		By("applying the service's own properties but never an owned one")
		var cm corev1.ConfigMap
		Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: "c-data-config"}, &cm)).To(Succeed())
		historical := cm.Data[specs.RuntimePropertiesKey(specs.Historical)]
		Expect(historical).To(ContainSubstring("druid.server.maxSize=100000000\n"))
		Expect(historical).NotTo(ContainSubstring("user-chosen"))
		Expect(cm.Data[specs.JVMConfigKey(specs.Historical)]).To(HaveSuffix("-XX:+UseZGC\n"))
		Expect(cm.Data[specs.RuntimePropertiesKey(specs.MiddleManager)]).NotTo(ContainSubstring("druid.server.maxSize"))
		Eventually(func() []eventsv1.Event { return warningEvents(c, implyv1alpha1.EventRuntimePropertiesIgnored) }).
			WithTimeout(settle).Should(ContainElement(HaveField("Note", ContainSubstring("historical: druid.server.https.keyStorePassword"))))

		By("refusing a mount over the TLS directory and an owned env variable, changing nothing live")
		before := sts.DeepCopy()
		Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(c), c)).To(Succeed())
		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.NodeGroups[dataGroup].Pod.VolumeMounts = append(c.Spec.NodeGroups[dataGroup].Pod.VolumeMounts,
			corev1.VolumeMount{Name: "gcs-key", MountPath: specs.TLSMountPath})
		c.Spec.NodeGroups[dataGroup].Pod.Env = append(c.Spec.NodeGroups[dataGroup].Pod.Env,
			corev1.EnvVar{Name: specs.EnvAgentCluster, Value: "other"})
		c.Spec.NodeGroups[dataGroup].Pod.PriorityClassName = "changed-with-the-bad-settings"
		Expect(k8sClient.Patch(testCtx, c, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			cond := condition(g, c, implyv1alpha1.ConditionReady)
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.Reason).To(Equal(implyv1alpha1.ReasonInvalidPodOverrides))
			g.Expect(cond.Message).To(ContainSubstring("spec.nodeGroups[2].pod.volumeMounts[1]: /etc/imply/tls clashes with /etc/imply/tls"))
			g.Expect(cond.Message).To(ContainSubstring("spec.nodeGroups[2].pod.env[1]: the operator sets IMPLY_MANAGER_AGENT_CLUSTER"))
		}).WithTimeout(settle).Should(Succeed())
		Eventually(func() []eventsv1.Event { return warningEvents(c, implyv1alpha1.ReasonInvalidPodOverrides) }).
			WithTimeout(settle).ShouldNot(BeEmpty())
		Consistently(func(g Gomega) {
			g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(&sts), &sts)).To(Succeed())
			g.Expect(sts.Spec.Template).To(Equal(before.Spec.Template))
		}).WithTimeout(3 * settle / 10).Should(Succeed())

		By("applying the settings once the collisions are gone")
		Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(c), c)).To(Succeed())
		patch = client.MergeFrom(c.DeepCopy())
		c.Spec.NodeGroups[dataGroup].Pod.VolumeMounts = c.Spec.NodeGroups[dataGroup].Pod.VolumeMounts[:1]
		c.Spec.NodeGroups[dataGroup].Pod.Env = c.Spec.NodeGroups[dataGroup].Pod.Env[:1]
		Expect(k8sClient.Patch(testCtx, c, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			cond := condition(g, c, implyv1alpha1.ConditionReady)
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.Reason).NotTo(Equal(implyv1alpha1.ReasonInvalidPodOverrides))
			g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(&sts), &sts)).To(Succeed())
			g.Expect(sts.Spec.Template.Spec.PriorityClassName).To(Equal("changed-with-the-bad-settings"))
		}).WithTimeout(settle).Should(Succeed())

		By("taking every setting out of the pods once the spec drops them")
		Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(c), c)).To(Succeed())
		patch = client.MergeFrom(c.DeepCopy())
		c.Spec.NodeGroups[dataGroup].Pod = nil
		Expect(k8sClient.Patch(testCtx, c, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(&sts), &sts)).To(Succeed())
			pod := sts.Spec.Template.Spec
			g.Expect(pod.ServiceAccountName).To(BeEmpty())
			g.Expect(pod.PriorityClassName).To(BeEmpty())
			g.Expect(pod.TopologySpreadConstraints).To(BeEmpty())
			g.Expect(pod.InitContainers).To(BeEmpty())
			g.Expect(pod.Containers).To(HaveLen(1))
			g.Expect(*pod.TerminationGracePeriodSeconds).To(Equal(specs.DataGracePeriodSeconds))
			g.Expect(sts.Spec.Template.Labels).NotTo(HaveKey("team"))
			g.Expect(sts.Spec.Template.Annotations).NotTo(HaveKey("example.com/scrape"))
			g.Expect(sts.Spec.Template.Annotations).NotTo(HaveKey(specs.AnnotationPodMetadata))
		}).WithTimeout(settle).Should(Succeed())
	})

	It("refuses the operator's labels and annotations at admission, naming the field", func() {
		ns := newNamespace("ic-podset-admission")
		c := testobj.ImplyCluster("c", ns)
		c.Spec.NodeGroups[0].Pod = &implyv1alpha1.PodOverrides{Labels: map[string]string{"app.kubernetes.io/instance": "x"}}
		err := k8sClient.Create(testCtx, c)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("spec.nodeGroups[0].pod.labels"))

		c = testobj.ImplyCluster("c", ns)
		c.Spec.Manager.Pod = &implyv1alpha1.PodOverrides{Annotations: map[string]string{specs.AnnotationTLSRevision: "x"}}
		err = k8sClient.Create(testCtx, c)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("spec.manager.pod.annotations"))

		c = testobj.ImplyCluster("c", ns)
		c.Spec.NodeGroups[0].DruidServices = map[string]implyv1alpha1.DruidServiceSpec{specs.ServiceHistorical: {}}
		err = k8sClient.Create(testCtx, c)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("spec.nodeGroups[0].druidServices"))
	})
})
