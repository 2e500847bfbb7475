package controllers

// Permissions that belong to no one reconciler.
//
// The secure metrics endpoint (main.go, --metrics-secure) authenticates each scrape's bearer
// token with a TokenReview and authorizes GET /metrics with a SubjectAccessReview.
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create
//
// The ImplyCluster's finalizer: setting blockOwnerDeletion on the objects an ImplyCluster owns
// needs update on implyclusters/finalizers where the OwnerReferencesPermissionEnforcement
// admission plugin is on (OpenShift and others).
// +kubebuilder:rbac:groups=imply.operator.dev,resources=implyclusters/finalizers,verbs=update
