package v1alpha1

// Condition types shared by every kind (Argo CD health reads them).
const (
	// ConditionReady is True when the object's desired state is in effect.
	ConditionReady = "Ready"
	// ConditionProgressing is True while the operator moves toward the desired state.
	ConditionProgressing = "Progressing"
	// ConditionDegraded is True when the desired state cannot be reached without intervention.
	ConditionDegraded = "Degraded"
)

// Condition types of ImplyCluster.
const (
	// ConditionCertificatesReady is True when every certificate is issued and valid.
	ConditionCertificatesReady = "CertificatesReady"
	// ConditionAuthReady is True when the agent token and Druid credentials are in place.
	ConditionAuthReady = "AuthReady"
	// ConditionRestartPending is True when a restart waits for a maintenance window.
	ConditionRestartPending = "RestartPending"
)

// Condition types of AuthToken and DruidRole.
const (
	// ConditionPolicyCompliant is True when the token's password satisfies the SecurityPolicy.
	ConditionPolicyCompliant = "PolicyCompliant"
	// ConditionSynced is True when Druid matches the DruidRole.
	ConditionSynced = "Synced"
)

// Annotations on an ImplyCluster that trigger actions.
const (
	// AnnotationRestart rolls every group in order when its value changes.
	AnnotationRestart = "imply.operator.dev/restart"
	// AnnotationRotateCA starts a three-phase rotation to a new generated CA when its value changes.
	AnnotationRotateCA = "imply.operator.dev/rotate-ca"
)
