package plugin

import (
	"bytes"
	"context"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// operatorLogLines returns the operator's log lines about cluster in namespace: from the file
// logFile when given, else from the containers of the pods labelled operatorPodSelector in
// operatorNamespace (all namespaces when empty). Problems reaching the logs become notes; the
// report is still written.
func (o *Options) operatorLogLines(ctx context.Context, cs kubernetes.Interface, logFile, operatorNamespace, namespace, cluster string) ([]string, []string) {
	if logFile != "" {
		f, err := os.Open(logFile)
		if err != nil {
			return nil, []string{fmt.Sprintf("operator log %s: %v", logFile, err)}
		}
		defer func() { _ = f.Close() }()
		lines, err := FilterLogLines(f, namespace, cluster)
		if err != nil {
			return nil, []string{err.Error()}
		}
		return lines, []string{fmt.Sprintf("operator log: %d lines about the cluster from %s", len(lines), logFile)}
	}
	pods, err := cs.CoreV1().Pods(operatorNamespace).List(ctx, metav1.ListOptions{LabelSelector: operatorPodSelector})
	if err != nil {
		return nil, []string{fmt.Sprintf("operator log: cannot list the operator's pods (%s): %v; pass --operator-log", operatorPodSelector, err)}
	}
	if len(pods.Items) == 0 {
		return nil, []string{fmt.Sprintf("operator log: no pod labelled %s found; pass --operator-log or --operator-namespace", operatorPodSelector)}
	}
	var lines, notes []string
	for _, p := range pods.Items {
		for _, ctr := range p.Spec.Containers {
			raw, err := cs.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: ctr.Name}).DoRaw(ctx)
			if err != nil {
				notes = append(notes, fmt.Sprintf("operator log: pod %s/%s container %s: %v", p.Namespace, p.Name, ctr.Name, err))
				continue
			}
			got, err := FilterLogLines(bytes.NewReader(raw), namespace, cluster)
			if err != nil {
				notes = append(notes, err.Error())
				continue
			}
			lines = append(lines, got...)
			notes = append(notes, fmt.Sprintf("operator log: %d lines about the cluster from pod %s/%s container %s", len(got), p.Namespace, p.Name, ctr.Name))
		}
	}
	return lines, notes
}
