package druidrole

import (
	"fmt"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/druid"
	"github.com/imply-operator/imply-operator/pkg/druid/fakecoordinator"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// recordedEvents is an EventRecorder that keeps "type reason note" of each event.
type recordedEvents struct {
	mu     sync.Mutex
	events []string
}

func (e *recordedEvents) Eventf(_ runtime.Object, _ runtime.Object, eventtype, reason, _, note string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, eventtype+" "+reason+" "+fmt.Sprintf(note, args...))
}

func (e *recordedEvents) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.events...)
}

// druidRoleEnv is a namespace with an auth-enabled cluster "c" whose coordinator is a fake.
type druidRoleEnv struct {
	ns     string
	fake   *fakecoordinator.Server
	hand   druid.API // the admin, changing Druid by hand
	events *recordedEvents
	r      *DruidRoleReconciler
	// caBundle is what clients trust when the fake serves https.
	caBundle []byte
}

const druidRoleTestAdminPassword = "Fake-Admin-Password-0123456789"

func newDruidRoleEnv(prefix string, withAuth bool) *druidRoleEnv {
	e := &druidRoleEnv{ns: newNamespace(prefix), events: &recordedEvents{}}
	e.fake = fakecoordinator.New(fakecoordinator.Options{AdminPassword: druidRoleTestAdminPassword, CredentialIterations: 100})
	DeferCleanup(e.fake.Close)
	hand, err := druid.New(druid.Config{BaseURL: e.fake.URL, Username: "admin", Password: druidRoleTestAdminPassword, Retries: -1})
	Expect(err).NotTo(HaveOccurred())
	e.hand = hand

	createSecrets(e.ns)
	Expect(k8sClient.Create(testCtx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "druid-admin", Namespace: e.ns},
		StringData: map[string]string{"admin-password": druidRoleTestAdminPassword},
	})).To(Succeed())
	opts := []testobj.ClusterOption{testobj.WithoutTLS()}
	if withAuth {
		opts = append(opts, testobj.WithAuth("", ""))
	}
	c := testobj.ImplyCluster("c", e.ns, opts...)
	c.Spec.Druid.APIURL = e.fake.URL
	if withAuth {
		c.Spec.Security.Auth.Druid.AdminPasswordSecretRef = &implyv1alpha1.SecretKeySelector{Name: "druid-admin"}
	}
	Expect(k8sClient.Create(testCtx, c)).To(Succeed())

	e.r = &DruidRoleReconciler{Client: k8sClient, APIReader: k8sClient, Recorder: e.events, ResyncPeriod: time.Minute}
	return e
}

func (e *druidRoleEnv) createRole(name string, mutate func(*implyv1alpha1.DruidRole)) *implyv1alpha1.DruidRole {
	role := &implyv1alpha1.DruidRole{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.ns},
		Spec:       implyv1alpha1.DruidRoleSpec{ClusterRef: implyv1alpha1.LocalObjectReference{Name: "c"}},
	}
	if mutate != nil {
		mutate(role)
	}
	Expect(k8sClient.Create(testCtx, role)).To(Succeed())
	return role
}

func (e *druidRoleEnv) createUsers(users ...string) {
	for _, u := range users {
		Expect(e.hand.CreateAuthorizerUser(testCtx, "basic", u)).To(Succeed())
	}
}

func (e *druidRoleEnv) reconcile(role *implyv1alpha1.DruidRole) ctrl.Result {
	res, err := e.r.Reconcile(testCtx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(role)})
	Expect(err).NotTo(HaveOccurred())
	return res
}

func syncedOf(role *implyv1alpha1.DruidRole) *metav1.Condition {
	Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(role), role)).To(Succeed())
	return meta.FindStatusCondition(role.Status.Conditions, implyv1alpha1.ConditionSynced)
}

func expectSynced(role *implyv1alpha1.DruidRole) {
	GinkgoHelper()
	cond := syncedOf(role)
	Expect(cond).NotTo(BeNil())
	Expect(cond.Status).To(Equal(metav1.ConditionTrue), cond.Message)
}

// settledObject waits until the operator's own controllers, which also reconcile the test's
// objects, have stopped writing obj, so a direct reconcile does not race with them.
func settledObject(obj client.Object) {
	GinkgoHelper()
	cur, ok := obj.DeepCopyObject().(client.Object)
	Expect(ok).To(BeTrue())
	Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(obj), cur)).To(Succeed())
		rv := cur.GetResourceVersion()
		time.Sleep(500 * time.Millisecond)
		g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(obj), cur)).To(Succeed())
		g.Expect(cur.GetResourceVersion()).To(Equal(rv))
	}).WithTimeout(20 * time.Second).Should(Succeed())
}

func (e *druidRoleEnv) writes() []fakecoordinator.Request {
	var out []fakecoordinator.Request
	for _, req := range e.fake.Requests() {
		if req.Method != "GET" {
			out = append(out, req)
		}
	}
	return out
}

var readWiki = implyv1alpha1.DruidPermission{
	Resource: implyv1alpha1.DruidResource{Type: "DATASOURCE", Name: "wikipedia"}, Action: implyv1alpha1.DruidActionRead,
}

var _ = Describe("DruidRole sync with Druid", func() {
	It("creates the role with its permissions, users and group mappings, then only reads", func() {
		e := newDruidRoleEnv("drole-sync", true)
		e.createUsers("alice", "bob")
		role := e.createRole("analysts", func(r *implyv1alpha1.DruidRole) {
			r.Spec.RoleName = "analysts-role"
			r.Spec.Permissions = []implyv1alpha1.DruidPermission{readWiki}
			r.Spec.Users = []string{"alice", "bob"}
			r.Spec.GroupMappings = []implyv1alpha1.GroupMapping{{Name: "gm-analysts", GroupPattern: "CN=analysts,DC=example"}}
		})
		res := e.reconcile(role)
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

		live, err := e.hand.GetRole(testCtx, "basic", "analysts-role")
		Expect(err).NotTo(HaveOccurred())
		Expect(live.Permissions).To(ConsistOf(druid.Permission{Resource: druid.Resource{Name: "wikipedia", Type: "DATASOURCE"}, Action: "READ"}))
		Expect(live.Users).To(ConsistOf("alice", "bob"))
		gm, err := e.hand.GetGroupMapping(testCtx, "basic", "gm-analysts")
		Expect(err).NotTo(HaveOccurred())
		Expect(gm.GroupPattern).To(Equal("CN=analysts,DC=example"))
		Expect(gm.Roles).To(ConsistOf("analysts-role"))

		By("sending no write to Druid nor to the apiserver when nothing differs")
		e.fake.ResetLog()
		rv := role.ResourceVersion
		e.reconcile(role)
		Expect(e.writes()).To(BeEmpty())
		Expect(e.fake.Requests()).NotTo(BeEmpty())
		Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(role), role)).To(Succeed())
		Expect(role.ResourceVersion).To(Equal(rv))
		Expect(e.events.list()).To(BeEmpty())
	})

	It("reverts changes made by hand in Druid on the next resync", func() {
		e := newDruidRoleEnv("drole-drift", true)
		e.createUsers("alice", "bob", "mallory")
		role := e.createRole("analysts", func(r *implyv1alpha1.DruidRole) {
			r.Spec.Permissions = []implyv1alpha1.DruidPermission{readWiki}
			r.Spec.Users = []string{"alice", "bob"}
			r.Spec.GroupMappings = []implyv1alpha1.GroupMapping{{Name: "gm", GroupPattern: "CN=a"}}
		})
		e.reconcile(role)
		settledObject(role)
		expectSynced(role)

		extra := druid.Permission{Resource: druid.Resource{Name: ".*", Type: "CONFIG"}, Action: "WRITE"}
		wiki := druid.Permission{Resource: druid.Resource{Name: "wikipedia", Type: "DATASOURCE"}, Action: "READ"}
		Expect(e.hand.SetPermissions(testCtx, "basic", "analysts", []druid.Permission{wiki, extra})).To(Succeed())
		Expect(e.hand.UnassignRole(testCtx, "basic", "bob", "analysts")).To(Succeed())
		Expect(e.hand.AssignRole(testCtx, "basic", "mallory", "analysts")).To(Succeed())
		Expect(e.hand.UnassignGroupMappingRole(testCtx, "basic", "gm", "analysts")).To(Succeed())

		res := e.reconcile(role)
		Expect(res.RequeueAfter).To(Equal(time.Minute))
		live, err := e.hand.GetRole(testCtx, "basic", "analysts")
		Expect(err).NotTo(HaveOccurred())
		Expect(live.Permissions).To(ConsistOf(wiki))
		Expect(live.Users).To(ConsistOf("alice", "bob"))
		Expect(live.Groups).To(ConsistOf("gm"))

		By("recreating a role deleted by hand")
		Expect(e.hand.DeleteRole(testCtx, "basic", "analysts")).To(Succeed())
		e.reconcile(role)
		live, err = e.hand.GetRole(testCtx, "basic", "analysts")
		Expect(err).NotTo(HaveOccurred())
		Expect(live.Permissions).To(ConsistOf(wiki))
		Expect(live.Users).To(ConsistOf("alice", "bob"))
		Expect(live.Groups).To(ConsistOf("gm"))
	})

	It("removes the group mappings it created once they leave the spec, and only unassigns others", func() {
		e := newDruidRoleEnv("drole-gm", true)
		Expect(e.hand.CreateGroupMapping(testCtx, "basic", druid.GroupMapping{Name: "theirs", GroupPattern: "CN=theirs"})).To(Succeed())
		role := e.createRole("r", func(r *implyv1alpha1.DruidRole) {
			r.Spec.GroupMappings = []implyv1alpha1.GroupMapping{{Name: "ours", GroupPattern: "CN=ours"}, {Name: "theirs", GroupPattern: "CN=theirs"}}
		})
		e.reconcile(role)
		settledObject(role)
		expectSynced(role)
		Expect(role.Annotations).To(HaveKeyWithValue("imply.operator.dev/owned-group-mappings", `["ours"]`))
		gm, err := e.hand.GetGroupMapping(testCtx, "basic", "theirs")
		Expect(err).NotTo(HaveOccurred())
		Expect(gm.Roles).To(ConsistOf("r"))

		By("changing a pattern")
		patch := client.MergeFrom(role.DeepCopy())
		role.Spec.GroupMappings = []implyv1alpha1.GroupMapping{{Name: "ours", GroupPattern: "CN=ours2"}, {Name: "theirs", GroupPattern: "CN=theirs"}}
		Expect(k8sClient.Patch(testCtx, role, patch)).To(Succeed())
		e.reconcile(role)
		settledObject(role)
		gm, err = e.hand.GetGroupMapping(testCtx, "basic", "ours")
		Expect(err).NotTo(HaveOccurred())
		Expect(gm.GroupPattern).To(Equal("CN=ours2"))
		Expect(gm.Roles).To(ConsistOf("r"))

		By("dropping both mappings from the spec")
		Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(role), role)).To(Succeed())
		patch = client.MergeFrom(role.DeepCopy())
		role.Spec.GroupMappings = nil
		Expect(k8sClient.Patch(testCtx, role, patch)).To(Succeed())
		e.reconcile(role)
		settledObject(role)
		expectSynced(role)
		_, err = e.hand.GetGroupMapping(testCtx, "basic", "ours")
		Expect(druid.IsNotFound(err)).To(BeTrue(), "%v", err)
		gm, err = e.hand.GetGroupMapping(testCtx, "basic", "theirs")
		Expect(err).NotTo(HaveOccurred())
		Expect(gm.Roles).To(BeEmpty())
		Expect(role.Annotations).NotTo(HaveKey("imply.operator.dev/owned-group-mappings"))
	})

	It("reports a user missing in Druid with Druid's own text, warning once", func() {
		e := newDruidRoleEnv("drole-missing", true)
		e.createUsers("alice")
		role := e.createRole("r", func(r *implyv1alpha1.DruidRole) {
			r.Spec.Permissions = []implyv1alpha1.DruidPermission{readWiki}
			r.Spec.Users = []string{"alice", "ghost"}
		})
		res := e.reconcile(role)
		Expect(res.RequeueAfter).To(Equal(time.Minute))
		settledObject(role)
		cond := syncedOf(role)
		Expect(cond.Status).To(Equal(metav1.ConditionFalse))
		Expect(cond.Reason).To(Equal("DruidError"))
		Expect(cond.Message).To(Equal("User [ghost] does not exist."))
		Expect(meta.FindStatusCondition(role.Status.Conditions, implyv1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionFalse))
		live, err := e.hand.GetRole(testCtx, "basic", "r")
		Expect(err).NotTo(HaveOccurred())
		Expect(live.Users).To(ConsistOf("alice"))

		e.reconcile(role)
		Expect(e.events.list()).To(Equal([]string{"Warning DruidError User [ghost] does not exist."}))

		By("syncing once the user exists")
		e.createUsers("ghost")
		e.reconcile(role)
		expectSynced(role)
	})

	It("is synced by the operator's own controller", func() {
		e := newDruidRoleEnv("drole-mgr", true)
		e.createUsers("alice")
		role := e.createRole("r", func(r *implyv1alpha1.DruidRole) {
			r.Spec.Permissions = []implyv1alpha1.DruidPermission{readWiki}
			r.Spec.Users = []string{"alice"}
		})
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(role), role)).To(Succeed())
			cond := meta.FindStatusCondition(role.Status.Conditions, implyv1alpha1.ConditionSynced)
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.Status).To(Equal(metav1.ConditionTrue), cond.Message)
		}).WithTimeout(30 * time.Second).Should(Succeed())
		live, err := e.hand.GetRole(testCtx, "basic", "r")
		Expect(err).NotTo(HaveOccurred())
		Expect(live.Users).To(ConsistOf("alice"))

		Expect(k8sClient.Delete(testCtx, role)).To(Succeed())
		Eventually(func(g Gomega) {
			_, err := e.hand.GetRole(testCtx, "basic", "r")
			g.Expect(druid.IsNotFound(err)).To(BeTrue(), "%v", err)
			g.Expect(apierrors.IsNotFound(k8sClient.Get(testCtx, client.ObjectKeyFromObject(role), role))).To(BeTrue())
		}).WithTimeout(30 * time.Second).Should(Succeed())
	})

	It("needs auth on the cluster", func() {
		e := newDruidRoleEnv("drole-noauth", false)
		role := e.createRole("r", nil)
		e.reconcile(role)
		cond := syncedOf(role)
		Expect(cond.Status).To(Equal(metav1.ConditionFalse))
		Expect(cond.Reason).To(Equal("AuthNotEnabled"))
		Expect(role.Status.ObservedGeneration).To(Equal(role.Generation))
		Expect(e.fake.Requests()).To(BeEmpty())
	})

	DescribeTable("deletion", func(policy implyv1alpha1.DeletionPolicy, kept bool) {
		e := newDruidRoleEnv("drole-del", true)
		role := e.createRole("r", func(r *implyv1alpha1.DruidRole) {
			r.Spec.DeletionPolicy = policy
			r.Spec.GroupMappings = []implyv1alpha1.GroupMapping{{Name: "ours", GroupPattern: "CN=ours"}}
		})
		e.reconcile(role)
		expectSynced(role)
		Expect(k8sClient.Delete(testCtx, role)).To(Succeed())
		e.reconcile(role)
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(testCtx, client.ObjectKeyFromObject(role), role))
		}).WithTimeout(10 * time.Second).Should(BeTrue())
		_, err := e.hand.GetRole(testCtx, "basic", "r")
		_, gmErr := e.hand.GetGroupMapping(testCtx, "basic", "ours")
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
