package e2e

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

var _ = Describe("An ImplyCluster on a simulated cluster", func() {
	It("becomes Ready with real pods and is garbage-collected with everything it owns", func() {
		c := createDefaultCluster("e2e-")

		By("running every group's pods to Ready through the StatefulSet controller and kwok")
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(c), c)).To(Succeed())
			ready := meta.FindStatusCondition(c.Status.Conditions, implyv1alpha1.ConditionReady)
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.Status).To(Equal(metav1.ConditionTrue), ready.Message)
		}).WithTimeout(2 * time.Minute).WithPolling(500 * time.Millisecond).Should(Succeed())
		Expect(c.Status.NodeGroups).To(HaveLen(3))
		for _, g := range c.Status.NodeGroups {
			Expect(g.ReadyReplicas).To(Equal(g.Replicas), g.Name)
			Expect(g.UpdatedReplicas).To(Equal(g.Replicas), g.Name)
			Expect(g.Revision).To(HavePrefix("c-"+g.Name+"-"), g.Name)
		}
		var pods corev1.PodList
		Expect(k8sClient.List(testCtx, &pods, client.InNamespace(c.Namespace), client.MatchingLabels{specs.LabelCluster: "c"})).To(Succeed())
		Expect(pods.Items).To(HaveLen(1 + 1 + 2 + 1)) // master, query, two data, manager

		By("deleting the cluster and letting the garbage collector remove what it owned")
		Expect(k8sClient.Delete(testCtx, c)).To(Succeed())
		lists := []client.ObjectList{
			&appsv1.StatefulSetList{}, &appsv1.DeploymentList{}, &corev1.ServiceList{},
			&corev1.ConfigMapList{}, &policyv1.PodDisruptionBudgetList{}, &corev1.PodList{},
		}
		for _, list := range lists {
			Eventually(func(g Gomega) {
				g.Expect(k8sClient.List(testCtx, list, client.InNamespace(c.Namespace), client.MatchingLabels{specs.LabelCluster: "c"})).To(Succeed())
				g.Expect(meta.LenList(list)).To(BeZero(), "%T", list)
			}).WithTimeout(time.Minute).WithPolling(500 * time.Millisecond).Should(Succeed())
		}

		By("keeping the CA (retainOnDelete, the default) while the garbage collector removes the leaves")
		Eventually(func() error {
			return k8sClient.Get(testCtx, client.ObjectKey{Namespace: c.Namespace, Name: "c-data-tls"}, &corev1.Secret{})
		}).WithTimeout(time.Minute).WithPolling(500 * time.Millisecond).Should(Satisfy(apierrors.IsNotFound))
		var ca corev1.Secret
		Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: c.Namespace, Name: "c-ca"}, &ca)).To(Succeed())
		Expect(ca.OwnerReferences).To(BeEmpty())
		Expect(ca.Annotations).To(HaveKeyWithValue(implyv1alpha1.AnnotationRetainedFor, "ImplyCluster/"+c.Namespace+"/c"))
	})
})
