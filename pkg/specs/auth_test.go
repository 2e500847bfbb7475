package specs

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

func withAuth(druid implyv1alpha1.DruidAuthSpec) clusterOption {
	return func(c *implyv1alpha1.ImplyCluster) {
		c.Spec.Security.Auth = &implyv1alpha1.AuthSpec{Druid: druid}
	}
}

func testLDAP(url string) *implyv1alpha1.LDAPSpec {
	return &implyv1alpha1.LDAPSpec{
		URL:                   url,
		BindUser:              "cn=bind,dc=example,dc=org",
		BindPasswordSecretRef: implyv1alpha1.SecretKeySelector{Name: "ldap"},
		BaseDN:                "ou=Users,dc=example,dc=org",
	}
}

// authKeys returns the keys of p that basic security owns.
func authKeys(p map[string]string) []string {
	var keys []string
	for k := range p {
		if strings.HasPrefix(k, "druid.auth.") || strings.HasPrefix(k, "druid.escalator.") {
			keys = append(keys, k)
		}
	}
	return keys
}

func TestAuthEnabled(t *testing.T) {
	g := NewWithT(t)
	g.Expect(AuthEnabled(newCluster())).To(BeFalse())
	g.Expect(AuthEnabled(newCluster(func(c *implyv1alpha1.ImplyCluster) { c.Spec.Security = nil }))).To(BeFalse())
	g.Expect(AuthEnabled(newCluster(withAuth(implyv1alpha1.DruidAuthSpec{})))).To(BeTrue())
}

func TestAuthNamesAndDefaults(t *testing.T) {
	for _, tc := range []struct {
		name               string
		c                  *implyv1alpha1.ImplyCluster
		authn, ldap, authz string
		iterations         int32
		admin, internal    implyv1alpha1.SecretKeySelector
	}{
		{
			name: "auth off", c: newCluster(),
			authn: "basic", ldap: "basic_ldap", authz: "basic", iterations: 10000,
			admin:    implyv1alpha1.SecretKeySelector{Name: "c-druid-credentials", Key: "admin-password"},
			internal: implyv1alpha1.SecretKeySelector{Name: "c-druid-credentials", Key: "internal-client-password"},
		},
		{
			name: "fields left out", c: newCluster(withAuth(implyv1alpha1.DruidAuthSpec{})),
			authn: "basic", ldap: "basic_ldap", authz: "basic", iterations: 10000,
			admin:    implyv1alpha1.SecretKeySelector{Name: "c-druid-credentials", Key: "admin-password"},
			internal: implyv1alpha1.SecretKeySelector{Name: "c-druid-credentials", Key: "internal-client-password"},
		},
		{
			name: "everything set",
			c: newCluster(withAuth(implyv1alpha1.DruidAuthSpec{
				AuthenticatorName: "ldap", AuthorizerName: "authz", CredentialIterations: 20000,
				AdminPasswordSecretRef:          &implyv1alpha1.SecretKeySelector{Name: "mine", Key: "a"},
				InternalClientPasswordSecretRef: &implyv1alpha1.SecretKeySelector{Name: "mine"},
			})),
			authn: "ldap", ldap: "ldap_ldap", authz: "authz", iterations: 20000,
			admin:    implyv1alpha1.SecretKeySelector{Name: "mine", Key: "a"},
			internal: implyv1alpha1.SecretKeySelector{Name: "mine", Key: "internal-client-password"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(DruidAuthenticatorName(tc.c)).To(Equal(tc.authn))
			g.Expect(DruidLDAPAuthenticatorName(tc.c)).To(Equal(tc.ldap))
			g.Expect(DruidAuthorizerName(tc.c)).To(Equal(tc.authz))
			g.Expect(DruidCredentialIterations(tc.c)).To(Equal(tc.iterations))
			g.Expect(DruidAdminPasswordRef(tc.c)).To(Equal(tc.admin))
			g.Expect(DruidInternalClientPasswordRef(tc.c)).To(Equal(tc.internal))
		})
	}

	g := NewWithT(t)
	_, ok := LDAPBindPasswordRef(newCluster(withAuth(implyv1alpha1.DruidAuthSpec{})))
	g.Expect(ok).To(BeFalse())
	ref, ok := LDAPBindPasswordRef(newCluster(withAuth(implyv1alpha1.DruidAuthSpec{LDAP: testLDAP("ldap://x")})))
	g.Expect(ok).To(BeTrue())
	g.Expect(ref).To(Equal(implyv1alpha1.SecretKeySelector{Name: "ldap", Key: "password"}))

	g.Expect(AuthTokenSecretName("agent")).To(Equal("agent-token"))
	g.Expect(DruidUserCredentialsName("pivot")).To(Equal("pivot-credentials"))
}

func TestAuthPropertiesOff(t *testing.T) {
	g := NewWithT(t)
	p := commonProps(t, newCluster())
	g.Expect(authKeys(p)).To(BeEmpty())
	g.Expect(p["druid.extensions.loadList"]).NotTo(ContainSubstring("druid-basic-security"))
}

func TestAuthPropertiesMetadata(t *testing.T) {
	g := NewWithT(t)
	c := newCluster(withTLS(false), withAuth(implyv1alpha1.DruidAuthSpec{AuthenticatorName: "authn", AuthorizerName: "authz", CredentialIterations: 12345}))
	p := commonProps(t, c)
	env := func(v string) string { return `{"type":"environment","variable":"` + v + `"}` }
	want := map[string]string{
		"druid.auth.authenticatorChain":                                `["authn"]`,
		"druid.auth.authenticator.authn.type":                          "basic",
		"druid.auth.authenticator.authn.initialAdminPassword":          env("DRUID_ADMIN_PASSWORD"),
		"druid.auth.authenticator.authn.initialInternalClientPassword": env("DRUID_INTERNAL_CLIENT_PASSWORD"),
		"druid.auth.authenticator.authn.credentialsValidator.type":     "metadata",
		"druid.auth.authenticator.authn.skipOnFailure":                 "false",
		"druid.auth.authenticator.authn.authorizerName":                "authz",
		"druid.auth.authenticator.authn.credentialIterations":          "12345",
		"druid.escalator.type":                                         "basic",
		"druid.escalator.internalClientUsername":                       "druid_system",
		"druid.escalator.internalClientPassword":                       env("DRUID_INTERNAL_CLIENT_PASSWORD"),
		"druid.escalator.authorizerName":                               "authz",
		"druid.auth.authorizers":                                       `["authz"]`,
		"druid.auth.authorizer.authz.type":                             "basic",
	}
	for k, v := range want {
		g.Expect(p).To(HaveKeyWithValue(k, v))
	}
	g.Expect(authKeys(p)).To(ConsistOf(keysOf(want)), "nothing else: no LDAP, no role provider, no LDAPS")
	g.Expect(p).To(HaveKeyWithValue("druid.extensions.loadList", `["mysql-metadata-storage","druid-s3-extensions","druid-basic-security"]`))
}

func keysOf(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

func TestAuthPropertiesLDAP(t *testing.T) {
	ssl := []string{"druid.auth.basic.ssl.protocol", "druid.auth.basic.ssl.trustStorePath",
		"druid.auth.basic.ssl.trustStoreType", "druid.auth.basic.ssl.trustStorePassword"}
	for _, tc := range []struct {
		name    string
		url     string
		tls     bool
		wantSSL bool
	}{
		{"ldap, TLS on", "ldap://ad:389", true, false},
		{"ldaps, TLS on: the cluster truststore", "ldaps://ad:636", true, true},
		{"LDAPS in capitals, TLS on", "LDAPS://ad", true, true},
		{"ldaps, TLS off: no truststore to point at", "ldaps://ad:636", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			c := newCluster(withTLS(tc.tls), withAuth(implyv1alpha1.DruidAuthSpec{LDAP: testLDAP(tc.url)}))
			p := commonProps(t, c)
			g.Expect(p).To(HaveKeyWithValue("druid.auth.authenticatorChain", `["basic","basic_ldap"]`))
			g.Expect(p).To(HaveKeyWithValue("druid.auth.authenticator.basic.credentialsValidator.type", "metadata"))
			g.Expect(p).To(HaveKeyWithValue("druid.auth.authenticator.basic.skipOnFailure", "true"),
				"users the metadata store does not know fall through to LDAP")
			for k, v := range map[string]string{
				"type":                               "basic",
				"credentialsValidator.type":          "ldap",
				"credentialsValidator.url":           tc.url,
				"credentialsValidator.bindUser":      "cn=bind,dc=example,dc=org",
				"credentialsValidator.bindPassword":  `{"type":"environment","variable":"DRUID_LDAP_BIND_PASSWORD"}`,
				"credentialsValidator.baseDn":        "ou=Users,dc=example,dc=org",
				"credentialsValidator.userSearch":    "(&(sAMAccountName=%s)(objectClass=user))",
				"credentialsValidator.userAttribute": "sAMAccountName",
				"skipOnFailure":                      "false",
				"authorizerName":                     "basic",
				"credentialIterations":               "10000",
			} {
				g.Expect(p).To(HaveKeyWithValue("druid.auth.authenticator.basic_ldap."+k, v))
			}
			g.Expect(p).NotTo(HaveKey("druid.auth.authenticator.basic_ldap.initialAdminPassword"))
			g.Expect(p).To(HaveKeyWithValue("druid.auth.authorizer.basic.roleProvider.type", "ldap"))
			g.Expect(p).NotTo(HaveKey("druid.auth.authorizer.basic.roleProvider.groupFilters"), "none set")
			for _, k := range ssl {
				if tc.wantSSL {
					g.Expect(p).To(HaveKey(k))
				} else {
					g.Expect(p).NotTo(HaveKey(k))
				}
			}
			if tc.wantSSL {
				g.Expect(p).To(HaveKeyWithValue("druid.auth.basic.ssl.trustStorePath", "/etc/imply/tls/truststore.p12"))
				g.Expect(p).To(HaveKeyWithValue("druid.auth.basic.ssl.trustStorePassword",
					`{"type":"environment","variable":"IMPLY_TLS_KEYSTORE_PASSWORD"}`))
			}
		})
	}

	t.Run("custom search and group filters", func(t *testing.T) {
		g := NewWithT(t)
		l := testLDAP("ldap://openldap")
		l.UserSearch, l.UserAttribute = "(&(uid=%s)(objectClass=inetOrgPerson))", "uid"
		l.GroupFilters = []string{"*,ou=Groups,dc=example,dc=org", `cn=a"b,ou=Groups`}
		p := commonProps(t, newCluster(withAuth(implyv1alpha1.DruidAuthSpec{AuthenticatorName: "db", LDAP: l})))
		g.Expect(p).To(HaveKeyWithValue("druid.auth.authenticatorChain", `["db","db_ldap"]`))
		g.Expect(p).To(HaveKeyWithValue("druid.auth.authenticator.db_ldap.credentialsValidator.userSearch", "(&(uid=%s)(objectClass=inetOrgPerson))"))
		g.Expect(p).To(HaveKeyWithValue("druid.auth.authenticator.db_ldap.credentialsValidator.userAttribute", "uid"))
		var filters []string
		g.Expect(json.Unmarshal([]byte(p["druid.auth.authorizer.basic.roleProvider.groupFilters"]), &filters)).To(Succeed())
		g.Expect(filters).To(Equal(l.GroupFilters), "a JSON array, quotes escaped")
	})
}

func TestAuthPropertiesAreOperatorOwned(t *testing.T) {
	g := NewWithT(t)
	c := newCluster(withAuth(implyv1alpha1.DruidAuthSpec{LDAP: testLDAP("ldaps://ad")}))
	c.Spec.Druid.CommonRuntimeProperties = map[string]string{
		"druid.auth.authenticatorChain":                     `["allowAll"]`,
		"druid.auth.authenticator.basic.skipOnFailure":      "true",
		"druid.auth.authenticator.basic_ldap.skipOnFailure": "true",
		"druid.auth.authorizer.basic.roleProvider.type":     "metadata",
		"druid.auth.basic.ssl.trustStorePath":               "/mine.jks",
		"druid.escalator.internalClientPassword":            "inline",
	}
	grp := group(c, "query")
	grp.RuntimeProperties = map[string]string{"druid.auth.authorizers": `["allowAll"]`}
	p, ignored := CommonRuntimeProperties(c)
	g.Expect(ignored).To(HaveLen(6))
	g.Expect(p).To(HaveKeyWithValue("druid.auth.authenticatorChain", `["basic","basic_ldap"]`))
	g.Expect(p).To(HaveKeyWithValue("druid.auth.authenticator.basic_ldap.skipOnFailure", "false"))
	g.Expect(p).To(HaveKeyWithValue("druid.auth.authorizer.basic.roleProvider.type", "ldap"))
	g.Expect(p).To(HaveKeyWithValue("druid.auth.basic.ssl.trustStorePath", "/etc/imply/tls/truststore.p12"))
	g.Expect(RenderProperties(p)).NotTo(ContainSubstring("inline"))
	for _, svc := range ServicesFor(grp.Type) {
		if !svc.IsDruid() {
			continue
		}
		sp, ign := ServiceRuntimeProperties(c, grp, svc)
		g.Expect(ign).To(Equal([]string{"druid.auth.authorizers"}))
		g.Expect(sp).NotTo(HaveKey("druid.auth.authorizers"))
	}
}

func TestMergeExtensions(t *testing.T) {
	required := []string{"mysql-metadata-storage", "druid-basic-security"}
	for _, tc := range []struct {
		name, user, want string
		ok               bool
	}{
		{"user's first, then the missing required", `["druid-histogram"]`, `["druid-histogram","mysql-metadata-storage","druid-basic-security"]`, true},
		{"required already listed keep the user's order", `["druid-basic-security","x","mysql-metadata-storage"]`, `["druid-basic-security","x","mysql-metadata-storage"]`, true},
		{"duplicates dropped", `["x","x","druid-basic-security"]`, `["x","druid-basic-security","mysql-metadata-storage"]`, true},
		{"empty list", `[]`, `["mysql-metadata-storage","druid-basic-security"]`, true},
		{"null", `null`, `["mysql-metadata-storage","druid-basic-security"]`, true},
		{"not JSON", `druid-histogram`, "", false},
		{"not an array of strings", `[1,2]`, "", false},
		{"an object", `{"a":"b"}`, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got, ok := MergeExtensions(tc.user, required)
			g.Expect(ok).To(Equal(tc.ok))
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

func TestUserLoadListKeepsRequiredExtensions(t *testing.T) {
	g := NewWithT(t)
	c := newCluster(withAuth(implyv1alpha1.DruidAuthSpec{}))
	c.Spec.Druid.CommonRuntimeProperties = map[string]string{"druid.extensions.loadList": `["druid-histogram"]`}
	p, ignored := CommonRuntimeProperties(c)
	g.Expect(ignored).To(BeEmpty(), "a merged loadList is applied, not ignored")
	g.Expect(p).To(HaveKeyWithValue("druid.extensions.loadList",
		`["druid-histogram","mysql-metadata-storage","druid-s3-extensions","druid-basic-security","simple-client-sslcontext"]`))

	c.Spec.Druid.CommonRuntimeProperties = map[string]string{"druid.extensions.loadList": `druid-histogram`}
	p, ignored = CommonRuntimeProperties(c)
	g.Expect(ignored).To(Equal([]string{"druid.extensions.loadList"}), "not a JSON array: ignored and reported")
	g.Expect(p).To(HaveKeyWithValue("druid.extensions.loadList", mustJSON(Extensions(c))))

	grp := group(c, "data")
	grp.RuntimeProperties = map[string]string{"druid.extensions.loadList": `["druid-kafka-indexing-service"]`}
	sp, ign := ServiceRuntimeProperties(c, grp, ServicesFor(grp.Type)[0])
	g.Expect(ign).To(BeEmpty())
	g.Expect(sp).To(HaveKeyWithValue("druid.extensions.loadList",
		`["druid-kafka-indexing-service","mysql-metadata-storage","druid-s3-extensions","druid-basic-security","simple-client-sslcontext"]`),
		"a service-level loadList replaces the common one, so it is merged too")
}

func TestAuthEnvNeverInline(t *testing.T) {
	secretRef := func(e corev1.EnvVar) (string, string) {
		if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			return "", ""
		}
		return e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key
	}
	type ref struct{ name, key string }
	for _, tc := range []struct {
		name        string
		druid       *implyv1alpha1.DruidAuthSpec
		wantGroup   map[string]ref
		wantManager map[string]ref
	}{
		{name: "auth off"},
		{
			name:  "generated passwords",
			druid: &implyv1alpha1.DruidAuthSpec{},
			wantGroup: map[string]ref{
				"DRUID_ADMIN_PASSWORD":           {"c-druid-credentials", "admin-password"},
				"DRUID_INTERNAL_CLIENT_PASSWORD": {"c-druid-credentials", "internal-client-password"},
			},
		},
		{
			name: "user passwords and LDAP",
			druid: &implyv1alpha1.DruidAuthSpec{
				AdminPasswordSecretRef:          &implyv1alpha1.SecretKeySelector{Name: "admin", Key: "pw"},
				InternalClientPasswordSecretRef: &implyv1alpha1.SecretKeySelector{Name: "internal"},
				LDAP: func() *implyv1alpha1.LDAPSpec {
					l := testLDAP("ldap://ad")
					l.BindPasswordSecretRef.Key = "bind"
					return l
				}(),
			},
			wantGroup: map[string]ref{
				"DRUID_ADMIN_PASSWORD":           {"admin", "pw"},
				"DRUID_INTERNAL_CLIENT_PASSWORD": {"internal", "internal-client-password"},
				"DRUID_LDAP_BIND_PASSWORD":       {"ldap", "bind"},
			},
			wantManager: map[string]ref{
				"DRUID_ADMIN_PASSWORD":           {"admin", "pw"},
				"DRUID_INTERNAL_CLIENT_PASSWORD": {"internal", "internal-client-password"},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			c := newCluster()
			if tc.druid != nil {
				c.Spec.Security.Auth = &implyv1alpha1.AuthSpec{Druid: *tc.druid}
			}
			if tc.wantManager == nil {
				tc.wantManager = tc.wantGroup
			}
			check := func(env []corev1.EnvVar, want map[string]ref) {
				got := map[string]ref{}
				for _, e := range env {
					if strings.HasPrefix(e.Name, "DRUID_") && e.Name != EnvMetadataStoragePassword {
						g.Expect(e.Value).To(BeEmpty(), "%s is never inline", e.Name)
						n, k := secretRef(e)
						got[e.Name] = ref{n, k}
					}
				}
				if want == nil {
					want = map[string]ref{}
				}
				g.Expect(got).To(Equal(want))
			}
			for _, grp := range c.Spec.NodeGroups {
				check(BuildStatefulSet(c, &grp, Revisions{}).Spec.Template.Spec.Containers[0].Env, tc.wantGroup)
			}
			check(BuildManagerDeployment(c, Revisions{}).Spec.Template.Spec.Containers[0].Env, tc.wantManager)
		})
	}
}

func TestBuildDruidCredentialsSecret(t *testing.T) {
	g := NewWithT(t)
	c := newCluster(withAuth(implyv1alpha1.DruidAuthSpec{}))
	s := BuildDruidCredentialsSecret(c, "admin-pw", "internal-pw")
	g.Expect(s.Name).To(Equal("c-druid-credentials"))
	g.Expect(s.Namespace).To(Equal("ns"))
	g.Expect(s.Labels).To(Equal(Labels("c", ComponentCommon, ComponentCommon)))
	g.Expect(s.Type).To(Equal(corev1.SecretTypeOpaque))
	g.Expect(s.Data).To(Equal(map[string][]byte{"admin-password": []byte("admin-pw"), "internal-client-password": []byte("internal-pw")}))
	g.Expect(BuildDruidCredentialsSecret(c, "", "internal-pw").Data).To(Equal(map[string][]byte{"internal-client-password": []byte("internal-pw")}),
		"a password the user references is not copied")
}

func TestSecurityPolicyConfigMap(t *testing.T) {
	g := NewWithT(t)
	c := newCluster()
	policy := &implyv1alpha1.SecurityPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "strict", Namespace: "ns"},
		Spec: implyv1alpha1.SecurityPolicySpec{Password: implyv1alpha1.PasswordPolicy{
			MinLength: 16, MaxLength: 64, Lifetime: &metav1.Duration{Duration: 2160 * time.Hour}, History: 5,
		}},
	}
	cm, err := BuildSecurityPolicyConfigMap(c, policy)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cm.Name).To(Equal("c-security-policy"))
	g.Expect(cm.Namespace).To(Equal("ns"))
	g.Expect(cm.Labels).To(Equal(Labels("c", ComponentManager, ComponentManager)))
	g.Expect(cm.Data).To(HaveLen(1))
	g.Expect(cm.Data).To(HaveKeyWithValue("policy.json", `{
  "password": {
    "minLength": 16,
    "maxLength": 64,
    "minPassphraseLength": 0,
    "lifetime": "2160h0m0s",
    "lifetimeSeconds": 7776000,
    "history": 5
  }
}
`))

	cm, err = BuildSecurityPolicyConfigMap(c, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cm.Data["policy.json"]).To(ContainSubstring(`"minLength": 12`), "no policy: the defaults")

	policy.Spec.Password.MinLength = 100
	_, err = BuildSecurityPolicyConfigMap(c, policy)
	g.Expect(err).To(MatchError(ContainSubstring("password.minLength 100 exceeds password.maxLength 64")))
}

func TestWithSecurityPolicy(t *testing.T) {
	g := NewWithT(t)
	c := newCluster()
	d := BuildManagerDeployment(c, Revisions{})
	before := d.DeepCopy()
	WithSecurityPolicy(d, c)
	g.Expect(d).To(Equal(before), "no securityPolicyRef: nothing mounted")

	c.Spec.Security.SecurityPolicyRef = &implyv1alpha1.LocalObjectReference{Name: "strict"}
	d = BuildManagerDeployment(c, Revisions{})
	g.Expect(d.Spec.Template.Spec.Volumes).NotTo(ContainElement(HaveField("Name", "security-policy")),
		"BuildManagerDeployment leaves the policy to WithSecurityPolicy")
	WithSecurityPolicy(d, c)
	WithSecurityPolicy(d, c)
	pod := d.Spec.Template.Spec
	var vols []corev1.Volume
	for _, v := range pod.Volumes {
		if v.Name == "security-policy" {
			vols = append(vols, v)
		}
	}
	g.Expect(vols).To(HaveLen(1), "idempotent")
	g.Expect(vols[0].ConfigMap.Name).To(Equal("c-security-policy"))
	var mounts []corev1.VolumeMount
	for _, m := range pod.Containers[0].VolumeMounts {
		if m.Name == "security-policy" {
			mounts = append(mounts, m)
		}
	}
	g.Expect(mounts).To(Equal([]corev1.VolumeMount{{Name: "security-policy", MountPath: "/etc/imply/security-policy", ReadOnly: true}}))
	g.Expect(mounts[0].MountPath + "/" + SecurityPolicyKey).To(Equal("/etc/imply/security-policy/policy.json"))
}

func TestInternalClientUserOption(t *testing.T) {
	g := NewWithT(t)
	c := newCluster(withAuth(implyv1alpha1.DruidAuthSpec{}))
	p, _ := CommonRuntimeProperties(c)
	g.Expect(p).To(HaveKeyWithValue("druid.escalator.internalClientUsername", "druid_system"))
	p, _ = CommonRuntimeProperties(c, WithInternalClientUser(DruidAlternateInternalClientUsername))
	g.Expect(p).To(HaveKeyWithValue("druid.escalator.internalClientUsername", "druid_system_2"))
	p, _ = CommonRuntimeProperties(c, WithInternalClientUser(""))
	g.Expect(p).To(HaveKeyWithValue("druid.escalator.internalClientUsername", "druid_system"))
	cm, _ := BuildCommonConfigMap(c, WithInternalClientUser(DruidAlternateInternalClientUsername))
	g.Expect(cm.Data[CommonRuntimePropertiesKey]).To(ContainSubstring("druid.escalator.internalClientUsername=druid_system_2"))
}
