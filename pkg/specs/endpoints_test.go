package specs

import (
	"testing"

	. "github.com/onsi/gomega"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

func TestEndpoints(t *testing.T) {
	twoOfEach := withGroups(
		implyv1alpha1.NodeGroupSpec{Name: "data", Type: implyv1alpha1.NodeGroupData},
		implyv1alpha1.NodeGroupSpec{Name: "query-a", Type: implyv1alpha1.NodeGroupQuery},
		implyv1alpha1.NodeGroupSpec{Name: "master-a", Type: implyv1alpha1.NodeGroupMaster},
		implyv1alpha1.NodeGroupSpec{Name: "query-b", Type: implyv1alpha1.NodeGroupQuery},
		implyv1alpha1.NodeGroupSpec{Name: "master-b", Type: implyv1alpha1.NodeGroupMaster},
	)
	for _, tc := range []struct {
		name string
		c    *implyv1alpha1.ImplyCluster
		want implyv1alpha1.EndpointsStatus
	}{
		{"tls", newCluster(), implyv1alpha1.EndpointsStatus{
			Manager:     "https://c-manager.ns.svc:9097",
			Coordinator: "https://c-master.ns.svc:8281",
			Router:      "https://c-query.ns.svc:9088",
			Pivot:       "https://c-query.ns.svc:9095",
		}},
		{"plaintext", newCluster(withTLS(false)), implyv1alpha1.EndpointsStatus{
			Manager:     "http://c-manager.ns.svc:9097",
			Coordinator: "http://c-master.ns.svc:8081",
			Router:      "http://c-query.ns.svc:8888",
			Pivot:       "http://c-query.ns.svc:9095",
		}},
		{"first group of each type", newCluster(twoOfEach), implyv1alpha1.EndpointsStatus{
			Manager:     "https://c-manager.ns.svc:9097",
			Coordinator: "https://c-master-a.ns.svc:8281",
			Router:      "https://c-query-a.ns.svc:9088",
			Pivot:       "https://c-query-a.ns.svc:9095",
		}},
		{"missing groups leave URLs empty", newCluster(withGroups()), implyv1alpha1.EndpointsStatus{
			Manager: "https://c-manager.ns.svc:9097",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(Endpoints(tc.c)).To(Equal(tc.want))
		})
	}
}

func TestCoordinatorAPIURL(t *testing.T) {
	g := NewWithT(t)
	c := newCluster()
	g.Expect(CoordinatorAPIURL(c)).To(Equal("https://c-master.ns.svc:8281"))
	c.Spec.Druid.APIURL = "http://druid.test:8081"
	g.Expect(CoordinatorAPIURL(c)).To(Equal("http://druid.test:8081"))
}
