package specs

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// Imply Manager names and environment.
const (
	// ManagerContainerName is the Imply Manager's container.
	ManagerContainerName = "manager"
	// DefaultLicenseKey is the default key of spec.license.secretRef.
	DefaultLicenseKey = "IMPLY_MANAGER_LICENSE_KEY"
	// DefaultManagerDatabase is the manager's database when it shares Druid's metadata store.
	DefaultManagerDatabase = "imply_manager"

	// The license and store variables below are the required items of the manager container's
	// env.list in Imply's on-prem deployment page
	// (https://docs.imply.io/on-prem/imply-manager/deployment, "The following items are
	// required").
	EnvManagerLicenseKey    = "IMPLY_MANAGER_LICENSE_KEY"
	EnvManagerStoreType     = "IMPLY_MANAGER_STORE_TYPE"
	EnvManagerStoreHost     = "IMPLY_MANAGER_STORE_HOST"
	EnvManagerStorePort     = "IMPLY_MANAGER_STORE_PORT"
	EnvManagerStoreDatabase = "IMPLY_MANAGER_STORE_DATABASE"
	EnvManagerStoreUser     = "IMPLY_MANAGER_STORE_USER"
	EnvManagerStorePassword = "IMPLY_MANAGER_STORE_PASSWORD"
	// EnvManagerStoreSSLMode is the manager's TLS mode for its store. Its name and its
	// PREFERRED value (MySQL's ssl-mode vocabulary) appear in a manager.conf for Imply Manager
	// 2024.09 in a public install script; the Imply documentation reachable here does not list
	// it, nor any variable for the store's CA or a client certificate (Imply's security page
	// says manager-to-store client authentication is set "using Helm", without the names). See
	// ManagerStoreSSLMode.
	EnvManagerStoreSSLMode = "IMPLY_MANAGER_STORE_SSLMODE"
)

// ManagerStoreSSLMode is the value of IMPLY_MANAGER_STORE_SSLMODE for the manager's store: the
// verifying mode of the store's own vocabulary (MySQL's VERIFY_IDENTITY, PostgreSQL's
// verify-full), or its plaintext mode (DISABLED, disable) with tls.enabled: false.
func ManagerStoreSSLMode(ms *implyv1alpha1.MetadataStoreSpec) string {
	tls := MetadataStoreTLSEnabled(ms)
	switch {
	case ms.Type == implyv1alpha1.MetadataStorePostgreSQL && tls:
		return PostgresSSLModeVerifyFull
	case ms.Type == implyv1alpha1.MetadataStorePostgreSQL:
		return "disable"
	case tls:
		return MySQLSSLModeVerifyIdentity
	default:
		return "DISABLED"
	}
}

// ManagerPortName is the name of the manager's UI/API port: "https" with TLS, else "http".
func ManagerPortName(tls bool) string { return Scheme(tls) }

// ManagerMetadataStore returns the manager's database: spec.manager.metadataStore, or Druid's
// metadata store with database imply_manager. The result is a copy.
func ManagerMetadataStore(c *implyv1alpha1.ImplyCluster) *implyv1alpha1.MetadataStoreSpec {
	if ms := c.Spec.Manager.MetadataStore; ms != nil {
		return ms.DeepCopy()
	}
	ms := c.Spec.Druid.MetadataStore.DeepCopy()
	ms.Database = DefaultManagerDatabase
	return ms
}

// BuildManagerDeployment builds the Imply Manager Deployment <cluster>-manager: replicas from
// spec.manager (default 1); the license from its Secret (no variable without a license); the
// metadata store (see ManagerMetadataStore) as IMPLY_MANAGER_STORE_* with the user and password
// from the credentials Secret and the SSL mode (ManagerStoreSSLMode), and its TLS Secret mounted
// at MetadataTLSMountPath (see PlanMetadataTLS); the imply_defaults_* of spec.druid (see
// implyDefaultsEnv); with TLS the CA directory (the signing CA when ManagerSignsCertificates,
// else the CA certificate only, see addCAMount); with auth the Druid admin and internal-client passwords from
// their Secrets (not the LDAP bind password, which only Druid needs); ports 9097 (http or
// https), 9989 (agent) and 9994 (logs); TCP probes on 9097; resources and scheduling from
// spec.manager. Each non-empty revision becomes a pod-template annotation. The security policy
// is mounted separately, by WithSecurityPolicy. The pods meet the Pod Security Standard
// "restricted" unless spec.manager's podSecurityContext, securityContext or
// automountServiceAccountToken relax it (see applyPodSecurity).
func BuildManagerDeployment(c *implyv1alpha1.ImplyCluster, rev Revisions, opts ...ManagerOption) *appsv1.Deployment {
	settings := managerSettings{zkBasePath: ZooKeeperBasePath(c, nil)}
	for _, o := range opts {
		o(&settings)
	}
	tls := TLSEnabled(c)
	m := &c.Spec.Manager
	ms := ManagerMetadataStore(c)

	var env []corev1.EnvVar
	if c.Spec.License != nil {
		ref := c.Spec.License.SecretRef
		env = append(env, secretEnv(EnvManagerLicenseKey, ref.Name, ref.KeyOrDefault(DefaultLicenseKey)))
	}
	creds := ms.CredentialsSecretRef
	env = append(env,
		corev1.EnvVar{Name: EnvManagerStoreType, Value: string(ms.Type)},
		corev1.EnvVar{Name: EnvManagerStoreHost, Value: ms.Host},
		corev1.EnvVar{Name: EnvManagerStorePort, Value: itoa(MetadataStorePort(ms))},
		corev1.EnvVar{Name: EnvManagerStoreDatabase, Value: ms.Database},
		secretEnv(EnvManagerStoreUser, creds.Name, keyOr(creds.UsernameKey, defaultUsernameKey)),
		secretEnv(EnvManagerStorePassword, creds.Name, keyOr(creds.PasswordKey, defaultPasswordKey)),
		corev1.EnvVar{Name: EnvManagerStoreSSLMode, Value: ManagerStoreSSLMode(ms)},
	)
	env = append(env, implyDefaultsEnv(c, settings.zkBasePath)...)
	env = append(env, authEnv(c, false)...)

	container := corev1.Container{
		Name:            ManagerContainerName,
		Image:           ManagerImage(c),
		ImagePullPolicy: pullPolicy(c),
		Env:             env,
		Ports: []corev1.ContainerPort{
			{Name: ManagerPortName(tls), ContainerPort: ManagerPort, Protocol: corev1.ProtocolTCP},
			{Name: ManagerAgentPortName, ContainerPort: ManagerAgentPort, Protocol: corev1.ProtocolTCP},
			{Name: ManagerLogsPortName, ContainerPort: ManagerLogsPort, Protocol: corev1.ProtocolTCP},
		},
		ReadinessProbe: tcpProbe(ManagerPort, 10, 10, 3),
		LivenessProbe:  tcpProbe(ManagerPort, 60, 20, 6),
		Resources:      *m.Resources.DeepCopy(),
	}

	d := &appsv1.Deployment{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      ManagerName(c.Name),
			Namespace: c.Namespace,
			Labels:    managerLabels(c),
		},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicasOr(m.Replicas)),
			Selector: &metav1.LabelSelector{MatchLabels: SelectorLabels(c.Name, ComponentManager)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: managerLabels(c), Annotations: revisionAnnotations(rev)},
				Spec: corev1.PodSpec{
					Containers:                    []corev1.Container{container},
					ImagePullSecrets:              pullSecrets(c),
					TerminationGracePeriodSeconds: ptr.To(DefaultGracePeriodSeconds),
					EnableServiceLinks:            ptr.To(false),
					NodeSelector:                  copyMap(m.NodeSelector),
					Tolerations:                   copyTolerations(m.Tolerations),
					Affinity:                      m.Affinity.DeepCopy(),
				},
			},
		},
	}
	addTLSMounts(c, ManagerTLSSecretName(c.Name), &d.Spec.Template.Spec)
	addCAMount(c, &d.Spec.Template.Spec, ManagerSignsCertificates(c))
	storePlan, _ := PlanMetadataTLS(c, ManagerMetadataStoreRole(c))
	addMetadataTLSMounts(storePlan, &d.Spec.Template.Spec)
	applyPodSecurity(&d.Spec.Template.Spec, &m.PodSecurity)
	return d
}

// ManagerOption sets what the manager's pods take from the operator's state rather than from
// the spec.
type ManagerOption func(*managerSettings)

type managerSettings struct {
	zkBasePath string
}

// WithZooKeeperBasePath passes the ZooKeeper base path Druid runs under (ZooKeeperBasePath of the
// live common ConfigMap) for imply_defaults_zkBasePath. Without it, the path of a new cluster.
func WithZooKeeperBasePath(path string) ManagerOption {
	return func(s *managerSettings) {
		if path != "" {
			s.zkBasePath = path
		}
	}
}

// BuildManagerService builds <cluster>-manager, the ClusterIP Service of the manager UI and API
// on 9097, port name and appProtocol https with TLS, else http.
func BuildManagerService(c *implyv1alpha1.ImplyCluster) *corev1.Service {
	tls := TLSEnabled(c)
	return managerService(c, ManagerName(c.Name), []corev1.ServicePort{
		managerUIPort(tls),
	})
}

// BuildManagerInternalService builds <cluster>-manager-int, the Service agents use
// (IMPLY_MANAGER_HOST): 9989 (agent), 9994 (logs) and 9097 (http or https).
func BuildManagerInternalService(c *implyv1alpha1.ImplyCluster) *corev1.Service {
	tls := TLSEnabled(c)
	return managerService(c, ManagerInternalServiceName(c.Name), []corev1.ServicePort{
		{Name: ManagerAgentPortName, Protocol: corev1.ProtocolTCP, Port: ManagerAgentPort, TargetPort: intstr.FromString(ManagerAgentPortName)},
		{Name: ManagerLogsPortName, Protocol: corev1.ProtocolTCP, Port: ManagerLogsPort, TargetPort: intstr.FromString(ManagerLogsPortName)},
		managerUIPort(tls),
	})
}

func managerUIPort(tls bool) corev1.ServicePort {
	return corev1.ServicePort{
		Name:        ManagerPortName(tls),
		Protocol:    corev1.ProtocolTCP,
		AppProtocol: ptr.To(Scheme(tls)),
		Port:        ManagerPort,
		TargetPort:  intstr.FromInt32(ManagerPort),
	}
}

func managerService(c *implyv1alpha1.ImplyCluster, name string, ports []corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      name,
			Namespace: c.Namespace,
			Labels:    managerLabels(c),
		},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: SelectorLabels(c.Name, ComponentManager),
			Ports:    ports,
		},
	}
}
