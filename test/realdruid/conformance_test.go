package realdruid

import (
	"crypto/tls"
	"testing"

	"github.com/imply-operator/imply-operator/pkg/druid/fakecoordinator/conformance"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// TestConformance runs the fake coordinator's conformance suite against the real coordinator,
// over the cluster's TLS with its generated admin and internal-client passwords.
func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Target{
		URL:                    coordinatorURL,
		Client:                 httpClient(tls.VersionTLS12, 0),
		AdminPassword:          adminPassword,
		InternalClientPassword: internalPassword,
		Authenticator:          specs.DruidAuthenticatorName(cluster),
		Authorizer:             specs.DruidAuthorizerName(cluster),
		Prefix:                 "conformance-",
	})
}
