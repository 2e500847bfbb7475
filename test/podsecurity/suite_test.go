// Package podsecurity holds the pods the operator builds for an ImplyCluster to the Pod Security
// Standard "restricted" as the real kube-apiserver enforces it (envtest): the cluster is created
// through the CRD, so its defaults and the podSecurityContext fields go through the schema, and
// the StatefulSets, the Deployment and Pods from their templates are created in a namespace
// labelled pod-security.kubernetes.io/enforce=restricted.
package podsecurity

import (
	"context"
	"sync"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/test/testenv"
)

var (
	ctx       context.Context
	cancel    context.CancelFunc
	env       *envtest.Environment
	k8sClient client.Client
	// warnings records the apiserver's warnings to k8sClient's requests.
	warnings = &warningRecorder{}
)

func TestPodSecurity(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Operand Pod Security suite (envtest)")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(GinkgoLogr)
	ctx, cancel = context.WithCancel(context.Background())
	scheme := runtime.NewScheme()
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(implyv1alpha1.AddToScheme(scheme)).To(Succeed())

	var cfg *rest.Config
	var err error
	env, cfg, err = testenv.Start()
	Expect(err).NotTo(HaveOccurred())
	cfg = rest.CopyConfig(cfg)
	cfg.WarningHandlerWithContext = warnings
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	if cancel != nil {
		cancel()
	}
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
})

// warningRecorder keeps the warnings the apiserver sends.
type warningRecorder struct {
	mu       sync.Mutex
	messages []string
}

func (w *warningRecorder) HandleWarningHeaderWithContext(_ context.Context, _ int, _ string, message string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.messages = append(w.messages, message)
}

// during returns the warnings sent while f ran.
func (w *warningRecorder) during(f func()) []string {
	w.mu.Lock()
	start := len(w.messages)
	w.mu.Unlock()
	f()
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.messages[start:]...)
}
