package plugin

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

func newCredentialsCommand(o *Options) *cobra.Command {
	var show bool
	cmd := &cobra.Command{
		Use:   "credentials AUTHTOKEN|CLUSTER",
		Short: "Username, endpoints and CA of a Druid API user (AuthToken) or a cluster's admin; the password only with --show",
		Long: `Print the username, the endpoint URLs and where the CA is for an AuthToken of type Druid or
for the Druid admin of an ImplyCluster. The password is read and printed only with --show.
A name that is both an AuthToken and an ImplyCluster must be qualified: authtoken/NAME or
implycluster/NAME (short: iat/NAME, ic/NAME).`,
		Example: `  kubectl imply credentials pivot-sales
  kubectl imply credentials ic/demo --show`,
		Args: oneArg("the name of an AuthToken or ImplyCluster"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cr, err := o.credentials(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if show {
				c, _, err := o.clients()
				if err != nil {
					return err
				}
				ns, err := o.namespace()
				if err != nil {
					return err
				}
				var s corev1.Secret
				if err := c.Get(cmd.Context(), client.ObjectKey{Namespace: ns, Name: cr.SecretName}, &s); err != nil {
					return notFoundOr(err, "Secret", ns, cr.SecretName)
				}
				p := s.Data[cr.SecretKey]
				if len(p) == 0 {
					return fmt.Errorf("the Secret %s/%s has no key %s yet", ns, cr.SecretName, cr.SecretKey)
				}
				cr.Password = string(p)
			}
			FormatCredentials(o.out(), cr)
			return nil
		},
	}
	cmd.Flags().BoolVar(&show, "show", false, "Read the password from its Secret and print it")
	return cmd
}

// credentials resolves ref (NAME, authtoken/NAME or implycluster/NAME) to the user's credentials,
// without the password.
func (o *Options) credentials(ctx context.Context, ref string) (Credentials, error) {
	kind, name := "", ref
	if i := strings.Index(ref, "/"); i >= 0 {
		switch strings.ToLower(ref[:i]) {
		case "authtoken", "authtokens", "iat":
			kind = "AuthToken"
		case "implycluster", "implyclusters", "ic":
			kind = "ImplyCluster"
		default:
			return Credentials{}, usagef("%q: the prefix must be authtoken/ or implycluster/", ref)
		}
		name = ref[i+1:]
	}
	c, _, err := o.clients()
	if err != nil {
		return Credentials{}, err
	}
	ns, err := o.namespace()
	if err != nil {
		return Credentials{}, err
	}
	key := client.ObjectKey{Namespace: ns, Name: name}
	var token implyv1alpha1.AuthToken
	var cluster implyv1alpha1.ImplyCluster
	tokenErr, clusterErr := error(notFoundError{}), error(notFoundError{})
	if kind != "ImplyCluster" {
		tokenErr = c.Get(ctx, key, &token)
		if tokenErr != nil && !apierrors.IsNotFound(tokenErr) {
			return Credentials{}, fmt.Errorf("while reading AuthToken %s/%s: %w", ns, name, tokenErr)
		}
	}
	if kind != "AuthToken" {
		clusterErr = c.Get(ctx, key, &cluster)
		if clusterErr != nil && !apierrors.IsNotFound(clusterErr) {
			return Credentials{}, fmt.Errorf("while reading ImplyCluster %s/%s: %w", ns, name, clusterErr)
		}
	}
	switch {
	case tokenErr == nil && clusterErr == nil:
		return Credentials{}, usagef("%q is both an AuthToken and an ImplyCluster in namespace %q: say authtoken/%s or implycluster/%s", name, ns, name, name)
	case clusterErr == nil:
		return AdminCredentials(&cluster)
	case tokenErr == nil:
		var ic *implyv1alpha1.ImplyCluster
		if token.Spec.ClusterRef != nil {
			var owner implyv1alpha1.ImplyCluster
			err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: token.Spec.ClusterRef.Name}, &owner)
			switch {
			case err == nil:
				ic = &owner
			case !apierrors.IsNotFound(err):
				return Credentials{}, fmt.Errorf("while reading ImplyCluster %s/%s: %w", ns, token.Spec.ClusterRef.Name, err)
			}
		}
		return TokenCredentials(&token, ic)
	}
	if kind == "" {
		kind = "AuthToken or ImplyCluster"
	}
	return Credentials{}, notFoundError{Kind: kind, Namespace: ns, Name: name}
}
