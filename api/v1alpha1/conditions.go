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

// Annotations the operator keeps while it changes the signing CA; read by `kubectl imply status`.
// The phase and its cause are on the CA bundle ConfigMap (<cluster>-ca-bundle), whatever the CA
// source; the rotate-ca value answered is on the generated CA's Secret (<cluster>-ca).
const (
	// AnnotationCARotationPhase is the phase of the CA rotation under way (TrustBoth, SignWithNew,
	// DropOld), empty when none is.
	AnnotationCARotationPhase = "imply.operator.dev/ca-rotation-phase"
	// AnnotationCARotationCause says why the rotation under way started: RotateCA, CARenewal,
	// CAChanged or CAMissing.
	AnnotationCARotationCause = "imply.operator.dev/ca-rotation-cause"
	// AnnotationCARotationRequested is the rotate-ca value the last rotation answered.
	AnnotationCARotationRequested = "imply.operator.dev/ca-rotation-requested"
)

// AnnotationRetainedFor marks an object the operator keeps after its owner is deleted
// (ImplyCluster spec.security.retainOnDelete, AuthToken deletionPolicy Retain): its value,
// "<Kind>/<namespace>/<name>", names the owner that may adopt it again. The object carries no
// owner reference meanwhile.
const AnnotationRetainedFor = "imply.operator.dev/retained-for"
