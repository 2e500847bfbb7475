package druidrole

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

var _ = Describe("Two DruidRoles claiming one Druid role", func() {
	It("leave it to the first: the second is Conflict, changes nothing in Druid, and its deletion deletes nothing", func() {
		e := newDruidRoleEnv("drole-conflict", true)
		e.CreateUsers("alice", "bob")
		first := e.CreateRole("readers", func(r *implyv1alpha1.DruidRole) {
			r.Spec.Permissions = []implyv1alpha1.DruidPermission{readWiki}
			r.Spec.Users = []string{"alice"}
		})
		Eventually(func(g Gomega) {
			g.Expect(syncedOf(first)).To(HaveField("Status", metav1.ConditionTrue))
		}).WithTimeout(30 * time.Second).Should(Succeed())
		time.Sleep(1100 * time.Millisecond) // creation times have a resolution of a second

		second := e.CreateRole("readers-too", func(r *implyv1alpha1.DruidRole) {
			r.Spec.RoleName = "readers"
			r.Spec.Users = []string{"bob"}
		})
		Eventually(func(g Gomega) {
			cond := syncedOf(second)
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.Reason).To(Equal(implyv1alpha1.ReasonConflict))
			g.Expect(cond.Message).To(ContainSubstring(`DruidRole "readers"`))
		}).WithTimeout(30 * time.Second).Should(Succeed())
		settledObject(first)
		settledObject(second)
		e.Reconcile(first) // a resync of the owner still converges its spec, not the second's
		live, err := e.Hand.GetRole(testCtx, "basic", "readers")
		Expect(err).NotTo(HaveOccurred())
		Expect(live.Users).To(ConsistOf("alice"), "the second's users were assigned")
		Expect(live.Permissions).To(HaveLen(1), "the second's permissions replaced the first's")

		By("deleting the second: the role stays")
		Expect(k8sClient.Delete(testCtx, second)).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(testCtx, client.ObjectKeyFromObject(second), second))
		}).WithTimeout(30 * time.Second).Should(BeTrue())
		live, err = e.Hand.GetRole(testCtx, "basic", "readers")
		Expect(err).NotTo(HaveOccurred(), "the second's deletion deleted the first's role")
		Expect(live.Users).To(ConsistOf("alice"))
	})
})
