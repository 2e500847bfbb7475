package implycluster

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/apply"
	"github.com/imply-operator/imply-operator/pkg/auth"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// authMaterial is what a cluster with security.auth mounts: the generated Druid credentials,
// the rendered security policy and the agent token, with a revision of all of them.
type authMaterial struct {
	// Objects are <cluster>-druid-credentials and, with a policy, <cluster>-security-policy.
	Objects []client.Object
	// TokenSecret and TokenKey locate the agent token; empty without tokenRef.
	TokenSecret, TokenKey string
	// Revision is an HMAC, with the cluster's revision key, of every credential the pods read.
	Revision string
	// Warnings are problems that do not stop the reconcile, for AuthReady.
	Warnings []string
	// AdminPasswordDue and InternalPasswordDue are when the generated admin and internal-client
	// passwords are due for rotation; zero when they never are.
	AdminPasswordDue, InternalPasswordDue time.Time
	// InternalClientUser is the user Druid services call each other as; empty means
	// druid_system.
	InternalClientUser string
}

// reconcileAuth gathers the auth material of c: the security policy, the Druid admin and
// internal-client passwords (generated once under the policy, or the user's, checked against
// it), and the agent token of tokenRef. A user password that violates the policy, or a missing
// reference, is an inputProblem: it is not applied.
func (r *Reconciler) reconcileAuth(ctx context.Context, c *implyv1alpha1.ImplyCluster, revisionKey []byte) (*authMaterial, *apply.Problem, error) {
	m := &authMaterial{}
	policy, problem, err := r.securityPolicy(ctx, c, m)
	if err != nil || problem != nil {
		return nil, problem, err
	}
	mounted := map[string][]byte{} // what the pods read, for the auth-revision

	name := specs.DruidCredentialsName(c.Name)
	for _, ref := range specs.UserDruidPasswordRefs(c) {
		if ref.Name == name {
			return nil, &apply.Problem{Reason: implyv1alpha1.ReasonNameConflict, Message: fmt.Sprintf(
				"Secret %q is named by %s, so it is only read, and it is also the Secret the operator keeps this cluster's Druid credentials in: "+
					"the operator leaves it untouched; give your Secret another name", name, ref.Field)}, nil
		}
	}
	live, problem, err := r.liveDruidCredentials(ctx, c)
	if err != nil || problem != nil {
		return nil, problem, err
	}
	generated := map[string]string{}
	pendings := map[string]string{} // new generated passwords waiting for Druid, by key
	stamps := map[string]string{}   // generated-at of passwords generated now, on the operator's clock
	users := map[string]userPassword{}
	for _, p := range []struct {
		field string
		ref   implyv1alpha1.SecretKeySelector
		key   string
	}{
		{"spec.security.auth.druid.adminPasswordSecretRef", specs.DruidAdminPasswordRef(c), specs.DruidAdminPasswordKey},
		{"spec.security.auth.druid.internalClientPasswordSecretRef", specs.DruidInternalClientPasswordRef(c), specs.DruidInternalClientPasswordKey},
	} {
		if p.ref.Name != name {
			value, version, problem, err := r.readSecretKeyVersion(ctx, c.Namespace, p.field, p.ref)
			if err != nil || problem != nil {
				return nil, problem, err
			}
			if vs := auth.CheckPassword(value, policy); len(vs) > 0 {
				return nil, &apply.Problem{Reason: implyv1alpha1.ReasonPolicyViolation, Message: fmt.Sprintf("The password in Secret %q key %q (%s) is not applied: %s",
					p.ref.Name, p.ref.Key, p.field, auth.FormatViolations(vs))}, nil
			}
			users[p.key] = userPassword{Value: value, Version: version, Secret: p.ref.Name}
			mounted[p.key] = []byte(value)
			continue
		}
		value, pending, problem, err := r.generatedPassword(ctx, c, live, policy, p.key, m, stamps)
		if err != nil || problem != nil {
			return nil, problem, err
		}
		if pending != "" {
			pendings[p.key] = pending
		}
		generated[p.key] = value
		mounted[p.key] = []byte(value)
	}
	if err := r.applyUserPasswords(ctx, c, live, users, stamps, m); err != nil {
		return nil, nil, err
	}
	// The Secret exists with auth even when every password is the user's: its annotations
	// hold the internal user and what was last applied to Druid.
	secret := specs.BuildDruidCredentialsSecret(c, generated[specs.DruidAdminPasswordKey], generated[specs.DruidInternalClientPasswordKey])
	// Not in the revision: pods never read them.
	if v := pendings[specs.DruidAdminPasswordKey]; v != "" {
		secret.Data[keyAdminPasswordNext] = []byte(v)
	}
	if v := pendings[specs.DruidInternalClientPasswordKey]; v != "" {
		secret.Data[keyInternalPasswordNext] = []byte(v)
	}
	specs.AddAnnotations(&secret.ObjectMeta, stamps) // beside the secretTemplate's
	m.Objects = append(m.Objects, secret)
	if bind, ok := specs.LDAPBindPasswordRef(c); ok {
		value, problem, err := r.readSecretKey(ctx, c.Namespace, "spec.security.auth.druid.ldap.bindPasswordSecretRef", bind)
		if err != nil || problem != nil {
			return nil, problem, err
		}
		mounted["ldap"] = []byte(value)
	}

	if problem, err := r.agentToken(ctx, c, m, mounted); err != nil || problem != nil {
		return nil, problem, err
	}
	if m.Revision, err = specs.SecretRevision(revisionKey, mounted); err != nil {
		return nil, nil, err
	}
	if live.Annotations[annotationInternalClientRetiring] != "" {
		warning, err := r.retireInternalClientUser(ctx, c, live, m.Revision)
		if err != nil {
			return nil, nil, err
		}
		if warning != "" {
			m.Warnings = append(m.Warnings, warning)
		}
	}
	// The Secret's values were derived from this version of it (and this reconcile's own patches
	// of it): apply writes them over this version only, never over a newer one whose pending
	// password it would drop, and only creates it when there was none (apply.DerivedFrom).
	apply.DerivedFrom(secret, live)
	return m, nil, nil
}

// securityPolicy reads the cluster's SecurityPolicy, if any, and renders its ConfigMap into m.
func (r *Reconciler) securityPolicy(ctx context.Context, c *implyv1alpha1.ImplyCluster, m *authMaterial) (*implyv1alpha1.PasswordPolicy, *apply.Problem, error) {
	ref := c.Spec.Security.SecurityPolicyRef
	if ref == nil {
		return nil, nil, nil
	}
	var policy implyv1alpha1.SecurityPolicy
	if err := r.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: ref.Name}, &policy); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &apply.Problem{Reason: implyv1alpha1.ReasonSecurityPolicyNotFound, Message: fmt.Sprintf("SecurityPolicy %q named by spec.security.securityPolicyRef does not exist", ref.Name)}, nil
		}
		return nil, nil, err
	}
	cm, err := specs.BuildSecurityPolicyConfigMap(c, &policy)
	if err != nil {
		return nil, &apply.Problem{Reason: implyv1alpha1.ReasonSecurityPolicyInvalid, Message: fmt.Sprintf("SecurityPolicy %q cannot be rendered: %v", ref.Name, err)}, nil
	}
	m.Objects = append(m.Objects, cm)
	return &policy.Spec.Password, nil, nil
}

// agentToken locates the agent token of tokenRef and adds its value to what the pods read.
func (r *Reconciler) agentToken(ctx context.Context, c *implyv1alpha1.ImplyCluster, m *authMaterial, mounted map[string][]byte) (*apply.Problem, error) {
	ref := c.Spec.Security.Auth.TokenRef
	if ref == nil {
		return nil, nil
	}
	var token implyv1alpha1.AuthToken
	if err := r.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: ref.Name}, &token); err != nil {
		if apierrors.IsNotFound(err) {
			return &apply.Problem{Reason: implyv1alpha1.ReasonAuthTokenNotFound, Message: fmt.Sprintf("AuthToken %q named by spec.security.auth.tokenRef does not exist", ref.Name)}, nil
		}
		return nil, err
	}
	if token.Spec.Type != implyv1alpha1.AuthTokenAgent {
		return &apply.Problem{Reason: implyv1alpha1.ReasonAuthTokenNotAgent, Message: fmt.Sprintf("AuthToken %q named by spec.security.auth.tokenRef is of type %s; an Agent token is needed", ref.Name, token.Spec.Type)}, nil
	}
	sel := implyv1alpha1.SecretKeySelector{Name: specs.AuthTokenSecretName(token.Name), Key: specs.AuthTokenKey}
	if token.Spec.SecretRef != nil {
		sel = implyv1alpha1.SecretKeySelector{Name: token.Spec.SecretRef.Name, Key: token.Spec.SecretRef.KeyOrDefault(specs.AuthTokenKey)}
	}
	value, problem, err := r.readSecretKey(ctx, c.Namespace, "the Secret of AuthToken "+token.Name, sel)
	if err != nil {
		return nil, err
	}
	if problem != nil {
		return &apply.Problem{Reason: implyv1alpha1.ReasonAuthTokenNotReady, Message: problem.Message}, nil
	}
	m.TokenSecret, m.TokenKey = sel.Name, sel.Key
	mounted["token"] = []byte(value)
	return nil, nil
}

// readSecretKey reads one key of a Secret with the uncached reader; a missing Secret or key is
// an inputProblem naming field. The value never leaves the operator except as a hash.
func (r *Reconciler) readSecretKey(ctx context.Context, namespace, field string, sel implyv1alpha1.SecretKeySelector) (string, *apply.Problem, error) {
	value, _, problem, err := r.readSecretKeyVersion(ctx, namespace, field, sel)
	return value, problem, err
}

// readSecretKeyVersion is readSecretKey that also returns the Secret's version (UID and
// resourceVersion), which changes whenever the Secret is replaced or edited.
func (r *Reconciler) readSecretKeyVersion(ctx context.Context, namespace, field string, sel implyv1alpha1.SecretKeySelector) (string, string, *apply.Problem, error) {
	var s corev1.Secret
	if err := userSecrets(ctx, r.APIReader).Get(ctx, client.ObjectKey{Namespace: namespace, Name: sel.Name}, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return "", "", &apply.Problem{Reason: implyv1alpha1.ReasonSecretNotFound, Message: fmt.Sprintf("Secret %q named by %s does not exist", sel.Name, field)}, nil
		}
		return "", "", nil, err
	}
	value, ok := s.Data[sel.Key]
	if !ok || len(value) == 0 {
		return "", "", &apply.Problem{Reason: implyv1alpha1.ReasonSecretKeyNotFound, Message: fmt.Sprintf("Secret %q named by %s has no key %q", sel.Name, field, sel.Key)}, nil
	}
	return string(value), string(s.UID) + "/" + s.ResourceVersion, nil, nil
}

// generatedPassword is the operator's Druid password under key: generated when there is none
// (its generated-at stamped in stamps), else kept or rotated (rotatePassword), with a pending
// new admin password still to be confirmed in Druid. Rotation warnings and due times go to m.
func (r *Reconciler) generatedPassword(ctx context.Context, c *implyv1alpha1.ImplyCluster, live *corev1.Secret,
	policy *implyv1alpha1.PasswordPolicy, key string, m *authMaterial, stamps map[string]string) (value, pending string, problem *apply.Problem, err error) {
	value = string(live.Data[key])
	warning := ""
	switch {
	case value == "":
		if value, err = auth.GeneratePassword(rand.Reader, policy); err != nil {
			return "", "", &apply.Problem{Reason: implyv1alpha1.ReasonSecurityPolicyInvalid, Message: fmt.Sprintf("No password can be generated under the SecurityPolicy: %v", err)}, nil
		}
		stamps[generatedAtAnnotation[key]] = r.Clock.Now().UTC().Format(time.RFC3339)
	case key == specs.DruidAdminPasswordKey:
		rot, err := r.rotateAdminPassword(ctx, c, live, policy)
		if err != nil {
			return "", "", nil, err
		}
		value, pending, m.AdminPasswordDue, warning = rot.Current, rot.Pending, rot.NextDue, rot.Warning
	default:
		rot, err := r.rotateInternalClientPassword(ctx, c, live, policy)
		if err != nil {
			return "", "", nil, err
		}
		value, pending, m.InternalClientUser, m.InternalPasswordDue, warning = rot.Password, rot.Pending, rot.User, rot.NextDue, rot.Warning
	}
	if warning != "" {
		m.Warnings = append(m.Warnings, warning)
	}
	return value, pending, nil, nil
}

// applyUserPasswords gives Druid the user's changed internal-client and admin passwords, in that
// order (the admin's is set as the internal user); what waits for Druid goes to m's warnings.
func (r *Reconciler) applyUserPasswords(ctx context.Context, c *implyv1alpha1.ImplyCluster, live *corev1.Secret,
	users map[string]userPassword, stamps map[string]string, m *authMaterial) error {
	if up, ok := users[specs.DruidInternalClientPasswordKey]; ok {
		user, warning, err := r.applyUserInternalPassword(ctx, c, live, up, stamps)
		if err != nil {
			return err
		}
		m.InternalClientUser = user
		if warning != "" {
			m.Warnings = append(m.Warnings, warning)
		}
	}
	if up, ok := users[specs.DruidAdminPasswordKey]; ok {
		warning, err := r.applyUserAdminPassword(ctx, c, live, up, stamps)
		if err != nil {
			return err
		}
		if warning != "" {
			m.Warnings = append(m.Warnings, warning)
		}
	}
	return nil
}

// liveDruidCredentials is <cluster>-druid-credentials as it is live (liveOwnSecret),
// empty when it does not exist; one that is not the cluster's is a NameConflict problem.
func (r *Reconciler) liveDruidCredentials(ctx context.Context, c *implyv1alpha1.ImplyCluster) (*corev1.Secret, *apply.Problem, error) {
	live, err := r.liveOwnSecret(ctx, c, specs.DruidCredentialsName(c.Name))
	if conflict := apply.AsConflict(err); conflict != nil {
		return nil, conflict.Problem(), nil
	}
	return live, nil, err
}
