package realdruid

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testenv"
)

// TestPasswordRotationOnRealCoordinator: once the SecurityPolicy's lifetime has passed on the
// operator's clock, the generated passwords are rotated through the real coordinator. Admin:
// the new password logs in, the old one is refused. Internal client: the other internal user
// (druid_system_2) gets the new password and the druid_system role, both users work while the
// pods roll, and once every workload runs the new material the old user's password is revoked.
// It changes the passwords the other tests use, so it runs last (file order).
func TestPasswordRotationOnRealCoordinator(t *testing.T) {
	ctx := context.Background()
	old, oldInternal := adminPassword, internalPassword
	rolesURL := coordinatorURL + "/druid-ext/basic-security/authorization/db/" + specs.DruidAuthorizerName(cluster) + "/roles"
	lifetime := metav1.Duration{Duration: 24 * time.Hour}
	policy := &implyv1alpha1.SecurityPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "rotate-admin", Namespace: namespace},
		Spec:       implyv1alpha1.SecurityPolicySpec{Password: implyv1alpha1.PasswordPolicy{Lifetime: &lifetime}},
	}
	if err := k8sClient.Create(ctx, policy); err != nil {
		t.Fatal(err)
	}
	var c implyv1alpha1.ImplyCluster
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(cluster), &c); err != nil {
		t.Fatal(err)
	}
	c.Spec.Security.SecurityPolicyRef = &implyv1alpha1.LocalObjectReference{Name: policy.Name}
	if err := k8sClient.Update(ctx, &c); err != nil {
		t.Fatal(err)
	}
	// Not due yet: the password in effect stays.
	time.Sleep(3 * time.Second)
	if got := currentAdminPassword(t); got != old {
		t.Fatal("the admin password changed before its lifetime passed")
	}

	operatorClock.Step(lifetime.Duration + time.Hour)
	// Nudge a reconcile: the clock moving is no event.
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(cluster), &c); err != nil {
		t.Fatal(err)
	}
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations["realdruid.test/nudge"] = fmt.Sprint(time.Now().UnixNano())
	if err := k8sClient.Update(ctx, &c); err != nil {
		t.Fatal(err)
	}

	var rotated string
	if err := waitFor(ctx, 2*time.Minute, func() error {
		rotated = currentAdminPassword(t)
		if rotated == old {
			return fmt.Errorf("admin-password not rotated yet")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	rememberSecret(old)
	rememberSecret(rotated)
	adminPassword = rotated

	// The real coordinator agrees: the new password logs in, the old one is refused.
	expectStatus(t, http.MethodGet, coordinatorURL+"/status", "admin", rotated, http.StatusOK)
	expectStatus(t, http.MethodGet, coordinatorURL+"/status", "admin", old, http.StatusUnauthorized)
	status, _, err := do(httpClient(tls.VersionTLS12, 0), http.MethodGet, rolesURL, "admin", rotated, "")
	if err != nil || status != http.StatusOK {
		t.Fatalf("admin with the rotated password on the security API: %d %v", status, err)
	}

	// The internal client moved to druid_system_2 with a new password; druid_system stays valid
	// while the pods roll.
	creds := druidCredentials(t)
	newInternal := string(creds.Data[specs.DruidInternalClientPasswordKey])
	if newInternal == oldInternal || creds.Annotations["imply.operator.dev/internal-client-user"] != specs.DruidAlternateInternalClientUsername {
		t.Fatalf("internal-client rotation: user %q, password changed %v", creds.Annotations["imply.operator.dev/internal-client-user"], newInternal != oldInternal)
	}
	rememberSecret(newInternal)
	internalPassword = newInternal
	expectStatus(t, http.MethodGet, rolesURL, specs.DruidAlternateInternalClientUsername, newInternal, http.StatusOK)
	expectStatus(t, http.MethodGet, rolesURL, specs.DruidInternalClientUsername, oldInternal, http.StatusOK)
	var common corev1.ConfigMap
	if err := k8sClient.Get(ctx, types.NamespacedName{Namespace: namespace, Name: specs.CommonConfigName(clusterName)}, &common); err != nil {
		t.Fatal(err)
	}
	if want := "druid.escalator.internalClientUsername=" + specs.DruidAlternateInternalClientUsername; !strings.Contains(common.Data[specs.CommonRuntimePropertiesKey], want) {
		t.Fatalf("common.runtime.properties lacks %s", want)
	}

	// Every workload rolls (the test plays the StatefulSet and Deployment controllers); then
	// the old user's password is revoked in Druid.
	if err := waitFor(ctx, 3*time.Minute, func() error {
		if err := testenv.MarkWorkloadsReady(ctx, k8sClient, namespace, clusterName); err != nil {
			return err
		}
		if r := druidCredentials(t).Annotations["imply.operator.dev/internal-client-retiring"]; r != "" {
			return fmt.Errorf("%s is still retiring", r)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, http.MethodGet, rolesURL, specs.DruidInternalClientUsername, oldInternal, http.StatusUnauthorized)
	expectStatus(t, http.MethodGet, rolesURL, specs.DruidAlternateInternalClientUsername, newInternal, http.StatusOK)
}

func druidCredentials(t *testing.T) *corev1.Secret {
	t.Helper()
	var s corev1.Secret
	if err := k8sClient.Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: specs.DruidCredentialsName(clusterName)}, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

func currentAdminPassword(t *testing.T) string {
	t.Helper()
	return string(druidCredentials(t).Data[specs.DruidAdminPasswordKey])
}
