package specs

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// Deep-storage properties whose value depends on the storage type.
const (
	propStorageType     = "druid.storage.type"
	propIndexerLogsType = "druid.indexer.logs.type"
)

// ConfigMap keys.
const (
	// CommonRuntimePropertiesKey is the key of <cluster>-common-config.
	CommonRuntimePropertiesKey = "common.runtime.properties"
	// PivotConfigKey is Pivot's configuration in a query group's ConfigMap.
	PivotConfigKey = "pivot.config.yaml"
)

// RuntimePropertiesKey is the key of a Druid service's runtime.properties in its group's
// ConfigMap: "<service>.runtime.properties".
func RuntimePropertiesKey(svc Service) string { return svc.Name + ".runtime.properties" }

// JVMConfigKey is the key of a Druid service's jvm.config in its group's ConfigMap:
// "<service>.jvm.config".
func JVMConfigKey(svc Service) string { return svc.Name + ".jvm.config" }

// Environment variables through which Druid reads the metadata-store credentials; the agent
// container gets both from the credentials Secret, so no credential is ever in a ConfigMap.
const (
	// EnvMetadataStorageUser carries druid.metadata.storage.connector.user (Druid maps
	// druid_* variables to properties).
	EnvMetadataStorageUser = "druid_metadata_storage_connector_user"
	// EnvMetadataStoragePassword is read by Druid's environment password provider.
	EnvMetadataStoragePassword = "DRUID_METADATA_STORAGE_PASSWORD"
)

// Deep storage types of the API (implyv1alpha1.DeepStorageType has no constants).
const (
	DeepStorageLocal  implyv1alpha1.DeepStorageType = "local"
	DeepStorageS3     implyv1alpha1.DeepStorageType = "s3"
	DeepStorageGoogle implyv1alpha1.DeepStorageType = "google"
	DeepStorageAzure  implyv1alpha1.DeepStorageType = "azure"
	DeepStorageHDFS   implyv1alpha1.DeepStorageType = "hdfs"
)

// Paths inside the agent container.
const (
	// CommonConfigMountPath is where <cluster>-common-config is mounted.
	CommonConfigMountPath = "/etc/imply/conf/druid/_common"
	// GroupConfigMountPathPrefix + "/<group type>" is where <cluster>-<group>-config is mounted.
	GroupConfigMountPathPrefix = "/etc/imply/conf/druid"
	// DataMountPath is the agent's data volume.
	DataMountPath = "/var/druid"
	// SegmentCachePath holds a historical's segment cache.
	SegmentCachePath = DataMountPath + "/segment-cache"
	// TaskDirPath holds a middleManager's task directories.
	TaskDirPath = DataMountPath + "/task"
	// TmpDirPath is java.io.tmpdir of every Druid JVM.
	TmpDirPath = DataMountPath + "/tmp"
	// ProcessingTmpDirPath is druid.processing.tmpDir.
	ProcessingTmpDirPath = DataMountPath + "/processing"
	// TLSMountPath is where the TLS material of the contract is mounted.
	TLSMountPath = "/etc/imply/tls"
)

// LoadListKey is druid.extensions.loadList.
const LoadListKey = "druid.extensions.loadList"

// MergeExtensions merges a user's druid.extensions.loadList (a JSON array of strings) with the
// extensions the operator requires: the user's, in their order and without duplicates, then
// every required one the user left out, in the operator's order. It returns false when
// userList is not a JSON array of strings.
func MergeExtensions(userList string, required []string) (string, bool) {
	var user []string
	if err := json.Unmarshal([]byte(userList), &user); err != nil {
		return "", false
	}
	seen := make(map[string]bool, len(user)+len(required))
	merged := make([]string, 0, len(user)+len(required))
	for _, e := range append(user, required...) {
		if !seen[e] {
			seen[e] = true
			merged = append(merged, e)
		}
	}
	return mustJSON(merged), true
}

// MetadataStorePort returns the store's port, or the standard port of its type (3306 for
// MySQL, 5432 for PostgreSQL) when unset.
func MetadataStorePort(ms *implyv1alpha1.MetadataStoreSpec) int32 {
	if ms.Port != 0 {
		return ms.Port
	}
	if ms.Type == implyv1alpha1.MetadataStorePostgreSQL {
		return 5432
	}
	return 3306
}

// JDBCConnectURI returns jdbc:mysql://host:port/database or jdbc:postgresql://host:port/database.
func JDBCConnectURI(ms *implyv1alpha1.MetadataStoreSpec) string {
	return fmt.Sprintf("jdbc:%s://%s:%d/%s", ms.Type, ms.Host, MetadataStorePort(ms), ms.Database)
}

// AnnotationZooKeeperBasePath records, on <cluster>-common-config, the ZooKeeper base path the
// cluster's Druid was configured with, so that no later default moves a running cluster.
const AnnotationZooKeeperBasePath = "imply.operator.dev/zookeeper-base-path"

// DefaultZooKeeperBasePath is the base path of a new cluster without spec basePath:
// /druid/<namespace>/<cluster>, so two clusters of the same name in different namespaces never
// share znodes.
func DefaultZooKeeperBasePath(c *implyv1alpha1.ImplyCluster) string {
	return "/druid/" + c.Namespace + "/" + c.Name
}

// LegacyZooKeeperBasePath is /druid/<cluster>, the default of the releases that rendered no
// AnnotationZooKeeperBasePath.
func LegacyZooKeeperBasePath(c *implyv1alpha1.ImplyCluster) string {
	return "/druid/" + c.Name
}

// ZooKeeperBasePath returns the base path of c's Druid: spec.druid.zookeeper.basePath when set;
// else the path recorded on live, the cluster's common ConfigMap as the apiserver has it (nil
// when there is none); else, when live exists without a record (an earlier release rendered it
// with the then default), LegacyZooKeeperBasePath; else DefaultZooKeeperBasePath. Moving a
// running cluster to another path would split its discovery while pods roll and lose the state
// Druid keeps in ZooKeeper, so only the spec moves it.
func ZooKeeperBasePath(c *implyv1alpha1.ImplyCluster, live *corev1.ConfigMap) string {
	if p := c.Spec.Druid.ZooKeeper.BasePath; p != "" {
		return p
	}
	if live == nil {
		return DefaultZooKeeperBasePath(c)
	}
	if p := live.Annotations[AnnotationZooKeeperBasePath]; p != "" {
		return p
	}
	return LegacyZooKeeperBasePath(c)
}

// Extensions returns druid.extensions.loadList in load order: the metadata-store extension,
// the deep-storage one (none for local), druid-basic-security with auth, and
// simple-client-sslcontext with TLS.
func Extensions(c *implyv1alpha1.ImplyCluster) []string {
	var ext []string
	if c.Spec.Druid.MetadataStore.Type == implyv1alpha1.MetadataStorePostgreSQL {
		ext = append(ext, "postgresql-metadata-storage")
	} else {
		ext = append(ext, "mysql-metadata-storage")
	}
	switch c.Spec.Druid.DeepStorage.Type {
	case DeepStorageS3:
		ext = append(ext, "druid-s3-extensions")
	case DeepStorageGoogle:
		ext = append(ext, "druid-google-extensions")
	case DeepStorageAzure:
		ext = append(ext, "druid-azure-extensions")
	case DeepStorageHDFS:
		ext = append(ext, "druid-hdfs-storage")
	}
	if AuthEnabled(c) {
		ext = append(ext, BasicSecurityExtension)
	}
	if TLSEnabled(c) {
		ext = append(ext, "simple-client-sslcontext")
	}
	return ext
}

// CommonRuntimeProperties returns the properties of common.runtime.properties: the operator's
// own (TLS, metadata-store TLS and basic security included when on), then spec.druid.commonRuntimeProperties (the
// user wins), except operator-owned keys, which are dropped and returned sorted so the
// controller can warn. A user druid.extensions.loadList is merged with the required extensions
// (see MergeExtensions). druid.zk.paths.base is ZooKeeperBasePath of the live ConfigMap that
// WithLiveCommonConfig passes.
func CommonRuntimeProperties(c *implyv1alpha1.ImplyCluster, opts ...CommonOption) (map[string]string, []string) {
	// Until the caller says what is live, the cluster is taken to run already under a common
	// ConfigMap of an earlier release: the path stays what every release before used.
	settings := commonSettings{internalClientUser: DruidInternalClientUsername, liveCommon: &corev1.ConfigMap{}}
	for _, o := range opts {
		o(&settings)
	}
	d := &c.Spec.Druid
	tls := TLSEnabled(c)
	p := map[string]string{
		LoadListKey:                                   mustJSON(Extensions(c)),
		"druid.zk.service.host":                       d.ZooKeeper.ConnectString,
		"druid.zk.paths.base":                         ZooKeeperBasePath(c, settings.liveCommon),
		"druid.metadata.storage.type":                 string(d.MetadataStore.Type),
		"druid.metadata.storage.connector.connectURI": JDBCConnectURIWithTLS(&d.MetadataStore),
		"druid.metadata.storage.connector.password":   environmentPassword(EnvMetadataStoragePassword),
		"druid.enablePlaintextPort":                   fmt.Sprint(!tls),
		"druid.enableTlsPort":                         fmt.Sprint(tls),
		"druid.selectors.indexing.serviceName":        "druid/" + ServiceOverlord,
		"druid.selectors.coordinator.serviceName":     "druid/" + ServiceCoordinator,
		"druid.emitter":                               "noop",
		"druid.startup.logging.logProperties":         "true",
	}
	for k, v := range deepStorageProperties(&d.DeepStorage) {
		p[k] = v
	}
	for k, v := range tlsRuntimeProperties(c) {
		p[k] = v
	}
	storePlan, _ := PlanMetadataTLS(c, MetadataStoreDruid) // spec errors are the controller's to report
	for k, v := range metadataStoreTLSProperties(c, storePlan) {
		p[k] = v
	}
	for k, v := range authRuntimeProperties(c, settings) {
		p[k] = v
	}
	ignored := applyUserProperties(p, d.CommonRuntimeProperties, Extensions(c))
	return p, ignored
}

// CommonOption sets what common.runtime.properties takes from the operator's state rather than
// from the spec.
type CommonOption func(*commonSettings)

type commonSettings struct {
	internalClientUser string
	liveCommon         *corev1.ConfigMap
}

// WithLiveCommonConfig passes the cluster's common ConfigMap as the apiserver has it, or nil when
// there is none, so that a new cluster gets DefaultZooKeeperBasePath and a running one keeps its
// path (see ZooKeeperBasePath). Pass nil also for a ConfigMap of that name this cluster does not
// control. Without this option the cluster is taken to run under a ConfigMap of an earlier
// release, which keeps LegacyZooKeeperBasePath unless one is recorded.
func WithLiveCommonConfig(live *corev1.ConfigMap) CommonOption {
	return func(s *commonSettings) { s.liveCommon = live }
}

// WithInternalClientUser names the user Druid services call each other as (the escalator's
// internalClientUsername) when it is not DruidInternalClientUsername: the operator alternates
// between two users to rotate that user's password without cutting running processes off.
func WithInternalClientUser(user string) CommonOption {
	return func(s *commonSettings) {
		if user != "" {
			s.internalClientUser = user
		}
	}
}

// environmentPassword is Druid's environment password provider reading variable.
func environmentPassword(variable string) string {
	return mustJSON(map[string]string{"type": "environment", "variable": variable})
}

// deepStorageProperties returns druid.storage.* (and the provider's own keys) and
// druid.indexer.logs.* for the deep storage. Segments go under <path>/segments and task logs
// under <path>/indexing-logs, so the two never mix.
func deepStorageProperties(ds *implyv1alpha1.DeepStorageSpec) map[string]string {
	const segments, logs = "segments", "indexing-logs"
	switch ds.Type {
	case DeepStorageS3:
		bucket, prefix := splitBucketPath(ds.Path, "s3://", "s3a://", "s3n://")
		return map[string]string{
			propStorageType:               "s3",
			"druid.storage.bucket":        bucket,
			"druid.storage.baseKey":       joinKey(prefix, segments),
			propIndexerLogsType:           "s3",
			"druid.indexer.logs.s3Bucket": bucket,
			"druid.indexer.logs.s3Prefix": joinKey(prefix, logs),
		}
	case DeepStorageGoogle:
		bucket, prefix := splitBucketPath(ds.Path, "gs://")
		return map[string]string{
			propStorageType:             "google",
			"druid.google.bucket":       bucket,
			"druid.google.prefix":       joinKey(prefix, segments),
			propIndexerLogsType:         "google",
			"druid.indexer.logs.bucket": bucket,
			"druid.indexer.logs.prefix": joinKey(prefix, logs),
		}
	case DeepStorageAzure:
		container, prefix := splitBucketPath(ds.Path, "azure://")
		return map[string]string{
			propStorageType:                "azure",
			"druid.azure.container":        container,
			"druid.azure.prefix":           joinKey(prefix, segments),
			propIndexerLogsType:            "azure",
			"druid.indexer.logs.container": container,
			"druid.indexer.logs.prefix":    joinKey(prefix, logs),
		}
	case DeepStorageHDFS:
		return map[string]string{
			propStorageType:                  "hdfs",
			"druid.storage.storageDirectory": joinDir(ds.Path, segments),
			propIndexerLogsType:              "hdfs",
			"druid.indexer.logs.directory":   joinDir(ds.Path, logs),
		}
	default: // local
		return map[string]string{
			propStorageType:                  "local",
			"druid.storage.storageDirectory": joinDir(ds.Path, segments),
			propIndexerLogsType:              "file",
			"druid.indexer.logs.directory":   joinDir(ds.Path, logs),
		}
	}
}

// splitBucketPath splits "scheme://bucket/some/prefix" (or "bucket/some/prefix") into the
// bucket and the prefix without surrounding slashes.
func splitBucketPath(p string, schemes ...string) (bucket, prefix string) {
	for _, s := range schemes {
		if len(p) >= len(s) && strings.EqualFold(p[:len(s)], s) {
			p = p[len(s):]
			break
		}
	}
	p = strings.Trim(p, "/")
	bucket, prefix, _ = strings.Cut(p, "/")
	return bucket, strings.Trim(prefix, "/")
}

// joinKey joins an object-key prefix (possibly empty) and a name with "/".
func joinKey(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "/" + name
}

// joinDir joins a directory or URI (hdfs://nn:8020/x) and a name, keeping any "//" of a scheme.
func joinDir(dir, name string) string {
	trimmed := strings.TrimRight(dir, "/")
	if trimmed == "" {
		return "/" + name
	}
	return trimmed + "/" + name
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only called with strings and string slices/maps
	}
	return string(b)
}

// BuildCommonConfigMap builds <cluster>-common-config with common.runtime.properties (see
// CommonRuntimeProperties), annotated with the ZooKeeper base path it configures
// (AnnotationZooKeeperBasePath). It returns the user keys it ignored because the operator owns
// them.
func BuildCommonConfigMap(c *implyv1alpha1.ImplyCluster, opts ...CommonOption) (*corev1.ConfigMap, []string) {
	props, ignored := CommonRuntimeProperties(c, opts...)
	return &corev1.ConfigMap{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        CommonConfigName(c.Name),
			Namespace:   c.Namespace,
			Labels:      Labels(c.Name, ComponentCommon, ComponentCommon),
			Annotations: map[string]string{AnnotationZooKeeperBasePath: props["druid.zk.paths.base"]},
		},
		Data: map[string]string{CommonRuntimePropertiesKey: RenderProperties(props)},
	}, ignored
}

// BuildGroupConfigMap builds <cluster>-<group>-config: for every Druid service of the group's
// type "<service>.runtime.properties" (see ServiceRuntimeProperties) and "<service>.jvm.config"
// (see JVMConfig), and for a query group Pivot's "pivot.config.yaml". It returns, sorted and
// once each, the keys of the group's runtimeProperties it ignored because the operator owns them.
func BuildGroupConfigMap(c *implyv1alpha1.ImplyCluster, g *implyv1alpha1.NodeGroupSpec) (*corev1.ConfigMap, []string) {
	data := map[string]string{}
	var ignored []string
	for _, svc := range ServicesFor(g.Type) {
		if !svc.IsDruid() {
			data[PivotConfigKey] = PivotConfig(c, g)
			continue
		}
		props, ign := ServiceRuntimeProperties(c, g, svc)
		ignored = append(ignored, ign...)
		data[RuntimePropertiesKey(svc)] = RenderProperties(props)
		jvm, jvmIgnored := ServiceJVMConfig(g, svc, props)
		ignored = append(ignored, jvmIgnored...)
		data[JVMConfigKey(svc)] = jvm
	}
	slices.Sort(ignored)
	ignored = slices.Compact(ignored)
	return &corev1.ConfigMap{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      GroupConfigName(c.Name, g.Name),
			Namespace: c.Namespace,
			Labels:    groupLabels(c, g),
		},
		Data: data,
	}, ignored
}
