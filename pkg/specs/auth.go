package specs

import (
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/auth"
)

// Druid basic security: defaults of the API, fixed user names and the extension.
const (
	// DefaultAuthenticatorName is the basic authenticator's name when the spec leaves it out.
	DefaultAuthenticatorName = "basic"
	// DefaultAuthorizerName is the basic authorizer's name when the spec leaves it out.
	DefaultAuthorizerName = "basic"
	// DefaultCredentialIterations is Druid's PBKDF2 iteration count when the spec leaves it out.
	DefaultCredentialIterations = 10000
	// LDAPAuthenticatorSuffix makes the name of the LDAP authenticator, "<authenticatorName>_ldap",
	// which never equals the basic authenticator's name.
	LDAPAuthenticatorSuffix = "_ldap"
	// DruidAdminUsername is the admin user Druid creates from initialAdminPassword.
	DruidAdminUsername = "admin"
	// DruidInternalClientUsername is the user Druid services call each other as (the escalator).
	DruidInternalClientUsername = "druid_system"
	// DruidAlternateInternalClientUsername is the second internal user: rotating the internal
	// password moves the escalator to the other user, so both stay valid while pods restart.
	DruidAlternateInternalClientUsername = "druid_system_2"
	// BasicSecurityExtension is the Druid extension of basic authentication and authorization.
	BasicSecurityExtension = "druid-basic-security"
	// DefaultLDAPUserSearch and DefaultLDAPUserAttribute are the API defaults of ldap.userSearch
	// and ldap.userAttribute (Active Directory).
	DefaultLDAPUserSearch    = "(&(sAMAccountName=%s)(objectClass=user))"
	DefaultLDAPUserAttribute = "sAMAccountName"
)

// Keys of <cluster>-druid-credentials, which are also the default keys of the spec's
// adminPasswordSecretRef and internalClientPasswordSecretRef, and the default key of
// ldap.bindPasswordSecretRef.
const (
	DruidAdminPasswordKey          = "admin-password"
	DruidInternalClientPasswordKey = "internal-client-password"
	DefaultLDAPBindPasswordKey     = "password"
)

// Environment variables through which Druid reads its basic-security passwords (with its
// environment password provider); the containers get them from Secrets, never as values.
const (
	// EnvDruidAdminPassword carries the initial password of the admin user.
	EnvDruidAdminPassword = "DRUID_ADMIN_PASSWORD"
	// EnvDruidInternalClientPassword carries the password of druid_system.
	EnvDruidInternalClientPassword = "DRUID_INTERNAL_CLIENT_PASSWORD"
	// EnvDruidLDAPBindPassword carries the LDAP bind user's password (node groups only).
	EnvDruidLDAPBindPassword = "DRUID_LDAP_BIND_PASSWORD"
)

// AuthToken Secrets (design.md, "AuthToken").
const (
	// AuthTokenKey is the key of an agent token in its Secret, the key Imply's own chart uses.
	AuthTokenKey = "auth-token"
)

// AuthTokenSecretName is the Secret of a generated agent token: "<authtoken>-token".
func AuthTokenSecretName(token string) string { return token + "-token" }

// DruidUserCredentialsName is the basic-auth Secret of a Druid API user (AuthToken type Druid):
// "<authtoken>-credentials".
func DruidUserCredentialsName(token string) string { return token + "-credentials" }

// The manager's security policy (design.md, "SecurityPolicy").
const (
	// SecurityPolicyKey is the key of <cluster>-security-policy.
	SecurityPolicyKey = "policy.json"
	// SecurityPolicyVolumeName is the manager's volume of <cluster>-security-policy.
	SecurityPolicyVolumeName = "security-policy"
	// SecurityPolicyMountPath is where the manager finds policy.json.
	SecurityPolicyMountPath = "/etc/imply/security-policy"
)

// AuthEnabled reports whether spec.security.auth is set: agent tokens and Druid basic security.
func AuthEnabled(c *implyv1alpha1.ImplyCluster) bool {
	return c.Spec.Security != nil && c.Spec.Security.Auth != nil
}

// druidAuth returns spec.security.auth.druid, or nil when auth is off.
func druidAuth(c *implyv1alpha1.ImplyCluster) *implyv1alpha1.DruidAuthSpec {
	if !AuthEnabled(c) {
		return nil
	}
	return &c.Spec.Security.Auth.Druid
}

// ldapSpec returns spec.security.auth.druid.ldap, or nil when auth is off or LDAP unset.
func ldapSpec(c *implyv1alpha1.ImplyCluster) *implyv1alpha1.LDAPSpec {
	if a := druidAuth(c); a != nil {
		return a.LDAP
	}
	return nil
}

// DruidAuthenticatorName is the name of the basic authenticator that holds Druid's own users
// (admin, druid_system and the AuthToken users): spec.security.auth.druid.authenticatorName,
// or "basic".
func DruidAuthenticatorName(c *implyv1alpha1.ImplyCluster) string {
	if a := druidAuth(c); a != nil && a.AuthenticatorName != "" {
		return a.AuthenticatorName
	}
	return DefaultAuthenticatorName
}

// DruidLDAPAuthenticatorName is the name of the LDAP authenticator, second in the chain when
// LDAP is set: "<authenticatorName>_ldap".
func DruidLDAPAuthenticatorName(c *implyv1alpha1.ImplyCluster) string {
	return DruidAuthenticatorName(c) + LDAPAuthenticatorSuffix
}

// DruidAuthorizerName is the name of the basic authorizer: spec.security.auth.druid.authorizerName,
// or "basic".
func DruidAuthorizerName(c *implyv1alpha1.ImplyCluster) string {
	if a := druidAuth(c); a != nil && a.AuthorizerName != "" {
		return a.AuthorizerName
	}
	return DefaultAuthorizerName
}

// DruidCredentialIterations is spec.security.auth.druid.credentialIterations, or 10000.
func DruidCredentialIterations(c *implyv1alpha1.ImplyCluster) int32 {
	if a := druidAuth(c); a != nil && a.CredentialIterations > 0 {
		return a.CredentialIterations
	}
	return DefaultCredentialIterations
}

// DruidAdminPasswordRef is where the admin password is: the user's adminPasswordSecretRef (key
// defaulting to admin-password), else admin-password of <cluster>-druid-credentials.
func DruidAdminPasswordRef(c *implyv1alpha1.ImplyCluster) implyv1alpha1.SecretKeySelector {
	var ref *implyv1alpha1.SecretKeySelector
	if a := druidAuth(c); a != nil {
		ref = a.AdminPasswordSecretRef
	}
	return credentialRef(c, ref, DruidAdminPasswordKey)
}

// DruidInternalClientPasswordRef is where druid_system's password is: the user's
// internalClientPasswordSecretRef (key defaulting to internal-client-password), else
// internal-client-password of <cluster>-druid-credentials.
func DruidInternalClientPasswordRef(c *implyv1alpha1.ImplyCluster) implyv1alpha1.SecretKeySelector {
	var ref *implyv1alpha1.SecretKeySelector
	if a := druidAuth(c); a != nil {
		ref = a.InternalClientPasswordSecretRef
	}
	return credentialRef(c, ref, DruidInternalClientPasswordKey)
}

func credentialRef(c *implyv1alpha1.ImplyCluster, ref *implyv1alpha1.SecretKeySelector, key string) implyv1alpha1.SecretKeySelector {
	if ref != nil {
		return implyv1alpha1.SecretKeySelector{Name: ref.Name, Key: ref.KeyOrDefault(key)}
	}
	return implyv1alpha1.SecretKeySelector{Name: DruidCredentialsName(c.Name), Key: key}
}

// LDAPBindPasswordRef is ldap.bindPasswordSecretRef with its key defaulting to password; false
// when LDAP is not set.
func LDAPBindPasswordRef(c *implyv1alpha1.ImplyCluster) (implyv1alpha1.SecretKeySelector, bool) {
	l := ldapSpec(c)
	if l == nil {
		return implyv1alpha1.SecretKeySelector{}, false
	}
	ref := l.BindPasswordSecretRef
	return implyv1alpha1.SecretKeySelector{Name: ref.Name, Key: ref.KeyOrDefault(DefaultLDAPBindPasswordKey)}, true
}

// BuildDruidCredentialsSecret builds <cluster>-druid-credentials with the generated passwords:
// admin-password and internal-client-password, each only when not empty (a password the user
// references from another Secret is not copied here). With both the user's, it has no data and
// only carries the operator's annotations.
func BuildDruidCredentialsSecret(c *implyv1alpha1.ImplyCluster, adminPassword, internalClientPassword string) *corev1.Secret {
	var data map[string][]byte // nil when empty, as the apiserver returns an empty Secret
	for k, v := range map[string]string{DruidAdminPasswordKey: adminPassword, DruidInternalClientPasswordKey: internalClientPassword} {
		if v == "" {
			continue
		}
		if data == nil {
			data = map[string][]byte{}
		}
		data[k] = []byte(v)
	}
	secret := &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      DruidCredentialsName(c.Name),
			Namespace: c.Namespace,
			Labels:    Labels(c.Name, ComponentCommon, ComponentCommon),
		},
		Type: corev1.SecretTypeOpaque,
		Data: data,
	}
	applySecretTemplate(&secret.ObjectMeta, clusterSecretTemplate(c))
	return secret
}

// authRuntimeProperties are the common properties of Druid basic security, every password
// through the environment password provider. Empty when auth is off.
//
// The authenticator <authenticatorName> validates against the metadata store and holds admin
// (initialAdminPassword), druid_system (initialInternalClientPassword, the escalator's user) and
// the AuthToken users. With LDAP a second authenticator, <authenticatorName>_ldap, validates
// against the directory, and the first one is set to skipOnFailure=true so that users it does
// not know fall through to LDAP (a wrong password for a user it knows still fails there). Both
// direct requests to the one basic authorizer, whose role provider is ldap with LDAP: it maps
// directory groups to roles and still honours the roles of metadata users. Druid's LDAP
// validator never consults the metadata store, so a chain of the LDAP authenticator alone would
// lock out druid_system and the operator's admin.
//
// For an ldaps:// URL with TLS on, druid.auth.basic.ssl.* points Druid's LDAP client at the
// cluster truststore, so the directory's certificate must chain to a CA of the cluster's trust
// bundle. Without TLS no truststore is mounted and these properties are left out.
func authRuntimeProperties(c *implyv1alpha1.ImplyCluster, settings commonSettings) map[string]string {
	if !AuthEnabled(c) {
		return nil
	}
	authn, authz := DruidAuthenticatorName(c), DruidAuthorizerName(c)
	iterations := itoa(DruidCredentialIterations(c))
	ldap := ldapSpec(c)
	authnKey := func(name, k string) string { return "druid.auth.authenticator." + name + "." + k }
	authzKey := func(k string) string { return "druid.auth.authorizer." + authz + "." + k }

	chain := []string{authn}
	p := map[string]string{
		authnKey(authn, "type"):                          "basic",
		authnKey(authn, "initialAdminPassword"):          environmentPassword(EnvDruidAdminPassword),
		authnKey(authn, "initialInternalClientPassword"): environmentPassword(EnvDruidInternalClientPassword),
		authnKey(authn, "credentialsValidator.type"):     "metadata",
		authnKey(authn, "skipOnFailure"):                 boolString(ldap != nil),
		authnKey(authn, "authorizerName"):                authz,
		authnKey(authn, "credentialIterations"):          iterations,

		"druid.escalator.type":                   "basic",
		"druid.escalator.internalClientUsername": settings.internalClientUser,
		"druid.escalator.internalClientPassword": environmentPassword(EnvDruidInternalClientPassword),
		"druid.escalator.authorizerName":         authz,

		"druid.auth.authorizers": mustJSON([]string{authz}),
		authzKey("type"):         "basic",
	}
	if ldap != nil {
		l := DruidLDAPAuthenticatorName(c)
		chain = append(chain, l)
		userSearch, userAttribute := ldap.UserSearch, ldap.UserAttribute
		if userSearch == "" {
			userSearch = DefaultLDAPUserSearch
		}
		if userAttribute == "" {
			userAttribute = DefaultLDAPUserAttribute
		}
		p[authnKey(l, "type")] = "basic"
		p[authnKey(l, "credentialsValidator.type")] = "ldap"
		p[authnKey(l, "credentialsValidator.url")] = ldap.URL
		p[authnKey(l, "credentialsValidator.bindUser")] = ldap.BindUser
		p[authnKey(l, "credentialsValidator.bindPassword")] = environmentPassword(EnvDruidLDAPBindPassword)
		p[authnKey(l, "credentialsValidator.baseDn")] = ldap.BaseDN
		p[authnKey(l, "credentialsValidator.userSearch")] = userSearch
		p[authnKey(l, "credentialsValidator.userAttribute")] = userAttribute
		p[authnKey(l, "skipOnFailure")] = "false"
		p[authnKey(l, "authorizerName")] = authz
		p[authnKey(l, "credentialIterations")] = iterations
		p[authzKey("roleProvider.type")] = "ldap"
		if len(ldap.GroupFilters) > 0 {
			p[authzKey("roleProvider.groupFilters")] = mustJSON(ldap.GroupFilters)
		}
		if strings.HasPrefix(strings.ToLower(ldap.URL), "ldaps://") && TLSEnabled(c) {
			protocols := TLSProtocols(c)
			p["druid.auth.basic.ssl.protocol"] = protocols[len(protocols)-1]
			p["druid.auth.basic.ssl.trustStorePath"] = TLSMountPath + "/" + TruststoreKey
			p["druid.auth.basic.ssl.trustStoreType"] = keystoreTypePKCS12
			p["druid.auth.basic.ssl.trustStorePassword"] = environmentPassword(EnvKeystorePassword)
		}
	}
	p["druid.auth.authenticatorChain"] = mustJSON(chain)
	return p
}

// authEnv are the environment variables of the Druid passwords, from their Secrets: the admin
// and internal-client passwords, and with withLDAP and LDAP set the bind password. None when
// auth is off.
func authEnv(c *implyv1alpha1.ImplyCluster, withLDAP bool) []corev1.EnvVar {
	if !AuthEnabled(c) {
		return nil
	}
	admin, internal := DruidAdminPasswordRef(c), DruidInternalClientPasswordRef(c)
	env := []corev1.EnvVar{
		secretEnv(EnvDruidAdminPassword, admin.Name, admin.Key),
		secretEnv(EnvDruidInternalClientPassword, internal.Name, internal.Key),
	}
	if bind, ok := LDAPBindPasswordRef(c); ok && withLDAP {
		env = append(env, secretEnv(EnvDruidLDAPBindPassword, bind.Name, bind.Key))
	}
	return env
}

// BuildSecurityPolicyConfigMap builds <cluster>-security-policy with the manager's policy.json
// rendered from policy's spec (see auth.RenderPolicyJSON). It fails, naming the field, for a
// policy the API's validation would reject.
func BuildSecurityPolicyConfigMap(c *implyv1alpha1.ImplyCluster, policy *implyv1alpha1.SecurityPolicy) (*corev1.ConfigMap, error) {
	var spec implyv1alpha1.SecurityPolicySpec
	if policy != nil {
		spec = policy.Spec
	}
	doc, err := auth.RenderPolicyJSON(spec)
	if err != nil {
		return nil, err
	}
	return &corev1.ConfigMap{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      SecurityPolicyConfigName(c.Name),
			Namespace: c.Namespace,
			Labels:    managerLabels(c),
		},
		Data: map[string]string{SecurityPolicyKey: string(doc)},
	}, nil
}

// WithSecurityPolicy mounts <cluster>-security-policy read-only into the manager's container
// at SecurityPolicyMountPath, so policy.json is at /etc/imply/security-policy/policy.json. It
// does nothing when spec.security.securityPolicyRef is unset or the volume is already there.
// The controller calls it on the Deployment of BuildManagerDeployment once the ConfigMap
// exists, and includes the ConfigMap in the manager's config revision so a policy change rolls
// the manager.
func WithSecurityPolicy(d *appsv1.Deployment, c *implyv1alpha1.ImplyCluster) {
	if c.Spec.Security == nil || c.Spec.Security.SecurityPolicyRef == nil {
		return
	}
	pod := &d.Spec.Template.Spec
	for _, v := range pod.Volumes {
		if v.Name == SecurityPolicyVolumeName {
			return
		}
	}
	pod.Volumes = append(pod.Volumes, configMapVolume(SecurityPolicyVolumeName, SecurityPolicyConfigName(c.Name)))
	for i := range pod.Containers {
		if pod.Containers[i].Name == ManagerContainerName {
			pod.Containers[i].VolumeMounts = append(pod.Containers[i].VolumeMounts, corev1.VolumeMount{
				Name: SecurityPolicyVolumeName, MountPath: SecurityPolicyMountPath, ReadOnly: true,
			})
		}
	}
}
