package implycluster

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

var _ = Describe("The ZooKeeper base path", func() {
	It("includes the namespace for a new cluster, and stays what a running cluster has", func() {
		ns := newNamespace("ic-zk")
		createSecrets(ns)
		c := testobj.ImplyCluster("c", ns, testobj.WithoutTLS())
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		key := client.ObjectKey{Namespace: ns, Name: specs.CommonConfigName("c")}
		properties := func(g Gomega) (string, *corev1.ConfigMap) {
			var cm corev1.ConfigMap
			g.Expect(k8sClient.Get(testCtx, key, &cm)).To(Succeed())
			return cm.Data["common.runtime.properties"], &cm
		}
		Eventually(func(g Gomega) {
			props, cm := properties(g)
			g.Expect(props).To(ContainSubstring("druid.zk.paths.base=/druid/" + ns + "/c\n"))
			g.Expect(cm.Annotations).To(HaveKeyWithValue(specs.AnnotationZooKeeperBasePath, "/druid/"+ns+"/c"))
		}).WithTimeout(settle).Should(Succeed())

		By("keeping the path of a cluster an earlier release rendered (no recorded path): it must not move")
		_, cm := properties(Default)
		patch := client.MergeFrom(cm.DeepCopy())
		delete(cm.Annotations, specs.AnnotationZooKeeperBasePath)
		cm.Data["common.runtime.properties"] = "druid.zk.paths.base=/druid/c\n"
		Expect(k8sClient.Patch(testCtx, cm, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			props, cm := properties(g)
			g.Expect(props).To(ContainSubstring("druid.zk.paths.base=/druid/c\n"))
			g.Expect(cm.Annotations).To(HaveKeyWithValue(specs.AnnotationZooKeeperBasePath, "/druid/c"))
		}).WithTimeout(settle).Should(Succeed())
	})
})
