package specs

import (
	"strings"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// Druid (and Pivot) service names as Druid spells them; druid.service is "druid/<name>".
const (
	ServiceCoordinator   = "coordinator"
	ServiceOverlord      = "overlord"
	ServiceBroker        = "broker"
	ServiceRouter        = "router"
	ServicePivot         = "pivot"
	ServiceHistorical    = "historical"
	ServiceMiddleManager = "middleManager"
)

// Service is a process an agent runs, with its port in each mode. TLS shifts every Druid port by
// +200 (the router to 9088); Pivot keeps 9095 and switches to https.
type Service struct {
	// Name is the service's name as Druid spells it, such as "middleManager".
	Name string
	// PlaintextPort is the port without TLS.
	PlaintextPort int32
	// TLSPort is the port with TLS.
	TLSPort int32
}

// PortName is the name of the service's container and Service port: the lower-cased service
// name, a valid IANA_SVC_NAME (at most 15 characters). It is the same in both modes, so a
// named targetPort survives a TLS switch; the scheme is carried by appProtocol.
func (s Service) PortName() string { return strings.ToLower(s.Name) }

// IsDruid reports whether the service is a Druid JVM with a runtime.properties (Pivot is not).
func (s Service) IsDruid() bool { return s.Name != ServicePivot }

// Ports of the contract (design.md, "Ports: TLS shifts every Druid port by +200").
var (
	Coordinator   = Service{Name: ServiceCoordinator, PlaintextPort: 8081, TLSPort: 8281}
	Broker        = Service{Name: ServiceBroker, PlaintextPort: 8082, TLSPort: 8282}
	Historical    = Service{Name: ServiceHistorical, PlaintextPort: 8083, TLSPort: 8283}
	Overlord      = Service{Name: ServiceOverlord, PlaintextPort: 8090, TLSPort: 8290}
	MiddleManager = Service{Name: ServiceMiddleManager, PlaintextPort: 8091, TLSPort: 8291}
	Router        = Service{Name: ServiceRouter, PlaintextPort: 8888, TLSPort: 9088}
	Pivot         = Service{Name: ServicePivot, PlaintextPort: 9095, TLSPort: 9095}
)

// Peon port range start, plaintext and TLS (druid.indexer.runner.startPort).
const (
	PeonStartPort    int32 = 8100
	PeonStartTLSPort int32 = 8300
	// PeonPortCount is the size of the peon port range (druid.indexer.runner.endPort is the
	// start + 99), which the NetworkPolicies open: enough for a worker capacity of 99.
	PeonPortCount int32 = 100
)

// Imply Manager ports and their names.
const (
	// ManagerPort serves the manager UI and API, http or https.
	ManagerPort int32 = 9097
	// ManagerAgentPort is where agents register with the manager.
	ManagerAgentPort int32 = 9989
	// ManagerLogsPort receives the agents' logs.
	ManagerLogsPort int32 = 9994

	ManagerAgentPortName = "agent"
	ManagerLogsPortName  = "logs"
)

// ServicesFor returns the services a node group of type t runs, in a fixed order whose first
// element is the one probed: master → coordinator, overlord; query → broker, router, pivot;
// data → historical, middleManager. Unknown types run nothing.
func ServicesFor(t implyv1alpha1.NodeGroupType) []Service {
	switch t {
	case implyv1alpha1.NodeGroupMaster:
		return []Service{Coordinator, Overlord}
	case implyv1alpha1.NodeGroupQuery:
		return []Service{Broker, Router, Pivot}
	case implyv1alpha1.NodeGroupData:
		return []Service{Historical, MiddleManager}
	}
	return nil
}

// Port returns the service's port with TLS on or off.
func Port(svc Service, tls bool) int32 {
	if tls {
		return svc.TLSPort
	}
	return svc.PlaintextPort
}

// PeonPort returns the start of the peon port range with TLS on or off.
func PeonPort(tls bool) int32 {
	if tls {
		return PeonStartTLSPort
	}
	return PeonStartPort
}

// Scheme returns "https" with TLS and "http" without.
func Scheme(tls bool) string {
	if tls {
		return "https"
	}
	return "http"
}

// TLSEnabled reports whether TLS is on for c. The API server defaults security and tls to {}
// and enabled to true, so a nil Security or TLS only occurs in objects that never went through
// it; those count as TLS off.
func TLSEnabled(c *implyv1alpha1.ImplyCluster) bool {
	return c.Spec.Security != nil && c.Spec.Security.TLS != nil && c.Spec.Security.TLS.Enabled
}
