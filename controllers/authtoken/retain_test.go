package authtoken

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

var _ = Describe("AuthToken type Druid with deletionPolicy Retain", func() {
	It("keeps the Druid user and its credentials Secret, which an AuthToken of the same name adopts with the same password", func() {
		e := newDruidUserEnv("iat-retain")
		retain := func(t *implyv1alpha1.AuthToken) { t.Spec.DeletionPolicy = implyv1alpha1.DeletionPolicyRetain }
		t := druidToken("pivot", e.Ns, "pivot-user", retain)
		Expect(k8sClient.Create(testCtx, t)).To(Succeed())
		waitUserReady(t)
		s := credentials(e.Ns, "pivot")
		Expect(s.OwnerReferences).To(BeEmpty())
		Expect(s.Annotations).To(HaveKeyWithValue(implyv1alpha1.AnnotationRetainedFor, "AuthToken/"+e.Ns+"/pivot"))
		kept := s.Data

		By("deleting the AuthToken")
		Expect(k8sClient.Delete(testCtx, t)).To(Succeed())
		Eventually(func() error { return k8sClient.Get(testCtx, client.ObjectKeyFromObject(t), t) }).
			WithTimeout(30 * time.Second).Should(Satisfy(apierrors.IsNotFound))
		_, err := e.Hand.GetAuthenticatorUser(testCtx, "basic", "pivot-user")
		Expect(err).NotTo(HaveOccurred(), "the Druid user is kept")
		Expect(credentials(e.Ns, "pivot").Data).To(Equal(kept))

		By("creating it again")
		again := druidToken("pivot", e.Ns, "pivot-user", retain)
		Expect(k8sClient.Create(testCtx, again)).To(Succeed())
		waitUserReady(again)
		Expect(credentials(e.Ns, "pivot").Data["password"]).To(Equal(kept["password"]), "the kept password is reused")

		By("owning the Secret once deletionPolicy is Delete")
		Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(again), again)).To(Succeed())
		again.Spec.DeletionPolicy = implyv1alpha1.DeletionPolicyDelete
		Expect(k8sClient.Update(testCtx, again)).To(Succeed())
		Eventually(func(g Gomega) {
			var now corev1.Secret
			g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: e.Ns, Name: "pivot-credentials"}, &now)).To(Succeed())
			g.Expect(metav1.IsControlledBy(&now, again)).To(BeTrue())
			g.Expect(now.Annotations).NotTo(HaveKey(implyv1alpha1.AnnotationRetainedFor))
			g.Expect(now.Data["password"]).To(Equal(kept["password"]))
		}).WithTimeout(30 * time.Second).Should(Succeed())
	})
})
