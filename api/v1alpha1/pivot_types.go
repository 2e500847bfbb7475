package v1alpha1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

// PivotSpec configures Pivot, which the agents of every query group run.
type PivotSpec struct {
	// Settings are top-level keys of Pivot's config.yaml (Imply's "Pivot server config"), each
	// with any YAML value, added to what the operator writes. The keys the operator owns (port,
	// serverHttpsOptions, userMode, fixedConnections) are rejected: TLS, native users and the
	// Druid connection follow the cluster's security settings.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, !(k in ['port', 'serverHttpsOptions', 'userMode', 'fixedConnections']))",message="port, serverHttpsOptions, userMode and fixedConnections are set by the operator and cannot be overridden in spec.pivot.settings"
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.matches('^[A-Za-z][A-Za-z0-9_]*$'))",message="settings keys must be Pivot setting names: letters, digits and '_', starting with a letter"
	Settings map[string]apiextensionsv1.JSON `json:"settings,omitempty"`
}
