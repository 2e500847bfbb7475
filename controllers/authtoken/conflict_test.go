package authtoken

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

var _ = Describe("Two AuthTokens claiming one Druid user", func() {
	It("leave it to the first: the second is Conflict, changes nothing in Druid, and its deletion deletes nothing", func() {
		e := newDruidUserEnv("iat-conflict")
		first := druidToken("first", e.Ns, "pivot-user", nil)
		Expect(k8sClient.Create(testCtx, first)).To(Succeed())
		waitUserReady(first)
		password := string(credentials(e.Ns, "first").Data["password"])
		time.Sleep(1100 * time.Millisecond) // creation times have a resolution of a second

		second := druidToken("second", e.Ns, "pivot-user", nil)
		Expect(k8sClient.Create(testCtx, second)).To(Succeed())
		Eventually(func(g Gomega) {
			cond := tokenCond(second, implyv1alpha1.ConditionReady)
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.Reason).To(Equal(implyv1alpha1.ReasonConflict))
			g.Expect(cond.Message).To(ContainSubstring(`AuthToken "first"`))
		}).WithTimeout(settle).Should(Succeed())
		settledObject(second)
		e.reconcileToken(second)
		Expect(e.LoginAs("pivot-user", password)).To(BeTrue(), "the second changed the first's password")
		Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: e.Ns, Name: "second-credentials"}, &corev1.Secret{})).NotTo(Succeed(),
			"the second wrote credentials")

		By("deleting the second: the user stays with the first's password")
		Expect(k8sClient.Delete(testCtx, second)).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(testCtx, client.ObjectKeyFromObject(second), second))
		}).WithTimeout(settle).Should(BeTrue())
		Expect(e.LoginAs("pivot-user", password)).To(BeTrue(), "the second's deletion deleted the first's user")
		waitUserReady(first)
	})
})
