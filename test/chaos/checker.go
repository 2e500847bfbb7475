package chaos

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// SampleInterval is how often the checker samples the apiserver.
const SampleInterval = 500 * time.Millisecond

// Checker samples the apiserver and judges the invariants that hold at every moment: every
// running pod's leaf verifies against every other running pod's trust bundle, and whether the
// cluster has converged (for the longest non-converged stretch).
type Checker struct {
	cs       kubernetes.Interface
	c        client.Client
	ns       string
	cluster  string
	token    string
	rec      *Recorder
	journal  *Journal
	offset   *atomic.Int64 // the operator's clock offset, in nanoseconds
	leafName func(pod *PodRecord) string

	mu          sync.Mutex
	samples     int
	unavailable int
	unresolved  int
	pairs       int
	converged   bool
	since       time.Time
	longest     time.Duration
	longestAt   time.Time
	lastSample  time.Time
	maxGap      time.Duration
	certs       map[string]*x509.Certificate
	pools       map[string]*x509.CertPool
}

// NewChecker checks cluster (and its agent token) in ns.
func NewChecker(cs kubernetes.Interface, c client.Client, ns, cluster, token string, rec *Recorder, journal *Journal, offset *atomic.Int64) *Checker {
	ck := &Checker{cs: cs, c: c, ns: ns, cluster: cluster, token: token, rec: rec, journal: journal, offset: offset,
		certs: map[string]*x509.Certificate{}, pools: map[string]*x509.CertPool{}, since: time.Now()}
	ck.leafName = func(p *PodRecord) string {
		if p.Group == specs.ComponentManager {
			return specs.ManagerTLSSecretName(cluster)
		}
		return specs.GroupTLSSecretName(cluster, p.Group)
	}
	return ck
}

// Run samples every SampleInterval until ctx ends.
func (ck *Checker) Run(ctx context.Context) {
	ck.mu.Lock()
	ck.converged, ck.since = true, time.Now()
	ck.mu.Unlock()
	t := time.NewTicker(SampleInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			ck.sample(ctx)
		}
	}
}

// runningPod is a running pod with the leaf and bundle it mounts.
type runningPod struct {
	name        string
	leafKey     string
	bundleKey   string
	leafVersion int64
}

func (ck *Checker) sample(ctx context.Context) {
	callCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	pods, err := ck.cs.CoreV1().Pods(ck.ns).List(callCtx, metav1.ListOptions{})
	ck.mu.Lock()
	ck.samples++
	ck.mu.Unlock()
	if err != nil {
		ck.mu.Lock()
		ck.unavailable++
		ck.mu.Unlock()
		return
	}
	ck.mu.Lock()
	if !ck.lastSample.IsZero() && time.Since(ck.lastSample) > ck.maxGap {
		ck.maxGap = time.Since(ck.lastSample)
	}
	ck.lastSample = time.Now()
	ck.mu.Unlock()
	now := time.Now().Add(time.Duration(ck.offset.Load()))
	var running []runningPod
	for i := range pods.Items {
		pod := &pods.Items[i]
		if pod.Status.Phase != corev1.PodRunning || pod.Labels[specs.LabelCluster] != ck.cluster {
			continue
		}
		rec := ck.rec.Pod(pod.UID)
		if rec == nil {
			ck.mu.Lock()
			ck.unresolved++
			ck.mu.Unlock()
			continue
		}
		name := ck.leafName(rec)
		v := ck.rec.VersionAt(name, rec.CreatedRV)
		if v == nil {
			ck.journal.Violation("nomount-"+pod.Name+string(pod.UID), "pod %s runs with no version of Secret %s at its creation (rv %d)", pod.Name, name, rec.CreatedRV)
			continue
		}
		key := fmt.Sprintf("%s@%d", name, v.RV)
		if err := ck.parse(key, v); err != nil {
			ck.journal.Violation("parse-"+key, "pod %s mounts %s whose certificate does not parse: %v", pod.Name, key, err)
			continue
		}
		running = append(running, runningPod{name: pod.Name, leafKey: key, bundleKey: key, leafVersion: v.RV})
	}
	for _, a := range running {
		for _, b := range running {
			if a.name == b.name {
				continue
			}
			ck.mu.Lock()
			ck.pairs++
			leaf, roots := ck.certs[a.leafKey], ck.pools[b.bundleKey]
			ck.mu.Unlock()
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
				ck.journal.Violation("trust-"+a.leafKey+"-"+b.bundleKey,
					"pod %s (leaf %s) is not trusted by pod %s (bundle %s): %v", a.name, a.leafKey, b.name, b.bundleKey, err)
			}
		}
	}
	conv, _ := ck.Converged(callCtx)
	ck.noteConvergence(conv)
}

// parse caches the leaf and the trust bundle of a Secret version.
func (ck *Checker) parse(key string, v *SecretVersion) error {
	ck.mu.Lock()
	defer ck.mu.Unlock()
	if _, ok := ck.certs[key]; ok {
		return nil
	}
	block, _ := pem.Decode(v.Data[specs.TLSCertKey])
	if block == nil {
		return fmt.Errorf("no PEM in %s", specs.TLSCertKey)
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(v.Data[specs.TLSCAKey]) {
		return fmt.Errorf("no CA in %s", specs.TLSCAKey)
	}
	ck.certs[key], ck.pools[key] = leaf, pool
	return nil
}

// noteConvergence tracks the stretches during which the cluster has not converged.
func (ck *Checker) noteConvergence(conv bool) {
	ck.mu.Lock()
	defer ck.mu.Unlock()
	now := time.Now()
	switch {
	case conv && !ck.converged:
		if d := now.Sub(ck.since); d > ck.longest {
			ck.longest, ck.longestAt = d, ck.since
		}
	case !conv && ck.converged:
		ck.since = now
	}
	ck.converged = conv
}

// Converged says whether the cluster is settled: the ImplyCluster Ready with its spec observed,
// no rollout and no restart pending, no CA rotation under way, no pod still terminating, the
// agent token Ready, and the DruidRole converged in the coordinator. The string says what is missing.
func (ck *Checker) Converged(ctx context.Context) (bool, string) {
	var ic implyv1alpha1.ImplyCluster
	if err := ck.c.Get(ctx, client.ObjectKey{Namespace: ck.ns, Name: ck.cluster}, &ic); err != nil {
		return false, err.Error()
	}
	var missing []string
	if ready := meta.FindStatusCondition(ic.Status.Conditions, implyv1alpha1.ConditionReady); ready == nil || ready.Status != metav1.ConditionTrue {
		missing = append(missing, "ImplyCluster not Ready")
	}
	if ic.Status.ObservedGeneration != ic.Generation {
		missing = append(missing, "spec not observed")
	}
	if ic.Status.Rollout == nil || ic.Status.Rollout.Phase != implyv1alpha1.RolloutIdle {
		missing = append(missing, "rollout not Idle")
	}
	if meta.IsStatusConditionTrue(ic.Status.Conditions, implyv1alpha1.ConditionRestartPending) {
		missing = append(missing, "restart pending")
	}
	var ca corev1.Secret
	if err := ck.c.Get(ctx, client.ObjectKey{Namespace: ck.ns, Name: specs.CASecretName(ck.cluster)}, &ca); err != nil {
		missing = append(missing, "CA Secret: "+err.Error())
	}
	// The rotation's phase is an annotation of the bundle ConfigMap (docs/ca-lifecycle.md); the
	// CA Secret no longer carries it.
	var bundle corev1.ConfigMap
	if err := ck.c.Get(ctx, client.ObjectKey{Namespace: ck.ns, Name: specs.CABundleName(ck.cluster)}, &bundle); err != nil {
		missing = append(missing, "CA bundle: "+err.Error())
	} else if p := bundle.Annotations[implyv1alpha1.AnnotationCARotationPhase]; p != "" {
		missing = append(missing, "CA rotation in phase "+p)
	}
	var tok implyv1alpha1.AuthToken
	if err := ck.c.Get(ctx, client.ObjectKey{Namespace: ck.ns, Name: ck.token}, &tok); err != nil {
		missing = append(missing, "AuthToken: "+err.Error())
	} else if !meta.IsStatusConditionTrue(tok.Status.Conditions, implyv1alpha1.ConditionReady) {
		missing = append(missing, "AuthToken not Ready")
	}
	var pods corev1.PodList
	if err := ck.c.List(ctx, &pods, client.InNamespace(ck.ns)); err != nil {
		missing = append(missing, "pods: "+err.Error())
	}
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			missing = append(missing, "pod "+p.Name+" still terminating")
		}
	}
	var role implyv1alpha1.DruidRole
	if err := ck.c.Get(ctx, client.ObjectKey{Namespace: ck.ns, Name: roleName}, &role); err != nil {
		missing = append(missing, "DruidRole: "+err.Error())
	} else if !meta.IsStatusConditionTrue(role.Status.Conditions, implyv1alpha1.ConditionReady) || role.Status.ObservedGeneration != role.Generation {
		missing = append(missing, "DruidRole not Ready")
	}
	return len(missing) == 0, strings.Join(missing, ", ")
}

// Stats are the checker's counters.
type Stats struct {
	Samples            int `json:"samples"`
	UnavailableSamples int `json:"unavailableSamples"`
	UnresolvedPods     int `json:"unresolvedPodSamples"`
	PairsVerified      int `json:"pairsVerified"`
	// MaxSampleGap is the longest time between two samples the apiserver answered (a control-
	// plane restart makes the longest ones).
	MaxSampleGap       time.Duration `json:"maxSampleGapNs"`
	LongestUnconverged time.Duration `json:"longestNonConvergedNs"`
	LongestFrom        time.Time     `json:"longestNonConvergedFrom"`
}

// Stats returns the counters so far.
func (ck *Checker) Stats() Stats {
	ck.mu.Lock()
	defer ck.mu.Unlock()
	longest, from := ck.longest, ck.longestAt
	if !ck.converged {
		if d := time.Since(ck.since); d > longest {
			longest, from = d, ck.since
		}
	}
	return Stats{Samples: ck.samples, UnavailableSamples: ck.unavailable, UnresolvedPods: ck.unresolved,
		PairsVerified: ck.pairs, MaxSampleGap: ck.maxGap, LongestUnconverged: longest, LongestFrom: from}
}
