package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/imply-operator/imply-operator/test/testenv"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat: 100 on every Linux
// architecture Go supports.
const clockTicks = 100

// buildOperator builds the operator binary from main.go into path as the image ships it (the
// Dockerfile's and `make build`'s flags): static, without cgo, symbols or DWARF. A default build
// links glibc dynamically (cgo's resolver), which the measured RSS would include.
func buildOperator(path string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", path, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Dir = testenv.RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("while building the operator: %w\n%s", err, out)
	}
	return nil
}

// operatorProcess is the operator binary running against the control plane as its own user.
type operatorProcess struct {
	cmd        *exec.Cmd
	metricsURL string
	// pprofURL is the base of net/http/pprof, empty unless profiling.
	pprofURL string
	logPath  string
	exited   chan struct{}
}

// startOperator runs binary with kubeconfig and waits until its readiness probe answers.
// With profile, the operator also serves net/http/pprof.
func startOperator(ctx context.Context, binary, kubeconfig, logPath string, profile bool, extraArgs ...string) (*operatorProcess, error) {
	metricsPort, err := testenv.FreePort()
	if err != nil {
		return nil, err
	}
	probePort, err := testenv.FreePort()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	args := append([]string{
		fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", metricsPort),
		// The harness scrapes its own loopback endpoint; no scrape should cost a TokenReview.
		"--metrics-secure=false",
		fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", probePort),
	}, extraArgs...)
	pprofURL := ""
	if profile {
		port, err := testenv.FreePort()
		if err != nil {
			return nil, err
		}
		args = append(args, fmt.Sprintf("--pprof-bind-address=127.0.0.1:%d", port))
		pprofURL = fmt.Sprintf("http://127.0.0.1:%d/debug/pprof", port)
	}
	cmd := exec.Command(binary, args...)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KUBECONFIG=") && !strings.HasPrefix(kv, "KUBEBUILDER_ASSETS=") {
			env = append(env, kv)
		}
	}
	env = append(env, "KUBECONFIG="+kubeconfig)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, err
	}
	p := &operatorProcess{
		cmd: cmd, metricsURL: fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort), pprofURL: pprofURL,
		logPath: logPath, exited: make(chan struct{}),
	}
	go func() {
		_ = cmd.Wait()
		_ = logFile.Close()
		close(p.exited)
	}()
	err = poll(ctx, 50*time.Millisecond, time.Minute, "the operator's readiness probe", func() (bool, error) {
		select {
		case <-p.exited:
			return false, fmt.Errorf("the operator exited at start; the end of its log:\n%s", logTail(logPath, 20))
		default:
		}
		code, _, err := testenv.HTTPGet(fmt.Sprintf("http://127.0.0.1:%d/readyz", probePort))
		return err == nil && code == http.StatusOK, nil
	})
	if err != nil {
		_ = p.stop()
		return nil, err
	}
	return p, nil
}

// stop sends SIGTERM and waits for the process to exit.
func (p *operatorProcess) stop() error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-p.exited:
		return nil
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return errors.New("the operator did not stop within 30s of SIGTERM and was killed")
	}
}

// procUsage is what the kernel accounts to the process.
type procUsage struct {
	// PeakRSS is VmHWM: the highest resident set size so far.
	PeakRSS uint64 `json:"peakRSSBytes"`
	// RSS is VmRSS now.
	RSS uint64 `json:"rssBytes"`
	// RSSAnon and RSSFile split RSS now: the process's own memory (heap, stacks) and the pages of
	// files it maps (the binary's code and read-only data).
	RSSAnon uint64 `json:"rssAnonBytes"`
	RSSFile uint64 `json:"rssFileBytes"`
	// CPU is user + system time so far.
	CPU time.Duration `json:"cpuNanoseconds"`
}

// statusFields are the /proc/<pid>/status lines usage reads, and where each goes.
var statusFields = map[string]func(*procUsage) *uint64{
	"VmHWM":   func(u *procUsage) *uint64 { return &u.PeakRSS },
	"VmRSS":   func(u *procUsage) *uint64 { return &u.RSS },
	"RssAnon": func(u *procUsage) *uint64 { return &u.RSSAnon },
	"RssFile": func(u *procUsage) *uint64 { return &u.RSSFile },
}

// usage reads /proc/<pid>/status and /proc/<pid>/stat.
func (p *operatorProcess) usage() (procUsage, error) {
	pid := p.cmd.Process.Pid
	var u procUsage
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		key, value, ok := strings.Cut(s.Text(), ":")
		field, known := statusFields[key]
		if !ok || !known {
			continue
		}
		kib, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return u, fmt.Errorf("/proc/%d/status %s: %w", pid, key, err)
		}
		*field(&u) = kib * 1024
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return u, err
	}
	u.CPU, err = parseCPU(string(stat))
	return u, err
}

// parseCPU returns utime + stime of a /proc/<pid>/stat line. The command name (field 2) may
// hold spaces, so fields are counted after its closing parenthesis: state is field 3, utime 14
// and stime 15.
func parseCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc stat %q", stat)
	}
	fields := strings.Fields(stat[i+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("malformed /proc stat %q", stat)
	}
	var ticks uint64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("malformed /proc stat %q: %w", stat, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// metricLine matches one sample of the Prometheus text format: name{labels} value.
var metricLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? ([^ ]+)`)

// scrape returns the operator's metrics in the Prometheus text format.
func (p *operatorProcess) scrape(ctx context.Context) (string, error) {
	body, err := get(ctx, p.metricsURL)
	return string(body), err
}

// saveProfile writes the pprof profile at path (such as "heap" or "profile?seconds=30") to file;
// nothing unless the operator was started with profiling.
func (p *operatorProcess) saveProfile(ctx context.Context, path, file string) error {
	if p.pprofURL == "" {
		return nil
	}
	body, err := get(ctx, p.pprofURL+"/"+path)
	if err != nil {
		return fmt.Errorf("while profiling the operator: %w", err)
	}
	return os.WriteFile(file, body, 0o644)
}

// get returns the body of a GET of a loopback URL.
func get(ctx context.Context, url string) ([]byte, error) {
	return getWith(ctx, http.DefaultClient, url)
}

// getWith returns the body of a GET of url through httpClient.
func getWith(ctx context.Context, httpClient *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

// waitQuiet waits until the ImplyCluster controller has reconciled at least minReconciles times,
// every work queue is empty and no controller has reconciled anything for quietFor. It returns
// the ImplyCluster reconciles counted.
//
// It scrapes the metrics twice a quiet period (quietPoll): a scrape at 1,000 clusters gathers
// 46,000 cluster series, about 20 MB of garbage, and scraping every 200 ms raised the peak RSS
// the benchmark reports at 1,000 clusters from 192 to 254 MiB, which no Prometheus does.
func (p *operatorProcess) waitQuiet(ctx context.Context, minReconciles int, quietFor, timeout time.Duration) (float64, error) {
	var (
		last       = -1.0
		since      time.Time
		implyTotal float64
	)
	err := poll(ctx, quietPoll(quietFor), timeout, "the operator to settle", func() (bool, error) {
		select {
		case <-p.exited:
			return false, fmt.Errorf("the operator exited; see %s", p.logPath)
		default:
		}
		m, err := p.scrape(ctx)
		if err != nil {
			return false, err
		}
		implyTotal = sumMetric(m, "controller_runtime_reconcile_total", `controller="implycluster"`)
		all := sumMetric(m, "controller_runtime_reconcile_total")
		if implyTotal < float64(minReconciles) || sumMetric(m, "workqueue_depth") > 0 || sumMetric(m, "controller_runtime_active_workers") > 0 {
			last = -1
			return false, nil
		}
		if all != last {
			last, since = all, time.Now()
			return false, nil
		}
		return time.Since(since) >= quietFor, nil
	})
	return implyTotal, err
}

// quietPoll is how often waitQuiet scrapes to see quietFor without a reconcile: twice in that
// time, and not more often than every 200 ms.
func quietPoll(quietFor time.Duration) time.Duration {
	return max(200*time.Millisecond, quietFor/2)
}

// sumMetric sums the samples of name in a Prometheus text exposition whose labels contain every
// one of labels.
func sumMetric(exposition, name string, labels ...string) float64 {
	var sum float64
	for _, line := range strings.Split(exposition, "\n") {
		m := metricLine.FindStringSubmatch(line)
		if m == nil || m[1] != name {
			continue
		}
		matches := true
		for _, l := range labels {
			if !strings.Contains(m[2], l) {
				matches = false
			}
		}
		if v, err := strconv.ParseFloat(m[3], 64); err == nil && matches {
			sum += v
		}
	}
	return sum
}

// runtimeMemory are the Go runtime's memory gauges that split a peak RSS beyond the heap goal.
var runtimeMemory = []string{
	"go_memstats_heap_inuse_bytes", "go_memstats_heap_idle_bytes", "go_memstats_heap_released_bytes",
	"go_memstats_stack_inuse_bytes", "go_memstats_gc_sys_bytes", "go_memstats_other_sys_bytes", "go_memstats_sys_bytes",
}

// describeRuntimeMemory prints the runtimeMemory gauges of an exposition in MiB.
func describeRuntimeMemory(exposition string) string {
	parts := make([]string, 0, len(runtimeMemory))
	for _, name := range runtimeMemory {
		short := strings.TrimSuffix(strings.TrimPrefix(name, "go_memstats_"), "_bytes")
		parts = append(parts, fmt.Sprintf("%s %.1f", short, mib(uint64(sumMetric(exposition, name)))))
	}
	return strings.Join(parts, ", ") + " MiB"
}

// mib is n bytes in MiB.
func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// operatorBinary is where the benchmark builds the operator.
func operatorBinary(workDir string) string { return filepath.Join(workDir, "imply-operator") }

// logTail is the last n lines of the file at path (the directory is removed when the benchmark
// ends, so errors carry the lines themselves).
func logTail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
