// Command bench measures the operator on the envtest control plane (kube-apiserver + etcd from
// bin/k8s), running the operator binary as its own process and user, as `make bench` does:
//
//	(a) apply -> every owned object and the status, one TLS + auth 3-group cluster at a time
//	(b) the operator's API writes while a restarted operator resyncs unchanged clusters
//	(c) reconciling N clusters against a bare client creating the same objects
//	(d) the operator's peak RSS and CPU at N clusters
//	(e) the agent token's Secret changed -> first StatefulSet patch
//	(HA) two replicas, the leader SIGKILLed mid-rollout: takeover, rollout, the new leader's writes
//	(g) at 1,000 Ready clusters: token Secret -> StatefulSet patch, writes and Druid requests of a restart
//	noise: peak RSS and start-up with other applications' Secrets, ConfigMaps, Services, StatefulSets
//
// Writes are counted from the apiserver's audit log, process figures read from /proc. Results
// are printed and written as JSON for hack/tools/benchplot. -short (or BENCH_SHORT=1) runs a
// small version that only proves the benchmark works.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/imply-operator/imply-operator/test/testenv"
)

// Targets of the issue.
const (
	targetApplyP50      = time.Second
	targetSecretToPatch = time.Second
	// targetPeakRSS is the peak RSS the operator may have at targetPeakRSSClusters (issue #23).
	targetPeakRSS         = 160 << 20
	targetPeakRSSClusters = 1000
)

// results is what one run measured, written as JSON.
type results struct {
	Date         string   `json:"date"`
	Short        bool     `json:"short"`
	Machine      machine  `json:"machine"`
	LoadBefore   string   `json:"loadAverageBefore"`
	LoadAfter    string   `json:"loadAverageAfter"`
	Workers      int      `json:"workers"`
	OperatorArgs []string `json:"operatorArgs"`
	// BareObjectsOnly is -bare-objects-only: the bare client wrote no status and no Events.
	BareObjectsOnly bool            `json:"bareObjectsOnly,omitempty"`
	Latency         latencyResult   `json:"latency"`
	Resync          resyncResult    `json:"resync"`
	Scale           []scalePoint    `json:"scale"`
	Curve           curve           `json:"curve"`
	Noise           *noiseResult    `json:"noise,omitempty"`
	Reaction        *reactionResult `json:"reaction,omitempty"`
	HA              *haResult       `json:"ha,omitempty"`
	Duration        time.Duration   `json:"durationNanoseconds"`
}

type machine struct {
	CPUs      int    `json:"cpus"`
	Model     string `json:"model"`
	MemTotal  string `json:"memTotal"`
	GoVersion string `json:"goVersion"`
}

func main() {
	short := flag.Bool("short", os.Getenv("BENCH_SHORT") == "1", "Run a small version that only proves the benchmark works (also BENCH_SHORT=1).")
	out := flag.String("out", filepath.Join(testenv.RepoRoot(), "bin", "bench", "results.json"), "Where to write the results as JSON.")
	runs := flag.Int("runs", 20, "(a) clusters applied one after another; 0 skips (a) and (e).")
	rotations := flag.Int("rotations", 10, "(e) token Secret changes, one per cluster of (a).")
	resync := flag.Int("resync", 100, "(b) clusters resynced by a restarted operator; 0 skips (b).")
	scale := flag.String("scale", "100,250,500,1000,2000,3000", "(c, d) numbers of clusters, each on a fresh control plane; empty skips them.")
	bareMax := flag.Int("bare-max", 1000, "(c) the largest scale point at which the bare client runs.")
	bothOrders := flag.Bool("both-orders", true, "(c) also run the bare client first and the operator after it, each on a fresh control plane (-short: false).")
	rounds := flag.Int("rounds", 1, "(c) with -both-orders, run both orders this many times at each point with the bare client, alternating; the ratio is also judged over their summed times.")
	noise := flag.Bool("noise", true, "Run the noise scenario: other applications' objects in the watched namespaces.")
	noiseClusters := flag.Int("noise-clusters", 100, "Clusters of the noise scenario.")
	reactionAt := flag.Int("reaction", 1000, "(g) the scale point whose converged clusters (g) reuses; 0 or a number not in -scale skips it.")
	reactionChanges := flag.Int("reaction-changes", 20, "(g) token Secret changes, each in another namespace.")
	workers := flag.Int("workers", 8, "Requests the benchmark's own client has in flight at once (creating clusters, and as the bare client).")
	operatorArgs := flag.String("operator-args", "", "Extra flags for the operator, space-separated.")
	profileDir := flag.String("profile", "", "Write the operator's CPU (first minute) and heap profiles at each scale point into this directory.")
	bare := flag.Bool("bare", true, "Time the bare client at each scale point; false measures only the operator (no ratio).")
	bareObjectsOnly := flag.Bool("bare-objects-only", false, "(c) The bare client creates the clusters and their objects but writes neither the clusters' status nor the Events about them (as before 2026-12-07), for comparison.")
	flag.Parse()
	if *short {
		*runs, *rotations, *resync, *scale = 3, 2, 10, "10"
		*noiseClusters, *reactionAt, *reactionChanges, *bothOrders, *rounds = 10, 10, 2, false, 1
	}
	if *rounds < 1 {
		fmt.Fprintln(os.Stderr, "bench: -rounds must be at least 1")
		os.Exit(2)
	}
	p := plan{bareMax: *bareMax, bothOrders: *bothOrders, rounds: *rounds, noiseClusters: *noiseClusters, reactionAt: *reactionAt, reactionChanges: *reactionChanges, bareObjectsOnly: *bareObjectsOnly}
	if *noise {
		p.noise = &fullNoise
		if *short {
			p.noise = &shortNoise
		}
	}
	points, err := parseInts(*scale)
	if err == nil {
		err = run(*out, *short, *runs, *rotations, *resync, points, *workers, strings.Fields(*operatorArgs), *profileDir, *bare, p)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(out string, short bool, runs, rotations, resync int, points []int, workers int, operatorArgs []string, profileDir string, bare bool, p plan) error {
	// The benchmark's informers log through controller-runtime, rarely.
	ctrllog.SetLogger(zap.New(zap.WriteTo(os.Stderr)))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp("", "imply-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	began := time.Now()
	logf := func(format string, args ...any) {
		fmt.Printf("%6.1fs "+format+"\n", append([]any{time.Since(began).Seconds()}, args...)...)
	}
	res := results{
		Date: time.Now().UTC().Format(time.RFC3339), Short: short, Machine: describeMachine(),
		LoadBefore: loadAverage(), Workers: workers, OperatorArgs: operatorArgs, BareObjectsOnly: p.bareObjectsOnly,
	}
	logf("Machine: %d CPUs (%s), %s, %s; load average %s", res.Machine.CPUs, res.Machine.Model, res.Machine.MemTotal, res.Machine.GoVersion, res.LoadBefore)
	e := env{dir: dir, binary: operatorBinary(dir), workers: workers, operatorArgs: operatorArgs, profileDir: profileDir, bare: bare, bareObjectsOnly: p.bareObjectsOnly, log: logf}
	if profileDir != "" {
		if err := os.MkdirAll(profileDir, 0o755); err != nil {
			return err
		}
	}
	logf("Building the operator")
	if err := buildOperator(e.binary); err != nil {
		return err
	}

	if runs > 0 {
		logf("(a) apply -> objects + status, %d runs; (e) token Secret -> StatefulSet patch, %d runs", runs, rotations)
		if res.Latency, err = runLatency(ctx, e, runs, rotations); err != nil {
			return fmt.Errorf("latency: %w", err)
		}
	}
	if resync > 0 {
		logf("(b) operator restart over %d unchanged clusters", resync)
		if res.Resync, err = runResync(ctx, e, resync); err != nil {
			return fmt.Errorf("resync: %w", err)
		}
	}
	if n := haClusterCount(short); n > 0 {
		logf("(HA) two operator replicas, the leader SIGKILLed mid-rollout of %d clusters", n)
		h, err := runHA(ctx, e, n)
		if err != nil {
			return fmt.Errorf("ha: %w", err)
		}
		res.HA = &h
	}
	if p.noise != nil {
		logf("Noise: %d clusters without, then with other applications' objects", p.noiseClusters)
		nz, err := runNoise(ctx, e, p.noiseClusters, *p.noise)
		if err != nil {
			return fmt.Errorf("noise: %w", err)
		}
		res.Noise = &nz
	}
	if res.Scale, res.Reaction, err = runScalePoints(ctx, e, points, p); err != nil {
		return err
	}
	res.Curve = fitCurve(res.Scale)
	res.LoadAfter, res.Duration = loadAverage(), time.Since(began)
	report(os.Stdout, res)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, append(data, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Printf("Results written to %s\n", out)
	return nil
}

// report prints the results with the targets.
func report(w *os.File, r results) {
	verdict := func(ok bool) string {
		if r.Short {
			return "(short run: no verdict)"
		}
		if ok {
			return "target met"
		}
		return "TARGET MISSED"
	}
	ms := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Results (%s, load average before %s, after %s, %s in all)\n", r.Date, r.LoadBefore, r.LoadAfter, r.Duration.Round(time.Second))
	a := r.Latency.Apply
	if len(a.Samples) > 0 {
		fmt.Fprintf(w, "(a) apply -> %d objects + status over %d runs: p50 %s p95 %s (min %s, max %s); target p50 <= %s: %s\n",
			r.Latency.Objects, len(a.Samples), ms(a.P50), ms(a.P95), ms(a.Min), ms(a.Max), targetApplyP50, verdict(a.P50 <= targetApplyP50))
	}
	rs := r.Resync
	if rs.Clusters > 0 {
		fmt.Fprintf(w, "(b) restart over %d unchanged clusters: %d writes (%s) in %d ImplyCluster reconciles, %s; target 0: %s\n",
			rs.Clusters, total(rs.Writes), describeCounts(rs.Writes), int(rs.Reconciles), ms(rs.Duration), verdict(total(rs.Writes) == 0))
	}
	reportScale(w, r, verdict)
	if e := r.Latency.SecretToPatch; len(e.Samples) > 0 {
		fmt.Fprintf(w, "(e) token Secret -> first StatefulSet patch over %d runs: p50 %s p95 %s (max %s); target p95 <= %s: %s\n",
			len(e.Samples), ms(e.P50), ms(e.P95), ms(e.Max), targetSecretToPatch, verdict(e.P95 <= targetSecretToPatch))
	}
	reportHA(w, r.HA, verdict)
}

// parseInts parses "1,2,3".
func parseInts(list string) ([]int, error) {
	var out []int
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad number of clusters %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// loadAverage is the 1, 5 and 15 minute load averages.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// describeMachine reads the CPU model and memory from /proc.
func describeMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), Model: "unknown", MemTotal: "unknown", GoVersion: runtime.Version()}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.Model = strings.TrimSpace(v)
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && k == "MemTotal" {
				m.MemTotal = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}
