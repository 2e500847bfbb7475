package specs

import (
	"testing"

	. "github.com/onsi/gomega"
)

func TestNames(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{CASecretName("c"), "c-ca"},
		{CABundleName("c"), "c-ca-bundle"},
		{GroupTLSSecretName("c", "data"), "c-data-tls"},
		{ManagerTLSSecretName("c"), "c-manager-tls"},
		{DruidCredentialsName("c"), "c-druid-credentials"},
		{RevisionKeyName("c"), "c-revision-key"},
		{MetadataClientTLSName("c"), "c-metadata-client-tls"},
		{CommonConfigName("c"), "c-common-config"},
		{GroupConfigName("c", "hot-data"), "c-hot-data-config"},
		{SecurityPolicyConfigName("c"), "c-security-policy"},
		{ManagerName("c"), "c-manager"},
		{ManagerInternalServiceName("c"), "c-manager-int"},
		{GroupName("c", "query"), "c-query"},
		{HeadlessServiceName("c", "master"), "c-master-headless"},
	} {
		NewWithT(t).Expect(tc.got).To(Equal(tc.want))
	}
}

func TestLongestNamesFitInADNSLabel(t *testing.T) {
	g := NewWithT(t)
	cluster := "c23456789012345678901234567890" // the API's limit: 30
	group := "g2345678901234567890"             // the API's limit: 20
	for _, n := range []string{
		HeadlessServiceName(cluster, group), GroupConfigName(cluster, group), GroupTLSSecretName(cluster, group),
		MetadataClientTLSName(cluster), DruidCredentialsName(cluster), RevisionKeyName(cluster),
	} {
		g.Expect(len(n)).To(BeNumerically("<=", 63), n)
	}
}
