// Package v1alpha1 contains the imply.operator.dev/v1alpha1 API: ImplyCluster, AuthToken,
// SecurityPolicy and DruidRole.
// +kubebuilder:object:generate=true
// +groupName=imply.operator.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the API group and version of the objects in this package.
	GroupVersion = schema.GroupVersion{Group: "imply.operator.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the types of this package with a runtime.Scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types of this package to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme

	// knownTypes are the kinds and lists of this package; each types file adds its own.
	knownTypes []runtime.Object
)

// addKnownTypes registers knownTypes under GroupVersion.
func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(GroupVersion, knownTypes...)
	metav1.AddToGroupVersion(scheme, GroupVersion)
	return nil
}
