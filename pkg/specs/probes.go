package specs

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// Druid's health endpoints the probes call. None needs authentication: Druid leaves
// /status/health unsecured, and the readiness endpoints of brokers and historicals were added
// to its unsecured paths for this use (apache/druid#8841).
const (
	// HealthPath answers 200 once the service's HTTP server runs.
	HealthPath = "/status/health"
	// HistoricalReadinessPath answers 200 once a historical has loaded and announced the
	// segments in its cache, 503 before.
	HistoricalReadinessPath = "/druid/historical/v1/readiness"
	// BrokerReadinessPath answers 200 once a broker knows the cluster's segments, 503 before.
	BrokerReadinessPath = "/druid/broker/v1/readiness"
)

// Probe timing of the agents.
const (
	probeTimeoutSeconds = 5
	// The startup probe allows an hour: the agent fetches and starts Druid first.
	startupPeriodSeconds    = 10
	startupFailureThreshold = 360
	// Readiness drops a pod from its Services within 30 s of it failing.
	readinessPeriodSeconds    = 10
	readinessFailureThreshold = 3
	// Liveness restarts a container whose health fails for 5 minutes after it started.
	livenessPeriodSeconds    = 30
	livenessFailureThreshold = 10
)

// probedService is the service whose health stands for the pod's: the first of ServicesFor
// (coordinator, broker, historical).
func probedService(t implyv1alpha1.NodeGroupType) (Service, bool) {
	services := ServicesFor(t)
	if len(services) == 0 {
		return Service{}, false
	}
	return services[0], true
}

// ReadinessPath is the path whose 200 makes a group's pod ready: the historical's readiness
// (its segment cache is loaded) for data groups, the broker's (it knows the cluster's segments)
// for query groups, /status/health for master groups. The rollout waits on it, so a data group
// rolls on only once the restarted historicals serve their segments again.
func ReadinessPath(t implyv1alpha1.NodeGroupType) string {
	switch t {
	case implyv1alpha1.NodeGroupData:
		return HistoricalReadinessPath
	case implyv1alpha1.NodeGroupQuery:
		return BrokerReadinessPath
	}
	return HealthPath
}

// agentProbeHandler is an HTTP(S) GET of path on the probed service's port (https on the TLS
// port with TLS: the kubelet does not verify the certificate), or a TCP check of that port when
// the cluster requires client certificates, which the kubelet cannot present.
func agentProbeHandler(c *implyv1alpha1.ImplyCluster, g *implyv1alpha1.NodeGroupSpec, path string) corev1.ProbeHandler {
	svc, ok := probedService(g.Type)
	if !ok {
		return corev1.ProbeHandler{}
	}
	tls := TLSEnabled(c)
	port := intstr.FromInt32(Port(svc, tls))
	if tls && MutualTLS(c) {
		return corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: port}}
	}
	scheme := corev1.URISchemeHTTP
	if tls {
		scheme = corev1.URISchemeHTTPS
	}
	return corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: port, Scheme: scheme}}
}

// AgentReadinessProbe probes ReadinessPath of the group's type (see agentProbeHandler).
func AgentReadinessProbe(c *implyv1alpha1.ImplyCluster, g *implyv1alpha1.NodeGroupSpec) *corev1.Probe {
	return agentProbe(agentProbeHandler(c, g, ReadinessPath(g.Type)), readinessPeriodSeconds, readinessFailureThreshold)
}

// AgentStartupProbe probes /status/health until the service runs, for up to an hour; liveness
// and readiness start after it succeeds.
func AgentStartupProbe(c *implyv1alpha1.ImplyCluster, g *implyv1alpha1.NodeGroupSpec) *corev1.Probe {
	return agentProbe(agentProbeHandler(c, g, HealthPath), startupPeriodSeconds, startupFailureThreshold)
}

// AgentLivenessProbe probes /status/health and restarts a container that fails it for 5 minutes.
func AgentLivenessProbe(c *implyv1alpha1.ImplyCluster, g *implyv1alpha1.NodeGroupSpec) *corev1.Probe {
	return agentProbe(agentProbeHandler(c, g, HealthPath), livenessPeriodSeconds, livenessFailureThreshold)
}

// agentProbe is a probe with every field set, so the built object equals the defaulted live
// one; nil without a handler (a group type without services).
func agentProbe(h corev1.ProbeHandler, period, failures int32) *corev1.Probe {
	if h.HTTPGet == nil && h.TCPSocket == nil {
		return nil
	}
	return &corev1.Probe{
		ProbeHandler:     h,
		PeriodSeconds:    period,
		TimeoutSeconds:   probeTimeoutSeconds,
		SuccessThreshold: 1,
		FailureThreshold: failures,
	}
}
