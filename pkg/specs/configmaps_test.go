package specs

import (
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

func commonProps(t *testing.T, c *implyv1alpha1.ImplyCluster) map[string]string {
	t.Helper()
	p, _ := CommonRuntimeProperties(c)
	return p
}

func TestCommonConfigMapObject(t *testing.T) {
	g := NewWithT(t)
	c := newCluster()
	cm, ignored := BuildCommonConfigMap(c)
	g.Expect(ignored).To(BeEmpty())
	g.Expect(cm.Name).To(Equal("c-common-config"))
	g.Expect(cm.Namespace).To(Equal("ns"))
	g.Expect(cm.Labels).To(Equal(Labels("c", ComponentCommon, ComponentCommon)))
	g.Expect(cm.OwnerReferences).To(BeEmpty())
	g.Expect(cm.Data).To(HaveLen(1))
	g.Expect(cm.Data).To(HaveKeyWithValue(CommonRuntimePropertiesKey, RenderProperties(commonProps(t, c))))
}

func TestCommonPropertiesMetadataStore(t *testing.T) {
	for _, tc := range []struct {
		name     string
		typ      implyv1alpha1.MetadataStoreType
		port     int32
		uri, ext string
	}{
		{"mysql default port", implyv1alpha1.MetadataStoreMySQL, 0, "jdbc:mysql://db:3306/druid?sslMode=VERIFY_IDENTITY", "mysql-metadata-storage"},
		{"mysql custom port", implyv1alpha1.MetadataStoreMySQL, 3307, "jdbc:mysql://db:3307/druid?sslMode=VERIFY_IDENTITY", "mysql-metadata-storage"},
		{"postgresql default port", implyv1alpha1.MetadataStorePostgreSQL, 0, "jdbc:postgresql://db:5432/druid", "postgresql-metadata-storage"},
		{"postgresql custom port", implyv1alpha1.MetadataStorePostgreSQL, 6432, "jdbc:postgresql://db:6432/druid", "postgresql-metadata-storage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			c := newCluster(withDeepStorage(DeepStorageLocal, "/x"), func(c *implyv1alpha1.ImplyCluster) {
				c.Spec.Druid.MetadataStore.Type, c.Spec.Druid.MetadataStore.Host, c.Spec.Druid.MetadataStore.Port = tc.typ, "db", tc.port
			})
			p := commonProps(t, c)
			g.Expect(p).To(HaveKeyWithValue("druid.metadata.storage.type", string(tc.typ)))
			g.Expect(p).To(HaveKeyWithValue("druid.metadata.storage.connector.connectURI", tc.uri))
			g.Expect(p).To(HaveKeyWithValue("druid.extensions.loadList", `["`+tc.ext+`","simple-client-sslcontext"]`))
			g.Expect(p).To(HaveKeyWithValue("druid.metadata.storage.connector.password",
				`{"type":"environment","variable":"DRUID_METADATA_STORAGE_PASSWORD"}`))
			g.Expect(p).NotTo(HaveKey("druid.metadata.storage.connector.user"), "the user comes from the environment")
		})
	}
}

func TestCommonPropertiesDeepStorage(t *testing.T) {
	for _, tc := range []struct {
		name string
		typ  implyv1alpha1.DeepStorageType
		path string
		ext  string
		want map[string]string
	}{
		{"s3", DeepStorageS3, "s3://bucket/a/b/", "druid-s3-extensions", map[string]string{
			"druid.storage.type": "s3", "druid.storage.bucket": "bucket", "druid.storage.baseKey": "a/b/segments",
			"druid.indexer.logs.type": "s3", "druid.indexer.logs.s3Bucket": "bucket", "druid.indexer.logs.s3Prefix": "a/b/indexing-logs",
		}},
		{"s3 bucket only", DeepStorageS3, "s3://bucket", "druid-s3-extensions", map[string]string{
			"druid.storage.type": "s3", "druid.storage.bucket": "bucket", "druid.storage.baseKey": "segments",
			"druid.indexer.logs.type": "s3", "druid.indexer.logs.s3Bucket": "bucket", "druid.indexer.logs.s3Prefix": "indexing-logs",
		}},
		{"google", DeepStorageGoogle, "gs://gbucket/pre", "druid-google-extensions", map[string]string{
			"druid.storage.type": "google", "druid.google.bucket": "gbucket", "druid.google.prefix": "pre/segments",
			"druid.indexer.logs.type": "google", "druid.indexer.logs.bucket": "gbucket", "druid.indexer.logs.prefix": "pre/indexing-logs",
		}},
		{"azure without scheme", DeepStorageAzure, "container/pre", "druid-azure-extensions", map[string]string{
			"druid.storage.type": "azure", "druid.azure.container": "container", "druid.azure.prefix": "pre/segments",
			"druid.indexer.logs.type": "azure", "druid.indexer.logs.container": "container", "druid.indexer.logs.prefix": "pre/indexing-logs",
		}},
		{"azure with scheme", DeepStorageAzure, "azure://container", "druid-azure-extensions", map[string]string{
			"druid.storage.type": "azure", "druid.azure.container": "container", "druid.azure.prefix": "segments",
			"druid.indexer.logs.type": "azure", "druid.indexer.logs.container": "container", "druid.indexer.logs.prefix": "indexing-logs",
		}},
		{"hdfs", DeepStorageHDFS, "hdfs://nn:8020/druid/", "druid-hdfs-storage", map[string]string{
			"druid.storage.type": "hdfs", "druid.storage.storageDirectory": "hdfs://nn:8020/druid/segments",
			"druid.indexer.logs.type": "hdfs", "druid.indexer.logs.directory": "hdfs://nn:8020/druid/indexing-logs",
		}},
		{"local", DeepStorageLocal, "/mnt/deep", "", map[string]string{
			"druid.storage.type": "local", "druid.storage.storageDirectory": "/mnt/deep/segments",
			"druid.indexer.logs.type": "file", "druid.indexer.logs.directory": "/mnt/deep/indexing-logs",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			p := commonProps(t, newCluster(withDeepStorage(tc.typ, tc.path)))
			for k, v := range tc.want {
				g.Expect(p).To(HaveKeyWithValue(k, v))
			}
			wantExt := `["mysql-metadata-storage","simple-client-sslcontext"]`
			if tc.ext != "" {
				wantExt = `["mysql-metadata-storage","` + tc.ext + `","simple-client-sslcontext"]`
			}
			g.Expect(p).To(HaveKeyWithValue("druid.extensions.loadList", wantExt))
			for k := range p { // no leftover keys of another storage type
				if k == "druid.storage.type" || k == "druid.indexer.logs.type" {
					continue
				}
				for _, prefix := range []string{"druid.storage.", "druid.indexer.logs.", "druid.google.", "druid.azure."} {
					if len(k) > len(prefix) && k[:len(prefix)] == prefix {
						g.Expect(tc.want).To(HaveKey(k))
					}
				}
			}
		})
	}
}

func TestCommonPropertiesDefaultsAndTLS(t *testing.T) {
	for _, tls := range []bool{true, false} {
		g := NewWithT(t)
		p := commonProps(t, newCluster(withTLS(tls)))
		g.Expect(p).To(HaveKeyWithValue("druid.enablePlaintextPort", map[bool]string{true: "false", false: "true"}[tls]))
		g.Expect(p).To(HaveKeyWithValue("druid.enableTlsPort", map[bool]string{true: "true", false: "false"}[tls]))
		g.Expect(p).To(HaveKeyWithValue("druid.zk.service.host", "zk:2181"))
		g.Expect(p).To(HaveKeyWithValue("druid.zk.paths.base", "/druid/c"), "without WithLiveCommonConfig nothing moves")
		g.Expect(p).To(HaveKeyWithValue("druid.selectors.indexing.serviceName", "druid/overlord"))
		g.Expect(p).To(HaveKeyWithValue("druid.selectors.coordinator.serviceName", "druid/coordinator"))
		g.Expect(p).To(HaveKeyWithValue("druid.emitter", "noop"))
		g.Expect(p).To(HaveKeyWithValue("druid.startup.logging.logProperties", "true"))
		g.Expect(p).NotTo(HaveKey("druid.host"), "the agent sets druid.host")
	}
	c := newCluster()
	c.Spec.Druid.ZooKeeper.BasePath = "/custom"
	NewWithT(t).Expect(commonProps(t, c)).To(HaveKeyWithValue("druid.zk.paths.base", "/custom"))
}

// TestZooKeeperBasePath: the spec's path wins; without one a new cluster gets
// /druid/<namespace>/<cluster>, and a running cluster keeps the path its common ConfigMap was
// rendered with, /druid/<cluster> when an earlier release rendered it without a record.
func TestZooKeeperBasePath(t *testing.T) {
	recorded := func(p string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{AnnotationZooKeeperBasePath: p}}}
	}
	earlierRelease := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{"other": "x"}}}
	for _, tc := range []struct {
		name, spec string
		live       *corev1.ConfigMap
		want       string
	}{
		{"new cluster", "", nil, "/druid/ns/c"},
		{"rendered by an earlier release", "", earlierRelease, "/druid/c"},
		{"recorded default", "", recorded("/druid/ns/c"), "/druid/ns/c"},
		{"recorded legacy path", "", recorded("/druid/c"), "/druid/c"},
		{"recorded path of a spec since emptied", "", recorded("/custom"), "/custom"},
		{"spec wins over a record", "/moved", recorded("/druid/c"), "/moved"},
		{"spec on a new cluster", "/custom", nil, "/custom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			c := newCluster()
			c.Spec.Druid.ZooKeeper.BasePath = tc.spec
			g.Expect(ZooKeeperBasePath(c, tc.live)).To(Equal(tc.want))
			cm, _ := BuildCommonConfigMap(c, WithLiveCommonConfig(tc.live))
			g.Expect(cm.Annotations).To(Equal(map[string]string{AnnotationZooKeeperBasePath: tc.want}))
			g.Expect(cm.Data[CommonRuntimePropertiesKey]).To(ContainSubstring("\ndruid.zk.paths.base=" + tc.want + "\n"))
		})
	}

	// Without WithLiveCommonConfig the cluster may be running: a recorded-less live ConfigMap.
	c := newCluster()
	cm, _ := BuildCommonConfigMap(c)
	NewWithT(t).Expect(cm.Annotations[AnnotationZooKeeperBasePath]).To(Equal("/druid/c"))
	c.Spec.Druid.ZooKeeper.BasePath = "/custom"
	cm, _ = BuildCommonConfigMap(c)
	NewWithT(t).Expect(cm.Annotations[AnnotationZooKeeperBasePath]).To(Equal("/custom"))

	// Two clusters of the same name in different namespaces never share a default path.
	a, b := newCluster(), newCluster()
	b.Namespace = "other"
	NewWithT(t).Expect(ZooKeeperBasePath(a, nil)).NotTo(Equal(ZooKeeperBasePath(b, nil)))
}

// TestZooKeeperBasePathRecordsUserProperty: a druid.zk.paths.base in commonRuntimeProperties
// (not owned) is what Druid runs with, so it is what the annotation records.
func TestZooKeeperBasePathRecordsUserProperty(t *testing.T) {
	g := NewWithT(t)
	c := newCluster()
	c.Spec.Druid.CommonRuntimeProperties = map[string]string{"druid.zk.paths.base": "/by-property"}
	cm, ignored := BuildCommonConfigMap(c, WithLiveCommonConfig(nil))
	g.Expect(ignored).To(BeEmpty())
	g.Expect(cm.Annotations[AnnotationZooKeeperBasePath]).To(Equal("/by-property"))
	c.Spec.Druid.CommonRuntimeProperties = nil
	g.Expect(ZooKeeperBasePath(c, cm)).To(Equal("/by-property"), "removing the property does not move the cluster")
}

func TestCommonPropertiesUserOverrides(t *testing.T) {
	g := NewWithT(t)
	c := newCluster()
	c.Spec.Druid.CommonRuntimeProperties = map[string]string{
		"druid.emitter":                             "logging",         // user wins
		"druid.extensions.loadList":                 `["custom"]`,      // merged
		"druid.auth.authenticatorChain":             `["x"]`,           // owned
		"druid.escalator.type":                      "basic",           // owned
		"druid.server.https.keyStorePath":           "/k",              // owned
		"druid.client.https.trustStorePath":         "/t",              // owned
		"druid.enablePlaintextPort":                 "true",            // owned
		"druid.enableTlsPort":                       "false",           // owned
		"druid.tlsPort":                             "1",               // owned
		"druid.metadata.storage.connector.password": "hunter2",         // owned
		"druid.authx":                               "kept, not owned", // no dot after auth
	}
	p, ignored := CommonRuntimeProperties(c)
	g.Expect(ignored).To(Equal([]string{
		"druid.auth.authenticatorChain", "druid.client.https.trustStorePath", "druid.enablePlaintextPort",
		"druid.enableTlsPort", "druid.escalator.type", "druid.metadata.storage.connector.password",
		"druid.server.https.keyStorePath", "druid.tlsPort",
	}))
	g.Expect(p).To(HaveKeyWithValue("druid.emitter", "logging"))
	g.Expect(p).To(HaveKeyWithValue("druid.extensions.loadList",
		`["custom","mysql-metadata-storage","druid-s3-extensions","simple-client-sslcontext"]`), "the user's, then the required ones")
	g.Expect(p).To(HaveKeyWithValue("druid.authx", "kept, not owned"))
	g.Expect(p).To(HaveKeyWithValue("druid.enableTlsPort", "true"))
	g.Expect(p).NotTo(HaveKey("druid.tlsPort"))
	g.Expect(p).NotTo(HaveKey("druid.auth.authenticatorChain"))
	cm, ignoredToo := BuildCommonConfigMap(c)
	g.Expect(ignoredToo).To(Equal(ignored))
	g.Expect(cm.Data[CommonRuntimePropertiesKey]).NotTo(ContainSubstring("hunter2"))
}

func TestGroupConfigMapKeys(t *testing.T) {
	for _, tc := range []struct {
		group string
		keys  []string
	}{
		{"master", []string{"coordinator.runtime.properties", "coordinator.jvm.config", "overlord.runtime.properties", "overlord.jvm.config"}},
		{"query", []string{"broker.runtime.properties", "broker.jvm.config", "router.runtime.properties", "router.jvm.config", "pivot.config.yaml"}},
		{"data", []string{"historical.runtime.properties", "historical.jvm.config", "middleManager.runtime.properties", "middleManager.jvm.config"}},
	} {
		t.Run(tc.group, func(t *testing.T) {
			g := NewWithT(t)
			c := newCluster()
			grp := group(c, tc.group)
			cm, ignored := BuildGroupConfigMap(c, grp)
			g.Expect(ignored).To(BeEmpty())
			g.Expect(cm.Name).To(Equal("c-" + tc.group + "-config"))
			g.Expect(cm.Namespace).To(Equal("ns"))
			g.Expect(cm.Labels).To(Equal(Labels("c", string(grp.Type), tc.group)))
			keys := make([]string, 0, len(cm.Data))
			for k := range cm.Data {
				keys = append(keys, k)
			}
			g.Expect(keys).To(ConsistOf(tc.keys))
		})
	}
}

func TestServiceRuntimeProperties(t *testing.T) {
	for _, tc := range []struct {
		group string
		svc   Service
		tls   bool
		want  map[string]string
	}{
		{"master", Coordinator, true, map[string]string{"druid.service": "druid/coordinator", "druid.tlsPort": "8281",
			"druid.coordinator.startDelay": "PT10S", "druid.coordinator.period": "PT30S"}},
		{"master", Coordinator, false, map[string]string{"druid.service": "druid/coordinator", "druid.plaintextPort": "8081"}},
		{"master", Overlord, true, map[string]string{"druid.service": "druid/overlord", "druid.tlsPort": "8290",
			"druid.indexer.runner.type": "remote", "druid.indexer.storage.type": "metadata", "druid.indexer.queue.startDelay": "PT5S"}},
		{"query", Broker, false, map[string]string{"druid.service": "druid/broker", "druid.plaintextPort": "8082",
			"druid.processing.buffer.sizeBytes": "104857600", "druid.processing.numThreads": "1", "druid.processing.numMergeBuffers": "2"}},
		{"query", Router, true, map[string]string{"druid.service": "druid/router", "druid.tlsPort": "9088",
			"druid.router.managementProxy.enabled": "true"}},
		{"query", Router, false, map[string]string{"druid.plaintextPort": "8888"}},
		{"data", Historical, true, map[string]string{"druid.service": "druid/historical", "druid.tlsPort": "8283",
			"druid.server.tier": "_default_tier", "druid.segmentCache.locations": `[{"path":"/var/druid/segment-cache"}]`,
			"druid.processing.numThreads": "2"}},
		{"data", MiddleManager, true, map[string]string{"druid.service": "druid/middleManager", "druid.tlsPort": "8291",
			"druid.indexer.runner.startPort": "8300", "druid.indexer.task.baseTaskDir": "/var/druid/task", "druid.worker.capacity": "2"}},
		{"data", MiddleManager, false, map[string]string{"druid.plaintextPort": "8091", "druid.indexer.runner.startPort": "8100"}},
	} {
		t.Run(tc.svc.Name+map[bool]string{true: "/tls", false: "/plaintext"}[tc.tls], func(t *testing.T) {
			g := NewWithT(t)
			c := newCluster(withTLS(tc.tls))
			p, _ := ServiceRuntimeProperties(c, group(c, tc.group), tc.svc)
			for k, v := range tc.want {
				g.Expect(p).To(HaveKeyWithValue(k, v))
			}
			if tc.tls {
				g.Expect(p).NotTo(HaveKey("druid.plaintextPort"))
			} else {
				g.Expect(p).NotTo(HaveKey("druid.tlsPort"))
			}
		})
	}
}

func TestHistoricalTierAndSegmentCache(t *testing.T) {
	g := NewWithT(t)
	c := newCluster()
	data := group(c, "data")
	data.Tier = "hot"
	data.Storage = &implyv1alpha1.StorageSpec{Size: resource.MustParse("100Gi")}
	p, _ := ServiceRuntimeProperties(c, data, Historical)
	g.Expect(p).To(HaveKeyWithValue("druid.server.tier", "hot"))
	g.Expect(p).To(HaveKeyWithValue("druid.segmentCache.locations", `[{"maxSize":85899345920,"path":"/var/druid/segment-cache"}]`))
}

func TestGroupRuntimePropertiesApplyToEveryDruidService(t *testing.T) {
	g := NewWithT(t)
	c := newCluster()
	q := group(c, "query")
	q.RuntimeProperties = map[string]string{
		"druid.server.http.numThreads":    "60",
		"druid.router.http.numMaxThreads": "100",
		"druid.client.https.protocol":     "TLSv1", // owned
		"druid.tlsPort":                   "1",     // owned
	}
	cm, ignored := BuildGroupConfigMap(c, q)
	g.Expect(ignored).To(Equal([]string{"druid.client.https.protocol", "druid.tlsPort"}))
	for _, key := range []string{"broker.runtime.properties", "router.runtime.properties"} {
		g.Expect(cm.Data[key]).To(ContainSubstring("\ndruid.server.http.numThreads=60\n"))
		g.Expect(cm.Data[key]).NotTo(ContainSubstring("TLSv1"))
		g.Expect(cm.Data[key]).NotTo(ContainSubstring("druid.tlsPort=1\n"))
	}
	g.Expect(cm.Data[PivotConfigKey]).NotTo(ContainSubstring("numThreads"))
}

func TestJVMConfig(t *testing.T) {
	mem := func(limit, request string) corev1.ResourceRequirements {
		r := corev1.ResourceRequirements{}
		if limit != "" {
			r.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(limit)}
		}
		if request != "" {
			r.Requests = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(request)}
		}
		return r
	}
	for _, tc := range []struct {
		name      string
		group     string
		resources corev1.ResourceRequirements
		props     map[string]string
		svc       Service
		heap      string
		direct    string
	}{
		{"no memory: the coordinator's default 1g", "master", corev1.ResourceRequirements{}, nil, Coordinator, "1024m", "128m"},
		{"no memory: the middleManager's default 256m", "data", corev1.ResourceRequirements{}, nil, MiddleManager, "256m", "128m"},
		{"limit wins over request; the overlord's share is 20%", "master", mem("8Gi", "4Gi"), nil, Overlord, "1638m", "128m"},
		{"request when no limit; the router's share is 10%", "query", mem("", "4Gi"), nil, Router, "409m", "128m"},
		{"tiny memory floors the heap", "data", mem("256Mi", ""), nil, MiddleManager, "128m", "128m"},
		{"broker direct memory from defaults, 35% heap", "query", mem("", "4Gi"), nil, Broker, "1433m", "528m"},
		{"historical direct memory follows user properties", "data", mem("16Gi", ""),
			map[string]string{"druid.processing.buffer.sizeBytes": "1GiB", "druid.processing.numThreads": "3", "druid.processing.numMergeBuffers": "4"},
			Historical, "5734m", "8320m"},
		{"unparseable user values fall back to defaults", "data", mem("16Gi", ""),
			map[string]string{"druid.processing.buffer.sizeBytes": "lots", "druid.processing.numThreads": "many"},
			Historical, "5734m", "628m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			c := newCluster()
			grp := group(c, tc.group)
			grp.Resources = tc.resources
			grp.RuntimeProperties = tc.props
			cm, _ := BuildGroupConfigMap(c, grp)
			g.Expect(cm.Data[JVMConfigKey(tc.svc)]).To(Equal("-server\n-Xms" + tc.heap + "\n-Xmx" + tc.heap +
				"\n-XX:MaxDirectMemorySize=" + tc.direct + "\n-XX:+ExitOnOutOfMemoryError\n-Duser.timezone=UTC\n" +
				"-Dfile.encoding=UTF-8\n-Djava.io.tmpdir=/var/druid/tmp\n" +
				"-Djava.util.logging.manager=org.apache.logging.log4j.jul.LogManager\n"))
		})
	}
}

func TestParseDruidBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"104857600", 104857600, true},
		{" 500MiB ", 500 << 20, true},
		{"1GiB", 1 << 30, true},
		{"2kib", 2048, true},
		{"1g", 1e9, true},
		{"5M", 5e6, true},
		{"", 0, false},
		{"-1", 0, false},
		{"1.5GiB", 0, false},
		{"MiB", 0, false},
	} {
		got, ok := parseDruidBytes(tc.in)
		NewWithT(t).Expect([]any{got, ok}).To(Equal([]any{tc.want, tc.ok}), tc.in)
	}
}

func TestConfigMapsAreDeterministic(t *testing.T) {
	g := NewWithT(t)
	c := goldenTLSCluster()
	first, _ := BuildCommonConfigMap(c)
	firstGroups := map[string]*corev1.ConfigMap{}
	for i := range c.Spec.NodeGroups {
		firstGroups[c.Spec.NodeGroups[i].Name], _ = BuildGroupConfigMap(c, &c.Spec.NodeGroups[i])
	}
	for range 10 {
		again, _ := BuildCommonConfigMap(c)
		g.Expect(again).To(Equal(first))
		for i := range c.Spec.NodeGroups {
			cm, _ := BuildGroupConfigMap(c, &c.Spec.NodeGroups[i])
			g.Expect(cm).To(Equal(firstGroups[c.Spec.NodeGroups[i].Name]))
		}
	}
}
