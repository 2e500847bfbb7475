package v1alpha1

// LocalObjectReference names another object in the same namespace.
type LocalObjectReference struct {
	// Name of the referenced object, in the same namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// SecretKeySelector selects a key of a Secret in the same namespace. Where the contract names a
// default key, Key may be left empty.
type SecretKeySelector struct {
	// Name of the Secret, in the same namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Key within the Secret. Empty means the default key of the field that holds this reference.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key string `json:"key,omitempty"`
}

// KeyOrDefault returns Key, or def when Key is empty.
func (s SecretKeySelector) KeyOrDefault(def string) string {
	if s.Key == "" {
		return def
	}
	return s.Key
}

// CredentialsSecretReference names a Secret holding a username and password. Its keys default to
// the kubernetes.io/basic-auth keys `username` and `password`.
type CredentialsSecretReference struct {
	// Name of the Secret, in the same namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// UsernameKey is the key holding the username. Defaults to `username`.
	// +optional
	// +kubebuilder:default=username
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	UsernameKey string `json:"usernameKey,omitempty"`

	// PasswordKey is the key holding the password. Defaults to `password`.
	// +optional
	// +kubebuilder:default=password
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	PasswordKey string `json:"passwordKey,omitempty"`
}
