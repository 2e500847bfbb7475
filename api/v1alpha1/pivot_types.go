package v1alpha1

// PivotSpec configures Pivot, which the agents of every query group run.
type PivotSpec struct {
	// Settings are top-level keys of Pivot's config.yaml (Imply's "Pivot server config"), added
	// to what the operator writes. Each value is read as YAML (a string, number, boolean, or a
	// flow-style mapping or list such as {"type": "mysql"}); a value that is not YAML is taken as
	// a string. The keys the operator owns (port, serverHttpsOptions, userMode,
	// fixedConnections) are rejected: TLS, native users and the Druid connection follow the
	// cluster's security settings.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, !(k in ['port', 'serverHttpsOptions', 'userMode', 'fixedConnections']))",message="port, serverHttpsOptions, userMode and fixedConnections are set by the operator and cannot be overridden in spec.pivot.settings"
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.matches('^[A-Za-z][A-Za-z0-9_]*$'))",message="settings keys must be Pivot setting names: letters, digits and '_', starting with a letter"
	// +kubebuilder:validation:XValidation:rule="self.all(k, size(self[k]) <= 4096)",message="each setting's value must be at most 4096 characters"
	Settings map[string]string `json:"settings,omitempty"`

	// DruidCredentialsSecretRef names a basic-auth Secret (keys username and password) of the
	// Druid user Pivot's connection uses by default, such as the <name>-credentials Secret of an
	// AuthToken of type Druid with the roles Pivot needs. Defaults to Druid's admin user. Needs
	// spec.security.auth.
	// +optional
	DruidCredentialsSecretRef *LocalObjectReference `json:"druidCredentialsSecretRef,omitempty"`
}
