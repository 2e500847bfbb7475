package echo

import (
	"context"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/imply-operator/imply-operator/test/testenv"
)

// heard records the names a controller was asked to reconcile.
type heard struct {
	mu    sync.Mutex
	names map[string]int
}

func (h *heard) Reconcile(_ context.Context, req reconcile.Request) (reconcile.Result, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.names[req.Name]++
	return reconcile.Result{}, nil
}

func (h *heard) count(name string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.names[name]
}

// TestOnlyTheEchoesOfOwnCreatesAreSkippedByARealInformer runs a controller on ConfigMaps with the
// predicate against a real apiserver: the ConfigMaps it creates through the recording client wake
// it for nothing, everyone else's creates and every later change do.
func TestOnlyTheEchoesOfOwnCreatesAreSkippedByARealInformer(t *testing.T) {
	env, cfg, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = env.Stop() }()
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0"})
	if err != nil {
		t.Fatal(err)
	}
	creates := NewCreates(clocktesting.NewFakeClock(time.Now()))
	h := &heard{names: map[string]int{}}
	if err := ctrl.NewControllerManagedBy(mgr).Named("echo").
		For(&corev1.ConfigMap{}, builder.WithPredicates(creates.SkipEchoes())).Complete(h); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = mgr.Start(ctx) }()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		t.Fatal("the cache did not sync")
	}
	own := creates.Client(mgr.GetClient())
	other, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	waitHeard := func(name string, n int) {
		t.Helper()
		if err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
			return h.count(name) >= n, nil
		}); err != nil {
			t.Fatalf("%s was not reconciled %d times: %v", name, n, err)
		}
	}

	for i := range 20 {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "mine-" + string(rune('a'+i))}}
		if err := own.Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
	}
	theirs := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "theirs"}}
	if err := other.Create(ctx, theirs); err != nil {
		t.Fatal(err)
	}
	// The informer delivers events in order: once theirs is heard, every create of mine was.
	waitHeard("theirs", 1)
	for i := range 20 {
		if n := h.count("mine-" + string(rune('a'+i))); n != 0 {
			t.Errorf("mine-%c, created by the recording client, woke the controller %d times", rune('a'+i), n)
		}
	}
	if creates.Len() != 0 {
		t.Errorf("%d creates still wait for an echo that came", creates.Len())
	}

	mine := &corev1.ConfigMap{}
	if err := other.Get(ctx, client.ObjectKey{Namespace: "default", Name: "mine-a"}, mine); err != nil {
		t.Fatal(err)
	}
	mine.Data = map[string]string{"edited": "by someone"}
	if err := other.Update(ctx, mine); err != nil {
		t.Fatal(err)
	}
	waitHeard("mine-a", 1)
}
