package specs

import (
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func TestGroupServices(t *testing.T) {
	for _, tc := range []struct {
		group string
		tls   bool
		ports map[string]int32
	}{
		{"master", true, map[string]int32{"coordinator": 8281, "overlord": 8290}},
		{"master", false, map[string]int32{"coordinator": 8081, "overlord": 8090}},
		{"query", true, map[string]int32{"broker": 8282, "router": 9088, "pivot": 9095}},
		{"query", false, map[string]int32{"broker": 8082, "router": 8888, "pivot": 9095}},
		{"data", true, map[string]int32{"historical": 8283, "middlemanager": 8291}},
		{"data", false, map[string]int32{"historical": 8083, "middlemanager": 8091}},
	} {
		t.Run(tc.group+map[bool]string{true: "/tls", false: "/plaintext"}[tc.tls], func(t *testing.T) {
			g := NewWithT(t)
			c := newCluster(withTLS(tc.tls))
			grp := group(c, tc.group)
			headless := BuildHeadlessService(c, grp)
			client := BuildClientService(c, grp)

			g.Expect(headless.Name).To(Equal("c-" + tc.group + "-headless"))
			g.Expect(headless.Spec.ClusterIP).To(Equal(corev1.ClusterIPNone))
			g.Expect(headless.Spec.PublishNotReadyAddresses).To(BeTrue())
			g.Expect(client.Name).To(Equal("c-" + tc.group))
			g.Expect(client.Spec.Type).To(Equal(corev1.ServiceTypeClusterIP))
			g.Expect(client.Spec.ClusterIP).To(BeEmpty())
			g.Expect(client.Spec.PublishNotReadyAddresses).To(BeFalse())

			for _, svc := range []*corev1.Service{headless, client} {
				g.Expect(svc.Namespace).To(Equal("ns"))
				g.Expect(svc.Labels).To(Equal(Labels("c", string(grp.Type), tc.group)))
				g.Expect(svc.Spec.Selector).To(Equal(SelectorLabels("c", tc.group)))
				ports := map[string]int32{}
				for _, p := range svc.Spec.Ports {
					ports[p.Name] = p.Port
					g.Expect(p.TargetPort).To(Equal(intstr.FromString(p.Name)))
					g.Expect(p.AppProtocol).To(Equal(ptr.To(Scheme(tc.tls))))
				}
				g.Expect(ports).To(Equal(tc.ports))
			}

			// Every Service port targets a container port of the StatefulSet by name.
			containerPorts := map[string]bool{}
			for _, p := range BuildStatefulSet(c, grp, Revisions{}).Spec.Template.Spec.Containers[0].Ports {
				containerPorts[p.Name] = true
			}
			for _, p := range client.Spec.Ports {
				g.Expect(containerPorts).To(HaveKey(p.TargetPort.StrVal))
			}
		})
	}
}
