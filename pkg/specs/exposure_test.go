package specs

import (
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

func intstrPort(p int32) intstr.IntOrString { return intstr.FromInt32(p) }

func TestServiceExposure(t *testing.T) {
	g := NewWithT(t)
	svc := BuildManagerService(newCluster())
	ApplyServiceExposure(svc, &implyv1alpha1.ServiceExposure{
		Type:                     corev1.ServiceTypeLoadBalancer,
		Annotations:              map[string]string{"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"},
		LoadBalancerSourceRanges: []string{"10.0.0.0/8"},
	})
	g.Expect(svc.Spec.Type).To(Equal(corev1.ServiceTypeLoadBalancer))
	g.Expect(svc.Annotations).To(HaveKeyWithValue("service.beta.kubernetes.io/aws-load-balancer-scheme", "internal"))
	g.Expect(svc.Spec.LoadBalancerSourceRanges).To(Equal([]string{"10.0.0.0/8"}))
	g.Expect(svc.Spec.Selector).To(Equal(SelectorLabels("c", ComponentManager)))

	plain := BuildManagerService(newCluster())
	ApplyServiceExposure(plain, nil)
	g.Expect(plain).To(Equal(BuildManagerService(newCluster())))
}

func TestExposedServices(t *testing.T) {
	for _, tc := range []struct {
		name     string
		exposure *implyv1alpha1.ExposureSpec
		tls      bool
		want     map[string]int32
	}{
		{"none", nil, true, map[string]int32{}},
		{"router and pivot with TLS", &implyv1alpha1.ExposureSpec{Router: &implyv1alpha1.ServiceExposure{}, Pivot: &implyv1alpha1.ServiceExposure{}}, true,
			map[string]int32{"c-router": 9088, "c-pivot": 9095}},
		{"router plaintext", &implyv1alpha1.ExposureSpec{Router: &implyv1alpha1.ServiceExposure{}}, false, map[string]int32{"c-router": 8888}},
		{"pivot behind the ingress only", &implyv1alpha1.ExposureSpec{Ingress: &implyv1alpha1.IngressSpec{
			Rules: []implyv1alpha1.IngressRule{{Backend: implyv1alpha1.IngressBackendPivot}}}}, true, map[string]int32{"c-pivot": 9095}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			c := newCluster(withTLS(tc.tls))
			c.Spec.Exposure = tc.exposure
			got := map[string]int32{}
			for _, svc := range BuildExposedServices(c) {
				g.Expect(svc.Spec.Selector).To(Equal(map[string]string{LabelName: AppName, LabelInstance: "c", LabelComponent: "query"}))
				g.Expect(svc.Spec.Ports).To(HaveLen(1))
				g.Expect(*svc.Spec.Ports[0].AppProtocol).To(Equal(Scheme(tc.tls)))
				g.Expect(svc.Labels).To(HaveKeyWithValue(LabelNodeGroup, ComponentCommon))
				got[svc.Name] = svc.Spec.Ports[0].Port
			}
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

func TestIngress(t *testing.T) {
	g := NewWithT(t)
	c := newCluster()
	g.Expect(BuildIngress(c)).To(BeNil())
	c.Spec.Exposure = &implyv1alpha1.ExposureSpec{Ingress: &implyv1alpha1.IngressSpec{
		ClassName:   ptr.To("nginx"),
		Annotations: map[string]string{"nginx.ingress.kubernetes.io/backend-protocol": "HTTPS"},
		Rules: []implyv1alpha1.IngressRule{
			{Host: "imply.example.com", Path: "/", Backend: implyv1alpha1.IngressBackendManager},
			{Host: "pivot.example.com", Backend: implyv1alpha1.IngressBackendPivot},
			{Host: "imply.example.com", Path: "/druid", Backend: implyv1alpha1.IngressBackendRouter},
		},
		TLS: []networkingv1.IngressTLS{{Hosts: []string{"imply.example.com"}, SecretName: "imply-tls"}},
	}}
	ing := BuildIngress(c)
	g.Expect(ing.Name).To(Equal("c"))
	g.Expect(*ing.Spec.IngressClassName).To(Equal("nginx"))
	g.Expect(ing.Annotations).To(HaveKeyWithValue("nginx.ingress.kubernetes.io/backend-protocol", "HTTPS"))
	g.Expect(ing.Spec.TLS).To(HaveLen(1))
	g.Expect(ing.Spec.Rules).To(HaveLen(2), "one rule per host")
	paths := ing.Spec.Rules[0].HTTP.Paths
	g.Expect(ing.Spec.Rules[0].Host).To(Equal("imply.example.com"))
	g.Expect(paths).To(HaveLen(2))
	g.Expect(paths[0].Backend.Service.Name).To(Equal("c-manager"))
	g.Expect(paths[0].Backend.Service.Port.Name).To(Equal("https"))
	g.Expect(paths[1].Path).To(Equal("/druid"))
	g.Expect(paths[1].Backend.Service.Name).To(Equal("c-router"))
	g.Expect(paths[1].Backend.Service.Port.Name).To(Equal("router"))
	g.Expect(*paths[1].PathType).To(Equal(networkingv1.PathTypePrefix))
	pivot := ing.Spec.Rules[1].HTTP.Paths[0]
	g.Expect(pivot.Path).To(Equal("/"), "the default path")
	g.Expect(pivot.Backend.Service.Name).To(Equal("c-pivot"))

	c.Spec.Security.TLS.Enabled = false
	g.Expect(BuildIngress(c).Spec.Rules[0].HTTP.Paths[0].Backend.Service.Port.Name).To(Equal("http"))
}
