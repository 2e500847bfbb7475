package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SecurityPolicySpec is the desired state of a SecurityPolicy.
type SecurityPolicySpec struct {
	// Password rules, enforced on every password the operator generates or accepts.
	// +optional
	// +kubebuilder:default={}
	Password PasswordPolicy `json:"password,omitempty"`

	// LoginThrottling locks out or disables accounts after failed logins (Imply Manager).
	// +optional
	LoginThrottling *LoginThrottlingPolicy `json:"loginThrottling,omitempty"`
}

// PasswordPolicy are the password rules.
// +kubebuilder:validation:XValidation:rule="!has(self.minLength) || !has(self.maxLength) || self.minLength <= self.maxLength",message="minLength must not exceed maxLength",fieldPath=".minLength"
// +kubebuilder:validation:XValidation:rule="!has(self.minPassphraseLength) || self.minPassphraseLength <= self.maxLength",message="minPassphraseLength must not exceed maxLength",fieldPath=".minPassphraseLength"
type PasswordPolicy struct {
	// MinLength is the shortest password accepted. Defaults to 12.
	// +optional
	// +kubebuilder:default=12
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1024
	MinLength int32 `json:"minLength,omitempty"`

	// MaxLength is the longest password accepted, at least 16 (the operator never generates a
	// shorter password). Defaults to 128.
	// +optional
	// +kubebuilder:default=128
	// +kubebuilder:validation:Minimum=16
	// +kubebuilder:validation:Maximum=1024
	MaxLength int32 `json:"maxLength,omitempty"`

	// MinPassphraseLength is the length from which a password counts as a passphrase and is
	// exempt from character-class rules. Zero disables passphrases.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1024
	MinPassphraseLength int32 `json:"minPassphraseLength,omitempty"`

	// Lifetime after which a password expires; generated passwords are rotated then. Empty means
	// passwords do not expire.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1h')",message="lifetime must be a duration such as 2160h, at least 1h"
	Lifetime *metav1.Duration `json:"lifetime,omitempty"`

	// History is how many previous passwords may not be reused. Zero allows reuse.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=64
	History int32 `json:"history,omitempty"`
}

// LoginThrottlingPolicy locks out and disables accounts after failed logins.
type LoginThrottlingPolicy struct {
	// LockoutTries is the number of failed logins before an account is locked out.
	// +optional
	// +kubebuilder:validation:Minimum=0
	LockoutTries int32 `json:"lockoutTries,omitempty"`

	// LockoutDuration is how long a locked-out account stays locked.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('0s')",message="lockoutDuration must be a non-negative duration such as 15m"
	LockoutDuration *metav1.Duration `json:"lockoutDuration,omitempty"`

	// DisableTries is the number of failed logins before an account is disabled.
	// +optional
	// +kubebuilder:validation:Minimum=0
	DisableTries int32 `json:"disableTries,omitempty"`

	// DisableDuration is how long a disabled account stays disabled.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('0s')",message="disableDuration must be a non-negative duration such as 24h"
	DisableDuration *metav1.Duration `json:"disableDuration,omitempty"`
}

// SecurityPolicyStatus is the observed state of a SecurityPolicy.
type SecurityPolicyStatus struct {
	// ObservedGeneration is the generation of the spec the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Progressing, Degraded.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// SecurityPolicy holds password rules and login throttling, rendered for the Imply Manager and
// enforced by the operator on every password it generates or accepts.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=isp,categories=imply
// +kubebuilder:printcolumn:name="Min-Length",type=integer,JSONPath=`.spec.password.minLength`
// +kubebuilder:printcolumn:name="Lifetime",type=string,JSONPath=`.spec.password.lifetime`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type SecurityPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   SecurityPolicySpec   `json:"spec,omitempty"`
	Status SecurityPolicyStatus `json:"status,omitempty"`
}

// SecurityPolicyList is a list of SecurityPolicies.
// +kubebuilder:object:root=true
type SecurityPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SecurityPolicy `json:"items"`
}

func init() {
	knownTypes = append(knownTypes, &SecurityPolicy{}, &SecurityPolicyList{})
}
