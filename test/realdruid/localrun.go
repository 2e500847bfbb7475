// Package realdruid proves the operator's Druid side against a real Apache Druid coordinator
// (fetched from Maven Central by hack/druid/druid.sh): Druid starts on the configuration and
// Secrets an ImplyCluster produced, the operator converges DruidRoles and AuthTokens of type
// Druid on it, rotates the generated admin and internal-client passwords through it, a second
// cluster runs it with TLS 1.3 only and client certificates required, and the fake coordinator's
// conformance suite passes against it.
//
// # The local-run mapping
//
// The coordinator runs on loopback, not in a pod, so LocalRun changes the operator's output in
// these ways only, and each is visible as a commented line in the files it writes:
//
//  1. Paths: every mount path of the group's agent container is re-rooted under Dir/root
//     (/etc/imply/tls -> Dir/root/etc/imply/tls, /var/druid -> Dir/root/var/druid, ...), and so is
//     the local deep-storage path of the spec. The Secrets and ConfigMaps the pod mounts are
//     written there as files (keystore.p12, truststore.p12, the configuration); other volumes
//     become empty directories.
//  2. Hostnames: druid.host is the pod's name in its headless Service
//     (c-master-0.c-master-headless.<ns>.svc, what the Imply agent sets inside a pod, covered by
//     the leaf certificate's SANs) with druid.bindOnHost=true, and the JVM resolves that name, the
//     group's Service names and the machine's own name to 127.0.0.1 through a hosts file
//     (-Djdk.net.hosts.file). Go clients in the test map the same names (mapHostnames).
//  3. Extensions: druid.extensions.loadList loses the extensions that Maven Central as reached
//     from these machines does not serve for the Druid release used (the metadata-store
//     extension, as Derby replaces the store, and simple-client-sslcontext), and
//     druid.extensions.directory points at the fetched distribution. Without
//     simple-client-sslcontext Druid's internal HTTP client has no SSLContext at all ("No
//     sslContext set, cannot do https"): the coordinator's basic-security cache notifications to
//     the services it discovers (itself, announced as overlord) fail and are logged; the
//     coordinator's own API is unaffected (its caches are updated in place), and the
//     druid.client.https.* properties the operator renders are not exercised here.
//
// Everything else is the operator's output as rendered: common.runtime.properties, the
// coordinator's runtime.properties and jvm.config, keystore/truststore and their password, and
// the Druid passwords, which reach Druid only through the environment variables of the pod
// template (resolved from the Secrets they reference) and its environment password provider.
// The metadata store is Derby and ZooKeeper is on loopback because the test's ImplyCluster says
// so (spec.druid.commonRuntimeProperties and spec.druid.zookeeper), not by rewriting.
package realdruid

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// UnservedExtensions are dropped from druid.extensions.loadList (mapping 3): Maven Central as
// reached from these machines serves no build of them for the Druid release hack/druid uses.
var UnservedExtensions = []string{"postgresql-metadata-storage", "mysql-metadata-storage", "simple-client-sslcontext"}

// LocalRun is a coordinator's run directory in the layout hack/druid/druid.sh starts.
type LocalRun struct {
	// Dir is the run directory.
	Dir string
	// Host is druid.host: the pod's name in its headless Service.
	Host string
	// Names are every hostname mapped to 127.0.0.1 (Host and the group's Service names).
	Names []string
	// Env is the coordinator's environment from the pod template, secrets resolved. Never log it.
	Env []string
	// Secrets are the secret values in Env, for leak checks. Never log them.
	Secrets []string
	// JavaOpts are the JVM options the mapping adds (DRUID_EXTRA_JAVA_OPTS); no secrets there.
	JavaOpts string
}

// Prepare writes the run directory of the coordinator of the master group of cluster c into dir
// from the objects the operator made, applying the documented mapping. distribution is
// druid.sh's home (lib/, extensions/).
func Prepare(ctx context.Context, cl client.Client, c *implyv1alpha1.ImplyCluster, group, dir, distribution string) (*LocalRun, error) {
	ns := c.Namespace
	root := filepath.Join(dir, "root")
	run := &LocalRun{Dir: dir}

	var sts appsv1.StatefulSet
	if err := cl.Get(ctx, types.NamespacedName{Namespace: ns, Name: specs.GroupName(c.Name, group)}, &sts); err != nil {
		return nil, fmt.Errorf("while reading the group's StatefulSet: %w", err)
	}
	var agent *corev1.Container
	for i := range sts.Spec.Template.Spec.Containers {
		if sts.Spec.Template.Spec.Containers[i].Name == "agent" {
			agent = &sts.Spec.Template.Spec.Containers[i]
		}
	}
	if agent == nil {
		return nil, fmt.Errorf("StatefulSet %s has no agent container", sts.Name)
	}

	// Mapping 1: materialise the pod's volumes under root, and remember the prefixes to re-root.
	volumes := map[string]corev1.Volume{}
	for _, v := range sts.Spec.Template.Spec.Volumes {
		volumes[v.Name] = v
	}
	var prefixes []string
	for _, m := range agent.VolumeMounts {
		target := filepath.Join(root, m.MountPath)
		prefixes = append(prefixes, m.MountPath)
		if err := os.MkdirAll(target, 0o700); err != nil {
			return nil, err
		}
		v, ok := volumes[m.Name]
		if !ok {
			continue // a volume claim template (the data volume): an empty directory
		}
		files, err := volumeFiles(ctx, cl, ns, v)
		if err != nil {
			return nil, err
		}
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(target, name), data, 0o600); err != nil {
				return nil, err
			}
		}
	}
	if ds := c.Spec.Druid.DeepStorage; ds.Type == "local" && strings.HasPrefix(ds.Path, "/") {
		prefixes = append(prefixes, ds.Path)
		if err := os.MkdirAll(filepath.Join(root, ds.Path), 0o700); err != nil {
			return nil, err
		}
	}
	// Longest first, so /etc/imply/conf/druid/_common wins over /etc/imply/conf/druid.
	sort.Slice(prefixes, func(i, j int) bool { return len(prefixes[i]) > len(prefixes[j]) })
	reroot := func(text string) string {
		for _, p := range prefixes {
			text = strings.ReplaceAll(text, p, filepath.Join(root, p))
		}
		return text
	}

	// The configuration, from the ConfigMaps as the operator rendered them.
	var common, groupCM corev1.ConfigMap
	if err := cl.Get(ctx, types.NamespacedName{Namespace: ns, Name: specs.CommonConfigName(c.Name)}, &common); err != nil {
		return nil, fmt.Errorf("while reading the common ConfigMap: %w", err)
	}
	if err := cl.Get(ctx, types.NamespacedName{Namespace: ns, Name: specs.GroupConfigName(c.Name, group)}, &groupCM); err != nil {
		return nil, fmt.Errorf("while reading the group's ConfigMap: %w", err)
	}
	commonProps, ok := common.Data[specs.CommonRuntimePropertiesKey]
	if !ok {
		return nil, fmt.Errorf("ConfigMap %s has no %s", common.Name, specs.CommonRuntimePropertiesKey)
	}
	coordProps, ok := groupCM.Data[specs.RuntimePropertiesKey(specs.Coordinator)]
	if !ok {
		return nil, fmt.Errorf("ConfigMap %s has no %s", groupCM.Name, specs.RuntimePropertiesKey(specs.Coordinator))
	}
	jvmConfig := groupCM.Data[specs.JVMConfigKey(specs.Coordinator)]

	// Mapping 2: hostnames.
	svc := specs.GroupName(c.Name, group)
	run.Host = fmt.Sprintf("%s-0.%s.%s.svc", svc, specs.HeadlessServiceName(c.Name, group), ns)
	run.Names = []string{run.Host, svc, svc + "." + ns, svc + "." + ns + ".svc", svc + "." + ns + ".svc.cluster.local"}
	hosts := "127.0.0.1 localhost\n"
	if self, err := os.Hostname(); err == nil && self != "" {
		// Druid asks for the machine's own name on some paths (unauthenticated answers).
		hosts += "127.0.0.1 " + self + "\n"
	}
	for _, n := range run.Names {
		hosts += "127.0.0.1 " + n + "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "hosts"), []byte(hosts), 0o600); err != nil {
		return nil, err
	}

	// Mapping 3: extensions.
	loadList, err := loadListWithout(commonProps, UnservedExtensions)
	if err != nil {
		return nil, err
	}
	run.JavaOpts = "-Djdk.net.hosts.file=" + filepath.Join(dir, "hosts")

	mapped := reroot(commonProps) + "\n# --- test/realdruid local-run mapping (see the package documentation) ---\n" +
		"# 2. hostnames\n" +
		"druid.host=" + run.Host + "\n" +
		"druid.bindOnHost=true\n" +
		"# 3. extensions not served by Maven Central here dropped; the fetched distribution\n" +
		specs.LoadListKey + "=" + loadList + "\n" +
		"druid.extensions.directory=" + filepath.Join(distribution, "extensions") + "\n"
	confDir := filepath.Join(dir, "conf", "druid")
	for path, data := range map[string]string{
		filepath.Join(confDir, "_common", "common.runtime.properties"): mapped,
		filepath.Join(confDir, "coordinator", "runtime.properties"):    reroot(coordProps),
		filepath.Join(confDir, "coordinator", "jvm.config"):            reroot(jvmConfig),
	} {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			return nil, err
		}
	}

	// The environment of the pod template, secrets resolved.
	env, secrets, err := resolveEnv(ctx, cl, ns, agent)
	if err != nil {
		return nil, err
	}
	run.Env, run.Secrets = env, secrets
	return run, nil
}

// volumeFiles returns the files a Secret or ConfigMap volume shows in a pod (keys, or items'
// paths); nothing for other volumes.
func volumeFiles(ctx context.Context, cl client.Client, ns string, v corev1.Volume) (map[string][]byte, error) {
	data := map[string][]byte{}
	var items []corev1.KeyToPath
	switch {
	case v.Secret != nil:
		var s corev1.Secret
		if err := cl.Get(ctx, types.NamespacedName{Namespace: ns, Name: v.Secret.SecretName}, &s); err != nil {
			return nil, fmt.Errorf("while reading Secret %s of volume %s: %w", v.Secret.SecretName, v.Name, err)
		}
		for k, b := range s.Data {
			data[k] = b
		}
		items = v.Secret.Items
	case v.ConfigMap != nil:
		var cm corev1.ConfigMap
		if err := cl.Get(ctx, types.NamespacedName{Namespace: ns, Name: v.ConfigMap.Name}, &cm); err != nil {
			return nil, fmt.Errorf("while reading ConfigMap %s of volume %s: %w", v.ConfigMap.Name, v.Name, err)
		}
		for k, s := range cm.Data {
			data[k] = []byte(s)
		}
		for k, b := range cm.BinaryData {
			data[k] = b
		}
		items = v.ConfigMap.Items
	default:
		return nil, nil
	}
	if len(items) == 0 {
		return data, nil
	}
	out := map[string][]byte{}
	for _, it := range items {
		if b, ok := data[it.Key]; ok {
			out[it.Path] = b
		}
	}
	return out, nil
}

// resolveEnv returns the container's environment as NAME=value, reading secretKeyRef values
// (and envFrom Secrets) through cl, and the secret values among them.
func resolveEnv(ctx context.Context, cl client.Client, ns string, ct *corev1.Container) ([]string, []string, error) {
	var env, secrets []string
	read := func(name string) (*corev1.Secret, error) {
		var s corev1.Secret
		if err := cl.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &s); err != nil {
			return nil, fmt.Errorf("while reading Secret %s for the environment: %w", name, err)
		}
		return &s, nil
	}
	for _, from := range ct.EnvFrom {
		if from.SecretRef == nil {
			continue
		}
		s, err := read(from.SecretRef.Name)
		if err != nil {
			return nil, nil, err
		}
		for k, v := range s.Data {
			env = append(env, from.Prefix+k+"="+string(v))
			secrets = append(secrets, string(v))
		}
	}
	for _, e := range ct.Env {
		switch {
		case e.ValueFrom == nil:
			env = append(env, e.Name+"="+e.Value)
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			s, err := read(ref.Name)
			if err != nil {
				return nil, nil, err
			}
			v, ok := s.Data[ref.Key]
			if !ok {
				return nil, nil, fmt.Errorf("the Secret %s has no key %s for %s", ref.Name, ref.Key, e.Name)
			}
			env = append(env, e.Name+"="+string(v))
			secrets = append(secrets, string(v))
		default:
			// Downward-API and ConfigMap references: none of them carries what Druid reads.
		}
	}
	return env, secrets, nil
}

// loadListWithout returns the loadList of the rendered properties without drop, as JSON.
func loadListWithout(props string, drop []string) (string, error) {
	for _, line := range strings.Split(props, "\n") {
		key, value, found := strings.Cut(line, "=")
		if !found || strings.TrimSpace(key) != specs.LoadListKey {
			continue
		}
		var list []string
		if err := json.Unmarshal([]byte(unescapeProperty(value)), &list); err != nil {
			return "", fmt.Errorf("%s is not a JSON list: %w", specs.LoadListKey, err)
		}
		kept := []string{}
		for _, e := range list {
			dropped := false
			for _, d := range drop {
				dropped = dropped || e == d
			}
			if !dropped {
				kept = append(kept, e)
			}
		}
		data, _ := json.Marshal(kept)
		return string(data), nil
	}
	return "", fmt.Errorf("no %s in common.runtime.properties", specs.LoadListKey)
}

// unescapeProperty undoes the backslash escapes of a Java properties value.
func unescapeProperty(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}
