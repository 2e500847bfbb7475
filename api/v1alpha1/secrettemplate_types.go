package v1alpha1

// SecretTemplate are labels and annotations the operator adds to the Secrets (and the CA bundle
// ConfigMap) it generates, as cert-manager's Certificate secretTemplate does, so replication
// tools (trust-manager, reflector, kubed, External Secrets' PushSecret) can find and copy them.
// The operator's own labels and annotations always win: the keys it uses are refused here.
// Keys removed from the template stay on existing Secrets until removed by hand.
type SecretTemplate struct {
	// Labels added to every generated Secret.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	// +kubebuilder:validation:XValidation:rule="self.all(k, !k.startsWith('imply.operator.dev/') && !(k in ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/component', 'app.kubernetes.io/managed-by']))",message="labels may not set the operator's own labels: imply.operator.dev/*, app.kubernetes.io/name, instance, component and managed-by"
	Labels map[string]string `json:"labels,omitempty"`
	// Annotations added to every generated Secret.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	// +kubebuilder:validation:XValidation:rule="self.all(k, !k.startsWith('imply.operator.dev/'))",message="annotations may not set the operator's own imply.operator.dev/* annotations"
	Annotations map[string]string `json:"annotations,omitempty"`
}
