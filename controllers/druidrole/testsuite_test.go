package druidrole

// Names of the shared envtest suite (controllers/internal/testsuite), as the tests use them.

import (
	"time"

	"github.com/imply-operator/imply-operator/controllers/internal/testsuite"
	"github.com/imply-operator/imply-operator/pkg/druid"
)

var (
	syncedOf      = testsuite.SyncedOf
	settledObject = testsuite.SettledObject
	readWiki      = testsuite.ReadWiki
)

// druidRoleEnv is the shared fake-coordinator environment, with a DruidRole reconciler called
// directly.
type druidRoleEnv = testsuite.DruidEnv

// newDruidRoleEnv is a namespace with cluster "c" on a fake coordinator and a direct DruidRole
// reconciler with its own event recorder.
func newDruidRoleEnv(prefix string, withAuth bool) *druidRoleEnv {
	e := testsuite.NewDruidEnv(prefix, withAuth)
	e.RoleReconciler = &Reconciler{Client: k8sClient, APIReader: k8sClient, Recorder: e.Events, ResyncPeriod: time.Minute, NewAPI: newDruidAPI}
	return e
}

// newDruidAPI is the client constructor the operator uses.
func newDruidAPI(c druid.Config) (druid.API, error) { return druid.New(c) }
