package specs

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// DefaultTier is the historical tier of a data group without spec tier.
const DefaultTier = "_default_tier"

// Modest processing defaults of brokers, historicals and peons; users raise them through the
// group's runtimeProperties and jvm.config follows (see JVMConfig).
const (
	mib                         = int64(1) << 20
	defaultProcessingBufferSize = 100 * mib
	defaultMergeBuffers         = 2
	brokerProcessingThreads     = 1
	historicalProcessingThreads = 2
	peonProcessingThreads       = 1
	defaultWorkerCapacity       = 2
	// segmentCacheShare is the share of the data volume given to the segment cache; the rest is
	// left to task directories and temporary files on the same volume.
	segmentCacheShare = 0.8
	// baseDirectMemoryMiB is the direct memory every JVM gets beyond its processing buffers.
	baseDirectMemoryMiB = 128
	// minHeapMiB is the smallest heap given to a Druid JVM.
	minHeapMiB  = 128
	peonHeapMiB = 512
)

// serviceHeap is a Druid service's default heap: MiB when the group sets no memory, else a
// share of the container's memory. The shares of a group's services add up to at most half the
// memory, leaving the rest to direct memory, peons, Pivot and the page cache: a coordinator's
// and a broker's heaps hold the cluster's segment metadata; an overlord's, a router's and a
// middleManager's little; a historical serves from memory-mapped segments and direct buffers.
type serviceHeap struct {
	mib   int64
	share float64
}

var serviceHeaps = map[string]serviceHeap{
	ServiceCoordinator:   {mib: 1024, share: 0.30},
	ServiceOverlord:      {mib: 512, share: 0.20},
	ServiceBroker:        {mib: 1024, share: 0.35},
	ServiceRouter:        {mib: 512, share: 0.10},
	ServiceHistorical:    {mib: 1024, share: 0.35},
	ServiceMiddleManager: {mib: 256, share: 0.05},
}

// ServiceRuntimeProperties returns a Druid service's runtime.properties: druid.service, its
// port (druid.plaintextPort, or druid.tlsPort with TLS), the service's defaults, then the
// group's runtimeProperties, then the service's own (druidServices.<service>.runtimeProperties;
// the user wins) except operator-owned keys, which are dropped and returned (the service's as
// "<service>: <key>"). A druid.extensions.loadList there, which replaces the common one for the
// service, is merged with the required extensions as in CommonRuntimeProperties.
func ServiceRuntimeProperties(c *implyv1alpha1.ImplyCluster, g *implyv1alpha1.NodeGroupSpec, svc Service) (map[string]string, []string) {
	tls := TLSEnabled(c)
	p := map[string]string{"druid.service": "druid/" + svc.Name}
	if tls {
		p["druid.tlsPort"] = itoa(svc.TLSPort)
	} else {
		p["druid.plaintextPort"] = itoa(svc.PlaintextPort)
	}
	switch svc.Name {
	case ServiceCoordinator:
		p["druid.coordinator.startDelay"] = "PT10S"
		p["druid.coordinator.period"] = "PT30S"
		p["druid.coordinator.asOverlord.enabled"] = "false"
	case ServiceOverlord:
		p["druid.indexer.queue.startDelay"] = "PT5S"
		p["druid.indexer.runner.type"] = "remote"
		p["druid.indexer.storage.type"] = "metadata"
	case ServiceBroker:
		setProcessing(p, "", brokerProcessingThreads)
		p["druid.broker.http.numConnections"] = "10"
	case ServiceHistorical:
		setProcessing(p, "", historicalProcessingThreads)
		tier := g.Tier
		if tier == "" {
			tier = DefaultTier
		}
		p["druid.server.tier"] = tier
		loc := map[string]any{"path": SegmentCachePath}
		if g.Storage != nil && !g.Storage.Size.IsZero() {
			loc["maxSize"] = int64(float64(g.Storage.Size.Value()) * segmentCacheShare)
		}
		p["druid.segmentCache.locations"] = mustJSON([]map[string]any{loc})
	case ServiceMiddleManager:
		p["druid.worker.capacity"] = itoa(defaultWorkerCapacity)
		p["druid.indexer.runner.startPort"] = itoa(PeonPort(tls))
		p["druid.indexer.runner.endPort"] = itoa(PeonPort(tls) + PeonPortCount - 1)
		p["druid.indexer.task.baseTaskDir"] = TaskDirPath
		p["druid.indexer.runner.javaOptsArray"] = mustJSON(jvmOptions(peonHeapMiB,
			directMemoryMiB(defaultProcessingBufferSize, peonProcessingThreads, defaultMergeBuffers)))
		setProcessing(p, "druid.indexer.fork.property.", peonProcessingThreads)
	case ServiceRouter:
		p["druid.router.managementProxy.enabled"] = "true"
		p["druid.router.defaultBrokerServiceName"] = "druid/" + ServiceBroker
		p["druid.router.coordinatorServiceName"] = "druid/" + ServiceCoordinator
	}
	ignored := applyUserProperties(p, g.RuntimeProperties, Extensions(c))
	if own, ok := g.DruidServices[svc.Name]; ok {
		for _, k := range applyUserProperties(p, own.RuntimeProperties, Extensions(c)) {
			ignored = append(ignored, svc.Name+": "+k)
		}
	}
	return p, ignored
}

// setProcessing sets the processing buffer, merge buffers, threads and tmpDir, each key prefixed.
func setProcessing(p map[string]string, prefix string, threads int) {
	p[prefix+"druid.processing.buffer.sizeBytes"] = strconv.FormatInt(defaultProcessingBufferSize, 10)
	p[prefix+"druid.processing.numMergeBuffers"] = itoa(defaultMergeBuffers)
	p[prefix+"druid.processing.numThreads"] = itoa(threads)
	p[prefix+"druid.processing.tmpDir"] = ProcessingTmpDirPath
}

// ServiceJVMConfig is JVMConfig followed by the service's druidServices.<service>.jvmOptions,
// which win (the JVM takes the last): with a -Xmx among them the operator's -Xms and -Xmx are
// left out. An option the operator owns (see ownedJVMOption) is dropped and returned as
// "<service>: <option name>".
func ServiceJVMConfig(g *implyv1alpha1.NodeGroupSpec, svc Service, props map[string]string) (string, []string) {
	base := JVMConfig(g, svc, props)
	own, ok := g.DruidServices[svc.Name]
	if !ok || len(own.JVMOptions) == 0 {
		return base, nil
	}
	user, dropped := filterJVMOptions(svc.Name, own.JVMOptions)
	opts := strings.Split(strings.TrimSuffix(base, "\n"), "\n")
	if slices.ContainsFunc(user, func(o string) bool { return strings.HasPrefix(o, "-Xmx") }) {
		opts = slices.DeleteFunc(opts, func(o string) bool { return strings.HasPrefix(o, "-Xmx") || strings.HasPrefix(o, "-Xms") })
	}
	return strings.Join(append(opts, user...), "\n") + "\n", dropped
}

// JVMConfig renders a Druid service's jvm.config, one option a line. The heap (-Xms = -Xmx) is
// the service's share of the container's memory (limit, else request), or its default size
// when the group sets no memory (see serviceHeaps). -XX:MaxDirectMemorySize covers the processing
// buffers the service's final properties ask for, buffer.sizeBytes × (numThreads +
// numMergeBuffers + 1), plus 128m.
func JVMConfig(g *implyv1alpha1.NodeGroupSpec, svc Service, props map[string]string) string {
	direct := int64(baseDirectMemoryMiB)
	if svc.Name == ServiceBroker || svc.Name == ServiceHistorical {
		threads := brokerProcessingThreads
		if svc.Name == ServiceHistorical {
			threads = historicalProcessingThreads
		}
		size, ok := parseDruidBytes(props["druid.processing.buffer.sizeBytes"])
		if !ok {
			size = defaultProcessingBufferSize
		}
		direct = directMemoryMiB(size, atoiOr(props["druid.processing.numThreads"], threads),
			atoiOr(props["druid.processing.numMergeBuffers"], defaultMergeBuffers))
	}
	return strings.Join(jvmOptions(heapMiB(g, svc), direct), "\n") + "\n"
}

// jvmOptions are the options of every Druid JVM, peons included.
func jvmOptions(heapMiB, directMiB int64) []string {
	return []string{
		"-server",
		fmt.Sprintf("-Xms%dm", heapMiB),
		fmt.Sprintf("-Xmx%dm", heapMiB),
		fmt.Sprintf("-XX:MaxDirectMemorySize=%dm", directMiB),
		"-XX:+ExitOnOutOfMemoryError",
		"-Duser.timezone=UTC",
		"-Dfile.encoding=UTF-8",
		"-Djava.io.tmpdir=" + TmpDirPath,
		"-Djava.util.logging.manager=org.apache.logging.log4j.jul.LogManager",
	}
}

// heapMiB is the heap of a Druid service of the group (see serviceHeaps).
func heapMiB(g *implyv1alpha1.NodeGroupSpec, svc Service) int64 {
	h, ok := serviceHeaps[svc.Name]
	if !ok {
		h = serviceHeap{mib: 1024, share: 0.25}
	}
	mem := g.Resources.Limits[corev1.ResourceMemory]
	if mem.IsZero() {
		mem = g.Resources.Requests[corev1.ResourceMemory]
	}
	if mem.IsZero() {
		return h.mib
	}
	return max(int64(float64(mem.Value())*h.share)/mib, minHeapMiB)
}

// directMemoryMiB is the base direct memory plus buffer × (threads + merge buffers + 1), in MiB
// rounded up.
func directMemoryMiB(bufferBytes int64, threads, mergeBuffers int) int64 {
	need := bufferBytes * int64(threads+mergeBuffers+1)
	return baseDirectMemoryMiB + (need+mib-1)/mib
}

// parseDruidBytes parses Druid's human-readable bytes: a plain number, or a number with a
// decimal (K, M, G, T, P) or binary (KiB, MiB, GiB, TiB, PiB) unit, case-insensitive.
func parseDruidBytes(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	units := []struct {
		suffix string
		mult   int64
	}{
		{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40}, {"pib", 1 << 50},
		{"k", 1e3}, {"m", 1e6}, {"g", 1e9}, {"t", 1e12}, {"p", 1e15},
	}
	lower := strings.ToLower(s)
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(lower, u.suffix) {
			mult, lower = u.mult, strings.TrimSuffix(lower, u.suffix)
			break
		}
	}
	n, err := strconv.ParseInt(lower, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, false
	}
	return n * mult, true
}

func atoiOr(s string, def int) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return def
	}
	return n
}

func itoa[T int | int32 | int64](n T) string { return strconv.FormatInt(int64(n), 10) }
