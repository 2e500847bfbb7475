package implycluster

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/druidconn"
	"github.com/imply-operator/imply-operator/pkg/druid"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// Annotations of <cluster>-druid-credentials recording which version of a user's password
// Secret Druid was last given.
const (
	annotationAdminSecretVersion    = "imply.operator.dev/admin-password-secret-version"
	annotationInternalSecretVersion = "imply.operator.dev/internal-client-password-secret-version"
)

// userPassword is a password from the user's Secret.
type userPassword struct {
	Value string
	// Version is the Secret's UID and resourceVersion.
	Version string
	// Secret is its name, for messages.
	Secret string
}

// applyUserAdminPassword gives Druid the admin password of the user's Secret when that Secret
// changed since Druid was last given it. Druid reads initialAdminPassword only when its metadata
// store is new, so the first version seen is only recorded; a later one is set through the
// coordinator's API (only when Druid's stored credentials do not match it already), before the
// version is recorded. A Druid that cannot be reached leaves it pending, as a warning.
func (r *Reconciler) applyUserAdminPassword(ctx context.Context, c *implyv1alpha1.ImplyCluster, live *corev1.Secret, up userPassword, stamps map[string]string) (string, error) {
	recorded := live.Annotations[annotationAdminSecretVersion]
	switch {
	case live.Name == "" || recorded == "":
		stamps[annotationAdminSecretVersion] = up.Version
		return "", nil
	case recorded == up.Version:
		return "", nil
	}
	if err := r.setAdminCredentials(ctx, c, up.Value); err != nil {
		return fmt.Sprintf("the admin password in Secret %q changed and is not yet set in Druid: %s", up.Secret, druidconn.ProblemOf(err).Message), nil
	}
	if err := r.patchSecret(ctx, live, func(s *corev1.Secret) { s.Annotations[annotationAdminSecretVersion] = up.Version }); err != nil {
		return "", err
	}
	r.Recorder.Eventf(c, nil, corev1.EventTypeNormal, implyv1alpha1.EventAdminPasswordChanged, "SetPassword",
		"Set the Druid admin password of Secret %q through the coordinator", up.Secret)
	return "", nil
}

// setAdminCredentials sets admin's password in Druid to password unless it is that already. It
// authenticates as the internal user, which holds every permission: admin's old password is
// gone from the user's Secret.
func (r *Reconciler) setAdminCredentials(ctx context.Context, c *implyv1alpha1.ImplyCluster, password string) error {
	api, err := r.internalAPI(ctx, c)
	if err != nil {
		return err
	}
	authn := specs.DruidAuthenticatorName(c)
	admin, err := api.GetAuthenticatorUser(ctx, authn, druidconn.AdminUsername)
	if err != nil {
		return err
	}
	if admin.Credentials.Matches(password) {
		return nil
	}
	return api.SetCredentials(ctx, authn, druidconn.AdminUsername, password)
}

// applyUserInternalPassword moves Druid services to the new internal-client password of the
// user's Secret when that Secret changed since Druid was last given it: as for a generated
// password (see rotateInternalClientPassword), the other internal user gets the new password and
// the druid_system role, then the escalator moves to it and the pods roll; the old user is
// revoked once every pod has. The first version seen is only recorded (Druid initializes
// druid_system with it). A change while the previous move is still rolling waits for it. It
// returns the internal user pods should start with.
func (r *Reconciler) applyUserInternalPassword(ctx context.Context, c *implyv1alpha1.ImplyCluster, live *corev1.Secret, up userPassword, stamps map[string]string) (string, string, error) {
	user := internalClientUser(live)
	recorded := live.Annotations[annotationInternalSecretVersion]
	switch {
	case live.Name == "" || recorded == "":
		stamps[annotationInternalSecretVersion] = up.Version
		return user, "", nil
	case recorded == up.Version:
		return user, "", nil
	case live.Annotations[annotationInternalClientRetiring] != "":
		return user, fmt.Sprintf("the internal-client password in Secret %q changed; it is applied once every pod has moved to %s", up.Secret, user), nil
	}
	next := otherInternalUser(user)
	if err := r.prepareInternalUser(ctx, c, next, up.Value); err != nil {
		return user, fmt.Sprintf("the internal-client password in Secret %q changed and waits until Druid can be reached: %s", up.Secret, druidconn.ProblemOf(err).Message), nil
	}
	if err := r.patchSecret(ctx, live, func(s *corev1.Secret) {
		s.Annotations[annotationInternalClientUser] = next
		s.Annotations[annotationInternalClientRetiring] = user
		s.Annotations[annotationInternalSecretVersion] = up.Version
	}); err != nil {
		return user, "", err
	}
	r.Recorder.Eventf(c, nil, corev1.EventTypeNormal, implyv1alpha1.EventInternalClientPasswordChanged, "SetPassword",
		"Druid services move from user %s to %s with the new password of Secret %q as their pods restart; %s stays valid until every pod has",
		user, next, up.Secret, user)
	return next, "", nil
}

// internalAPI is a client of the cluster's coordinator as the internal user in use, with its
// password (the user's or the generated one).
func (r *Reconciler) internalAPI(ctx context.Context, c *implyv1alpha1.ImplyCluster) (druid.API, error) {
	cfg, err := r.druidConfig(ctx, c)
	if err != nil {
		return nil, err
	}
	ref := specs.DruidInternalClientPasswordRef(c)
	var secret, creds corev1.Secret
	if err := userSecrets(ctx, r.APIReader).Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: ref.Name}, &secret); err != nil {
		return nil, err
	}
	if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: specs.DruidCredentialsName(c.Name)}, &creds); err != nil {
		return nil, err
	}
	cfg.Username, cfg.Password = internalClientUser(&creds), string(secret.Data[ref.Key])
	return r.NewAPI(cfg)
}
