package plugin

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/imply-operator/imply-operator/pkg/plugin"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

func TestCredentials(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t, "plugin-credentials")
	createCluster(t, cluster("shop", ns))
	druidUser(t, ns, "pivot-sales", "shop", "sales", "credentials-user-password")
	admin := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: specs.DruidCredentialsName("shop"), Namespace: ns},
		Data: map[string][]byte{"admin-password": []byte("credentials-admin-password"), "internal-client-password": []byte("x")}}
	g.Expect(k8s.Create(context.Background(), admin)).To(Succeed())

	r := kubectlImply(t, "", "credentials", "pivot-sales", "-n", ns)
	g.Expect(r.Code).To(Equal(0), r.Stderr)
	g.Expect(r.Stdout).To(ContainSubstring("AuthToken plugin-credentials/pivot-sales (Druid API user)"))
	g.Expect(r.Stdout).To(ContainSubstring("username:  sales"))
	g.Expect(r.Stdout).To(ContainSubstring("password:  hidden (in Secret pivot-sales-credentials, key password; --show prints it)"))
	g.Expect(r.Stdout).To(ContainSubstring("router:    https://shop-query.plugin-credentials.svc:9088"))
	g.Expect(r.Stdout).To(ContainSubstring("kubectl imply ca shop -o shop-ca.crt"))
	g.Expect(r.Stdout).NotTo(ContainSubstring("credentials-user-password"))

	r = kubectlImply(t, "", "credentials", "iat/pivot-sales", "-n", ns, "--show")
	g.Expect(r.Code).To(Equal(0), r.Stderr)
	g.Expect(r.Stdout).To(ContainSubstring("password:  credentials-user-password"))

	r = kubectlImply(t, "", "credentials", "shop", "-n", ns)
	g.Expect(r.Code).To(Equal(0), r.Stderr)
	g.Expect(r.Stdout).To(ContainSubstring("ImplyCluster plugin-credentials/shop (Druid admin)"))
	g.Expect(r.Stdout).To(ContainSubstring("username:  admin"))
	g.Expect(r.Stdout).NotTo(ContainSubstring("credentials-admin-password"))

	r = kubectlImply(t, "", "credentials", "ic/shop", "-n", ns, "--show")
	g.Expect(r.Code).To(Equal(0), r.Stderr)
	g.Expect(r.Stdout).To(ContainSubstring("password:  credentials-admin-password"))

	// A name that is both: the user must say which.
	druidUser(t, ns, "shop", "shop", "shopper", "credentials-shopper-password")
	r = kubectlImply(t, "", "credentials", "shop", "-n", ns)
	g.Expect(r.Code).To(Equal(plugin.ExitUsage))
	g.Expect(r.Stderr).To(ContainSubstring("say authtoken/shop or implycluster/shop"))
	r = kubectlImply(t, "", "credentials", "authtoken/shop", "-n", ns)
	g.Expect(r.Code).To(Equal(0), r.Stderr)
	g.Expect(r.Stdout).To(ContainSubstring("username:  shopper"))

	// --show when the Secret is gone: exit 3 naming it.
	g.Expect(k8s.Delete(context.Background(), admin)).To(Succeed())
	r = kubectlImply(t, "", "credentials", "ic/shop", "-n", ns, "--show")
	g.Expect(r.Code).To(Equal(plugin.ExitNotFound))
	g.Expect(r.Stderr).To(ContainSubstring(`Secret "shop-druid-credentials" not found`))
}
