package specs

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// RouterServiceName is <cluster>-router, the Service of the query groups' routers, created when
// spec.exposure.router is set or an Ingress rule routes to the router.
func RouterServiceName(cluster string) string { return cluster + "-router" }

// PivotServiceName is <cluster>-pivot, the Service of the query groups' Pivot, created when
// spec.exposure.pivot is set or an Ingress rule routes to Pivot.
func PivotServiceName(cluster string) string { return cluster + "-pivot" }

// IngressName is <cluster>, the Ingress of spec.exposure.ingress.
func IngressName(cluster string) string { return cluster }

// exposure returns spec.exposure, or an empty one.
func exposure(c *implyv1alpha1.ImplyCluster) *implyv1alpha1.ExposureSpec {
	if c.Spec.Exposure == nil {
		return &implyv1alpha1.ExposureSpec{}
	}
	return c.Spec.Exposure
}

// ingressRoutesTo reports whether an Ingress rule routes to backend.
func ingressRoutesTo(c *implyv1alpha1.ImplyCluster, backend implyv1alpha1.IngressBackend) bool {
	in := exposure(c).Ingress
	return in != nil && slices.ContainsFunc(in.Rules, func(r implyv1alpha1.IngressRule) bool { return r.Backend == backend })
}

// ApplyServiceExposure gives svc the type, annotations and load-balancer source ranges of e
// (nil: left as built). The operator's own annotations are never replaced.
func ApplyServiceExposure(svc *corev1.Service, e *implyv1alpha1.ServiceExposure) {
	if e == nil {
		return
	}
	if e.Type != "" {
		svc.Spec.Type = e.Type
	}
	for k, v := range e.Annotations {
		if svc.Annotations == nil {
			svc.Annotations = map[string]string{}
		}
		if _, owned := svc.Annotations[k]; !owned {
			svc.Annotations[k] = v
		}
	}
	if svc.Spec.Type == corev1.ServiceTypeLoadBalancer && len(e.LoadBalancerSourceRanges) > 0 {
		svc.Spec.LoadBalancerSourceRanges = slices.Clone(e.LoadBalancerSourceRanges)
	}
}

// BuildExposedServices builds the Services spec.exposure asks for beyond the manager's
// (shaped by ApplyServiceExposure): <cluster>-router and <cluster>-pivot, each on its one port
// (TLS-aware, appProtocol http or https) of every query group's pods.
func BuildExposedServices(c *implyv1alpha1.ImplyCluster) []*corev1.Service {
	e := exposure(c)
	var out []*corev1.Service
	for _, x := range []struct {
		name    string
		svc     Service
		spec    *implyv1alpha1.ServiceExposure
		backend implyv1alpha1.IngressBackend
	}{
		{RouterServiceName(c.Name), Router, e.Router, implyv1alpha1.IngressBackendRouter},
		{PivotServiceName(c.Name), Pivot, e.Pivot, implyv1alpha1.IngressBackendPivot},
	} {
		if x.spec == nil && !ingressRoutesTo(c, x.backend) {
			continue
		}
		tls := TLSEnabled(c)
		svc := &corev1.Service{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
			ObjectMeta: metav1.ObjectMeta{
				Name:      x.name,
				Namespace: c.Namespace,
				Labels:    Labels(c.Name, string(implyv1alpha1.NodeGroupQuery), ComponentCommon),
			},
			Spec: corev1.ServiceSpec{
				Type:     corev1.ServiceTypeClusterIP,
				Selector: componentSelector(c.Name, string(implyv1alpha1.NodeGroupQuery)),
				Ports: []corev1.ServicePort{{
					Name:        x.svc.PortName(),
					Protocol:    corev1.ProtocolTCP,
					AppProtocol: ptr.To(Scheme(tls)),
					Port:        Port(x.svc, tls),
					TargetPort:  intstr.FromString(x.svc.PortName()),
				}},
			},
		}
		ApplyServiceExposure(svc, x.spec)
		out = append(out, svc)
	}
	return out
}

// componentSelector selects the pods of every group of one component (master, query, data or
// manager) of the cluster.
func componentSelector(cluster, component string) map[string]string {
	return map[string]string{LabelName: AppName, LabelInstance: cluster, LabelComponent: component}
}

// BuildIngress builds the Ingress <cluster> of spec.exposure.ingress, nil without one: its class
// and annotations, TLS, and per host one Prefix path per rule to <cluster>-manager,
// <cluster>-router or <cluster>-pivot on the port named for the backend (https for the manager
// with TLS), so with TLS the controller reaches the shifted https ports.
func BuildIngress(c *implyv1alpha1.ImplyCluster) *networkingv1.Ingress {
	in := exposure(c).Ingress
	if in == nil {
		return nil
	}
	tls := TLSEnabled(c)
	var rules []networkingv1.IngressRule
	byHost := map[string]int{}
	for _, r := range in.Rules {
		p := r.Path
		if p == "" {
			p = "/"
		}
		path := networkingv1.HTTPIngressPath{
			Path:     p,
			PathType: ptr.To(networkingv1.PathTypePrefix),
			Backend:  ingressBackend(c, r.Backend, tls),
		}
		i, ok := byHost[r.Host]
		if !ok {
			i = len(rules)
			byHost[r.Host] = i
			rules = append(rules, networkingv1.IngressRule{
				Host:             r.Host,
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{}},
			})
		}
		rules[i].HTTP.Paths = append(rules[i].HTTP.Paths, path)
	}
	ing := &networkingv1.Ingress{
		TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        IngressName(c.Name),
			Namespace:   c.Namespace,
			Labels:      Labels(c.Name, ComponentCommon, ComponentCommon),
			Annotations: copyMap(in.Annotations),
		},
		Spec: networkingv1.IngressSpec{
			IngressClassName: ptrCopy(in.ClassName),
			Rules:            rules,
		},
	}
	for _, t := range in.TLS {
		ing.Spec.TLS = append(ing.Spec.TLS, *t.DeepCopy())
	}
	return ing
}

// ingressBackend is the Service port a backend is reached on.
func ingressBackend(c *implyv1alpha1.ImplyCluster, b implyv1alpha1.IngressBackend, tls bool) networkingv1.IngressBackend {
	name, port := ManagerName(c.Name), ManagerPortName(tls)
	switch b {
	case implyv1alpha1.IngressBackendRouter:
		name, port = RouterServiceName(c.Name), Router.PortName()
	case implyv1alpha1.IngressBackendPivot:
		name, port = PivotServiceName(c.Name), Pivot.PortName()
	}
	return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
		Name: name, Port: networkingv1.ServiceBackendPort{Name: port},
	}}
}
