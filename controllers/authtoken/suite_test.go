package authtoken

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/imply-operator/imply-operator/controllers/druidrole"
	"github.com/imply-operator/imply-operator/controllers/implycluster"
	"github.com/imply-operator/imply-operator/controllers/internal/testsuite"
	"github.com/imply-operator/imply-operator/controllers/securitypolicy"
)

var (
	testCtx = testsuite.Ctx
	scheme  = testsuite.Scheme
)

// Set once the suite has started.
var (
	k8sClient client.Client
	cfg       *rest.Config
)

func TestEnvtestAuthToken(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "AuthToken suite (envtest, the whole operator running)")
}

var _ = BeforeSuite(func() {
	testsuite.Start(implycluster.Setup, Setup, securitypolicy.Setup, druidrole.Setup)
	k8sClient = testsuite.K8sClient
	cfg = testsuite.Cfg
})

var _ = AfterSuite(func() {
	if k8sClient != nil {
		testsuite.ExpectNoSecretValueLeaked(implycluster.WriteClusterMetrics)
	}
	testsuite.Stop()
})
