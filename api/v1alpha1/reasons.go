package v1alpha1

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
	// ReasonNameConflict says an object of a name the operator would write exists and is not
	// this object's (another controller, or none): the operator leaves it alone.
	ReasonNameConflict = "NameConflict"
	// ReasonInvalidPodOverrides says pod settings of the spec (nodeGroups[].pod, manager.pod)
	// collide with what the operator puts in the pods: an env variable, volume, container name
	// or mount path it owns.
	ReasonInvalidPodOverrides = "InvalidPodOverrides"
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

// Condition reasons of ImplyCluster's certificates (CertificatesReady).
const (
	// ReasonCertificatesIssued says every leaf is issued from the cluster's CA and valid.
	ReasonCertificatesIssued = "Issued"
	// ReasonInvalidCA says the user's CA Secret cannot sign the cluster's certificates.
	ReasonInvalidCA = "InvalidCA"
	// ReasonCAKeyUnsupported says the user's CA has a key Java's default providers do not verify
	// (ECDSA other than P-256, P-384, P-521; Ed25519).
	ReasonCAKeyUnsupported = "CAKeyUnsupported"
	// ReasonCAExpiresTooSoon says the user's CA expires within certificate.renewBefore.
	ReasonCAExpiresTooSoon = "CAExpiresTooSoon"
	// ReasonCACannotSignForCluster says a leaf for the cluster's names signed by the user's CA
	// does not verify (name constraints, an unknown critical extension).
	ReasonCACannotSignForCluster = "CACannotSignForCluster"
	// ReasonCAMissing says the generated CA's Secret was lost while leaves it signed are live; a
	// new CA is rolled in through a rotation.
	ReasonCAMissing = "CAMissing"
	// ReasonWaitingForIssuer says cert-manager has not issued every Certificate yet.
	ReasonWaitingForIssuer = "WaitingForIssuer"
	// ReasonCertManagerNotInstalled says spec.security.tls.ca.issuerRef needs cert-manager,
	// whose Certificate CRD is not installed.
	ReasonCertManagerNotInstalled = "CertManagerNotInstalled"
	// ReasonIssuerProvidesNoCA says the cert-manager issuer gave no CA certificate to trust.
	ReasonIssuerProvidesNoCA = "IssuerProvidesNoCA"
	// ReasonInvalidMetadataStoreTLS says the metadata store's TLS cannot be set up as the spec
	// asks (a CA or client certificate that is missing or unusable, an impossible combination).
	ReasonInvalidMetadataStoreTLS = "InvalidMetadataStoreTLS"
	// ReasonInvalidRevisionKey says <cluster>-revision-key holds no usable key.
	ReasonInvalidRevisionKey = "InvalidRevisionKey"
	// ReasonImmutableFieldChanged says the spec asks for a change the apiserver does not allow
	// in place (a StatefulSet's volume claims).
	ReasonImmutableFieldChanged = "ImmutableFieldChanged"
)

// Condition reasons of ImplyCluster's authentication (AuthReady) and of Druid users.
const (
	// ReasonAuthConfigured says the agent token and Druid credentials are in place.
	ReasonAuthConfigured = "Configured"
	// ReasonPolicyViolation says a password breaks the SecurityPolicy and is not applied.
	ReasonPolicyViolation = "PolicyViolation"
	// ReasonCompliant says a password satisfies the SecurityPolicy.
	ReasonCompliant = "Compliant"
	// ReasonAuthTokenNotFound says the AuthToken named by spec.security.auth.tokenRef does not exist.
	ReasonAuthTokenNotFound = "AuthTokenNotFound"
	// ReasonAuthTokenNotAgent says the AuthToken named by tokenRef is not of type Agent.
	ReasonAuthTokenNotAgent = "AuthTokenNotAgent"
	// ReasonAuthTokenNotReady says the AuthToken named by tokenRef holds no usable token yet.
	ReasonAuthTokenNotReady = "AuthTokenNotReady"
	// ReasonSecurityPolicyNotFound says the SecurityPolicy named by securityPolicyRef does not exist.
	ReasonSecurityPolicyNotFound = "SecurityPolicyNotFound"
	// ReasonSecurityPolicyInvalid says the SecurityPolicy named by securityPolicyRef cannot be enforced.
	ReasonSecurityPolicyInvalid = "SecurityPolicyInvalid"
	// ReasonPasswordRotationPending says a password rotation waits for Druid's coordinator.
	ReasonPasswordRotationPending = "PasswordRotationPending"
)

// Condition reasons of DruidRole (Synced) and of AuthTokens of type Druid.
const (
	// ReasonSynced says Druid holds what the object asks for.
	ReasonSynced = "Synced"
	// ReasonDruidError says Druid's coordinator answered with an error or could not be reached.
	ReasonDruidError = "DruidError"
	// ReasonAuthNotEnabled says the ImplyCluster has no spec.security.auth, so Druid has no users or roles.
	ReasonAuthNotEnabled = "AuthNotEnabled"
	// ReasonClusterNotFound says the ImplyCluster named by spec.clusterRef does not exist.
	ReasonClusterNotFound = "ClusterNotFound"
	// ReasonInvalidDruidConfig says the client of the cluster's coordinator cannot be built.
	ReasonInvalidDruidConfig = "InvalidDruidConfig"
	// ReasonConflict says another object of the cluster claimed the same Druid user or role
	// first and owns it; this one changes nothing in Druid.
	ReasonConflict = "Conflict"
	// ReasonWaitingForCluster says what the ImplyCluster provides to reach its coordinator (its
	// CA bundle, its generated admin password) does not exist yet: a wait, not a fault.
	ReasonWaitingForCluster = "WaitingForCluster"
)

// Reasons of RolloutStatus.Reason, RestartPending and the Degraded condition of a rollout.
const (
	// ReasonUpToDate says every step runs its wanted template and is ready.
	ReasonUpToDate = "UpToDate"
	// ReasonPaused says spec.rollout.paused holds every rollout.
	ReasonPaused = "Paused"
	// ReasonSpecChanged says a spec edit rolls at once.
	ReasonSpecChanged = "SpecChanged"
	// ReasonRestartRequested says the restart annotation rolls every step at once.
	ReasonRestartRequested = "RestartRequested"
	// ReasonSecurityMaterialChanged says security material changed and no maintenance window is
	// configured, so it rolls at once.
	ReasonSecurityMaterialChanged = "SecurityMaterialChanged"
	// ReasonMaintenanceWindowOpen says security material changed and a maintenance window is open.
	ReasonMaintenanceWindowOpen = "MaintenanceWindowOpen"
	// ReasonCertificateExpiring says a live certificate expires within urgentBefore, so a
	// security change rolls outside a window.
	ReasonCertificateExpiring = "CertificateExpiringSoon"
	// ReasonAwaitingMaintenanceWindow says a security change waits for the next maintenance window.
	ReasonAwaitingMaintenanceWindow = "AwaitingMaintenanceWindow"
	// ReasonNoMaintenanceWindow says windows are configured but none will open (none parsed, or
	// none fires), so a security change waits until a certificate becomes urgent or the spec is fixed.
	ReasonNoMaintenanceWindow = "NoMaintenanceWindow"
	// ReasonFinishingGroup says the gate closed (a window ended) while a step was rolling; that
	// step finishes, no further step starts.
	ReasonFinishingGroup = "FinishingGroup"
	// ReasonProgressDeadlineExceeded says a step was not complete ProgressDeadline after it
	// started; the rollout is halted.
	ReasonProgressDeadlineExceeded = "ProgressDeadlineExceeded"
	// ReasonNoRestartPending says no restart waits for a maintenance window.
	ReasonNoRestartPending = "NoRestartPending"
)
