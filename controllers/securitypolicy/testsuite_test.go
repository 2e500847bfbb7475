package securitypolicy

// Names of the shared envtest suite (controllers/internal/testsuite), as the tests use them.

import (
	"github.com/imply-operator/imply-operator/controllers/internal/testsuite"
)

const (
	settle = testsuite.Settle
)

var (
	newNamespace = testsuite.NewNamespace
)

type capturedEvent = testsuite.CapturedEvent
type captureEvents = testsuite.CaptureEvents

// writeCounter counts the writes a client sends to the apiserver.
type writeCounter = testsuite.WriteCounter
