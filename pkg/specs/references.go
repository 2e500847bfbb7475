package specs

import (
	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// SecretReference is a Secret an ImplyCluster's spec needs, the keys it must hold, and the spec
// field that names it (for conditions and events).
type SecretReference struct {
	Field string
	Name  string
	Keys  []string
	// WatchOnly references are watched but checked elsewhere (the CA parser, the password
	// reconciler), which name what is wrong with them.
	WatchOnly bool
}

// ReferencedSecrets lists the Secrets c's spec references, in a stable order.
func ReferencedSecrets(c *implyv1alpha1.ImplyCluster) []SecretReference {
	var refs []SecretReference
	if l := c.Spec.License; l != nil {
		refs = append(refs, SecretReference{Field: "spec.license.secretRef", Name: l.SecretRef.Name, Keys: []string{l.SecretRef.KeyOrDefault(DefaultLicenseKey)}})
	}
	credentials := func(field string, ref implyv1alpha1.CredentialsSecretReference) SecretReference {
		return SecretReference{Field: field, Name: ref.Name, Keys: []string{orDefault(ref.UsernameKey, "username"), orDefault(ref.PasswordKey, "password")}}
	}
	if m := c.Spec.Manager.MetadataStore; m != nil {
		refs = append(refs, credentials("spec.manager.metadataStore.credentialsSecretRef", m.CredentialsSecretRef))
	}
	refs = append(refs, credentials("spec.druid.metadataStore.credentialsSecretRef", c.Spec.Druid.MetadataStore.CredentialsSecretRef))
	if ds := c.Spec.Druid.DeepStorage.CredentialsSecretRef; ds != nil {
		refs = append(refs, SecretReference{Field: "spec.druid.deepStorage.credentialsSecretRef", Name: ds.Name})
	}
	if AuthEnabled(c) {
		// Read and checked against the policy by reconcileAuth; listed here to be watched.
		// The user's, whatever their names (even <cluster>-druid-credentials): read, never written.
		for _, ref := range UserDruidPasswordRefs(c) {
			refs = append(refs, SecretReference{Field: ref.Field, Name: ref.Name, WatchOnly: true})
		}
		if bind, ok := LDAPBindPasswordRef(c); ok {
			refs = append(refs, SecretReference{Field: "spec.security.auth.druid.ldap.bindPasswordSecretRef", Name: bind.Name, WatchOnly: true})
		}
		if p := pivotCredentialsRef(c); p != nil {
			refs = append(refs, SecretReference{Field: "spec.pivot.druidCredentialsSecretRef", Name: p.Name, Keys: []string{defaultUsernameKey, defaultPasswordKey}})
		}
	}
	// The metadata stores' CA and client-certificate Secrets: checked by DesiredMetadataTLS,
	// which names what is wrong with them; listed here to be watched.
	roles := []MetadataStoreRole{MetadataStoreDruid}
	if ManagerMetadataStoreRole(c) == MetadataStoreManager {
		roles = append(roles, MetadataStoreManager)
	}
	for _, role := range roles {
		plan, _ := PlanMetadataTLS(c, role)
		if plan.CASecret != nil {
			refs = append(refs, SecretReference{Field: plan.Field + ".tls.caSecretRef", Name: plan.CASecret.Name, WatchOnly: true})
		}
		if plan.ClientSecretName != "" {
			refs = append(refs, SecretReference{Field: plan.Field + ".tls.clientCertificate.secretRef", Name: plan.ClientSecretName, WatchOnly: true})
		}
	}
	if s := c.Spec.Security; s != nil && s.TLS != nil && s.TLS.Enabled && s.TLS.CA != nil && s.TLS.CA.SecretRef != nil {
		// Checked by the CA parser, which names what is wrong with it; listed here to be watched.
		refs = append(refs, SecretReference{Field: "spec.security.tls.ca.secretRef", Name: s.TLS.CA.SecretRef.Name, WatchOnly: true})
	}
	return refs
}

// orDefault returns s, or def when s is empty.
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// UserDruidPasswordRefs are the Druid passwords c's spec takes from the user's Secrets
// (adminPasswordSecretRef, internalClientPasswordSecretRef), with their spec fields; the Keys
// hold the key to read, defaulted.
func UserDruidPasswordRefs(c *implyv1alpha1.ImplyCluster) []SecretReference {
	a := druidAuth(c)
	if a == nil {
		return nil
	}
	var out []SecretReference
	if r := a.AdminPasswordSecretRef; r != nil {
		out = append(out, SecretReference{Field: "spec.security.auth.druid.adminPasswordSecretRef", Name: r.Name, Keys: []string{r.KeyOrDefault(DruidAdminPasswordKey)}})
	}
	if r := a.InternalClientPasswordSecretRef; r != nil {
		out = append(out, SecretReference{Field: "spec.security.auth.druid.internalClientPasswordSecretRef", Name: r.Name, Keys: []string{r.KeyOrDefault(DruidInternalClientPasswordKey)}})
	}
	return out
}
