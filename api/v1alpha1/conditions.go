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

// Condition reasons shared by every kind.
const (
	// ReasonNotImplemented says the operator does not reconcile this part of the kind yet.
	ReasonNotImplemented = "NotImplemented"
)

// Condition reasons of ImplyCluster.
const (
	// ReasonSecretNotFound says a Secret the spec references does not exist.
	ReasonSecretNotFound = "SecretNotFound"
	// ReasonSecretKeyNotFound says a Secret the spec references lacks the key it needs.
	ReasonSecretKeyNotFound = "SecretKeyNotFound"
	// ReasonAllReplicasReady says every node group and the manager have all replicas updated and ready.
	ReasonAllReplicasReady = "AllReplicasReady"
	// ReasonReplicasNotReady says some node group or the manager is not fully updated and ready.
	ReasonReplicasNotReady = "ReplicasNotReady"
	// ReasonApplyFailed says the operator could not create or patch an object it owns.
	ReasonApplyFailed = "ApplyFailed"
	// ReasonAsExpected says a negative-polarity condition (Degraded) is not present.
	ReasonAsExpected = "AsExpected"
	// ReasonReconciled says every owned object matches the spec.
	ReasonReconciled = "Reconciled"
	// ReasonRollingOut says some owned workload is still rolling out the current spec.
	ReasonRollingOut = "RollingOut"
)

// Condition reasons of AuthToken. A missing or incomplete user Secret uses ReasonSecretNotFound
// and ReasonSecretKeyNotFound.
const (
	// ReasonTokenReady says the token's Secret holds a usable agent token.
	ReasonTokenReady = "TokenReady"
	// ReasonInvalidToken says the user's agent token breaks a rule (empty, ':' or whitespace).
	ReasonInvalidToken = "InvalidToken"
	// ReasonSecretNotOwned says the Secret the operator would write exists and is not its own.
	ReasonSecretNotOwned = "SecretNotOwned"
	// ReasonNotApplicable says a condition does not apply to this object, such as
	// PolicyCompliant on an agent token, which is not a password.
	ReasonNotApplicable = "NotApplicable"
)

// Condition reasons of SecurityPolicy.
const (
	// ReasonValid says the policy can be rendered and enforced.
	ReasonValid = "Valid"
	// ReasonInvalidPolicy says the policy cannot be rendered or admits no generated password.
	ReasonInvalidPolicy = "InvalidPolicy"
)

// Annotations on an ImplyCluster that trigger actions.
const (
	// AnnotationRestart rolls every group in order when its value changes.
	AnnotationRestart = "imply.operator.dev/restart"
	// AnnotationRotateCA starts a three-phase rotation to a new generated CA when its value changes.
	AnnotationRotateCA = "imply.operator.dev/rotate-ca"
)

// Annotations the operator keeps on the generated CA's Secret (<cluster>-ca) while it rotates the
// CA; read by `kubectl imply status`.
const (
	// AnnotationCARotationPhase is the phase of the CA rotation under way (TrustBoth, SignWithNew,
	// DropOld), empty when none is.
	AnnotationCARotationPhase = "imply.operator.dev/ca-rotation-phase"
	// AnnotationCARotationRequested is the rotate-ca value the last rotation answered.
	AnnotationCARotationRequested = "imply.operator.dev/ca-rotation-requested"
)
