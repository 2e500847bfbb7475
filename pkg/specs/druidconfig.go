package specs

import (
	"fmt"
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
	// defaultHeapMiB is the heap of each Druid JVM when the group sets no memory.
	defaultHeapMiB = 1024
	// minHeapMiB is the smallest heap given to a Druid JVM.
	minHeapMiB  = 128
	peonHeapMiB = 512
)

// ServiceRuntimeProperties returns a Druid service's runtime.properties: druid.service, its
// port (druid.plaintextPort, or druid.tlsPort with TLS), the service's defaults, then the
// group's runtimeProperties (the user wins) except operator-owned keys, which are dropped and
// returned sorted. A druid.extensions.loadList there, which replaces the common one for the
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
	return p, ignored
}

// setProcessing sets the processing buffer, merge buffers, threads and tmpDir, each key prefixed.
func setProcessing(p map[string]string, prefix string, threads int) {
	p[prefix+"druid.processing.buffer.sizeBytes"] = strconv.FormatInt(defaultProcessingBufferSize, 10)
	p[prefix+"druid.processing.numMergeBuffers"] = itoa(defaultMergeBuffers)
	p[prefix+"druid.processing.numThreads"] = itoa(threads)
	p[prefix+"druid.processing.tmpDir"] = ProcessingTmpDirPath
}

// JVMConfig renders a Druid service's jvm.config, one option a line. The heap (-Xms = -Xmx) is
// half the container's memory (limit, else request) shared equally by the group's Druid JVMs,
// or 1g each when the group sets no memory. -XX:MaxDirectMemorySize covers the processing
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
	return strings.Join(jvmOptions(heapMiB(g), direct), "\n") + "\n"
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

// heapMiB is the heap of each Druid JVM of the group.
func heapMiB(g *implyv1alpha1.NodeGroupSpec) int64 {
	mem := g.Resources.Limits[corev1.ResourceMemory]
	if mem.IsZero() {
		mem = g.Resources.Requests[corev1.ResourceMemory]
	}
	if mem.IsZero() {
		return defaultHeapMiB
	}
	jvms := int64(0)
	for _, s := range ServicesFor(g.Type) {
		if s.IsDruid() {
			jvms++
		}
	}
	heap := mem.Value() / 2 / max(jvms, 1) / mib
	return max(heap, minHeapMiB)
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
