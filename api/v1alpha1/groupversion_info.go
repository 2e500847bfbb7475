// Package v1alpha1 contains the imply.operator.dev/v1alpha1 API: ImplyCluster, AuthToken,
// SecurityPolicy and DruidRole.
// +kubebuilder:object:generate=true
// +groupName=imply.operator.dev
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the API group and version of the objects in this package.
	GroupVersion = schema.GroupVersion{Group: "imply.operator.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the types of this package with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the types of this package to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
