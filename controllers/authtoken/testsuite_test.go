package authtoken

// Names of the shared envtest suite (controllers/internal/testsuite), as the tests use them.

import (
	"time"

	"github.com/imply-operator/imply-operator/controllers/druidrole"
	"github.com/imply-operator/imply-operator/controllers/internal/testsuite"
	"github.com/imply-operator/imply-operator/pkg/druid"
)

const (
	settle = testsuite.Settle
)

var (
	newNamespace  = testsuite.NewNamespace
	createSecrets = testsuite.CreateSecrets
	waitQuiet     = testsuite.WaitQuiet
	getSecret     = testsuite.GetSecret
	credentials   = testsuite.Credentials
	syncedOf      = testsuite.SyncedOf
	settledObject = testsuite.SettledObject
	readWiki      = testsuite.ReadWiki
)

type captureEvents = testsuite.CaptureEvents
type recordedEvents = testsuite.RecordedEvents
type druidRoleEnv = testsuite.DruidEnv

// newDruidRoleEnv is a namespace with cluster "c" on a fake coordinator and a direct DruidRole
// reconciler with its own event recorder.
func newDruidRoleEnv(prefix string, withAuth bool) *druidRoleEnv {
	e := testsuite.NewDruidEnv(prefix, withAuth)
	e.RoleReconciler = &druidrole.Reconciler{Client: k8sClient, APIReader: k8sClient, Recorder: e.Events, ResyncPeriod: time.Minute, NewAPI: newDruidAPI}
	return e
}

// newDruidAPI is the client constructor the operator uses.
func newDruidAPI(c druid.Config) (druid.API, error) { return druid.New(c) }

// writeCounter counts the writes a client sends to the apiserver.
type writeCounter = testsuite.WriteCounter
