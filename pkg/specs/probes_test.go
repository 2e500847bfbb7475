package specs

import (
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestProbesUnderMutualTLSCheckTheTLSPort(t *testing.T) {
	g := NewWithT(t)
	c := newCluster()
	c.Spec.Security.TLS.RequireClientCertificate = true
	for name, port := range map[string]int32{"master": 8281, "query": 8282, "data": 8283} {
		ctr := BuildStatefulSet(c, group(c, name), Revisions{}).Spec.Template.Spec.Containers[0]
		for _, p := range []*corev1.Probe{ctr.ReadinessProbe, ctr.StartupProbe, ctr.LivenessProbe} {
			g.Expect(p.HTTPGet).To(BeNil(), "the kubelet cannot present a client certificate")
			g.Expect(p.TCPSocket).To(Equal(&corev1.TCPSocketAction{Port: intstr.FromInt32(port)}), name)
		}
	}
}

func TestProbeTiming(t *testing.T) {
	g := NewWithT(t)
	ctr := BuildStatefulSet(newCluster(), group(newCluster(), "data"), Revisions{}).Spec.Template.Spec.Containers[0]
	g.Expect(ctr.StartupProbe.PeriodSeconds*ctr.StartupProbe.FailureThreshold).To(Equal(int32(3600)), "an hour to start")
	g.Expect(ctr.ReadinessProbe.InitialDelaySeconds).To(BeZero(), "the startup probe gates readiness")
	g.Expect(ctr.LivenessProbe.PeriodSeconds * ctr.LivenessProbe.FailureThreshold).To(Equal(int32(300)))
}
