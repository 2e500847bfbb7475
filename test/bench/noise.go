package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Targets of the noise scenario: what other applications' objects may cost the operator.
const (
	targetNoiseRSS     = 32 << 20
	targetNoiseStartup = 2 * time.Second
)

// helmReleaseBytes is the data of a Helm-release-like Secret: just under the apiserver's and
// etcd's request limits (1.5 MiB in etcd, 3 MiB for a request body) once encoded.
const helmReleaseBytes = 1_000_000

// noiseAppLabel is the label of other applications' objects.
const noiseAppLabel = "app"

// noiseSpec is how many objects of other applications the watched namespaces hold.
type noiseSpec struct {
	Secrets int `json:"secrets"`
	// BigSecrets of the Secrets are Helm release Secrets of helmReleaseBytes each.
	BigSecrets   int `json:"bigSecrets"`
	ConfigMaps   int `json:"configMaps"`
	Services     int `json:"services"`
	StatefulSets int `json:"statefulSets"`
}

// fullNoise and shortNoise are the noise of the full and the short run.
var (
	fullNoise  = noiseSpec{Secrets: 20000, BigSecrets: 500, ConfigMaps: 20000, Services: 2000, StatefulSets: 500}
	shortNoise = noiseSpec{Secrets: 200, BigSecrets: 5, ConfigMaps: 200, Services: 20, StatefulSets: 5}
)

// noiseObjects are the objects of spec spread round-robin over namespaces. None has an operator
// label, an owner reference or a name any cluster references.
func noiseObjects(spec noiseSpec, namespaces []string) []client.Object {
	var objs []client.Object
	ns := func(i int) string { return namespaces[i%len(namespaces)] }
	// One buffer for every release: neither etcd, the apiserver nor a client shares equal bytes.
	release := randomBytes(helmReleaseBytes)
	for i := 0; i < spec.Secrets; i++ {
		if i < spec.BigSecrets {
			name := fmt.Sprintf("app-%d", i)
			objs = append(objs, &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("sh.helm.release.v1.%s.v1", name), Namespace: ns(i),
					Labels: map[string]string{"owner": "helm", "name": name, "status": "deployed", "version": "1"}},
				Type: "helm.sh/release.v1",
				// Random bytes, as incompressible as a gzipped release.
				Data: map[string][]byte{"release": release},
			})
			continue
		}
		objs = append(objs, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("other-secret-%d", i), Namespace: ns(i), Labels: map[string]string{noiseAppLabel: fmt.Sprintf("other-%d", i%50)}},
			Data:       map[string][]byte{"password": randomBytes(32), "config": randomBytes(512)},
		})
	}
	for i := 0; i < spec.ConfigMaps; i++ {
		objs = append(objs, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("other-config-%d", i), Namespace: ns(i), Labels: map[string]string{noiseAppLabel: fmt.Sprintf("other-%d", i%50)}},
			Data:       map[string]string{"app.properties": fmt.Sprintf("%0512d", i)},
		})
	}
	for i := 0; i < spec.Services; i++ {
		labels := map[string]string{noiseAppLabel: fmt.Sprintf("other-%d", i)}
		objs = append(objs, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("other-svc-%d", i), Namespace: ns(i), Labels: labels},
			Spec:       corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Name: "http", Port: 8080}}},
		})
	}
	for i := 0; i < spec.StatefulSets; i++ {
		labels := map[string]string{noiseAppLabel: fmt.Sprintf("other-%d", i)}
		objs = append(objs, &appsv1.StatefulSet{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("other-sts-%d", i), Namespace: ns(i), Labels: labels},
			Spec: appsv1.StatefulSetSpec{
				Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{
						Name: "app", Image: "registry.example/other/app:1.0", Args: []string{"--port=8080"},
						Env: []corev1.EnvVar{{Name: "APP", Value: labels[noiseAppLabel]}},
					}}},
				},
			},
		})
	}
	return objs
}

// randomBytes is n random bytes.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// noiseInFlight is how many noise creates are in flight at once: noise is set-up, not measured.
const noiseInFlight = 32

// createNoise creates the noise objects on cp, many at once.
func createNoise(ctx context.Context, cp *controlPlane, objs []client.Object) error {
	return runParallel(len(objs), noiseInFlight, func(i int) error {
		if err := cp.c.Create(ctx, objs[i]); err != nil {
			return fmt.Errorf("while creating noise %T %s/%s: %w", objs[i], objs[i].GetNamespace(), objs[i].GetName(), err)
		}
		return nil
	})
}

// noiseResult is the noise scenario: the same clusters with and without other applications'
// objects in their namespaces, each on a fresh control plane.
type noiseResult struct {
	Clusters int       `json:"clusters"`
	Noise    noiseSpec `json:"noise"`
	// CreateDuration is how long creating the noise took (set-up, not measured against a target).
	CreateDuration time.Duration `json:"createNoiseNanoseconds"`
	Without        noiseRun      `json:"without"`
	With           noiseRun      `json:"with"`
}

// noiseRun is one operator process started over clusters that already exist.
type noiseRun struct {
	// Startup is the operator process started -> the first cluster seen reconciled.
	Startup time.Duration `json:"startupNanoseconds"`
	// All is the operator process started -> the last cluster seen reconciled.
	All time.Duration `json:"allNanoseconds"`
	// Usage is the process once every cluster is reconciled and it is quiet.
	Usage    procUsage `json:"usage"`
	HeapGoal uint64    `json:"heapGoalBytes"`
}

// runNoise measures the operator at n clusters without noise and then with spec's noise.
func runNoise(ctx context.Context, e env, n int, spec noiseSpec) (noiseResult, error) {
	res := noiseResult{Clusters: n, Noise: spec}
	var err error
	if res.Without, _, err = runNoiseOnce(ctx, e, n, nil); err != nil {
		return res, fmt.Errorf("without noise: %w", err)
	}
	e.log("  without noise: start-up %s, all %d reconciled %s, peak RSS %d MiB", res.Without.Startup.Round(time.Millisecond),
		n, res.Without.All.Round(time.Millisecond), res.Without.Usage.PeakRSS>>20)
	if res.With, res.CreateDuration, err = runNoiseOnce(ctx, e, n, &spec); err != nil {
		return res, fmt.Errorf("with noise: %w", err)
	}
	e.log("  with noise: start-up %s, all %d reconciled %s, peak RSS %d MiB", res.With.Startup.Round(time.Millisecond),
		n, res.With.All.Round(time.Millisecond), res.With.Usage.PeakRSS>>20)
	return res, nil
}

// runNoiseOnce starts a fresh control plane, creates the namespaces, their inputs, n clusters and
// (when spec is set) the noise, and only then starts the operator.
func runNoiseOnce(ctx context.Context, e env, n int, spec *noiseSpec) (noiseRun, time.Duration, error) {
	var res noiseRun
	var createDuration time.Duration
	label := "without"
	if spec != nil {
		label = "with"
	}
	ctx, cancel := context.WithCancel(ctx)
	dir := filepath.Join(e.dir, "noise-"+label)
	cp, err := startControlPlane(dir)
	if err != nil {
		cancel()
		return res, 0, err
	}
	// End the watches first, or the apiserver waits for them as it stops.
	defer func() { cancel(); _ = cp.stop() }()
	namespaces, keys := clusterKeys("scale", n)
	if err := runParallel(len(namespaces), e.workers, func(i int) error { return createNamespaceWithInputs(ctx, cp, namespaces[i]) }); err != nil {
		return res, 0, err
	}
	if spec != nil {
		objs := noiseObjects(*spec, namespaces)
		start := time.Now()
		if err := createNoise(ctx, cp, objs); err != nil {
			return res, 0, err
		}
		createDuration = time.Since(start)
		e.log("  noise: %d objects created in %s", len(objs), createDuration.Round(time.Millisecond))
	}
	if err := runParallel(n, e.workers, func(i int) error {
		return cp.c.Create(ctx, benchCluster(keys[i].Name, keys[i].Namespace))
	}); err != nil {
		return res, 0, err
	}
	tr, err := startTracker(ctx, cp)
	if err != nil {
		return res, 0, err
	}
	start := time.Now()
	op, err := startOperator(ctx, e.binary, cp.kubeconfig, filepath.Join(dir, "operator.log"), false, e.operatorArgs...)
	if err != nil {
		return res, 0, err
	}
	defer func() { _ = op.stop() }()
	last, err := tr.waitReconciled(ctx, keys, 30*time.Minute)
	if err != nil {
		return res, 0, err
	}
	res.Startup, res.All = tr.firstReconciled(keys).Sub(start), last.Sub(start)
	if _, err := op.waitQuiet(ctx, n, 2*time.Second, 30*time.Minute); err != nil {
		return res, 0, err
	}
	if res.Usage, err = op.usage(); err != nil {
		return res, 0, err
	}
	metrics, err := op.scrape(ctx)
	if err != nil {
		return res, 0, err
	}
	res.HeapGoal = uint64(sumMetric(metrics, "go_memstats_next_gc_bytes"))
	return res, createDuration, op.stop()
}

// clusterKeys are the namespaces (prefix-000, ...) of clustersPerNamespace clusters c0..c9 each
// and the keys of n clusters in them.
func clusterKeys(prefix string, n int) ([]string, []types.NamespacedName) {
	var namespaces []string
	var keys []types.NamespacedName
	for i := 0; i < n; i++ {
		ns := fmt.Sprintf("%s-%03d", prefix, i/clustersPerNamespace)
		if i%clustersPerNamespace == 0 {
			namespaces = append(namespaces, ns)
		}
		keys = append(keys, types.NamespacedName{Namespace: ns, Name: fmt.Sprintf("c%d", i%clustersPerNamespace)})
	}
	return namespaces, keys
}
