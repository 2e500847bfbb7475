package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// ExposureSpec says how the Imply Manager, the Druid router and Pivot are reached from outside
// the cluster (docs/exposure.md).
type ExposureSpec struct {
	// Manager shapes the Service <cluster>-manager (the manager UI and API on 9097).
	// +optional
	Manager *ServiceExposure `json:"manager,omitempty"`

	// Router creates the Service <cluster>-router: the router port of every query group's pods.
	// +optional
	Router *ServiceExposure `json:"router,omitempty"`

	// Pivot creates the Service <cluster>-pivot: Pivot's port (9095) of every query group's pods.
	// +optional
	Pivot *ServiceExposure `json:"pivot,omitempty"`

	// Ingress creates the Ingress <cluster> routing hosts and paths to the manager, the router
	// or Pivot, on their TLS ports when TLS is on.
	// +optional
	Ingress *IngressSpec `json:"ingress,omitempty"`
}

// ServiceExposure is the type and cloud settings of a Service.
// +kubebuilder:validation:XValidation:rule="!has(self.loadBalancerSourceRanges) || size(self.loadBalancerSourceRanges) == 0 || (has(self.type) && self.type == 'LoadBalancer')",message="loadBalancerSourceRanges needs type LoadBalancer",fieldPath=".loadBalancerSourceRanges"
type ServiceExposure struct {
	// Type of the Service: ClusterIP (the default), NodePort or LoadBalancer.
	// +optional
	// +kubebuilder:default=ClusterIP
	// +kubebuilder:validation:Enum=ClusterIP;NodePort;LoadBalancer
	Type corev1.ServiceType `json:"type,omitempty"`

	// Annotations of the Service, such as a cloud's internal load balancer
	// (service.beta.kubernetes.io/aws-load-balancer-scheme: internal,
	// networking.gke.io/load-balancer-type: Internal,
	// service.beta.kubernetes.io/azure-load-balancer-internal: "true").
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, !k.startsWith('imply.operator.dev/'))",message="annotations must not set an imply.operator.dev/ key: the operator owns them"
	Annotations map[string]string `json:"annotations,omitempty"`

	// LoadBalancerSourceRanges restricts a LoadBalancer to these client CIDRs.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.all(r, isCIDR(r))",message="loadBalancerSourceRanges must be CIDRs such as 10.0.0.0/8"
	LoadBalancerSourceRanges []string `json:"loadBalancerSourceRanges,omitempty"`
}

// IngressBackend is what an Ingress rule routes to.
// +kubebuilder:validation:Enum=manager;router;pivot
type IngressBackend string

// Ingress backends.
const (
	IngressBackendManager IngressBackend = "manager"
	IngressBackendRouter  IngressBackend = "router"
	IngressBackendPivot   IngressBackend = "pivot"
)

// IngressSpec is the Ingress <cluster>. The backends are the Services <cluster>-manager,
// <cluster>-router and <cluster>-pivot on the TLS port when TLS is on: the ingress controller
// must speak https to them and trust <cluster>-ca-bundle, which is set through its own
// annotations (docs/exposure.md shows ingress-nginx's).
type IngressSpec struct {
	// ClassName is the IngressClass.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	ClassName *string `json:"className,omitempty"`

	// Annotations of the Ingress, passed through to the ingress controller.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, !k.startsWith('imply.operator.dev/'))",message="annotations must not set an imply.operator.dev/ key: the operator owns them"
	Annotations map[string]string `json:"annotations,omitempty"`

	// Rules route a host and path prefix to a backend.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	Rules []IngressRule `json:"rules"`

	// TLS terminates https at the ingress controller with these certificates.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	TLS []networkingv1.IngressTLS `json:"tls,omitempty"`
}

// IngressRule routes a host and path prefix to a backend.
type IngressRule struct {
	// Host name; empty matches every host.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Host string `json:"host,omitempty"`

	// Path prefix. Defaults to /.
	// +optional
	// +kubebuilder:default="/"
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:Pattern=`^/`
	Path string `json:"path,omitempty"`

	// Backend is manager, router or pivot.
	Backend IngressBackend `json:"backend"`
}

// NetworkPolicySpec configures the NetworkPolicies <cluster>-<manager|master|query|data> (on by
// default): each role's pods accept only the ports Imply documents, from the cluster's own pods
// (and the user-facing ones from clients), and reach only those ports, DNS, ZooKeeper, the
// metadata stores, deep storage and extraEgress (docs/network-policies.md).
type NetworkPolicySpec struct {
	// Enabled creates the policies (the default); false deletes them.
	// +optional
	// +kubebuilder:default=true
	Enabled *bool `json:"enabled,omitempty"`

	// Clients may reach the user-facing ports: the manager's 9097, the router and Pivot.
	// Typically ipBlocks of the users' networks and the ingress controller's pods. Empty: only
	// the cluster's own pods.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	Clients []networkingv1.NetworkPolicyPeer `json:"clients,omitempty"`

	// ZooKeeper is where the pods may reach ZooKeeper's ports (those of
	// spec.druid.zookeeper.connectString). Empty: any destination on those ports.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	ZooKeeper []networkingv1.NetworkPolicyPeer `json:"zookeeper,omitempty"`

	// Operator may reach the coordinator (the basic-security API for DruidRoles and
	// AuthTokens). Empty: pods labelled app.kubernetes.io/name=imply-operator in any namespace,
	// as the chart and config/default label the operator.
	// +optional
	// +kubebuilder:validation:MaxItems=8
	Operator []networkingv1.NetworkPolicyPeer `json:"operator,omitempty"`

	// ExtraEgress is allowed from every pod of the cluster in addition (an HDFS cluster, an
	// object-storage endpoint on another port, the manager's release downloads, a proxy, ...).
	// +optional
	// +kubebuilder:validation:MaxItems=32
	ExtraEgress []networkingv1.NetworkPolicyEgressRule `json:"extraEgress,omitempty"`
}
