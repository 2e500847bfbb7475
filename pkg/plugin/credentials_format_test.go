package plugin

import (
	"bytes"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/test/testobj"
)

func TestAdminCredentials(t *testing.T) {
	g := NewWithT(t)
	_, err := AdminCredentials(testobj.ImplyCluster("demo", "ns"))
	g.Expect(err).To(MatchError(ContainSubstring("has no Druid basic security")))

	c := testobj.ImplyCluster("demo", "ns", testobj.WithAuth("", ""))
	c.Status.Endpoints = &implyv1alpha1.EndpointsStatus{Router: "https://demo-query.ns.svc:9088"}
	cr, err := AdminCredentials(c)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cr.Username).To(Equal("admin"))
	g.Expect(cr.SecretName).To(Equal("demo-druid-credentials"))
	g.Expect(cr.SecretKey).To(Equal("admin-password"))

	c.Spec.Security.Auth.Druid.AdminPasswordSecretRef = &implyv1alpha1.SecretKeySelector{Name: "mine"}
	cr, err = AdminCredentials(c)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cr.SecretName).To(Equal("mine"))
	g.Expect(cr.SecretKey).To(Equal("admin-password"))

	var b bytes.Buffer
	FormatCredentials(&b, cr)
	out := b.String()
	g.Expect(out).To(ContainSubstring("username:  admin"))
	g.Expect(out).To(ContainSubstring("password:  hidden (in Secret mine, key admin-password; --show prints it)"))
	g.Expect(out).To(ContainSubstring("CA:        demo-ca.crt (kubectl imply ca demo -o demo-ca.crt)"))
	g.Expect(out).To(ContainSubstring("curl --cacert demo-ca.crt -u admin https://demo-query.ns.svc:9088/status"))

	cr.Password = "shown-on-request"
	b.Reset()
	FormatCredentials(&b, cr)
	g.Expect(b.String()).To(ContainSubstring("password:  shown-on-request"))
}

func TestTokenCredentials(t *testing.T) {
	g := NewWithT(t)
	agent := &implyv1alpha1.AuthToken{ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "ns"}, Spec: implyv1alpha1.AuthTokenSpec{Type: implyv1alpha1.AuthTokenAgent}}
	_, err := TokenCredentials(agent, nil)
	g.Expect(err).To(MatchError(ContainSubstring("is an agent token (type Agent), not an API user")))
	g.Expect(err).To(MatchError(ContainSubstring("Secret agent-token key auth-token")))

	user := &implyv1alpha1.AuthToken{ObjectMeta: metav1.ObjectMeta{Name: "pivot-sales", Namespace: "ns"}, Spec: implyv1alpha1.AuthTokenSpec{
		Type: implyv1alpha1.AuthTokenDruid, Username: "sales", ClusterRef: &implyv1alpha1.LocalObjectReference{Name: "demo"}}}
	cr, err := TokenCredentials(user, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cr.SecretName).To(Equal("pivot-sales-credentials"))
	g.Expect(cr.Notes).To(ConsistOf(`ImplyCluster "demo" does not exist: no endpoints to show.`))

	plainCluster := testobj.ImplyCluster("demo", "ns", testobj.WithoutTLS())
	plainCluster.Status.Endpoints = &implyv1alpha1.EndpointsStatus{Router: "http://demo-query.ns.svc:8888"}
	cr, err = TokenCredentials(user, plainCluster)
	g.Expect(err).NotTo(HaveOccurred())
	var b bytes.Buffer
	FormatCredentials(&b, cr)
	g.Expect(b.String()).To(ContainSubstring("try:       curl -u sales http://demo-query.ns.svc:8888/status"))
	g.Expect(b.String()).NotTo(ContainSubstring("CA:"))
}
