package specs

import (
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// portSet flattens policy ports to "TCP/8281" or "TCP/8300-8399".
func portSet(ports []networkingv1.NetworkPolicyPort) []string {
	var out []string
	for _, p := range ports {
		s := string(*p.Protocol) + "/" + p.Port.String()
		if p.EndPort != nil {
			s += "-" + itoa(*p.EndPort)
		}
		out = append(out, s)
	}
	return out
}

func policies(c *implyv1alpha1.ImplyCluster) map[string]*networkingv1.NetworkPolicy {
	out := map[string]*networkingv1.NetworkPolicy{}
	for _, np := range BuildNetworkPolicies(c) {
		out[np.Name] = np
	}
	return out
}

func TestNetworkPolicyIngressPerRole(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tls     bool
		role    string
		cluster []string
		clients []string
	}{
		{"manager", true, "manager", []string{"TCP/9097", "TCP/9989", "TCP/9994"}, []string{"TCP/9097"}},
		{"master tls", true, "master", []string{"TCP/8281", "TCP/8290"}, nil},
		{"master plaintext", false, "master", []string{"TCP/8081", "TCP/8090"}, nil},
		{"query tls", true, "query", []string{"TCP/8282", "TCP/9088", "TCP/9095"}, []string{"TCP/9088", "TCP/9095"}},
		{"query plaintext", false, "query", []string{"TCP/8082", "TCP/8888", "TCP/9095"}, []string{"TCP/8888", "TCP/9095"}},
		{"data tls", true, "data", []string{"TCP/8283", "TCP/8291", "TCP/8300-8399"}, nil},
		{"data plaintext", false, "data", []string{"TCP/8083", "TCP/8091", "TCP/8100-8199"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			c := newCluster(withTLS(tc.tls))
			c.Spec.NetworkPolicy = &implyv1alpha1.NetworkPolicySpec{Clients: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8"}}}}
			np := policies(c)["c-"+tc.role]
			g.Expect(np).NotTo(BeNil())
			g.Expect(np.Labels).To(HaveKeyWithValue(LabelManagedBy, ManagedBy))
			g.Expect(np.Spec.PodSelector.MatchLabels).To(Equal(map[string]string{LabelName: AppName, LabelInstance: "c", LabelComponent: tc.role}))
			g.Expect(np.Spec.PolicyTypes).To(ConsistOf(networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress))

			in := np.Spec.Ingress
			g.Expect(in[0].From).To(Equal([]networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{
				MatchLabels: map[string]string{LabelName: AppName, LabelInstance: "c"}}}}), "the cluster's own pods")
			g.Expect(portSet(in[0].Ports)).To(Equal(tc.cluster))
			rest := in[1:]
			if tc.clients != nil {
				g.Expect(rest[0].From[0].IPBlock.CIDR).To(Equal("10.0.0.0/8"))
				g.Expect(portSet(rest[0].Ports)).To(Equal(tc.clients))
				rest = rest[1:]
			}
			if tc.role == "master" {
				g.Expect(rest).To(HaveLen(1), "the operator reaches the coordinator")
				g.Expect(rest[0].From[0].PodSelector.MatchLabels).To(Equal(map[string]string{LabelName: "imply-operator"}))
				g.Expect(rest[0].From[0].NamespaceSelector).To(Equal(&metav1.LabelSelector{}))
				g.Expect(portSet(rest[0].Ports)).To(Equal(tc.cluster[:1]))
				rest = rest[1:]
			}
			g.Expect(rest).To(BeEmpty(), "nothing else comes in")
		})
	}
}

func TestNetworkPolicyWithoutClientsOpensNoUserPorts(t *testing.T) {
	g := NewWithT(t)
	for _, np := range BuildNetworkPolicies(newCluster()) {
		for _, rule := range np.Spec.Ingress {
			g.Expect(rule.From).NotTo(BeEmpty(), "%s: an ingress rule without from would admit everyone", np.Name)
		}
	}
}

func TestNetworkPolicyEgress(t *testing.T) {
	g := NewWithT(t)
	c := newCluster()
	c.Spec.Druid.ZooKeeper.ConnectString = "zk-0.zk:2281,zk-1.zk:2281,[fd00::1]:2182/imply"
	c.Spec.Druid.MetadataStore.Type = implyv1alpha1.MetadataStorePostgreSQL
	c.Spec.Manager.MetadataStore = &implyv1alpha1.MetadataStoreSpec{Type: implyv1alpha1.MetadataStoreMySQL, Host: "m", Database: "d", Port: 3307}
	c.Spec.Security.Auth = &implyv1alpha1.AuthSpec{Druid: implyv1alpha1.DruidAuthSpec{LDAP: &implyv1alpha1.LDAPSpec{URL: "ldaps://ad.corp"}}}
	zk := []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.1.0.0/16"}}}
	c.Spec.NetworkPolicy = &implyv1alpha1.NetworkPolicySpec{
		ZooKeeper:   zk,
		ExtraEgress: []networkingv1.NetworkPolicyEgressRule{{Ports: []networkingv1.NetworkPolicyPort{{Port: ptr.To(intstrPort(8020))}}}},
	}
	all := BuildNetworkPolicies(c)
	g.Expect(all).To(HaveLen(4))
	egress := all[0].Spec.Egress
	for _, np := range all[1:] {
		g.Expect(np.Spec.Egress).To(Equal(egress), "every role gets the same egress")
	}
	g.Expect(egress).To(HaveLen(7))
	g.Expect(egress[0].To).To(BeEmpty())
	g.Expect(portSet(egress[0].Ports)).To(Equal([]string{"UDP/53", "TCP/53"}))
	g.Expect(portSet(egress[1].Ports)).To(Equal([]string{"TCP/9097", "TCP/9989", "TCP/9994", "TCP/8281", "TCP/8290",
		"TCP/8282", "TCP/9088", "TCP/9095", "TCP/8283", "TCP/8291", "TCP/8300-8399"}))
	g.Expect(egress[1].To[0].PodSelector.MatchLabels).To(HaveKeyWithValue(LabelInstance, "c"))
	g.Expect(egress[2].To).To(Equal(zk))
	g.Expect(portSet(egress[2].Ports)).To(Equal([]string{"TCP/2182", "TCP/2281"}))
	g.Expect(portSet(egress[3].Ports)).To(Equal([]string{"TCP/3307", "TCP/5432"}), "both metadata stores")
	g.Expect(portSet(egress[4].Ports)).To(Equal([]string{"TCP/443"}), "S3 deep storage")
	g.Expect(portSet(egress[5].Ports)).To(Equal([]string{"TCP/636"}), "LDAP")
	g.Expect(portSet(egress[6].Ports)).To(Equal([]string{"TCP/8020"}), "extraEgress, protocol defaulted")
	g.Expect(*egress[6].Ports[0].Protocol).To(Equal(corev1.ProtocolTCP))
}

func TestNetworkPolicyLocalStorageOpensNoHTTPS(t *testing.T) {
	g := NewWithT(t)
	c := newCluster(withDeepStorage(DeepStorageLocal, "/mnt/deep"))
	for _, rule := range BuildNetworkPolicies(c)[0].Spec.Egress {
		g.Expect(portSet(rule.Ports)).NotTo(ContainElement("TCP/443"))
	}
}

func TestNetworkPoliciesSwitchOff(t *testing.T) {
	g := NewWithT(t)
	c := newCluster()
	g.Expect(BuildNetworkPolicies(c)).To(HaveLen(4), "on by default")
	c.Spec.NetworkPolicy = &implyv1alpha1.NetworkPolicySpec{Enabled: ptr.To(false)}
	g.Expect(BuildNetworkPolicies(c)).To(BeNil())
}

func TestZooKeeperAndLDAPPorts(t *testing.T) {
	g := NewWithT(t)
	g.Expect(ZooKeeperPorts("zk")).To(Equal([]int32{2181}))
	g.Expect(ZooKeeperPorts("a:1,b:1,c")).To(Equal([]int32{1, 2181}))
	g.Expect(ZooKeeperPorts("")).To(Equal([]int32{2181}))
	g.Expect(LDAPPort("ldap://x")).To(Equal(int32(389)))
	g.Expect(LDAPPort("ldaps://x")).To(Equal(int32(636)))
	g.Expect(LDAPPort("ldap://x:1389")).To(Equal(int32(1389)))
}
