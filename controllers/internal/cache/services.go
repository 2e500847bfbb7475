package cache

import (
	corev1 "k8s.io/api/core/v1"
)

// trimServiceSpecs keeps, of the spec of the operator's Services, only the fields apply compares
// and owns (type, ports, selector, publishNotReadyAddresses, loadBalancerSourceRanges). What the
// apiserver fills in (cluster IPs, IP families and policy, traffic policies, session affinity)
// is a string or pointer of its own on each of eight Services a cluster, and nothing reads it from
// the cache: apply's merge patch, computed between two copies that both lack those fields, never
// touches them on the apiserver.
//
// Idempotent, like every transform.
func trimServiceSpecs(obj any) (any, error) {
	svc, ok := obj.(*corev1.Service)
	if !ok {
		return obj, nil
	}
	svc.Spec = corev1.ServiceSpec{
		Type:                     svc.Spec.Type,
		Ports:                    svc.Spec.Ports,
		Selector:                 svc.Spec.Selector,
		PublishNotReadyAddresses: svc.Spec.PublishNotReadyAddresses,
		LoadBalancerSourceRanges: svc.Spec.LoadBalancerSourceRanges,
	}
	return svc, nil
}
