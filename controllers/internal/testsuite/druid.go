package testsuite

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/druid"
	"github.com/imply-operator/imply-operator/pkg/druid/fakecoordinator"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// Credentials reads <token>-Credentials.
func Credentials(ns, token string) *corev1.Secret {
	GinkgoHelper()
	var s corev1.Secret
	Expect(K8sClient.Get(Ctx, client.ObjectKey{Namespace: ns, Name: specs.DruidUserCredentialsName(token)}, &s)).To(Succeed())
	return &s
}

// LoginAs tells whether Druid accepts username and password: an authenticated user without
// permissions gets 403 on the security API, a wrong password 401.
func (e *DruidEnv) LoginAs(username, password string) bool {
	GinkgoHelper()
	api, err := druid.New(druid.Config{BaseURL: e.Fake.URL, Username: username, Password: password, Retries: -1, CABundle: e.CABundle})
	Expect(err).NotTo(HaveOccurred())
	_, err = api.ListRoles(Ctx, "basic")
	if druid.IsUnauthorized(err) {
		return false
	}
	Expect(err == nil || druid.IsForbidden(err)).To(BeTrue(), "%v", err)
	return true
}

// RolesOf is the roles Druid assigns user.
func (e *DruidEnv) RolesOf(user string) []string {
	GinkgoHelper()
	u, err := e.Hand.GetAuthorizerUser(Ctx, "basic", user)
	Expect(err).NotTo(HaveOccurred())
	return u.Roles
}

// DruidEnv is a namespace with an auth-enabled cluster "c" whose coordinator is a fake.
type DruidEnv struct {
	Ns   string
	Fake *fakecoordinator.Server
	// Hand is the admin, changing Druid by hand.
	Hand   druid.API
	Events *RecordedEvents
	// RoleReconciler reconciles DruidRoles directly; the caller sets it (Reconcile uses it).
	RoleReconciler reconcile.Reconciler
	// CABundle is what clients trust when the fake serves https.
	CABundle []byte
}

// DruidAdminPassword is the fake coordinator's admin password.
const DruidAdminPassword = "Fake-Admin-Password-0123456789"

// NewDruidEnv creates a namespace with cluster "c" (auth on when withAuth) whose apiURL is a
// fake coordinator, and the admin's own client of it. The caller sets RoleReconciler.
func NewDruidEnv(prefix string, withAuth bool) *DruidEnv {
	e := &DruidEnv{Ns: NewNamespace(prefix), Events: &RecordedEvents{}}
	e.Fake = fakecoordinator.New(fakecoordinator.Options{AdminPassword: DruidAdminPassword, CredentialIterations: 100})
	DeferCleanup(e.Fake.Close)
	hand, err := druid.New(druid.Config{BaseURL: e.Fake.URL, Username: "admin", Password: DruidAdminPassword, Retries: -1})
	Expect(err).NotTo(HaveOccurred())
	e.Hand = hand

	CreateSecrets(e.Ns)
	Expect(K8sClient.Create(Ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "druid-admin", Namespace: e.Ns},
		StringData: map[string]string{"admin-password": DruidAdminPassword},
	})).To(Succeed())
	opts := []testobj.ClusterOption{testobj.WithoutTLS()}
	if withAuth {
		opts = append(opts, testobj.WithAuth("", ""))
	}
	c := testobj.ImplyCluster("c", e.Ns, opts...)
	c.Spec.Druid.APIURL = e.Fake.URL
	if withAuth {
		c.Spec.Security.Auth.Druid.AdminPasswordSecretRef = &implyv1alpha1.SecretKeySelector{Name: "druid-admin"}
	}
	Expect(K8sClient.Create(Ctx, c)).To(Succeed())

	return e
}

// CreateRole creates DruidRole name of cluster "c", changed by mutate.
func (e *DruidEnv) CreateRole(name string, mutate func(*implyv1alpha1.DruidRole)) *implyv1alpha1.DruidRole {
	role := &implyv1alpha1.DruidRole{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.Ns},
		Spec:       implyv1alpha1.DruidRoleSpec{ClusterRef: implyv1alpha1.LocalObjectReference{Name: "c"}},
	}
	if mutate != nil {
		mutate(role)
	}
	Expect(K8sClient.Create(Ctx, role)).To(Succeed())
	return role
}

// CreateUsers creates the users in Druid's authorizer by hand.
func (e *DruidEnv) CreateUsers(users ...string) {
	for _, u := range users {
		Expect(e.Hand.CreateAuthorizerUser(Ctx, "basic", u)).To(Succeed())
	}
}

// Reconcile reconciles role once with RoleReconciler.
func (e *DruidEnv) Reconcile(role *implyv1alpha1.DruidRole) ctrl.Result {
	res, err := e.RoleReconciler.Reconcile(Ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(role)})
	Expect(err).NotTo(HaveOccurred())
	return res
}

// SyncedOf re-reads role and returns its Synced condition.
func SyncedOf(role *implyv1alpha1.DruidRole) *metav1.Condition {
	Expect(K8sClient.Get(Ctx, client.ObjectKeyFromObject(role), role)).To(Succeed())
	return meta.FindStatusCondition(role.Status.Conditions, implyv1alpha1.ConditionSynced)
}

// SettledObject waits until the operator's own controllers, which also reconcile the test's
// objects, have stopped writing obj, so a direct reconcile does not race with them.
func SettledObject(obj client.Object) {
	GinkgoHelper()
	cur, ok := obj.DeepCopyObject().(client.Object)
	Expect(ok).To(BeTrue())
	Eventually(func(g Gomega) {
		g.Expect(K8sClient.Get(Ctx, client.ObjectKeyFromObject(obj), cur)).To(Succeed())
		rv := cur.GetResourceVersion()
		time.Sleep(500 * time.Millisecond)
		g.Expect(K8sClient.Get(Ctx, client.ObjectKeyFromObject(obj), cur)).To(Succeed())
		g.Expect(cur.GetResourceVersion()).To(Equal(rv))
	}).WithTimeout(20 * time.Second).Should(Succeed())
}

// Writes are the requests the fake received that change something.
func (e *DruidEnv) Writes() []fakecoordinator.Request {
	var out []fakecoordinator.Request
	for _, req := range e.Fake.Requests() {
		if req.Method != "GET" {
			out = append(out, req)
		}
	}
	return out
}

// ReadWiki reads the datasource wikipedia.
var ReadWiki = implyv1alpha1.DruidPermission{
	Resource: implyv1alpha1.DruidResource{Type: "DATASOURCE", Name: "wikipedia"}, Action: implyv1alpha1.DruidActionRead,
}
