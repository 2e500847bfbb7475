package specs

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// groupServicePorts are the Service ports of a group: one per service, on the TLS-aware port,
// targeting the container port by name (so pods on either side of a TLS switch are reached
// on their own port), with appProtocol http or https.
func groupServicePorts(c *implyv1alpha1.ImplyCluster, g *implyv1alpha1.NodeGroupSpec) []corev1.ServicePort {
	tls := TLSEnabled(c)
	services := ServicesFor(g.Type)
	ports := make([]corev1.ServicePort, 0, len(services))
	for _, s := range services {
		ports = append(ports, corev1.ServicePort{
			Name:        s.PortName(),
			Protocol:    corev1.ProtocolTCP,
			AppProtocol: ptr.To(Scheme(tls)),
			Port:        Port(s, tls),
			TargetPort:  intstr.FromString(s.PortName()),
		})
	}
	return ports
}

// BuildHeadlessService builds <cluster>-<group>-headless, the StatefulSet's governing Service:
// clusterIP None and publishNotReadyAddresses, so every agent has a stable DNS name from its
// first start (certificates carry *.<cluster>-<group>-headless.<ns>.svc).
func BuildHeadlessService(c *implyv1alpha1.ImplyCluster, g *implyv1alpha1.NodeGroupSpec) *corev1.Service {
	return &corev1.Service{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      HeadlessServiceName(c.Name, g.Name),
			Namespace: c.Namespace,
			Labels:    groupLabels(c, g),
		},
		Spec: corev1.ServiceSpec{
			Type:                     corev1.ServiceTypeClusterIP,
			ClusterIP:                corev1.ClusterIPNone,
			PublishNotReadyAddresses: true,
			Selector:                 SelectorLabels(c.Name, g.Name),
			Ports:                    groupServicePorts(c, g),
		},
	}
}

// BuildClientService builds <cluster>-<group>, the ClusterIP Service clients use to reach the
// group's ready agents on each of its service ports.
func BuildClientService(c *implyv1alpha1.ImplyCluster, g *implyv1alpha1.NodeGroupSpec) *corev1.Service {
	return &corev1.Service{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      GroupName(c.Name, g.Name),
			Namespace: c.Namespace,
			Labels:    groupLabels(c, g),
		},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: SelectorLabels(c.Name, g.Name),
			Ports:    groupServicePorts(c, g),
		},
	}
}
