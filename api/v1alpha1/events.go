package v1alpha1

// Reasons of the operator's events (UpperCamel, Normal unless said otherwise). A Warning about a
// problem uses the reason of the condition that reports it.
const (
	// EventCAGenerated: the cluster's CA was generated.
	EventCAGenerated = "CAGenerated"
	// EventCertificateIssued: leaves were issued or renewed.
	EventCertificateIssued = "CertificateIssued"
	// EventKeystoresRepacked: a served leaf Secret had lost a PKCS#12 file or its keystore
	// password; they were packed again around the certificate it serves.
	EventKeystoresRepacked = "KeystoresRepacked"
	// EventCertificateDeleted: a cert-manager Certificate of a removed group was deleted.
	EventCertificateDeleted = "CertificateDeleted"
	// EventCertificateReissueRequested: cert-manager was asked to re-issue a Certificate whose
	// leaf is not signed by the issuer's current CA, which a CA rotation needs.
	EventCertificateReissueRequested = "CertificateReissueRequested"
	// EventCARotationStarted: a three-phase CA rotation started.
	EventCARotationStarted = "CARotationStarted"
	// EventCARotationPhase: a CA rotation moved to its next phase.
	EventCARotationPhase = "CARotationPhase"
	// EventCARotationCompleted: a CA rotation finished; the old CA is no longer trusted.
	EventCARotationCompleted = "CARotationCompleted"
	// EventNodeGroupRemoved: the objects of a node group removed from the spec were deleted.
	EventNodeGroupRemoved = "NodeGroupRemoved"
	// EventRuntimePropertiesIgnored (Warning): runtime properties the operator owns were given
	// in the spec and ignored.
	EventRuntimePropertiesIgnored = "RuntimePropertiesIgnored"
	// EventAdminPasswordRotated: the generated Druid admin password was rotated.
	EventAdminPasswordRotated = "AdminPasswordRotated"
	// EventAdminPasswordChanged: the user's new Druid admin password was applied.
	EventAdminPasswordChanged = "AdminPasswordChanged"
	// EventInternalClientPasswordRotated: Druid services move to the other internal user with a
	// new generated password.
	EventInternalClientPasswordRotated = "InternalClientPasswordRotated"
	// EventInternalClientPasswordChanged: Druid services move to the other internal user with
	// the user's new password.
	EventInternalClientPasswordChanged = "InternalClientPasswordChanged"
	// EventInternalClientUserRetired: the internal user no pod uses any more lost its password.
	EventInternalClientUserRetired = "InternalClientUserRetired"
	// EventTokenGenerated: an agent token was generated.
	EventTokenGenerated = "TokenGenerated"
	// EventTokenRotated: an agent token was regenerated after its rotation period.
	EventTokenRotated = "TokenRotated"
	// EventPasswordGenerated: a Druid user's password was generated.
	EventPasswordGenerated = "PasswordGenerated"
	// EventPasswordRotated: a Druid user's generated password was rotated.
	EventPasswordRotated = "PasswordRotated"
	// EventPasswordChanged: the user's new password of a Druid user was applied.
	EventPasswordChanged = "PasswordChanged"
	// EventUserDeleted: a Druid user was deleted from Druid with its AuthToken.
	EventUserDeleted = "UserDeleted"
	// EventUserRetained: an AuthToken with deletionPolicy Retain was deleted; its Druid user and
	// credentials Secret were kept.
	EventUserRetained = "UserRetained"
)

// Reasons of the rollout events (pkg/rollout's Decision.Event).
const (
	// EventRolloutDeferred: a change waits for a maintenance window (on entering that state).
	EventRolloutDeferred = "RolloutDeferred"
	// EventRolloutStarted: the first group's template changes (the previous phase was not Rolling).
	EventRolloutStarted = "RolloutStarted"
	// EventRolloutGroupStarted: a further group's template changes during a rollout.
	EventRolloutGroupStarted = "RolloutGroupStarted"
	// EventRolloutFinished: every group is complete after a rollout (the previous phase was Rolling).
	EventRolloutFinished = "RolloutFinished"
	// EventRolloutHalted (Warning): a group missed its progress deadline (on entering that state).
	EventRolloutHalted = "RolloutHalted"
)
