package druidconn

import (
	"context"
	"fmt"
	"net/url"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/apply"
	"github.com/imply-operator/imply-operator/pkg/druid"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// AdminUsername is Druid's built-in admin user, whose password the cluster holds.
const AdminUsername = "admin"

// Connection is a cluster's coordinator, reached as its admin, with the names of the
// basic-security authenticator and authorizer the operator configured.
type Connection struct {
	API           druid.API
	Authenticator string
	Authorizer    string
	Cluster       *implyv1alpha1.ImplyCluster
}

// Connector builds the Druid client of an ImplyCluster: its coordinator URL
// (spec.druid.apiURL or the derived one), the cluster's CA bundle for https, and the admin
// password, read uncached.
type Connector struct {
	// Cached reads ImplyClusters and the CA bundle ConfigMap.
	Cached client.Reader
	// APIReader reads the admin password Secret without the cache.
	APIReader client.Reader
	// NewAPI builds the client (druid.New in the operator).
	NewAPI func(druid.Config) (druid.API, error)
}

// Connect returns the connection to the coordinator of cluster clusterName. A problem is
// returned when the cluster cannot be talked to (it does not exist, has no auth, its CA bundle
// or admin Secret is missing); err only for errors reading the apiserver.
func (d Connector) Connect(ctx context.Context, namespace, clusterName string) (*Connection, *apply.Problem, error) {
	var cluster implyv1alpha1.ImplyCluster
	err := d.Cached.Get(ctx, types.NamespacedName{Namespace: namespace, Name: clusterName}, &cluster)
	if apierrors.IsNotFound(err) {
		return nil, &apply.Problem{Reason: implyv1alpha1.ReasonClusterNotFound,
			Message: fmt.Sprintf("ImplyCluster %q named by spec.clusterRef does not exist", clusterName)}, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("while reading ImplyCluster %s: %w", clusterName, err)
	}
	if !specs.AuthEnabled(&cluster) {
		return nil, &apply.Problem{Reason: implyv1alpha1.ReasonAuthNotEnabled,
			Message: fmt.Sprintf("ImplyCluster %q has no spec.security.auth: Druid has no basic-security users or roles", cluster.Name)}, nil
	}
	conn := &Connection{
		Authenticator: specs.DruidAuthenticatorName(&cluster),
		Authorizer:    specs.DruidAuthorizerName(&cluster),
		Cluster:       &cluster,
	}
	cfg, problem, err := d.AdminConfig(ctx, &cluster)
	if err != nil || problem != nil {
		return conn, problem, err
	}
	if conn.API, err = d.NewAPI(cfg); err != nil {
		return conn, &apply.Problem{Reason: implyv1alpha1.ReasonInvalidDruidConfig, Message: err.Error()}, nil
	}
	return conn, nil, nil
}

// AdminConfig is the client configuration of the cluster's coordinator: its URL, the cluster's CA
// bundle for https, the admin credentials and the request metrics.
func (d Connector) AdminConfig(ctx context.Context, cluster *implyv1alpha1.ImplyCluster) (druid.Config, *apply.Problem, error) {
	cfg := druid.Config{BaseURL: specs.CoordinatorAPIURL(cluster), Username: AdminUsername,
		OnRequest: countDruidRequests(cluster.Namespace, cluster.Name)}
	if u, err := url.Parse(cfg.BaseURL); err == nil && u.Scheme == "https" && specs.TLSEnabled(cluster) {
		var cm corev1.ConfigMap
		name := specs.CABundleName(cluster.Name)
		err := d.Cached.Get(ctx, types.NamespacedName{Namespace: cluster.Namespace, Name: name}, &cm)
		if apierrors.IsNotFound(err) {
			return cfg, &apply.Problem{Reason: implyv1alpha1.ReasonWaitingForCluster,
				Message: fmt.Sprintf("ConfigMap %q with the cluster's CA bundle does not exist yet", name)}, nil
		}
		if err != nil {
			return cfg, nil, fmt.Errorf("while reading ConfigMap %s: %w", name, err)
		}
		cfg.CABundle = []byte(cm.Data[specs.TLSCAKey])
		if problem, err := d.clientCertificate(ctx, cluster, &cfg); err != nil || problem != nil {
			return cfg, problem, err
		}
	}

	ref := specs.DruidAdminPasswordRef(cluster)
	var secret corev1.Secret
	err := d.APIReader.Get(ctx, types.NamespacedName{Namespace: cluster.Namespace, Name: ref.Name}, &secret)
	if apierrors.IsNotFound(err) {
		if ref.Name == specs.DruidCredentialsName(cluster.Name) {
			return cfg, &apply.Problem{Reason: implyv1alpha1.ReasonWaitingForCluster,
				Message: fmt.Sprintf("Secret %q with the generated Druid admin password does not exist yet", ref.Name)}, nil
		}
		return cfg, &apply.Problem{Reason: implyv1alpha1.ReasonSecretNotFound,
			Message: fmt.Sprintf("Secret %q with the Druid admin password does not exist", ref.Name)}, nil
	}
	if err != nil {
		return cfg, nil, fmt.Errorf("while reading Secret %s: %w", ref.Name, err)
	}
	password, ok := secret.Data[ref.Key]
	if !ok || len(password) == 0 {
		return cfg, &apply.Problem{Reason: implyv1alpha1.ReasonSecretKeyNotFound,
			Message: fmt.Sprintf("Secret %q has no Druid admin password under key %q", ref.Name, ref.Key)}, nil
	}
	cfg.Password = string(password)
	return cfg, nil, nil
}

// Waiting says whether p is a wait for the cluster rather than a fault.
func Waiting(p *apply.Problem) bool {
	return p != nil && p.Reason == implyv1alpha1.ReasonWaitingForCluster
}

// ClusterOfDependency is the ImplyCluster whose coordinator obj helps reach: the name in its
// cluster label when obj is that cluster's CA bundle or generated credentials Secret, else "".
func ClusterOfDependency(obj client.Object) string {
	c := obj.GetLabels()[specs.LabelCluster]
	if c == "" || (obj.GetName() != specs.CABundleName(c) && obj.GetName() != specs.DruidCredentialsName(c)) {
		return ""
	}
	return c
}

// clientCertificate sets the certificate the operator presents to a coordinator that requires
// client certificates (spec.security.tls.requireClientCertificate): a node group's client
// certificate, signed by the cluster's client CA, the only CA such a coordinator trusts.
func (d Connector) clientCertificate(ctx context.Context, cluster *implyv1alpha1.ImplyCluster, cfg *druid.Config) (*apply.Problem, error) {
	if !cluster.Spec.Security.TLS.RequireClientCertificate || len(cluster.Spec.NodeGroups) == 0 {
		return nil, nil
	}
	name := specs.GroupTLSSecretName(cluster.Name, cluster.Spec.NodeGroups[0].Name)
	var secret corev1.Secret
	err := d.APIReader.Get(ctx, types.NamespacedName{Namespace: cluster.Namespace, Name: name}, &secret)
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("while reading Secret %s: %w", name, err)
	}
	cert, key := secret.Data[specs.ClientCertKey], secret.Data[specs.ClientPrivateKeyKey]
	if len(cert) == 0 || len(key) == 0 {
		return &apply.Problem{Reason: implyv1alpha1.ReasonWaitingForCluster,
			Message: fmt.Sprintf("Secret %q with the client certificate the coordinator requires does not exist yet", name)}, nil
	}
	cfg.ClientCertPEM, cfg.ClientKeyPEM = cert, key
	return nil, nil
}
