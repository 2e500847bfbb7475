package plugin

import (
	"fmt"
	"io"
	"strings"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// Credentials is what `kubectl imply credentials` prints for an API user or a cluster's admin.
type Credentials struct {
	// What names the user, such as "AuthToken ns/pivot-sales" or "ImplyCluster ns/demo (Druid admin)".
	What     string
	Username string
	// SecretName and SecretKey locate the password.
	SecretName, SecretKey string
	// Password is set only with --show.
	Password string
	// Cluster is the ImplyCluster the user belongs to; Endpoints are its URLs, empty when unknown.
	Cluster   string
	Endpoints implyv1alpha1.EndpointsStatus
	// TLS says whether the endpoints need the cluster's CA.
	TLS bool
	// Notes are caveats, such as a cluster that does not exist.
	Notes []string
}

// AdminCredentials locates the Druid admin of c: admin-password of <c>-druid-credentials, or the
// user's adminPasswordSecretRef.
func AdminCredentials(c *implyv1alpha1.ImplyCluster) (Credentials, error) {
	if c.Spec.Security == nil || c.Spec.Security.Auth == nil {
		return Credentials{}, fmt.Errorf("ImplyCluster %s/%s has no Druid basic security (spec.security.auth), so no admin user", c.Namespace, c.Name)
	}
	ref := specs.DruidAdminPasswordRef(c)
	cr := Credentials{
		What:       fmt.Sprintf("ImplyCluster %s/%s (Druid admin)", c.Namespace, c.Name),
		Username:   specs.DruidAdminUsername,
		SecretName: ref.Name, SecretKey: ref.Key,
		Cluster: c.Name, TLS: tlsEnabled(c),
	}
	if c.Status.Endpoints != nil {
		cr.Endpoints = *c.Status.Endpoints
	}
	return cr, nil
}

// TokenCredentials locates the Druid API user of t (type Druid); c is its cluster, nil when it
// does not exist.
func TokenCredentials(t *implyv1alpha1.AuthToken, c *implyv1alpha1.ImplyCluster) (Credentials, error) {
	if t.Spec.Type != implyv1alpha1.AuthTokenDruid {
		secret := t.Status.SecretName
		if secret == "" {
			secret = specs.AuthTokenSecretName(t.Name)
		}
		return Credentials{}, fmt.Errorf("AuthToken %s/%s is an agent token (type %s), not an API user: it has no username; the token is in Secret %s key %s",
			t.Namespace, t.Name, t.Spec.Type, secret, specs.AuthTokenKey)
	}
	secret := t.Status.SecretName
	if secret == "" {
		secret = specs.DruidUserCredentialsName(t.Name)
	}
	cr := Credentials{
		What:       fmt.Sprintf("AuthToken %s/%s (Druid API user)", t.Namespace, t.Name),
		Username:   t.Spec.Username,
		SecretName: secret, SecretKey: "password",
	}
	if t.Spec.ClusterRef != nil {
		cr.Cluster = t.Spec.ClusterRef.Name
	}
	if c == nil {
		cr.Notes = append(cr.Notes, fmt.Sprintf("ImplyCluster %q does not exist: no endpoints to show.", cr.Cluster))
		return cr, nil
	}
	cr.TLS = tlsEnabled(c)
	if c.Status.Endpoints != nil {
		cr.Endpoints = *c.Status.Endpoints
	}
	return cr, nil
}

// FormatCredentials writes the credentials, the password only when cr.Password is set, and how
// to call the router with them.
func FormatCredentials(w io.Writer, cr Credentials) {
	fmt.Fprintln(w, cr.What)
	fmt.Fprintf(w, "  username:  %s\n", cr.Username)
	if cr.Password != "" {
		fmt.Fprintf(w, "  password:  %s\n", cr.Password)
	} else {
		fmt.Fprintf(w, "  password:  hidden (in Secret %s, key %s; --show prints it)\n", cr.SecretName, cr.SecretKey)
	}
	for _, kv := range [][2]string{{"router", cr.Endpoints.Router}, {"coordinator", cr.Endpoints.Coordinator}, {"pivot", cr.Endpoints.Pivot}, {"manager", cr.Endpoints.Manager}} {
		if kv[1] != "" {
			fmt.Fprintf(w, "  %-11s%s\n", kv[0]+":", kv[1])
		}
	}
	caFile := ""
	if cr.TLS && cr.Cluster != "" {
		caFile = cr.Cluster + "-ca.crt"
		fmt.Fprintf(w, "  CA:        %s (kubectl imply ca %s -o %s)\n", caFile, cr.Cluster, caFile)
	}
	if cr.Endpoints.Router != "" {
		args := []string{"curl"}
		if caFile != "" {
			args = append(args, "--cacert", caFile)
		}
		args = append(args, "-u", cr.Username, strings.TrimSuffix(cr.Endpoints.Router, "/")+"/status")
		fmt.Fprintf(w, "  try:       %s   (in the cluster, or through kubectl port-forward)\n", strings.Join(args, " "))
	}
	for _, n := range cr.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
}
