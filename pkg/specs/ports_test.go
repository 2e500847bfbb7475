package specs

import (
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/validation"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

func TestPortsTable(t *testing.T) {
	for _, tc := range []struct {
		svc            Service
		plain, withTLS int32
	}{
		{Coordinator, 8081, 8281},
		{Broker, 8082, 8282},
		{Historical, 8083, 8283},
		{Overlord, 8090, 8290},
		{MiddleManager, 8091, 8291},
		{Router, 8888, 9088},
		{Pivot, 9095, 9095},
	} {
		t.Run(tc.svc.Name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(Port(tc.svc, false)).To(Equal(tc.plain))
			g.Expect(Port(tc.svc, true)).To(Equal(tc.withTLS))
			g.Expect(validation.IsValidPortName(tc.svc.PortName())).To(BeEmpty(), tc.svc.PortName())
		})
	}
	g := NewWithT(t)
	g.Expect(PeonPort(false)).To(Equal(int32(8100)))
	g.Expect(PeonPort(true)).To(Equal(int32(8300)))
	g.Expect(Scheme(true)).To(Equal("https"))
	g.Expect(Scheme(false)).To(Equal("http"))
	for _, n := range []string{ManagerAgentPortName, ManagerLogsPortName, ManagerPortName(true), ManagerPortName(false)} {
		g.Expect(validation.IsValidPortName(n)).To(BeEmpty(), n)
	}
}

func TestServicesFor(t *testing.T) {
	for _, tc := range []struct {
		t    implyv1alpha1.NodeGroupType
		want []string
	}{
		{implyv1alpha1.NodeGroupMaster, []string{"coordinator", "overlord"}},
		{implyv1alpha1.NodeGroupQuery, []string{"broker", "router", "pivot"}},
		{implyv1alpha1.NodeGroupData, []string{"historical", "middleManager"}},
		{"bogus", nil},
	} {
		t.Run(string(tc.t), func(t *testing.T) {
			var got []string
			for _, s := range ServicesFor(tc.t) {
				got = append(got, s.Name)
			}
			NewWithT(t).Expect(got).To(Equal(tc.want))
		})
	}
}

func TestTLSEnabled(t *testing.T) {
	for _, tc := range []struct {
		name     string
		security *implyv1alpha1.SecuritySpec
		want     bool
	}{
		{"nil security", nil, false},
		{"nil tls", &implyv1alpha1.SecuritySpec{}, false},
		{"disabled", &implyv1alpha1.SecuritySpec{TLS: &implyv1alpha1.TLSSpec{}}, false},
		{"enabled", &implyv1alpha1.SecuritySpec{TLS: &implyv1alpha1.TLSSpec{Enabled: true}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster()
			c.Spec.Security = tc.security
			NewWithT(t).Expect(TLSEnabled(c)).To(Equal(tc.want))
		})
	}
}
