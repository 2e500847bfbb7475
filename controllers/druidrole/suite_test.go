package druidrole

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/imply-operator/imply-operator/controllers/authtoken"
	"github.com/imply-operator/imply-operator/controllers/implycluster"
	"github.com/imply-operator/imply-operator/controllers/internal/testsuite"
	"github.com/imply-operator/imply-operator/controllers/securitypolicy"
)

var (
	testCtx = testsuite.Ctx
)

// Set once the suite has started.
var (
	k8sClient client.Client
)

func TestEnvtestDruidRole(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "DruidRole suite (envtest, the whole operator running)")
}

var _ = BeforeSuite(func() {
	testsuite.Start(implycluster.Setup, authtoken.Setup, securitypolicy.Setup, Setup)
	k8sClient = testsuite.K8sClient
})

var _ = AfterSuite(func() {
	if k8sClient != nil {
		testsuite.ExpectNoSecretValueLeaked(implycluster.WriteClusterMetrics)
	}
	testsuite.Stop()
})
