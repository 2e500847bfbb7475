package e2e

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// secretVersion is one version of a leaf Secret: its resourceVersion, leaf and trust bundle.
type secretVersion struct {
	rv     uint64
	leaf   []byte
	bundle []byte
}

// runningPod is a pod in a sample: its group and the resourceVersion it was created at (0 for
// the pods running when the checker started, which run the Secrets as they were then).
type runningPod struct {
	name, group string
	createdRV   uint64
	running     bool
}

// trustChecker watches a cluster's leaf Secrets and pods and samples, at every pod change, the
// pods running. Each pod runs the material its group's Secret held when the pod was created (the
// kubelet mounts it then, and Druid reads keystores at start-up). check then verifies, for every
// sample, every running pod's leaf against every running pod's trust bundle.
type trustChecker struct {
	ns       string
	mu       sync.Mutex
	history  map[string][]secretVersion // by Secret name, in resourceVersion order
	initial  map[string]secretVersion
	pods     map[string]runningPod // by UID
	samples  [][]runningPod
	sampleAt []time.Time
}

// parseRV reads a resourceVersion; etcd's are increasing integers.
func parseRV(rv string) uint64 {
	n, err := strconv.ParseUint(rv, 10, 64)
	Expect(err).NotTo(HaveOccurred(), "resourceVersion %q", rv)
	return n
}

// watchTrust starts a trustChecker for the cluster c in ns until ctx ends.
func watchTrust(ctx context.Context, ns string) *trustChecker {
	t := &trustChecker{ns: ns, history: map[string][]secretVersion{}, initial: map[string]secretVersion{}, pods: map[string]runningPod{}}
	wc, err := client.NewWithWatch(sim.Config, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	var secrets corev1.SecretList
	Expect(wc.List(ctx, &secrets, client.InNamespace(ns))).To(Succeed())
	for i := range secrets.Items {
		s := &secrets.Items[i]
		t.initial[s.Name] = secretVersion{rv: parseRV(s.ResourceVersion), leaf: s.Data[specs.TLSCertKey], bundle: s.Data[specs.TLSCAKey]}
	}
	var pods corev1.PodList
	Expect(wc.List(ctx, &pods, client.InNamespace(ns))).To(Succeed())
	for i := range pods.Items {
		t.observePod(watch.Added, &pods.Items[i], true)
	}
	follow := func(list client.ObjectList, rv string, handle func(watch.Event)) {
		go func() {
			defer GinkgoRecover()
			for ctx.Err() == nil {
				w, err := wc.Watch(ctx, list, client.InNamespace(ns), &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv}})
				if err != nil {
					return
				}
				for ev := range w.ResultChan() {
					if obj, ok := ev.Object.(client.Object); ok {
						rv = obj.GetResourceVersion()
						handle(ev)
					}
				}
				w.Stop()
			}
		}()
	}
	follow(&corev1.SecretList{}, secrets.ResourceVersion, func(ev watch.Event) {
		s, ok := ev.Object.(*corev1.Secret)
		if !ok || ev.Type == watch.Deleted {
			return
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		t.history[s.Name] = append(t.history[s.Name], secretVersion{rv: parseRV(s.ResourceVersion), leaf: s.Data[specs.TLSCertKey], bundle: s.Data[specs.TLSCAKey]})
	})
	follow(&corev1.PodList{}, pods.ResourceVersion, func(ev watch.Event) {
		if pod, ok := ev.Object.(*corev1.Pod); ok {
			t.observePod(ev.Type, pod, false)
		}
	})
	return t
}

// observePod records a pod change and takes a sample of the running pods. A pod first seen
// after the checker started is seen first in its ADDED event, whose resourceVersion is the
// one it was created at.
func (t *trustChecker) observePod(typ watch.EventType, pod *corev1.Pod, initial bool) {
	group := pod.Labels[specs.LabelNodeGroup]
	if _, ok := replicasOfDefault[group]; !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	uid := string(pod.UID)
	p, seen := t.pods[uid]
	if !seen {
		p = runningPod{name: pod.Name, group: group}
		if !initial {
			p.createdRV = parseRV(pod.ResourceVersion)
		}
	}
	p.running = typ != watch.Deleted && pod.DeletionTimestamp == nil && pod.Status.Phase == corev1.PodRunning
	t.pods[uid] = p
	if typ == watch.Deleted {
		delete(t.pods, uid)
	}
	if initial {
		return
	}
	var sample []runningPod
	for _, p := range t.pods {
		if p.running {
			sample = append(sample, p)
		}
	}
	t.samples = append(t.samples, sample)
	t.sampleAt = append(t.sampleAt, time.Now())
}

// material is the leaf and bundle a pod runs: its group's Secret as of its creation.
func (t *trustChecker) material(p runningPod) (secretVersion, error) {
	name := specs.GroupName("c", p.group) + "-tls"
	if p.group == specs.ComponentManager {
		name = "c-manager-tls"
	}
	v, ok := t.initial[name]
	if p.createdRV == 0 {
		if !ok {
			return v, fmt.Errorf("no Secret %s when the checker started", name)
		}
		return v, nil
	}
	for _, h := range t.history[name] {
		if h.rv < p.createdRV {
			v, ok = h, true
		}
	}
	if !ok {
		return v, fmt.Errorf("no version of Secret %s before pod %s was created", name, p.name)
	}
	return v, nil
}

// check verifies every sample and returns the failures and how many samples there were.
func (t *trustChecker) check() ([]string, int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var failures []string
	for i, sample := range t.samples {
		sort.Slice(sample, func(a, b int) bool { return sample[a].name < sample[b].name })
		for _, server := range sample {
			sm, err := t.material(server)
			if err != nil {
				failures = append(failures, err.Error())
				continue
			}
			leaf, err := firstCert(sm.leaf)
			if err != nil {
				failures = append(failures, fmt.Sprintf("pod %s: %v", server.name, err))
				continue
			}
			for _, peer := range sample {
				pm, err := t.material(peer)
				if err != nil {
					failures = append(failures, err.Error())
					continue
				}
				roots := x509.NewCertPool()
				if !roots.AppendCertsFromPEM(pm.bundle) {
					failures = append(failures, fmt.Sprintf("pod %s has no trust bundle", peer.name))
					continue
				}
				for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
					if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: t.sampleAt[i], KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
						failures = append(failures, fmt.Sprintf("sample %d: the leaf of %s does not verify against the truststore of %s: %v", i, server.name, peer.name, err))
					}
				}
			}
		}
	}
	return failures, len(t.samples)
}

// firstCert parses the first certificate of a PEM bundle.
func firstCert(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("no PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

// expectTrustKept expects no sample where a running pod's leaf failed a running pod's truststore.
func expectTrustKept(t *trustChecker) {
	failures, samples := t.check()
	ExpectWithOffset(1, samples).To(BeNumerically(">", 20), "the checker saw the rollout")
	ExpectWithOffset(1, failures).To(BeEmpty())
}

// bundlePhase reads the CA rotation phase and cause on the cluster's CA bundle.
func bundlePhase(c *implyv1alpha1.ImplyCluster) (string, string) {
	var cm corev1.ConfigMap
	if err := k8sClient.Get(testCtx, client.ObjectKey{Namespace: c.Namespace, Name: specs.CABundleName(c.Name)}, &cm); err != nil {
		return "", err.Error()
	}
	return cm.Annotations[implyv1alpha1.AnnotationCARotationPhase], cm.Annotations[implyv1alpha1.AnnotationCARotationCause]
}

// patchCluster applies edit to the live cluster.
func patchCluster(c *implyv1alpha1.ImplyCluster, edit func(*implyv1alpha1.ImplyCluster)) {
	EventuallyWithOffset(1, func() error {
		var live implyv1alpha1.ImplyCluster
		if err := k8sClient.Get(testCtx, client.ObjectKeyFromObject(c), &live); err != nil {
			return err
		}
		patch := client.MergeFromWithOptions(live.DeepCopy(), client.MergeFromWithOptimisticLock{})
		edit(&live)
		return k8sClient.Patch(testCtx, &live, patch)
	}).WithTimeout(time.Minute).Should(Succeed())
}

// expectLeavesSignedBy expects every leaf Secret of c to verify with ca alone.
func expectLeavesSignedBy(c *implyv1alpha1.ImplyCluster, ca *x509.Certificate) {
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	for _, name := range []string{"c-data-tls", "c-query-tls", "c-master-tls", "c-manager-tls"} {
		var s corev1.Secret
		ExpectWithOffset(1, k8sClient.Get(testCtx, client.ObjectKey{Namespace: c.Namespace, Name: name}, &s)).To(Succeed())
		leaf, err := firstCert(s.Data[specs.TLSCertKey])
		ExpectWithOffset(1, err).NotTo(HaveOccurred())
		_, err = leaf.Verify(x509.VerifyOptions{Roots: roots})
		ExpectWithOffset(1, err).NotTo(HaveOccurred(), name)
	}
}

var _ = Describe("Changes of the signing CA on a simulated cluster", func() {
	It("renews the generated CA by itself inside its renewBefore, three phases rolled group by group, trust never broken", func() {
		c := readyTLSCluster()
		var caSecret corev1.Secret
		Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: c.Namespace, Name: specs.CASecretName("c")}, &caSecret)).To(Succeed())
		oldCA, err := firstCert(caSecret.Data[specs.CACertKey])
		Expect(err).NotTo(HaveOccurred())
		ctx, cancel := context.WithCancel(testCtx)
		defer cancel()
		rec := recordPods(ctx, c.Namespace, replicasOfDefault, nil)
		trust := watchTrust(ctx, c.Namespace)

		By("shortening the CA's validity window so that it is inside renewBefore now")
		// The default CA is valid 26280h; a renewBefore of all but a second of it is due at once.
		patchCluster(c, func(c *implyv1alpha1.ImplyCluster) {
			c.Spec.Security.TLS.CA.Generate.RenewBefore = &metav1.Duration{Duration: 26280*time.Hour - time.Second}
		})
		Eventually(func() []string { p, cause := bundlePhase(c); return []string{p, cause} }).
			WithTimeout(time.Minute).Should(Equal([]string{"TrustBoth", "CARenewal"}))
		By("giving the new CA its default renewBefore back, so it is not renewed again")
		patchCluster(c, func(c *implyv1alpha1.ImplyCluster) { c.Spec.Security.TLS.CA.Generate.RenewBefore = nil })
		waitReadyAndIdle(c, "")
		expectRotationRolled(rec)
		expectTrustKept(trust)
		Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: c.Namespace, Name: specs.CASecretName("c")}, &caSecret)).To(Succeed())
		newCA, err := firstCert(caSecret.Data[specs.CACertKey])
		Expect(err).NotTo(HaveOccurred())
		Expect(newCA.Equal(oldCA)).To(BeFalse())
		expectLeavesSignedBy(c, newCA)
	})

	It("switches from the generated CA to the user's CA in three phases rolled group by group, trust never broken", func() {
		c := readyTLSCluster()
		userCA, err := pki.CreateRootCA(clock.RealClock{}, "corp CA", implyv1alpha1.KeyAlgorithmECDSAP256, 365*24*time.Hour)
		Expect(err).NotTo(HaveOccurred())
		Expect(k8sClient.Create(testCtx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "corp-ca", Namespace: c.Namespace},
			Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": userCA.CertPEM, "tls.key": userCA.KeyPEM}})).To(Succeed())
		ctx, cancel := context.WithCancel(testCtx)
		defer cancel()
		rec := recordPods(ctx, c.Namespace, replicasOfDefault, nil)
		trust := watchTrust(ctx, c.Namespace)

		patchCluster(c, func(c *implyv1alpha1.ImplyCluster) {
			c.Spec.Security.TLS.CA = &implyv1alpha1.CASpec{SecretRef: &implyv1alpha1.LocalObjectReference{Name: "corp-ca"}}
		})
		Eventually(func() []string { p, cause := bundlePhase(c); return []string{p, cause} }).
			WithTimeout(time.Minute).Should(Equal([]string{"TrustBoth", "CAChanged"}))
		waitReadyAndIdle(c, "")
		expectRotationRolled(rec)
		expectTrustKept(trust)
		expectLeavesSignedBy(c, userCA.Certificate)
	})
})
