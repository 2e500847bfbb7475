package specs

import (
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// Ports the NetworkPolicies open beyond the contract's.
const (
	// DNSPort is where pods resolve names (UDP and TCP).
	DNSPort int32 = 53
	// ObjectStoragePort is the https port of S3, Google Cloud Storage and Azure Blob storage.
	ObjectStoragePort int32 = 443
	// DefaultZooKeeperPort is ZooKeeper's client port when the connect string names none.
	DefaultZooKeeperPort int32 = 2181
	ldapPort             int32 = 389
	ldapsPort            int32 = 636
)

// OperatorLabelSelector selects the operator's pods as the chart and config/default label them.
var OperatorLabelSelector = map[string]string{LabelName: "imply-operator"}

// NetworkPolicyRoles are the roles with a NetworkPolicy: the manager and each node-group type.
var NetworkPolicyRoles = []string{
	ComponentManager,
	string(implyv1alpha1.NodeGroupMaster),
	string(implyv1alpha1.NodeGroupQuery),
	string(implyv1alpha1.NodeGroupData),
}

// NetworkPolicyName is <cluster>-<role>.
func NetworkPolicyName(cluster, role string) string { return cluster + "-" + role }

// NetworkPoliciesEnabled reports whether the cluster gets NetworkPolicies: unless
// spec.networkPolicy.enabled is false.
func NetworkPoliciesEnabled(c *implyv1alpha1.ImplyCluster) bool {
	np := c.Spec.NetworkPolicy
	return np == nil || np.Enabled == nil || *np.Enabled
}

// roleServices are the Druid (and Pivot) services of a role; nil for the manager.
func roleServices(role string) []Service {
	return ServicesFor(implyv1alpha1.NodeGroupType(role))
}

// roleIngressPorts are the ports a role's pods accept from the cluster's own pods: the
// manager's UI/API, agent and logs ports; each service's port (TLS-aware); and a data group's
// peon range. These are the ports Imply documents between the manager and the Druid nodes
// (reference 001, "Ports used in Imply Hybrid"), which Druid's services also use between
// themselves.
func roleIngressPorts(role string, tls bool) []networkingv1.NetworkPolicyPort {
	if role == ComponentManager {
		return tcpPorts(ManagerPort, ManagerAgentPort, ManagerLogsPort)
	}
	var ports []networkingv1.NetworkPolicyPort
	for _, s := range roleServices(role) {
		ports = append(ports, tcpPorts(Port(s, tls))...)
	}
	if role == string(implyv1alpha1.NodeGroupData) {
		start := PeonPort(tls)
		ports = append(ports, networkingv1.NetworkPolicyPort{
			Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(start)), EndPort: ptr.To(start + PeonPortCount - 1),
		})
	}
	return ports
}

// roleClientPorts are a role's user-facing ports: the manager's UI/API, the router and Pivot.
func roleClientPorts(role string, tls bool) []networkingv1.NetworkPolicyPort {
	switch role {
	case ComponentManager:
		return tcpPorts(ManagerPort)
	case string(implyv1alpha1.NodeGroupQuery):
		return tcpPorts(Port(Router, tls), Port(Pivot, tls))
	}
	return nil
}

// BuildNetworkPolicies builds <cluster>-<role> for the manager, master, query and data pods
// (nil when spec.networkPolicy.enabled is false). Each selects the role's pods and allows:
//   - in: the role's ports (roleIngressPorts) from the cluster's pods; the user-facing ports
//     (roleClientPorts) from spec.networkPolicy.clients; on master pods, the coordinator's port
//     from the operator (spec.networkPolicy.operator, else OperatorLabelSelector in any
//     namespace);
//   - out: DNS anywhere; every role's ports to the cluster's pods; ZooKeeper's ports (from the
//     connect string) to spec.networkPolicy.zookeeper or anywhere; the metadata stores' ports
//     anywhere; https anywhere for S3, Google or Azure deep storage; the LDAP server's port; and
//     spec.networkPolicy.extraEgress.
//
// Everything else is denied in both directions.
func BuildNetworkPolicies(c *implyv1alpha1.ImplyCluster) []*networkingv1.NetworkPolicy {
	if !NetworkPoliciesEnabled(c) {
		return nil
	}
	spec := c.Spec.NetworkPolicy
	if spec == nil {
		spec = &implyv1alpha1.NetworkPolicySpec{}
	}
	tls := TLSEnabled(c)
	clusterPeer := []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{
		MatchLabels: map[string]string{LabelName: AppName, LabelInstance: c.Name},
	}}}
	egress := clusterEgress(c, spec, clusterPeer, tls)
	out := make([]*networkingv1.NetworkPolicy, 0, len(NetworkPolicyRoles))
	for _, role := range NetworkPolicyRoles {
		ingress := []networkingv1.NetworkPolicyIngressRule{{From: clusterPeer, Ports: roleIngressPorts(role, tls)}}
		if ports := roleClientPorts(role, tls); len(ports) > 0 && len(spec.Clients) > 0 {
			ingress = append(ingress, networkingv1.NetworkPolicyIngressRule{From: copyPeers(spec.Clients), Ports: ports})
		}
		if role == string(implyv1alpha1.NodeGroupMaster) {
			operator := copyPeers(spec.Operator)
			if len(operator) == 0 {
				operator = []networkingv1.NetworkPolicyPeer{{
					NamespaceSelector: &metav1.LabelSelector{},
					PodSelector:       &metav1.LabelSelector{MatchLabels: copyMap(OperatorLabelSelector)},
				}}
			}
			ingress = append(ingress, networkingv1.NetworkPolicyIngressRule{From: operator, Ports: tcpPorts(Port(Coordinator, tls))})
		}
		labels := Labels(c.Name, role, role)
		if role != ComponentManager {
			labels = Labels(c.Name, role, ComponentCommon)
		}
		out = append(out, &networkingv1.NetworkPolicy{
			TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
			ObjectMeta: metav1.ObjectMeta{
				Name:      NetworkPolicyName(c.Name, role),
				Namespace: c.Namespace,
				Labels:    labels,
			},
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: componentSelector(c.Name, role)},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
				Ingress:     ingress,
				Egress:      egress,
			},
		})
	}
	return out
}

// clusterEgress is the egress every pod of the cluster gets (see BuildNetworkPolicies).
func clusterEgress(c *implyv1alpha1.ImplyCluster, spec *implyv1alpha1.NetworkPolicySpec, clusterPeer []networkingv1.NetworkPolicyPeer, tls bool) []networkingv1.NetworkPolicyEgressRule {
	dns := []networkingv1.NetworkPolicyPort{
		{Protocol: ptr.To(corev1.ProtocolUDP), Port: ptr.To(intstr.FromInt32(DNSPort))},
		{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(DNSPort))},
	}
	var internal []networkingv1.NetworkPolicyPort
	for _, role := range NetworkPolicyRoles {
		internal = append(internal, roleIngressPorts(role, tls)...)
	}
	out := []networkingv1.NetworkPolicyEgressRule{
		{Ports: dns},
		{To: clusterPeer, Ports: internal},
		{To: copyPeers(spec.ZooKeeper), Ports: tcpPorts(ZooKeeperPorts(c.Spec.Druid.ZooKeeper.ConnectString)...)},
	}
	stores := []int32{MetadataStorePort(&c.Spec.Druid.MetadataStore), MetadataStorePort(ManagerMetadataStore(c))}
	out = append(out, networkingv1.NetworkPolicyEgressRule{Ports: tcpPorts(uniquePorts(stores)...)})
	switch c.Spec.Druid.DeepStorage.Type {
	case DeepStorageS3, DeepStorageGoogle, DeepStorageAzure:
		out = append(out, networkingv1.NetworkPolicyEgressRule{Ports: tcpPorts(ObjectStoragePort)})
	}
	if l := ldapSpec(c); l != nil {
		out = append(out, networkingv1.NetworkPolicyEgressRule{Ports: tcpPorts(LDAPPort(l.URL))})
	}
	for i := range spec.ExtraEgress {
		rule := *spec.ExtraEgress[i].DeepCopy()
		for j := range rule.Ports {
			if rule.Ports[j].Protocol == nil {
				rule.Ports[j].Protocol = ptr.To(corev1.ProtocolTCP)
			}
		}
		out = append(out, rule)
	}
	return out
}

// ZooKeeperPorts are the distinct client ports of a connect string
// (host:port[,host:port...][/chroot]), 2181 for a host without one.
func ZooKeeperPorts(connect string) []int32 {
	hosts, _, _ := strings.Cut(connect, "/")
	var ports []int32
	for _, h := range strings.Split(hosts, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		port := DefaultZooKeeperPort
		if _, p, err := net.SplitHostPort(h); err == nil {
			if n, err := strconv.ParseInt(p, 10, 32); err == nil && n > 0 && n < 65536 {
				port = int32(n)
			}
		}
		ports = append(ports, port)
	}
	if len(ports) == 0 {
		ports = []int32{DefaultZooKeeperPort}
	}
	return uniquePorts(ports)
}

// LDAPPort is the port of an ldap:// or ldaps:// URL, 389 or 636 when it names none.
func LDAPPort(raw string) int32 {
	u, err := url.Parse(raw)
	if err == nil {
		if n, err := strconv.ParseInt(u.Port(), 10, 32); err == nil && n > 0 && n < 65536 {
			return int32(n)
		}
		if strings.EqualFold(u.Scheme, "ldaps") {
			return ldapsPort
		}
	}
	return ldapPort
}

func uniquePorts(ports []int32) []int32 {
	out := slices.Clone(ports)
	slices.Sort(out)
	return slices.Compact(out)
}

func tcpPorts(ports ...int32) []networkingv1.NetworkPolicyPort {
	out := make([]networkingv1.NetworkPolicyPort, 0, len(ports))
	for _, p := range ports {
		out = append(out, networkingv1.NetworkPolicyPort{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(p))})
	}
	return out
}

func copyPeers(peers []networkingv1.NetworkPolicyPeer) []networkingv1.NetworkPolicyPeer {
	if len(peers) == 0 {
		return nil
	}
	out := make([]networkingv1.NetworkPolicyPeer, len(peers))
	for i := range peers {
		peers[i].DeepCopyInto(&out[i])
	}
	return out
}
