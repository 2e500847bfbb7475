package druidrole

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/druid"
)

// the admin, changing Druid by hand

// caBundle is what clients trust when the fake serves https.

func expectSynced(role *implyv1alpha1.DruidRole) {
	GinkgoHelper()
	cond := syncedOf(role)
	Expect(cond).NotTo(BeNil())
	Expect(cond.Status).To(Equal(metav1.ConditionTrue), cond.Message)
}

var _ = Describe("DruidRole sync with Druid", func() {
	It("creates the role with its permissions, users and group mappings, then only reads", func() {
		e := newDruidRoleEnv("drole-sync", true)
		e.CreateUsers("alice", "bob")
		role := e.CreateRole("analysts", func(r *implyv1alpha1.DruidRole) {
			r.Spec.RoleName = "analysts-role"
			r.Spec.Permissions = []implyv1alpha1.DruidPermission{readWiki}
			r.Spec.Users = []string{"alice", "bob"}
			r.Spec.GroupMappings = []implyv1alpha1.GroupMapping{{Name: "gm-analysts", GroupPattern: "CN=analysts,DC=example"}}
		})
		res := e.Reconcile(role)
		Expect(res.RequeueAfter).To(Equal(time.Minute))
		settledObject(role)

		cond := syncedOf(role)
		Expect(cond).NotTo(BeNil())
		Expect(cond.Status).To(Equal(metav1.ConditionTrue), cond.Message)
		Expect(cond.Reason).To(Equal("Synced"))
		ready := meta.FindStatusCondition(role.Status.Conditions, implyv1alpha1.ConditionReady)
		Expect(ready.Status).To(Equal(metav1.ConditionTrue))
		Expect(role.Status.RoleName).To(Equal("analysts-role"))
		Expect(role.Status.ObservedGeneration).To(Equal(role.Generation))
		Expect(role.Finalizers).To(ContainElement("imply.operator.dev/druid-role"))
		Expect(role.Annotations).To(HaveKeyWithValue("imply.operator.dev/owned-group-mappings", `["gm-analysts"]`))

		live, err := e.Hand.GetRole(testCtx, "basic", "analysts-role")
		Expect(err).NotTo(HaveOccurred())
		Expect(live.Permissions).To(ConsistOf(druid.Permission{Resource: druid.Resource{Name: "wikipedia", Type: "DATASOURCE"}, Action: "READ"}))
		Expect(live.Users).To(ConsistOf("alice", "bob"))
		gm, err := e.Hand.GetGroupMapping(testCtx, "basic", "gm-analysts")
		Expect(err).NotTo(HaveOccurred())
		Expect(gm.GroupPattern).To(Equal("CN=analysts,DC=example"))
		Expect(gm.Roles).To(ConsistOf("analysts-role"))

		By("sending no write to Druid nor to the apiserver when nothing differs")
		e.Fake.ResetLog()
		rv := role.ResourceVersion
		e.Reconcile(role)
		Expect(e.Writes()).To(BeEmpty())
		Expect(e.Fake.Requests()).NotTo(BeEmpty())
		Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(role), role)).To(Succeed())
		Expect(role.ResourceVersion).To(Equal(rv))
		Expect(e.Events.List()).To(BeEmpty())
	})

	It("reverts changes made by hand in Druid on the next resync", func() {
		e := newDruidRoleEnv("drole-drift", true)
		e.CreateUsers("alice", "bob", "mallory")
		role := e.CreateRole("analysts", func(r *implyv1alpha1.DruidRole) {
			r.Spec.Permissions = []implyv1alpha1.DruidPermission{readWiki}
			r.Spec.Users = []string{"alice", "bob"}
			r.Spec.GroupMappings = []implyv1alpha1.GroupMapping{{Name: "gm", GroupPattern: "CN=a"}}
		})
		e.Reconcile(role)
		settledObject(role)
		expectSynced(role)

		extra := druid.Permission{Resource: druid.Resource{Name: ".*", Type: "CONFIG"}, Action: "WRITE"}
		wiki := druid.Permission{Resource: druid.Resource{Name: "wikipedia", Type: "DATASOURCE"}, Action: "READ"}
		Expect(e.Hand.SetPermissions(testCtx, "basic", "analysts", []druid.Permission{wiki, extra})).To(Succeed())
		Expect(e.Hand.UnassignRole(testCtx, "basic", "bob", "analysts")).To(Succeed())
		Expect(e.Hand.AssignRole(testCtx, "basic", "mallory", "analysts")).To(Succeed())
		Expect(e.Hand.UnassignGroupMappingRole(testCtx, "basic", "gm", "analysts")).To(Succeed())

		res := e.Reconcile(role)
		Expect(res.RequeueAfter).To(Equal(time.Minute))
		live, err := e.Hand.GetRole(testCtx, "basic", "analysts")
		Expect(err).NotTo(HaveOccurred())
		Expect(live.Permissions).To(ConsistOf(wiki))
		Expect(live.Users).To(ConsistOf("alice", "bob"))
		Expect(live.Groups).To(ConsistOf("gm"))

		By("recreating a role deleted by hand")
		Expect(e.Hand.DeleteRole(testCtx, "basic", "analysts")).To(Succeed())
		e.Reconcile(role)
		live, err = e.Hand.GetRole(testCtx, "basic", "analysts")
		Expect(err).NotTo(HaveOccurred())
		Expect(live.Permissions).To(ConsistOf(wiki))
		Expect(live.Users).To(ConsistOf("alice", "bob"))
		Expect(live.Groups).To(ConsistOf("gm"))
	})

	It("removes the group mappings it created once they leave the spec, and only unassigns others", func() {
		e := newDruidRoleEnv("drole-gm", true)
		Expect(e.Hand.CreateGroupMapping(testCtx, "basic", druid.GroupMapping{Name: "theirs", GroupPattern: "CN=theirs"})).To(Succeed())
		role := e.CreateRole("r", func(r *implyv1alpha1.DruidRole) {
			r.Spec.GroupMappings = []implyv1alpha1.GroupMapping{{Name: "ours", GroupPattern: "CN=ours"}, {Name: "theirs", GroupPattern: "CN=theirs"}}
		})
		e.Reconcile(role)
		settledObject(role)
		expectSynced(role)
		Expect(role.Annotations).To(HaveKeyWithValue("imply.operator.dev/owned-group-mappings", `["ours"]`))
		gm, err := e.Hand.GetGroupMapping(testCtx, "basic", "theirs")
		Expect(err).NotTo(HaveOccurred())
		Expect(gm.Roles).To(ConsistOf("r"))

		By("changing a pattern")
		patch := client.MergeFrom(role.DeepCopy())
		role.Spec.GroupMappings = []implyv1alpha1.GroupMapping{{Name: "ours", GroupPattern: "CN=ours2"}, {Name: "theirs", GroupPattern: "CN=theirs"}}
		Expect(k8sClient.Patch(testCtx, role, patch)).To(Succeed())
		e.Reconcile(role)
		settledObject(role)
		gm, err = e.Hand.GetGroupMapping(testCtx, "basic", "ours")
		Expect(err).NotTo(HaveOccurred())
		Expect(gm.GroupPattern).To(Equal("CN=ours2"))
		Expect(gm.Roles).To(ConsistOf("r"))

		By("dropping both mappings from the spec")
		Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(role), role)).To(Succeed())
		patch = client.MergeFrom(role.DeepCopy())
		role.Spec.GroupMappings = nil
		Expect(k8sClient.Patch(testCtx, role, patch)).To(Succeed())
		e.Reconcile(role)
		settledObject(role)
		expectSynced(role)
		_, err = e.Hand.GetGroupMapping(testCtx, "basic", "ours")
		Expect(druid.IsNotFound(err)).To(BeTrue(), "%v", err)
		gm, err = e.Hand.GetGroupMapping(testCtx, "basic", "theirs")
		Expect(err).NotTo(HaveOccurred())
		Expect(gm.Roles).To(BeEmpty())
		Expect(role.Annotations).NotTo(HaveKey("imply.operator.dev/owned-group-mappings"))
	})

	It("reports a user missing in Druid with Druid's own text, warning once", func() {
		e := newDruidRoleEnv("drole-missing", true)
		e.CreateUsers("alice")
		role := e.CreateRole("r", func(r *implyv1alpha1.DruidRole) {
			r.Spec.Permissions = []implyv1alpha1.DruidPermission{readWiki}
			r.Spec.Users = []string{"alice", "ghost"}
		})
		res := e.Reconcile(role)
		Expect(res.RequeueAfter).To(Equal(time.Minute))
		settledObject(role)
		cond := syncedOf(role)
		Expect(cond.Status).To(Equal(metav1.ConditionFalse))
		Expect(cond.Reason).To(Equal("DruidError"))
		Expect(cond.Message).To(Equal("User [ghost] does not exist."))
		Expect(meta.FindStatusCondition(role.Status.Conditions, implyv1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionFalse))
		live, err := e.Hand.GetRole(testCtx, "basic", "r")
		Expect(err).NotTo(HaveOccurred())
		Expect(live.Users).To(ConsistOf("alice"))

		e.Reconcile(role)
		Expect(e.Events.List()).To(Equal([]string{"Warning DruidError User [ghost] does not exist."}))

		By("syncing once the user exists")
		e.CreateUsers("ghost")
		e.Reconcile(role)
		expectSynced(role)
	})

	It("is synced by the operator's own controller", func() {
		e := newDruidRoleEnv("drole-mgr", true)
		e.CreateUsers("alice")
		role := e.CreateRole("r", func(r *implyv1alpha1.DruidRole) {
			r.Spec.Permissions = []implyv1alpha1.DruidPermission{readWiki}
			r.Spec.Users = []string{"alice"}
		})
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(role), role)).To(Succeed())
			cond := meta.FindStatusCondition(role.Status.Conditions, implyv1alpha1.ConditionSynced)
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.Status).To(Equal(metav1.ConditionTrue), cond.Message)
		}).WithTimeout(30 * time.Second).Should(Succeed())
		live, err := e.Hand.GetRole(testCtx, "basic", "r")
		Expect(err).NotTo(HaveOccurred())
		Expect(live.Users).To(ConsistOf("alice"))

		Expect(k8sClient.Delete(testCtx, role)).To(Succeed())
		Eventually(func(g Gomega) {
			_, err := e.Hand.GetRole(testCtx, "basic", "r")
			g.Expect(druid.IsNotFound(err)).To(BeTrue(), "%v", err)
			g.Expect(apierrors.IsNotFound(k8sClient.Get(testCtx, client.ObjectKeyFromObject(role), role))).To(BeTrue())
		}).WithTimeout(30 * time.Second).Should(Succeed())
	})

	It("needs auth on the cluster", func() {
		e := newDruidRoleEnv("drole-noauth", false)
		role := e.CreateRole("r", nil)
		e.Reconcile(role)
		cond := syncedOf(role)
		Expect(cond.Status).To(Equal(metav1.ConditionFalse))
		Expect(cond.Reason).To(Equal("AuthNotEnabled"))
		Expect(role.Status.ObservedGeneration).To(Equal(role.Generation))
		Expect(e.Fake.Requests()).To(BeEmpty())
	})

	DescribeTable("deletion", func(policy implyv1alpha1.DeletionPolicy, kept bool) {
		e := newDruidRoleEnv("drole-del", true)
		role := e.CreateRole("r", func(r *implyv1alpha1.DruidRole) {
			r.Spec.DeletionPolicy = policy
			r.Spec.GroupMappings = []implyv1alpha1.GroupMapping{{Name: "ours", GroupPattern: "CN=ours"}}
		})
		e.Reconcile(role)
		expectSynced(role)
		Expect(k8sClient.Delete(testCtx, role)).To(Succeed())
		e.Reconcile(role)
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(testCtx, client.ObjectKeyFromObject(role), role))
		}).WithTimeout(10 * time.Second).Should(BeTrue())
		_, err := e.Hand.GetRole(testCtx, "basic", "r")
		_, gmErr := e.Hand.GetGroupMapping(testCtx, "basic", "ours")
		if kept {
			Expect(err).NotTo(HaveOccurred())
			Expect(gmErr).NotTo(HaveOccurred())
		} else {
			Expect(druid.IsNotFound(err)).To(BeTrue(), "%v", err)
			Expect(druid.IsNotFound(gmErr)).To(BeTrue(), "%v", gmErr)
		}
	},
		Entry("Delete removes the role from Druid", implyv1alpha1.DeletionPolicyDelete, false),
		Entry("Retain keeps it", implyv1alpha1.DeletionPolicyRetain, true),
	)
})
