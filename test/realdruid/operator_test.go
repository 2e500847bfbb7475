package realdruid

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/druid"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// configURL is a coordinator endpoint guarded by CONFIG "CONFIG": READ for GET, WRITE for POST.
func configURL() string { return coordinatorURL + "/druid/coordinator/v1/config" }

// adminAPI is the test's own client of the coordinator, as admin.
func adminAPI(t *testing.T) druid.API {
	t.Helper()
	var bundle corev1.ConfigMap
	if err := k8sClient.Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: specs.CABundleName(clusterName)}, &bundle); err != nil {
		t.Fatal(err)
	}
	api, err := druid.New(druid.Config{BaseURL: coordinatorURL, CABundle: []byte(bundle.Data[specs.TLSCAKey]), Username: "admin", Password: adminPassword})
	if err != nil {
		t.Fatal(err)
	}
	return api
}

// createUser makes a Druid user with a password (authenticator user, credentials, authorizer
// user), as a person would through the API.
func createUser(t *testing.T, api druid.API, user, password string) {
	t.Helper()
	ctx := context.Background()
	authn, authz := specs.DruidAuthenticatorName(cluster), specs.DruidAuthorizerName(cluster)
	if err := api.CreateAuthenticatorUser(ctx, authn, user); err != nil {
		t.Fatal(err)
	}
	if err := api.SetCredentials(ctx, authn, user, password); err != nil {
		t.Fatal(err)
	}
	if err := api.CreateAuthorizerUser(ctx, authz, user); err != nil {
		t.Fatal(err)
	}
}

// expectStatus waits until method url as user answers want (Druid's caches on the coordinator
// are updated as the API call returns, but the wait keeps the test honest if that changes).
func expectStatus(t *testing.T, method, url, user, password string, want int) {
	t.Helper()
	var last int
	var lastErr error
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		body := ""
		if method == http.MethodPost {
			body = "{}"
		}
		last, _, lastErr = do(httpClient(tls.VersionTLS12, 0), method, url, user, password, body)
		if lastErr == nil && last == want {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("%s %s as %s: %d %v, want %d", method, url, user, last, lastErr, want)
}

func waitCondition(t *testing.T, obj client.Object, conditions func() []metav1.Condition, condType string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var cond *metav1.Condition
	for time.Now().Before(deadline) {
		if err := k8sClient.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			t.Fatal(err)
		}
		cond = meta.FindStatusCondition(conditions(), condType)
		if cond != nil && cond.Status == metav1.ConditionTrue && cond.ObservedGeneration == obj.GetGeneration() {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("%s %s: condition %s never became True for generation %d: %+v", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName(), condType, obj.GetGeneration(), cond)
}

func waitGone(t *testing.T, obj client.Object) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		err := k8sClient.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)
		if apierrors.IsNotFound(err) {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("%s was not deleted (finalizers %v)", obj.GetName(), obj.GetFinalizers())
}

func permission(typ, name, action string) implyv1alpha1.DruidPermission {
	return implyv1alpha1.DruidPermission{Resource: implyv1alpha1.DruidResource{Type: implyv1alpha1.DruidResourceType(typ), Name: name}, Action: implyv1alpha1.DruidAction(action)}
}

// TestDruidRoleOnRealCoordinator: a DruidRole converges on the real coordinator (role,
// permissions, users, LDAP group mapping), a user holding it can do exactly what it grants,
// a spec change and changes made by hand in Druid are converged, and deletion removes the role.
func TestDruidRoleOnRealCoordinator(t *testing.T) {
	ctx := context.Background()
	api := adminAPI(t)
	authz := specs.DruidAuthorizerName(cluster)
	const reader, other, password = "cfg-reader", "no-config", "Reader-Password-0123456789"
	createUser(t, api, reader, password)
	createUser(t, api, other, password+"-other")

	// Before the role: neither may read the configuration.
	expectStatus(t, http.MethodGet, configURL(), reader, password, http.StatusForbidden)

	role := &implyv1alpha1.DruidRole{
		ObjectMeta: metav1.ObjectMeta{Name: "config-readers", Namespace: namespace},
		Spec: implyv1alpha1.DruidRoleSpec{
			ClusterRef:    implyv1alpha1.LocalObjectReference{Name: clusterName},
			RoleName:      "config-readers-role",
			Permissions:   []implyv1alpha1.DruidPermission{permission("CONFIG", ".*", "READ")},
			Users:         []string{reader},
			GroupMappings: []implyv1alpha1.GroupMapping{{Name: "config-readers-ldap", GroupPattern: "CN=config-readers,OU=groups,DC=example,DC=com"}},
		},
	}
	if err := k8sClient.Create(ctx, role); err != nil {
		t.Fatal(err)
	}
	conds := func() []metav1.Condition { return role.Status.Conditions }
	waitCondition(t, role, conds, implyv1alpha1.ConditionSynced, time.Minute)

	// Druid holds what the spec says.
	got, err := api.GetRole(ctx, authz, "config-readers-role")
	if err != nil {
		t.Fatal(err)
	}
	wantPerms := []druid.Permission{{Resource: druid.Resource{Type: "CONFIG", Name: ".*"}, Action: "READ"}}
	if !slices.Equal(got.Permissions, wantPerms) || !slices.Equal(got.Users, []string{reader}) || !slices.Equal(got.Groups, []string{"config-readers-ldap"}) {
		t.Fatalf("role in Druid: %+v", got)
	}
	gm, err := api.GetGroupMapping(ctx, authz, "config-readers-ldap")
	if err != nil || gm.GroupPattern != role.Spec.GroupMappings[0].GroupPattern || !slices.Equal(gm.Roles, []string{"config-readers-role"}) {
		t.Fatalf("group mapping in Druid: %+v %v", gm, err)
	}

	// Exactly what the role grants: CONFIG READ, not WRITE; the other user nothing.
	expectStatus(t, http.MethodGet, configURL(), reader, password, http.StatusOK)
	expectStatus(t, http.MethodPost, configURL(), reader, password, http.StatusForbidden)
	expectStatus(t, http.MethodGet, configURL(), other, password+"-other", http.StatusForbidden)

	// A spec change: WRITE too, and the other user joins.
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(role), role); err != nil {
		t.Fatal(err)
	}
	role.Spec.Permissions = append(role.Spec.Permissions, permission("CONFIG", ".*", "WRITE"))
	role.Spec.Users = []string{reader, other}
	if err := k8sClient.Update(ctx, role); err != nil {
		t.Fatal(err)
	}
	waitCondition(t, role, conds, implyv1alpha1.ConditionSynced, time.Minute)
	expectStatus(t, http.MethodGet, configURL(), other, password+"-other", http.StatusOK)
	expectStatus(t, http.MethodPost, configURL(), reader, password, http.StatusOK)

	// Changes made by hand in Druid are reverted on the next resync.
	if err := api.SetPermissions(ctx, authz, "config-readers-role", nil); err != nil {
		t.Fatal(err)
	}
	if err := api.UnassignRole(ctx, authz, other, "config-readers-role"); err != nil {
		t.Fatal(err)
	}
	if err := api.UnassignGroupMappingRole(ctx, authz, "config-readers-ldap", "config-readers-role"); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, http.MethodGet, configURL(), reader, password, http.StatusForbidden)
	expectStatus(t, http.MethodGet, configURL(), reader, password, http.StatusOK) // within a resync
	expectStatus(t, http.MethodGet, configURL(), other, password+"-other", http.StatusOK)
	if err := waitFor(ctx, time.Minute, func() error {
		gm, err := api.GetGroupMapping(ctx, authz, "config-readers-ldap")
		if err != nil {
			return err
		}
		if !slices.Equal(gm.Roles, []string{"config-readers-role"}) {
			return fmt.Errorf("group mapping roles %v", gm.Roles)
		}
		return nil
	}); err != nil {
		t.Fatalf("the group mapping's role was not restored: %v", err)
	}

	// Deletion (deletionPolicy Delete by default) removes the role and what it granted.
	if err := k8sClient.Delete(ctx, role); err != nil {
		t.Fatal(err)
	}
	waitGone(t, role)
	if _, err := api.GetRole(ctx, authz, "config-readers-role"); !druid.IsNotFound(err) {
		t.Fatalf("the role is still in Druid: %v", err)
	}
	expectStatus(t, http.MethodGet, configURL(), reader, password, http.StatusForbidden)
}

// TestAuthTokenDruidOnRealCoordinator: an AuthToken of type Druid makes a Druid user with a
// generated password on the real coordinator, holding the roles of its spec; that user logs in
// with the password from <name>-credentials and gets exactly what its DruidRole grants; deleting
// the AuthToken removes the user.
func TestAuthTokenDruidOnRealCoordinator(t *testing.T) {
	ctx := context.Background()
	api := adminAPI(t)
	authn, authz := specs.DruidAuthenticatorName(cluster), specs.DruidAuthorizerName(cluster)

	// The role the token's user holds: CONFIG READ. The DruidRole lists no users; the
	// AuthToken assigns its own.
	role := &implyv1alpha1.DruidRole{
		ObjectMeta: metav1.ObjectMeta{Name: "pivot-config", Namespace: namespace},
		Spec: implyv1alpha1.DruidRoleSpec{
			ClusterRef:  implyv1alpha1.LocalObjectReference{Name: clusterName},
			Permissions: []implyv1alpha1.DruidPermission{permission("CONFIG", ".*", "READ"), permission("DATASOURCE", "wiki.*", "READ")},
		},
	}
	if err := k8sClient.Create(ctx, role); err != nil {
		t.Fatal(err)
	}
	waitCondition(t, role, func() []metav1.Condition { return role.Status.Conditions }, implyv1alpha1.ConditionSynced, time.Minute)

	priority := int32(7)
	token := &implyv1alpha1.AuthToken{
		ObjectMeta: metav1.ObjectMeta{Name: "pivot", Namespace: namespace},
		Spec: implyv1alpha1.AuthTokenSpec{
			Type:        implyv1alpha1.AuthTokenDruid,
			ClusterRef:  &implyv1alpha1.LocalObjectReference{Name: clusterName},
			Username:    "pivot-user",
			Roles:       []string{"pivot-config"},
			Datasources: []string{"wikipedia"},
			Priority:    &priority,
		},
	}
	if err := k8sClient.Create(ctx, token); err != nil {
		t.Fatal(err)
	}
	waitCondition(t, token, func() []metav1.Condition { return token.Status.Conditions }, implyv1alpha1.ConditionReady, time.Minute)

	var creds corev1.Secret
	if err := k8sClient.Get(ctx, types.NamespacedName{Namespace: namespace, Name: specs.DruidUserCredentialsName(token.Name)}, &creds); err != nil {
		t.Fatal(err)
	}
	user, password := string(creds.Data["username"]), string(creds.Data["password"])
	rememberSecret(password)
	if user != "pivot-user" || len(password) < 16 || creds.Type != corev1.SecretTypeBasicAuth {
		t.Fatalf("credentials Secret: type %s, username %q, password of %d characters", creds.Type, user, len(password))
	}
	var tokenJSON struct {
		Datasources []string `json:"datasources"`
		Priority    int32    `json:"priority"`
	}
	if err := json.Unmarshal(creds.Data["token.json"], &tokenJSON); err != nil || !slices.Equal(tokenJSON.Datasources, []string{"wikipedia"}) || tokenJSON.Priority != 7 {
		t.Fatalf("token.json: %+v %v", tokenJSON, err)
	}

	// In Druid: the authenticator user with credentials, the authorizer user with the role.
	authnUser, err := api.GetAuthenticatorUser(ctx, authn, user)
	if err != nil || authnUser.Credentials == nil {
		t.Fatalf("authenticator user: %+v %v", authnUser, err)
	}
	authzUser, err := api.GetAuthorizerUser(ctx, authz, user)
	if err != nil || !slices.Equal(authzUser.Roles, []string{"pivot-config"}) {
		t.Fatalf("authorizer user: %+v %v", authzUser, err)
	}

	// Real calls as that user: exactly what the role grants.
	expectStatus(t, http.MethodGet, configURL(), user, password, http.StatusOK)
	expectStatus(t, http.MethodPost, configURL(), user, password, http.StatusForbidden)
	expectStatus(t, http.MethodGet, configURL(), user, "not-the-password", http.StatusUnauthorized)

	// Deleting the AuthToken removes the user from Druid.
	if err := k8sClient.Delete(ctx, token); err != nil {
		t.Fatal(err)
	}
	waitGone(t, token)
	if _, err := api.GetAuthenticatorUser(ctx, authn, user); !druid.IsNotFound(err) {
		t.Fatalf("the authenticator user is still in Druid: %v", err)
	}
	expectStatus(t, http.MethodGet, configURL(), user, password, http.StatusUnauthorized)
	if err := k8sClient.Delete(ctx, role); err != nil {
		t.Fatal(err)
	}
	waitGone(t, role)
}
