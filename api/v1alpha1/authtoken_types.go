package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AuthTokenType is what an AuthToken becomes.
// +kubebuilder:validation:Enum=Agent;Druid
type AuthTokenType string

const (
	// AuthTokenAgent is the token shared by the Imply Manager and its agents.
	AuthTokenAgent AuthTokenType = "Agent"
	// AuthTokenDruid is a Druid API user (a Pivot database auth token).
	AuthTokenDruid AuthTokenType = "Druid"
)

// AuthTokenSpec is the desired state of an AuthToken.
// +kubebuilder:validation:XValidation:rule="self.type != 'Druid' || has(self.clusterRef)",message="clusterRef is required when type is Druid",fieldPath=".clusterRef"
// +kubebuilder:validation:XValidation:rule="self.type != 'Druid' || has(self.username)",message="username is required when type is Druid",fieldPath=".username"
// +kubebuilder:validation:XValidation:rule="self.type != 'Druid' || !has(self.secretRef)",message="secretRef is for type Agent; a Druid user's password comes from passwordSecretRef",fieldPath=".secretRef"
// +kubebuilder:validation:XValidation:rule="self.type != 'Agent' || !has(self.clusterRef)",message="clusterRef is only valid when type is Druid",fieldPath=".clusterRef"
// +kubebuilder:validation:XValidation:rule="self.type != 'Agent' || !has(self.username)",message="username is only valid when type is Druid",fieldPath=".username"
// +kubebuilder:validation:XValidation:rule="self.type != 'Agent' || !has(self.passwordSecretRef)",message="passwordSecretRef is only valid when type is Druid; an agent token comes from secretRef",fieldPath=".passwordSecretRef"
// +kubebuilder:validation:XValidation:rule="self.type != 'Agent' || !has(self.deletionPolicy)",message="deletionPolicy is only valid when type is Druid",fieldPath=".deletionPolicy"
// +kubebuilder:validation:XValidation:rule="self.type != 'Agent' || (!has(self.roles) && !has(self.datasources) && !has(self.priority))",message="roles, datasources and priority are only valid when type is Druid"
// +kubebuilder:validation:XValidation:rule="!has(self.secretRef) || !has(self.rotation)",message="rotation applies to generated tokens only; remove it or remove secretRef",fieldPath=".rotation"
// +kubebuilder:validation:XValidation:rule="!has(self.passwordSecretRef) || !has(self.rotation)",message="rotation applies to generated passwords only; remove it or remove passwordSecretRef",fieldPath=".rotation"
// +kubebuilder:validation:XValidation:rule="!has(self.secretRef) || !has(self.secretTemplate)",message="secretTemplate applies to the Secret the operator writes; with secretRef the token stays in your Secret",fieldPath=".secretTemplate"
// +kubebuilder:validation:XValidation:rule="self.type == oldSelf.type",message="type is immutable: create a new AuthToken instead",fieldPath=".type"
// +kubebuilder:validation:XValidation:rule="has(self.username) == has(oldSelf.username) && (!has(self.username) || self.username == oldSelf.username)",message="username is immutable: create a new AuthToken instead",fieldPath=".username"
// +kubebuilder:validation:XValidation:rule="has(self.clusterRef) == has(oldSelf.clusterRef) && (!has(self.clusterRef) || self.clusterRef.name == oldSelf.clusterRef.name)",message="clusterRef is immutable: create a new AuthToken instead",fieldPath=".clusterRef"
type AuthTokenSpec struct {
	// Type is Agent (the manager <-> agent token) or Druid (a Druid API user).
	Type AuthTokenType `json:"type"`

	// SecretRef is a user-supplied agent token (type Agent). The key defaults to auth-token.
	// Without it, a token of 32 random bytes is generated into <name>-token.
	// +optional
	SecretRef *SecretKeySelector `json:"secretRef,omitempty"`

	// Rotation regenerates a generated token or password periodically.
	// +optional
	Rotation *RotationSpec `json:"rotation,omitempty"`

	// ClusterRef is the ImplyCluster whose Druid the user is created in (type Druid).
	// +optional
	ClusterRef *LocalObjectReference `json:"clusterRef,omitempty"`

	// Username of the Druid user (type Druid). It must not contain ':'.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="!self.contains(':')",message="username must not contain ':' (Druid splits basic credentials on it)"
	// +kubebuilder:validation:XValidation:rule="!(self in ['admin', 'druid_system', 'druid_system_2'])",message="username must not be admin, druid_system or druid_system_2: those users belong to the cluster"
	Username string `json:"username,omitempty"`

	// PasswordSecretRef is the Druid user's password (type Druid). The key defaults to password.
	// Without it, a password is generated.
	// +optional
	PasswordSecretRef *SecretKeySelector `json:"passwordSecretRef,omitempty"`

	// Roles are DruidRole names (roleName) assigned to the user (type Druid).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=256
	Roles []string `json:"roles,omitempty"`

	// Datasources the token gives Pivot access to (type Druid), written to token.json.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=256
	Datasources []string `json:"datasources,omitempty"`

	// Priority of the token when several match in Pivot (type Druid), written to token.json.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Priority *int32 `json:"priority,omitempty"`

	// DeletionPolicy is what happens when this AuthToken (type Druid) is deleted: Delete (the
	// default) deletes the user from Druid and its <name>-credentials Secret with it; Retain
	// keeps the user in Druid and keeps <name>-credentials (no owner reference, annotated
	// imply.operator.dev/retained-for), which an AuthToken of the same name created again adopts.
	// +optional
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`

	// SecretTemplate adds labels and annotations to the Secret the operator writes: <name>-token
	// (type Agent, generated tokens only) or <name>-credentials (type Druid).
	// +optional
	SecretTemplate *SecretTemplate `json:"secretTemplate,omitempty"`
}

// RotationSpec configures periodic regeneration.
type RotationSpec struct {
	// Period after which a generated token or password is regenerated, such as 720h.
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1h')",message="period must be a duration such as 720h, at least 1h"
	Period metav1.Duration `json:"period"`
}

// AuthTokenStatus is the observed state of an AuthToken.
type AuthTokenStatus struct {
	// ObservedGeneration is the generation of the spec the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Progressing, Degraded, PolicyCompliant.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// SecretName is the Secret holding the token or credentials.
	// +optional
	SecretName string `json:"secretName,omitempty"`

	// RotatedAt is when the token or password was last (re)generated.
	// +optional
	RotatedAt *metav1.Time `json:"rotatedAt,omitempty"`

	// NextRotation is when it will next be regenerated.
	// +optional
	NextRotation *metav1.Time `json:"nextRotation,omitempty"`
}

// AuthToken is an Imply agent token, or a Druid API user for Pivot (a database auth token).
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=iat,categories=imply
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Secret",type=string,JSONPath=`.status.secretName`
// +kubebuilder:printcolumn:name="Next-Rotation",type=string,JSONPath=`.status.nextRotation`,description="When the token or password is rotated next (RFC 3339, UTC)"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="!has(self.spec) || self.spec.type != 'Druid' || size(self.metadata.name) <= 241",message="metadata.name must be at most 241 characters for type Druid: the Secret <name>-credentials must fit in 253",fieldPath=".metadata"
// +kubebuilder:validation:XValidation:rule="!has(self.spec) || self.spec.type != 'Agent' || size(self.metadata.name) <= 247",message="metadata.name must be at most 247 characters for type Agent: the Secret <name>-token must fit in 253",fieldPath=".metadata"
type AuthToken struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   AuthTokenSpec   `json:"spec,omitempty"`
	Status AuthTokenStatus `json:"status,omitempty"`
}

// AuthTokenList is a list of AuthTokens.
// +kubebuilder:object:root=true
type AuthTokenList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AuthToken `json:"items"`
}

func init() {
	knownTypes = append(knownTypes, &AuthToken{}, &AuthTokenList{})
}
