package chaos

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/druid/fakecoordinator"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/simcluster"
	"github.com/imply-operator/imply-operator/test/testenv"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// Names of the campaign's cluster and its objects.
const (
	clusterName = "c"
	tokenName   = "agent-token"
	policyName  = "strict"
	// roleName is a DruidRole, so the operator calls the coordinator in every stage (its
	// periodic resync), through the fault windows too.
	roleName = "chaos-readers"
)

// The clock: the cluster's leaves are valid 4000h and renewed 720h before expiry; the passwords
// live 4000h; the agent token rotates every 5000h. Each time-driven stage restarts the operator
// with its clock further ahead, so exactly that stage's material falls due, as if the months had
// passed (nothing in the spec changes).
var stageOffsets = map[string]time.Duration{
	StageRenewal:   3300 * time.Hour, // leaves issued at 0 are due at 3280h
	StagePasswords: 4100 * time.Hour, // passwords generated at 0 are due at 4000h; leaves not before 6580h
	StageToken:     5100 * time.Hour, // the token generated at 0 is due at 5000h; passwords not before 8100h
}

// expectedRolls is how many times each pod must be replaced in a stage: once per CA rotation
// phase, once for renewed leaves, once for the new token. The password rotation switches the
// internal-client user (one roll) and the admin password (which pods also mount), which the
// operator may apply in one roll or two: at most two.
var expectedRolls = map[string][2]int{StageCA: {3, 3}, StageRenewal: {1, 1}, StagePasswords: {1, 2}, StageToken: {1, 1}}

// druidOrder is the order groups roll in.
var druidOrder = []string{"data", "query", "master", "manager"}

var replicas = map[string]int{"data": 2, "query": 1, "master": 1, "manager": 1}

// Campaign is one run.
type Campaign struct {
	cfg     Config
	rng     *rand.Rand
	rngMu   sync.Mutex
	journal *Journal
	sim     *simcluster.Cluster
	c       client.Client
	cs      kubernetes.Interface
	ns      string
	op      *Operator
	opMu    sync.Mutex
	offset  atomic.Int64
	rec     *Recorder
	ck      *Checker
	co      *Coordinator
	stages  []StageReport
	userRVs map[string]string
}

// StageReport is what one stage took.
type StageReport struct {
	Name          string         `json:"name"`
	Started       time.Time      `json:"started"`
	LastFault     time.Time      `json:"lastFault"`
	Converged     time.Time      `json:"converged"`
	Duration      string         `json:"duration"`
	AfterFaults   string         `json:"convergedAfterLastFault"`
	RestartsByPod map[string]int `json:"restartsByPod"`
	Sequence      []string       `json:"groupSequence"`
}

func (cp *Campaign) between(lo, hi time.Duration) time.Duration {
	cp.rngMu.Lock()
	defer cp.rngMu.Unlock()
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(cp.rng.Int63n(int64(hi-lo)))
}

func (cp *Campaign) float() float64 {
	cp.rngMu.Lock()
	defer cp.rngMu.Unlock()
	return cp.rng.Float64()
}

// Run runs the campaign and returns its report; an error means it could not run (the cluster
// did not start), not that an invariant broke (those are the report's violations).
func Run(ctx context.Context, cfg Config, logf func(string, ...any)) (*Report, error) {
	cp := &Campaign{cfg: cfg, rng: rand.New(rand.NewSource(cfg.Seed)), journal: NewJournal(logf)}
	began := time.Now()
	cp.journal.Add(KindNote, "%s form, seed %d (replay: CHAOS_SEED=%d)", cfg.Form, cfg.Seed, cfg.Seed)
	if err := cp.setUp(ctx); err != nil {
		cp.tearDown()
		return nil, err
	}
	defer cp.tearDown()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go cp.supervise(runCtx)
	if err := cp.baseline(runCtx); err != nil {
		return cp.report(began), err
	}
	go cp.ck.Run(runCtx)
	cp.rec.OnSecret = cp.judgeSecret
	for _, s := range []struct {
		name    string
		trigger func(context.Context) (func(context.Context) bool, error)
	}{
		{StageCA, cp.rotateCA}, {StageRenewal, cp.advanceClock(StageRenewal, leafSerials)},
		{StagePasswords, cp.advanceClock(StagePasswords, passwords)}, {StageToken, cp.advanceClock(StageToken, tokenValue)},
	} {
		if err := cp.stage(runCtx, s.name, s.trigger); err != nil {
			return cp.report(began), err
		}
	}
	cp.quietRestart(runCtx)
	cp.checkUserSecrets(runCtx)
	return cp.report(began), nil
}

func (cp *Campaign) setUp(ctx context.Context) error {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, implyv1alpha1.AddToScheme, cmv1.AddToScheme} {
		if err := add(scheme); err != nil {
			return err
		}
	}
	var err error
	if cp.sim, err = simcluster.Start(ctx, simcluster.Options{}); err != nil {
		return err
	}
	if _, err = envtest.InstallCRDs(cp.sim.Config, envtest.CRDInstallOptions{
		Paths: []string{filepath.Join(testenv.RepoRoot(), "config", "crd", "bases")}, ErrorIfPathMissing: true,
	}); err != nil {
		return err
	}
	if cp.c, err = client.New(cp.sim.Config, client.Options{Scheme: scheme}); err != nil {
		return err
	}
	if cp.cs, err = kubernetes.NewForConfig(cp.sim.Config); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "chaos-")
	if err != nil {
		return err
	}
	if cp.op, err = BuildOperator(dir, cp.sim.KubeconfigPath); err != nil {
		return err
	}
	cp.journal.Add(KindNote, "operator log: %s", cp.op.LogPath())
	return cp.op.Start()
}

func (cp *Campaign) tearDown() {
	if cp.co != nil {
		cp.co.Close()
	}
	cp.opMu.Lock()
	if cp.op != nil {
		_ = cp.op.Stop(syscall.SIGTERM)
	}
	cp.opMu.Unlock()
	if cp.sim != nil {
		_ = cp.sim.Stop()
	}
}

// supervise restarts the operator when it exits by itself (as a Deployment would): one started
// while the apiserver is down cannot build its clients and exits.
func (cp *Campaign) supervise(ctx context.Context) {
	for ctx.Err() == nil {
		sleep(ctx, time.Second)
		cp.opMu.Lock()
		if ctx.Err() == nil && !cp.op.Running() {
			_ = cp.op.Stop(syscall.SIGKILL)
			cp.journal.Add(KindNote, "the operator had exited by itself; started again")
			if err := cp.op.Start(); err != nil {
				cp.journal.Add(KindNote, "starting the operator: %v", err)
			}
		}
		cp.opMu.Unlock()
	}
}

// kill SIGKILLs the operator and starts it again at once, with the clock offset of now.
func (cp *Campaign) kill(why string) {
	cp.opMu.Lock()
	defer cp.opMu.Unlock()
	err := cp.op.Stop(syscall.SIGKILL)
	cp.op.Offset = time.Duration(cp.offset.Load())
	cp.journal.Add(KindKill, "SIGKILL the operator (%s)%s; restarted with clock offset %s", why, errSuffix(err), cp.op.Offset)
	if err := cp.op.Start(); err != nil {
		cp.journal.Add(KindNote, "starting the operator: %v", err)
	}
}

func errSuffix(err error) string {
	if err != nil {
		return " (" + err.Error() + ")"
	}
	return ""
}

// baseline creates the secured cluster (TLS, Druid basic security, agent token, password
// policy), starts the coordinator once the generated passwords exist, and waits until it has
// converged.
func (cp *Campaign) baseline(ctx context.Context) error {
	cp.journal.SetStage(StageBaseline)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "chaos-"}}
	if err := cp.c.Create(ctx, ns); err != nil {
		return err
	}
	cp.ns = ns.Name
	cp.rec = NewRecorder(cp.cs, cp.ns, replicas, cp.journal)
	if err := cp.rec.Start(ctx); err != nil {
		return err
	}
	cp.userRVs = map[string]string{}
	for _, s := range testobj.Secrets(cp.ns) {
		if err := cp.c.Create(ctx, s); err != nil {
			return err
		}
		cp.userRVs[s.Name] = s.ResourceVersion
	}
	lifetime, period := metav1.Duration{Duration: 4000 * time.Hour}, metav1.Duration{Duration: 5000 * time.Hour}
	objs := []client.Object{
		&implyv1alpha1.SecurityPolicy{ObjectMeta: metav1.ObjectMeta{Name: policyName, Namespace: cp.ns},
			Spec: implyv1alpha1.SecurityPolicySpec{Password: implyv1alpha1.PasswordPolicy{MinLength: 16, Lifetime: &lifetime, History: 3}}},
		&implyv1alpha1.AuthToken{ObjectMeta: metav1.ObjectMeta{Name: tokenName, Namespace: cp.ns},
			Spec: implyv1alpha1.AuthTokenSpec{Type: implyv1alpha1.AuthTokenType("Agent"), Rotation: &implyv1alpha1.RotationSpec{Period: period}}},
	}
	objs = append(objs, &implyv1alpha1.DruidRole{ObjectMeta: metav1.ObjectMeta{Name: roleName, Namespace: cp.ns},
		Spec: implyv1alpha1.DruidRoleSpec{ClusterRef: implyv1alpha1.LocalObjectReference{Name: clusterName},
			Permissions: []implyv1alpha1.DruidPermission{{Resource: implyv1alpha1.DruidResource{Type: "DATASOURCE", Name: ".*"}, Action: "READ"}}}})
	ic := testobj.ImplyCluster(clusterName, cp.ns, testobj.WithAuth(tokenName, policyName))
	ic.Spec.Security.TLS.Certificate = implyv1alpha1.CertificateSpec{Validity: &metav1.Duration{Duration: 4000 * time.Hour}, RenewBefore: &metav1.Duration{Duration: 720 * time.Hour}}
	objs = append(objs, ic)
	for _, o := range objs {
		if err := cp.c.Create(ctx, o); err != nil {
			return fmt.Errorf("while creating %T %s: %w", o, o.GetName(), err)
		}
	}
	if err := poll(ctx, 2*time.Minute, func() bool { return cp.rec.Latest(specs.DruidCredentialsName(clusterName)) != nil }); err != nil {
		return fmt.Errorf("the generated Druid credentials did not appear: %w", err)
	}
	var err error
	if cp.co, err = StartCoordinator(cp.rec, clusterName, 100); err != nil {
		return err
	}
	port := cp.co.URL[len("https://127.0.0.1:"):]
	patch, _ := json.Marshal(map[string]any{"spec": map[string]any{"druid": map[string]any{"apiURL": "https://" + coordinatorHost + ":" + port}}})
	if err := cp.c.Patch(ctx, ic, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return err
	}
	cp.ck = NewChecker(cp.cs, cp.c, cp.ns, clusterName, tokenName, cp.rec, cp.journal, &cp.offset)
	if err := cp.waitConverged(ctx, 3*time.Minute, nil); err != nil {
		return fmt.Errorf("the cluster did not converge before the faults: %w", err)
	}
	for name := range cp.userRVs {
		var s corev1.Secret
		if err := cp.c.Get(ctx, client.ObjectKey{Namespace: cp.ns, Name: name}, &s); err != nil {
			return err
		}
		cp.userRVs[name] = s.ResourceVersion
	}
	cp.journal.Add(KindNote, "converged: %d Secrets in %s", len(cp.rec.History()), cp.ns)
	return nil
}

func poll(ctx context.Context, timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s", timeout)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		sleep(ctx, 250*time.Millisecond)
	}
	return nil
}

// waitConverged waits until the checker says the cluster converged, done (when given) holds and
// no running pod mounts an operator Secret older than its latest version. The last matters
// between a reconcile's write of new material and its status: the status still says Ready and
// Idle from before, and a judge that trusted it alone would call a rotation converged before
// any pod rolled.
func (cp *Campaign) waitConverged(ctx context.Context, bound time.Duration, done func(context.Context) bool) error {
	var why string
	err := poll(ctx, bound, func() bool {
		callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		var ok bool
		ok, why = cp.ck.Converged(callCtx)
		if ok && done != nil && !done(callCtx) {
			ok, why = false, "the stage's change is not complete"
		}
		if ok {
			ok, why = cp.mountsCurrent(callCtx)
		}
		return ok
	})
	if err != nil {
		return fmt.Errorf("%w: %s", err, why)
	}
	return nil
}

// mountsCurrent is whether every running pod mounts the latest version of the operator Secrets
// it runs with, and if not, why.
func (cp *Campaign) mountsCurrent(ctx context.Context) (bool, string) {
	stale, err := cp.staleMounts(ctx)
	if err != nil {
		return false, "pods: " + err.Error()
	}
	if len(stale) > 0 {
		return false, fmt.Sprintf("pod %s runs Secret %s as it was before its last change (and %d more)", stale[0].pod, stale[0].secret, len(stale)-1)
	}
	return true, ""
}

// stage triggers one change, strikes it with the faults of the config, and waits until it has
// converged; then it judges the stage's pod history and what the pods run.
func (cp *Campaign) stage(ctx context.Context, name string, trigger func(context.Context) (func(context.Context) bool, error)) error {
	cp.journal.SetStage(name)
	sr := StageReport{Name: name, Started: time.Now()}
	done, err := trigger(ctx)
	if err != nil {
		return fmt.Errorf("while starting stage %s: %w", name, err)
	}
	var wg sync.WaitGroup
	var lastMu sync.Mutex
	last := time.Now()
	mark := func() {
		lastMu.Lock()
		last = time.Now()
		lastMu.Unlock()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < cp.cfg.KillsPerStage && ctx.Err() == nil; i++ {
			sleep(ctx, cp.between(cp.cfg.KillGap[0], cp.cfg.KillGap[1]))
			cp.kill(fmt.Sprintf("%d of %d in %s", i+1, cp.cfg.KillsPerStage, name))
			mark()
		}
	}()
	for _, r := range []struct {
		proc   string
		stages []string
	}{{"kube-apiserver", cp.cfg.APIServerRestarts}, {"etcd", cp.cfg.EtcdRestarts}} {
		if !contains(r.stages, name) {
			continue
		}
		wg.Add(1)
		go func(proc string) {
			defer wg.Done()
			sleep(ctx, cp.between(0, 4*time.Second))
			began := time.Now()
			err := cp.sim.Restart(ctx, proc, syscall.SIGKILL)
			cp.journal.Add(KindRestart, "%s SIGKILLed at %s and serving again after %s%s", proc,
				began.UTC().Format("15:04:05.000"), time.Since(began).Round(time.Millisecond), errSuffix(err))
			mark()
		}(r.proc)
	}
	if contains(cp.cfg.FaultStages, name) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sleep(ctx, cp.between(0, 2*time.Second))
			length := cp.between(cp.cfg.FaultWindow[0], cp.cfg.FaultWindow[1])
			f := &fakecoordinator.Faults{Status5xx: 0.3, Timeout: 0.1, Reset: 0.3, TimeoutDelay: 11 * time.Second, Draw: cp.float}
			began := time.Now()
			cp.co.SetFaults(f)
			sleep(ctx, length)
			cp.co.SetFaults(nil)
			cp.journal.Add(KindFaultWindow, "coordinator faults from %s for %s (30%% 503, 10%% 11 s delays, 30%% resets): injected %v",
				began.UTC().Format("15:04:05.000"), length.Round(time.Millisecond), f.Injected)
			mark()
		}()
	}
	wg.Wait()
	sr.LastFault = last
	if err := cp.waitConverged(ctx, cp.cfg.ConvergeBound, done); err != nil {
		cp.journal.Violation("converge-"+name, "stage %s did not converge within %s of its last fault: %v", name, cp.cfg.ConvergeBound, err)
		return fmt.Errorf("stage %s did not converge: %w", name, err)
	}
	sr.Converged = time.Now()
	sr.Duration = sr.Converged.Sub(sr.Started).Round(time.Millisecond).String()
	sr.AfterFaults = sr.Converged.Sub(sr.LastFault).Round(time.Millisecond).String()
	time.Sleep(2 * time.Second) // trailing pod events of the last roll
	sr.RestartsByPod, sr.Sequence = cp.rec.Rolls(name), cp.rec.Sequence(name)
	cp.stages = append(cp.stages, sr)
	cp.judgeRolls(name, sr)
	cp.judgeMounted(ctx, name)
	if name == StagePasswords || name == StageToken {
		cp.judgePasswords(ctx, name)
	}
	cp.journal.Add(KindStage, "converged in %s (%s after the last fault); restarts by pod %v; groups %v", sr.Duration, sr.AfterFaults, sr.RestartsByPod, sr.Sequence)
	return nil
}

// rotateCA asks for a CA rotation; it is done when the CA Secret records it and holds a new CA.
func (cp *Campaign) rotateCA(ctx context.Context) (func(context.Context) bool, error) {
	before := cp.rec.Latest(specs.CASecretName(clusterName))
	value := fmt.Sprintf("chaos-%d", cp.cfg.Seed)
	var ic implyv1alpha1.ImplyCluster
	if err := cp.c.Get(ctx, client.ObjectKey{Namespace: cp.ns, Name: clusterName}, &ic); err != nil {
		return nil, err
	}
	patch := client.MergeFrom(ic.DeepCopy())
	if ic.Annotations == nil {
		ic.Annotations = map[string]string{}
	}
	ic.Annotations[implyv1alpha1.AnnotationRotateCA] = value
	if err := cp.c.Patch(ctx, &ic, patch); err != nil {
		return nil, err
	}
	return func(ctx context.Context) bool {
		var ca corev1.Secret
		if err := cp.c.Get(ctx, client.ObjectKey{Namespace: cp.ns, Name: specs.CASecretName(clusterName)}, &ca); err != nil {
			return false
		}
		return ca.Annotations[implyv1alpha1.AnnotationCARotationRequested] == value &&
			string(ca.Data[specs.CACertKey]) != string(before.Data[specs.CACertKey])
	}, nil
}

// fingerprint reads what a stage must change from the apiserver.
type fingerprint func(ctx context.Context, c client.Client, ns string) map[string]string

// advanceClock restarts the operator with its clock at the stage's offset; the stage is done
// when every value fp reads has changed.
func (cp *Campaign) advanceClock(stage string, fp fingerprint) func(context.Context) (func(context.Context) bool, error) {
	return func(ctx context.Context) (func(context.Context) bool, error) {
		before := fp(ctx, cp.c, cp.ns)
		cp.offset.Store(int64(stageOffsets[stage]))
		cp.kill("the clock moves ahead to " + stageOffsets[stage].String())
		return func(ctx context.Context) bool {
			after := fp(ctx, cp.c, cp.ns)
			for k, v := range before {
				if after[k] == "" || after[k] == v {
					return false
				}
			}
			return len(before) > 0
		}, nil
	}
}

func secretData(ctx context.Context, c client.Client, ns, name string) map[string][]byte {
	var s corev1.Secret
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &s); err != nil {
		return nil
	}
	return s.Data
}

// leafSerials are the serial numbers of every leaf.
func leafSerials(ctx context.Context, c client.Client, ns string) map[string]string {
	out := map[string]string{}
	names := []string{specs.ManagerTLSSecretName(clusterName)}
	for _, g := range []string{"master", "query", "data"} {
		names = append(names, specs.GroupTLSSecretName(clusterName, g))
	}
	for _, n := range names {
		block, _ := pem.Decode(secretData(ctx, c, ns, n)[specs.TLSCertKey])
		if block == nil {
			out[n] = ""
			continue
		}
		if cert, err := x509.ParseCertificate(block.Bytes); err == nil {
			out[n] = cert.SerialNumber.String()
		}
	}
	return out
}

// passwords are the generated admin and internal-client passwords (compared, never printed).
func passwords(ctx context.Context, c client.Client, ns string) map[string]string {
	d := secretData(ctx, c, ns, specs.DruidCredentialsName(clusterName))
	return map[string]string{"admin": string(d[specs.DruidAdminPasswordKey]), "internal": string(d[specs.DruidInternalClientPasswordKey])}
}

// tokenValue is the agent token.
func tokenValue(ctx context.Context, c client.Client, ns string) map[string]string {
	return map[string]string{"token": string(secretData(ctx, c, ns, specs.AuthTokenSecretName(tokenName))["auth-token"])}
}
