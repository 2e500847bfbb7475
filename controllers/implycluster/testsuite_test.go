package implycluster

// Names of the shared envtest suite (controllers/internal/testsuite), as the tests use them.

import (
	"github.com/imply-operator/imply-operator/controllers/internal/testsuite"
)

const (
	settle = testsuite.Settle
)

var (
	newNamespace       = testsuite.NewNamespace
	createSecrets      = testsuite.CreateSecrets
	condition          = testsuite.Condition
	warningEvents      = testsuite.WarningEvents
	normalEvents       = testsuite.NormalEvents
	waitQuiet          = testsuite.WaitQuiet
	nonEventWrites     = testsuite.NonEventWrites
	markWorkloadsReady = testsuite.MarkWorkloadsReady
	getSecret          = testsuite.GetSecret
	workload           = testsuite.Workload
	readyCluster       = testsuite.ReadyCluster
	rolloutOrder       = testsuite.RolloutOrder
)

type noEvents = testsuite.NoEvents

// writeCounter counts the writes a client sends to the apiserver.
type writeCounter = testsuite.WriteCounter
