package testenv

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/imply-operator/imply-operator/pkg/specs"
)

// MarkWorkloadsReady writes the status the StatefulSet and Deployment controllers and the
// kubelet would write once every replica of cluster's workloads runs the current revision and is
// ready (envtest runs no controllers but the operator). A write that loses a race with the
// operator's patch of the same workload is done again on the new version, as those controllers do.
func MarkWorkloadsReady(ctx context.Context, c client.Client, namespace, cluster string) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error { return markWorkloadsReady(ctx, c, namespace, cluster) })
}

// markWorkloadsReady is one attempt of MarkWorkloadsReady.
func markWorkloadsReady(ctx context.Context, c client.Client, namespace, cluster string) error {
	var sets appsv1.StatefulSetList
	if err := c.List(ctx, &sets, client.InNamespace(namespace), client.MatchingLabels{specs.LabelCluster: cluster}); err != nil {
		return err
	}
	if len(sets.Items) == 0 {
		return fmt.Errorf("cluster %s/%s has no StatefulSets yet", namespace, cluster)
	}
	for i := range sets.Items {
		sts := &sets.Items[i]
		n := ptr.Deref(sts.Spec.Replicas, 1)
		sts.Status = appsv1.StatefulSetStatus{
			ObservedGeneration: sts.Generation, Replicas: n, ReadyReplicas: n, CurrentReplicas: n,
			UpdatedReplicas: n, AvailableReplicas: n, CurrentRevision: sts.Name + "-1", UpdateRevision: sts.Name + "-1",
		}
		if err := c.Status().Update(ctx, sts); err != nil {
			return err
		}
	}
	var deploy appsv1.Deployment
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: specs.ManagerName(cluster)}, &deploy); err != nil {
		return err
	}
	n := ptr.Deref(deploy.Spec.Replicas, 1)
	deploy.Status = appsv1.DeploymentStatus{
		ObservedGeneration: deploy.Generation, Replicas: n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n,
	}
	return c.Status().Update(ctx, &deploy)
}

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on right now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// HTTPGet returns the status and body of a GET of a loopback URL.
func HTTPGet(url string) (int, string, error) {
	resp, err := http.Get(url) //nolint:gosec // a loopback URL the test built
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}
