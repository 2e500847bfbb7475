package controllers

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/test/testenv"
)

// readyCondition reads the Ready condition and observedGeneration of a sample object.
func readyCondition(obj *unstructured.Unstructured) (*metav1.Condition, int64) {
	typed, err := scheme.New(obj.GroupVersionKind())
	Expect(err).NotTo(HaveOccurred())
	Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(obj), typed.(client.Object))).To(Succeed())
	acc := typed.(implyv1alpha1.ConditionsAccessor)
	return meta.FindStatusCondition(acc.GetConditions(), implyv1alpha1.ConditionReady), acc.GetObservedGeneration()
}

// notImplemented reports whether a sample is of a kind, or an AuthToken type, the operator does
// not reconcile yet: Druid users (AuthToken type Druid).
func notImplemented(obj *unstructured.Unstructured) bool {
	if obj.GetKind() != "AuthToken" {
		return false
	}
	t, _, _ := unstructured.NestedString(obj.Object, "spec", "type")
	return t == string(implyv1alpha1.AuthTokenDruid)
}

var _ = Describe("Reconcilers that have not landed yet", func() {
	It("report Ready=Unknown with reason NotImplemented on every sample of their kinds, once, and then write nothing", func() {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "notimpl-"}}
		Expect(k8sClient.Create(testCtx, ns)).To(Succeed())

		all, err := testenv.Samples()
		Expect(err).NotTo(HaveOccurred())
		var samples []*unstructured.Unstructured
		for _, s := range all {
			if notImplemented(s) {
				samples = append(samples, s)
			}
		}
		Expect(samples).To(HaveLen(1))
		for _, s := range samples {
			s.SetNamespace(ns.Name)
			Expect(k8sClient.Create(testCtx, s)).To(Succeed(), s.GetName())
		}

		for _, s := range samples {
			Eventually(func(g Gomega) {
				cond, observed := readyCondition(s)
				g.Expect(cond).NotTo(BeNil(), "%s %s has no Ready condition", s.GetKind(), s.GetName())
				g.Expect(cond.Status).To(Equal(metav1.ConditionUnknown))
				g.Expect(cond.Reason).To(Equal(implyv1alpha1.ReasonNotImplemented))
				g.Expect(cond.ObservedGeneration).To(Equal(s.GetGeneration()))
				g.Expect(observed).To(Equal(s.GetGeneration()))
			}).WithTimeout(30 * time.Second).Should(Succeed())
		}

		By("leaving settled objects alone: their resourceVersion does not move")
		versions := map[string]string{}
		for _, s := range samples {
			Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(s), s)).To(Succeed())
			versions[s.GetKind()+"/"+s.GetName()] = s.GetResourceVersion()
		}
		Consistently(func(g Gomega) {
			for _, s := range samples {
				cur := s.DeepCopy()
				g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(s), cur)).To(Succeed())
				g.Expect(cur.GetResourceVersion()).To(Equal(versions[s.GetKind()+"/"+s.GetName()]))
			}
		}).WithTimeout(3 * time.Second).Should(Succeed())
	})

	It("stamps the new generation after a spec change", func() {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "notimpl-gen-"}}
		Expect(k8sClient.Create(testCtx, ns)).To(Succeed())
		role := &implyv1alpha1.DruidRole{
			ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: ns.Name},
			Spec:       implyv1alpha1.DruidRoleSpec{ClusterRef: implyv1alpha1.LocalObjectReference{Name: "imply"}},
		}
		Expect(k8sClient.Create(testCtx, role)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(role), role)).To(Succeed())
			g.Expect(role.Status.ObservedGeneration).To(Equal(int64(1)))
		}).WithTimeout(30 * time.Second).Should(Succeed())

		patch := client.MergeFrom(role.DeepCopy())
		role.Spec.Users = []string{"pivot-sales"}
		Expect(k8sClient.Patch(testCtx, role, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(role), role)).To(Succeed())
			g.Expect(role.Generation).To(Equal(int64(2)))
			g.Expect(role.Status.ObservedGeneration).To(Equal(int64(2)))
			cond := meta.FindStatusCondition(role.Status.Conditions, implyv1alpha1.ConditionReady)
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.ObservedGeneration).To(Equal(int64(2)))
		}).WithTimeout(30 * time.Second).Should(Succeed())
	})
})
