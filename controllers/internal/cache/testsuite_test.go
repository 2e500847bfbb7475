package cache_test

// Names of the shared envtest suite (controllers/internal/testsuite), as the tests use them.

import (
	"github.com/imply-operator/imply-operator/controllers/internal/testsuite"
)

const (
	settle = testsuite.Settle
)

var (
	newNamespace  = testsuite.NewNamespace
	createSecrets = testsuite.CreateSecrets
	condition     = testsuite.Condition
	getSecret     = testsuite.GetSecret
	readyCluster  = testsuite.ReadyCluster
)
