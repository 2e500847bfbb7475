package specs

import (
	"fmt"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// FirstGroupOfType returns the first node group of type t in spec order, or nil.
func FirstGroupOfType(c *implyv1alpha1.ImplyCluster, t implyv1alpha1.NodeGroupType) *implyv1alpha1.NodeGroupSpec {
	for i := range c.Spec.NodeGroups {
		if c.Spec.NodeGroups[i].Type == t {
			return &c.Spec.NodeGroups[i]
		}
	}
	return nil
}

// serviceURL is <scheme>://<service>.<namespace>.svc:<port>.
func serviceURL(tls bool, service, namespace string, port int32) string {
	return fmt.Sprintf("%s://%s.%s.svc:%d", Scheme(tls), service, namespace, port)
}

// Endpoints returns the in-cluster URLs of status.endpoints, with the scheme and port of the
// TLS mode: the manager on <cluster>-manager:9097; the coordinator on the first master
// group's client Service; the router and Pivot on the first query group's. A URL whose group
// is missing is left empty.
func Endpoints(c *implyv1alpha1.ImplyCluster) implyv1alpha1.EndpointsStatus {
	tls := TLSEnabled(c)
	ep := implyv1alpha1.EndpointsStatus{
		Manager: serviceURL(tls, ManagerName(c.Name), c.Namespace, ManagerPort),
	}
	if g := FirstGroupOfType(c, implyv1alpha1.NodeGroupMaster); g != nil {
		ep.Coordinator = serviceURL(tls, GroupName(c.Name, g.Name), c.Namespace, Port(Coordinator, tls))
	}
	if g := FirstGroupOfType(c, implyv1alpha1.NodeGroupQuery); g != nil {
		svc := GroupName(c.Name, g.Name)
		ep.Router = serviceURL(tls, svc, c.Namespace, Port(Router, tls))
		ep.Pivot = serviceURL(tls, svc, c.Namespace, Port(Pivot, tls))
	}
	return ep
}

// CoordinatorAPIURL is the coordinator URL the operator calls: spec.druid.apiURL when set,
// else the coordinator endpoint of Endpoints.
func CoordinatorAPIURL(c *implyv1alpha1.ImplyCluster) string {
	if c.Spec.Druid.APIURL != "" {
		return c.Spec.Druid.APIURL
	}
	return Endpoints(c).Coordinator
}
