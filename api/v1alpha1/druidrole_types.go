package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DruidResourceType is a Druid resource type a permission applies to.
// +kubebuilder:validation:Enum=DATASOURCE;VIEW;CONFIG;STATE;SYSTEM_TABLE;QUERY_CONTEXT;EXTERNAL;LOOKUP
type DruidResourceType string

// DruidAction is what a permission allows on a resource.
// +kubebuilder:validation:Enum=READ;WRITE
type DruidAction string

const (
	// DruidActionRead allows reading the resource.
	DruidActionRead DruidAction = "READ"
	// DruidActionWrite allows writing the resource.
	DruidActionWrite DruidAction = "WRITE"
)

// DeletionPolicy says what happens in Druid when the object is deleted.
// +kubebuilder:validation:Enum=Delete;Retain
type DeletionPolicy string

const (
	// DeletionPolicyDelete removes the role from Druid.
	DeletionPolicyDelete DeletionPolicy = "Delete"
	// DeletionPolicyRetain leaves the role in Druid.
	DeletionPolicyRetain DeletionPolicy = "Retain"
)

// DruidRoleSpec is the desired state of a DruidRole.
// +kubebuilder:validation:XValidation:rule="has(self.roleName) == has(oldSelf.roleName) && (!has(self.roleName) || self.roleName == oldSelf.roleName)",message="roleName is immutable: create a new DruidRole instead",fieldPath=".roleName"
// +kubebuilder:validation:XValidation:rule="self.clusterRef.name == oldSelf.clusterRef.name",message="clusterRef is immutable: create a new DruidRole instead",fieldPath=".clusterRef"
type DruidRoleSpec struct {
	// ClusterRef is the ImplyCluster whose Druid holds the role.
	ClusterRef LocalObjectReference `json:"clusterRef"`

	// RoleName is the role's name in Druid. Defaults to metadata.name.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="!self.contains('/')",message="roleName must not contain '/'"
	// +kubebuilder:validation:XValidation:rule="!(self in ['admin', 'druid_system'])",message="roleName must not be admin or druid_system: Druid's built-in roles belong to the cluster"
	RoleName string `json:"roleName,omitempty"`

	// Permissions replace the role's whole permission set in Druid.
	// +optional
	// +kubebuilder:validation:MaxItems=256
	Permissions []DruidPermission `json:"permissions,omitempty"`

	// Users (Druid authorizer users) assigned the role. Users not listed are unassigned.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=1024
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=256
	Users []string `json:"users,omitempty"`

	// GroupMappings map LDAP groups to the role.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=256
	GroupMappings []GroupMapping `json:"groupMappings,omitempty"`

	// DeletionPolicy is what happens to the role in Druid when this object is deleted.
	// Defaults to Delete.
	// +optional
	// +kubebuilder:default=Delete
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`
}

// DruidPermission allows an action on the resources that match.
type DruidPermission struct {
	// Resource the permission applies to.
	Resource DruidResource `json:"resource"`

	// Action allowed: READ or WRITE.
	Action DruidAction `json:"action"`
}

// DruidResource selects Druid resources by type and name.
type DruidResource struct {
	// Type of resource.
	Type DruidResourceType `json:"type"`

	// Name is a regular expression matched by Druid (java.util.regex) against whole resource
	// names, such as "wikipedia" or "sales_.*". Admission compiles it with Go's RE2 syntax, so a
	// pattern must be valid in both: Java-only constructs (lookahead and lookbehind,
	// backreferences, possessive quantifiers, class intersections such as [a-z&&[^x]]) are
	// rejected; see docs/druid-permissions.md.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="''.matches(self) || !''.matches(self)",message="name must be a valid regular expression"
	Name string `json:"name"`
}

// GroupMapping maps LDAP groups matching a pattern to the role.
type GroupMapping struct {
	// Name of the group mapping in Druid.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="!self.contains('/')",message="name must not contain '/'"
	Name string `json:"name"`

	// GroupPattern matches the LDAP group DN, such as "CN=analysts,OU=Groups,DC=example,DC=com".
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	GroupPattern string `json:"groupPattern"`
}

// DruidRoleStatus is the observed state of a DruidRole.
type DruidRoleStatus struct {
	// ObservedGeneration is the generation of the spec the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Progressing, Degraded, Synced.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// RoleName is the role's name in Druid.
	// +optional
	RoleName string `json:"roleName,omitempty"`
}

// DruidRole is a Druid basic-security role with its permissions, users and LDAP group mappings.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=drole,categories=imply
// +kubebuilder:printcolumn:name="Cluster",type=string,JSONPath=`.spec.clusterRef.name`
// +kubebuilder:printcolumn:name="Role",type=string,JSONPath=`.status.roleName`
// +kubebuilder:printcolumn:name="Synced",type=string,JSONPath=`.status.conditions[?(@.type=="Synced")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="(has(self.spec) && has(self.spec.roleName)) || !(self.metadata.name in ['admin', 'druid_system'])",message="metadata.name must not be admin or druid_system without a roleName: the role name defaults to metadata.name, and Druid's built-in roles belong to the cluster",fieldPath=".metadata"
type DruidRole struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   DruidRoleSpec   `json:"spec,omitempty"`
	Status DruidRoleStatus `json:"status,omitempty"`
}

// DruidRoleList is a list of DruidRoles.
// +kubebuilder:object:root=true
type DruidRoleList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DruidRole `json:"items"`
}

func init() {
	knownTypes = append(knownTypes, &DruidRole{}, &DruidRoleList{})
}
