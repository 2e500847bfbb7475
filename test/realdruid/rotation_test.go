package realdruid

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// TestAdminPasswordRotationOnRealCoordinator: once the SecurityPolicy's lifetime has passed on
// the operator's clock, the generated admin password is rotated through the real coordinator:
// the new one logs in, the old one is refused, and c-druid-credentials holds the new one.
// It changes the admin password the other tests use, so it runs last (file order).
func TestAdminPasswordRotationOnRealCoordinator(t *testing.T) {
	ctx := context.Background()
	old := adminPassword
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
	status, _, err := do(httpClient(tls.VersionTLS12, 0), http.MethodGet,
		coordinatorURL+"/druid-ext/basic-security/authorization/db/"+specs.DruidAuthorizerName(cluster)+"/roles", "admin", rotated, "")
	if err != nil || status != http.StatusOK {
		t.Fatalf("admin with the rotated password on the security API: %d %v", status, err)
	}
}

func currentAdminPassword(t *testing.T) string {
	t.Helper()
	var s corev1.Secret
	if err := k8sClient.Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: specs.DruidCredentialsName(clusterName)}, &s); err != nil {
		t.Fatal(err)
	}
	return string(s.Data[specs.DruidAdminPasswordKey])
}
