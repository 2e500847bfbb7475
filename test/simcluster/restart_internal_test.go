package simcluster

import (
	"context"
	"slices"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// TestControlPlaneRestartStartsTheSchedulerAgain kills kube-scheduler, as its own exit on a
// corrupted cache does, then crashes the apiserver: once the apiserver serves again, a scheduler
// runs and binds a new pod to the fake node.
func TestControlPlaneRestartStartsTheSchedulerAgain(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c, err := Start(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop() })

	scheduler := c.process(t, "kube-scheduler")
	scheduler.signal(syscall.SIGKILL)
	<-scheduler.done
	if err := c.Restart(ctx, "kube-apiserver", syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if p := c.process(t, "kube-scheduler"); p.exited() {
		t.Fatalf("after the apiserver's restart: %s", p.describe())
	}

	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "after-restart", Namespace: metav1.NamespaceDefault},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "busybox", Image: "busybox:1.37"}}},
	}
	if _, err := cs.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		got, err := cs.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		return err == nil && got.Spec.NodeName != "", nil
	})
	if err != nil {
		t.Fatalf("the pod created after the restart was not scheduled: %v; %s", err, c.process(t, "kube-scheduler").describe())
	}
}

// process is the cluster's current process name.
func (c *Cluster) process(t *testing.T, name string) *process {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	idx := slices.IndexFunc(c.procs, func(p *process) bool { return p.name == name })
	if idx < 0 {
		t.Fatalf("no process %s", name)
	}
	return c.procs[idx]
}
