package simcluster_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/imply-operator/imply-operator/test/simcluster"
)

const replicas = 3

// TestStatefulSetRollout proves the simulated cluster runs workloads: a StatefulSet's pods get
// scheduled onto the fake Node and become Ready, and a template change rolls every pod.
func TestStatefulSetRollout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	began := time.Now()
	cluster, err := simcluster.Start(ctx, simcluster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("simulated cluster ready in %s (work dir %s)", time.Since(began).Round(time.Millisecond), cluster.WorkDir)
	t.Cleanup(func() {
		if t.Failed() {
			for _, name := range []string{"kube-controller-manager", "kube-scheduler", "kwok"} {
				t.Logf("last lines of %s:\n%s", name, cluster.LogTail(name, 20))
			}
		}
		stopped := time.Now()
		if err := cluster.Stop(); err != nil {
			t.Errorf("stopping the cluster: %v", err)
		}
		t.Logf("stopped in %s", time.Since(stopped).Round(time.Millisecond))
		if _, err := os.Stat(cluster.WorkDir); !os.IsNotExist(err) {
			t.Errorf("Stop left the work directory %s behind (stat: %v)", cluster.WorkDir, err)
		}
	})
	if _, err := os.Stat(cluster.KubeconfigPath); err != nil {
		t.Errorf("kubeconfig: %v", err)
	}

	cs, err := kubernetes.NewForConfig(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	sts := statefulSet("web")
	if _, err := cs.AppsV1().StatefulSets(metav1.NamespaceDefault).Create(ctx, sts, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	phase := time.Now()
	waitForStatefulSet(ctx, t, cs, sts.Name, "3 ready replicas", func(s *appsv1.StatefulSet) bool {
		return s.Status.ObservedGeneration == s.Generation && s.Status.ReadyReplicas == replicas
	})
	t.Logf("%d replicas Ready in %s", replicas, time.Since(phase).Round(time.Millisecond))
	before := podUIDs(ctx, t, cs)
	for _, name := range podNames(sts.Name) {
		pod := before[name]
		if pod.Spec.NodeName != cluster.NodeNames[0] {
			t.Errorf("pod %s runs on %q, want the fake node %q", name, pod.Spec.NodeName, cluster.NodeNames[0])
		}
	}

	// Change the pod template: the StatefulSet controller must replace every pod.
	patch := fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{"simcluster.test/restartedAt":%q}}}}}`, time.Now().Format(time.RFC3339Nano))
	if _, err := cs.AppsV1().StatefulSets(metav1.NamespaceDefault).Patch(ctx, sts.Name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	phase = time.Now()
	rolled := waitForStatefulSet(ctx, t, cs, sts.Name, "the rollout to finish", func(s *appsv1.StatefulSet) bool {
		st := s.Status
		return st.ObservedGeneration == s.Generation &&
			st.CurrentRevision == st.UpdateRevision && st.UpdateRevision != "" &&
			st.UpdatedReplicas == replicas && st.ReadyReplicas == replicas && st.Replicas == replicas
	})
	t.Logf("rolled out to %s in %s", rolled.Status.UpdateRevision, time.Since(phase).Round(time.Millisecond))

	after := podUIDs(ctx, t, cs)
	for _, name := range podNames(sts.Name) {
		old, pod := before[name], after[name]
		if pod.UID == old.UID {
			t.Errorf("pod %s was not replaced (UID %s)", name, pod.UID)
		}
		if hash := pod.Labels[appsv1.ControllerRevisionHashLabelKey]; hash != rolled.Status.UpdateRevision {
			t.Errorf("pod %s has revision %q, want %q", name, hash, rolled.Status.UpdateRevision)
		}
		if !podReady(pod) {
			t.Errorf("pod %s is not Ready", name)
		}
	}

	// A crashed etcd and a crashed apiserver come back with the cluster's data, and the
	// controllers carry on: another template change still rolls every pod.
	for _, name := range simcluster.Restartable {
		began := time.Now()
		if err := cluster.Restart(ctx, name, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s killed and serving again in %s", name, time.Since(began).Round(time.Millisecond))
	}
	patch = fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{"simcluster.test/restartedAt":%q}}}}}`, time.Now().Format(time.RFC3339Nano))
	if _, err := cs.AppsV1().StatefulSets(metav1.NamespaceDefault).Patch(ctx, sts.Name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatalf("patching the StatefulSet after the restarts (its data must survive them): %v", err)
	}
	again := waitForStatefulSet(ctx, t, cs, sts.Name, "the rollout after the restarts to finish", func(s *appsv1.StatefulSet) bool {
		st := s.Status
		return st.ObservedGeneration == s.Generation && st.UpdateRevision != rolled.Status.UpdateRevision &&
			st.CurrentRevision == st.UpdateRevision && st.UpdatedReplicas == replicas && st.ReadyReplicas == replicas
	})
	if err := cluster.Restart(ctx, "kube-scheduler", syscall.SIGKILL); err == nil {
		t.Errorf("Restart accepted kube-scheduler, which it cannot restart")
	}
	t.Logf("rolled out to %s after the restarts", again.Status.UpdateRevision)
}

// TestMissingBinaries checks that Start names what is missing and how to build it.
func TestMissingBinaries(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "etcd"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := simcluster.Start(context.Background(), simcluster.Options{AssetsDir: dir})
	if err == nil {
		t.Fatal("Start succeeded without binaries")
	}
	for _, want := range []string{"kube-apiserver", "kwok", "kwok-stages.yaml", "make sim-assets", dir} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "etcd,") {
		t.Errorf("error %q names etcd, which is there", err)
	}
}

// TestFailingProcessIsQuoted checks that when a process dies during Start, the error names it
// and quotes its log: here kwok, given no stages, exits with "no stages found".
func TestFailingProcessIsQuoted(t *testing.T) {
	assets, err := filepath.Abs("../../bin/k8s")
	if err != nil {
		t.Fatal(err)
	}
	if env := os.Getenv("KUBEBUILDER_ASSETS"); env != "" {
		assets = env
	}
	dir := t.TempDir()
	for _, name := range simcluster.Binaries {
		if err := os.Symlink(filepath.Join(assets, name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "kwok-stages.yaml"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cluster, err := simcluster.Start(ctx, simcluster.Options{AssetsDir: dir})
	if err == nil {
		_ = cluster.Stop()
		t.Fatal("Start succeeded although kwok has no stages")
	}
	t.Logf("Start failed as it should:\n%v", err)
	for _, want := range []string{"kwok exited", "no stages found"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not mention %q", want)
		}
	}
}

func statefulSet(name string) *appsv1.StatefulSet {
	labels := map[string]string{"app": name}
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: metav1.NamespaceDefault},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    ptr.To[int32](replicas),
			ServiceName: name,
			Selector:    &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{
						Name:    "busybox",
						Image:   "busybox:1.37",
						Command: []string{"sleep", "infinity"},
					}},
				},
			},
		},
	}
}

func podNames(sts string) []string {
	names := make([]string, replicas)
	for i := range names {
		names[i] = fmt.Sprintf("%s-%d", sts, i)
	}
	return names
}

// waitForStatefulSet polls the StatefulSet until done holds, for at most a minute, and fails the
// test with its last status otherwise.
func waitForStatefulSet(ctx context.Context, t *testing.T, cs kubernetes.Interface, name, what string, done func(*appsv1.StatefulSet) bool) *appsv1.StatefulSet {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var last *appsv1.StatefulSet
	var lastErr error
	for {
		s, err := cs.AppsV1().StatefulSets(metav1.NamespaceDefault).Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			last = s
			if done(s) {
				return s
			}
		} else {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if last == nil {
				t.Fatalf("timed out waiting for %s: %v", what, lastErr)
			}
			st := last.Status
			t.Fatalf("timed out waiting for %s: generation %d, observed %d, replicas %d, ready %d, updated %d, current %q, update %q",
				what, last.Generation, st.ObservedGeneration, st.Replicas, st.ReadyReplicas, st.UpdatedReplicas, st.CurrentRevision, st.UpdateRevision)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func podUIDs(ctx context.Context, t *testing.T, cs kubernetes.Interface) map[string]corev1.Pod {
	t.Helper()
	list, err := cs.CoreV1().Pods(metav1.NamespaceDefault).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pods := map[string]corev1.Pod{}
	for _, p := range list.Items {
		pods[p.Name] = p
	}
	return pods
}

func podReady(pod corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
