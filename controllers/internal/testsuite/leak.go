package testsuite

import (
	"bytes"
	"io"
	"strings"
	"sync"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// SyncBuffer is a bytes.Buffer safe for the concurrent writes of the operator's loggers.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ExpectNoSecretValueLeaked checks, at the end of the suite, that no value of any Secret the
// operator generated (passwords, tokens, private keys, keystore passwords) appears in what it
// logged, in any Event, in the labels of any metric, or in the status of any ImplyCluster,
// AuthToken or DruidRole. A Druid
// user's username and token.json (datasources, priority) are not secret and are skipped.
// metricsText are the writers of the series /metrics serves besides the registry's (the
// ImplyCluster controller's cluster series, implycluster.WriteClusterMetrics).
func ExpectNoSecretValueLeaked(metricsText ...func(io.Writer) error) {
	var secrets corev1.SecretList
	Expect(K8sClient.List(Ctx, &secrets, client.MatchingLabels{"app.kubernetes.io/managed-by": "imply-operator"})).To(Succeed())
	var values []string
	for _, s := range secrets.Items {
		for key, v := range s.Data {
			if key == corev1.BasicAuthUsernameKey || key == specs.TokenJSONKey {
				continue
			}
			if strings.HasSuffix(key, ".crt") || strings.HasSuffix(key, ".p12") || len(v) < 8 {
				continue // certificates are public; keystores are checked through their password
			}
			values = append(values, string(v))
		}
	}
	Expect(values).NotTo(BeEmpty(), "the suite generated no secret values to look for")

	var events eventsv1.EventList
	Expect(K8sClient.List(Ctx, &events)).To(Succeed())
	var clusters implyv1alpha1.ImplyClusterList
	Expect(K8sClient.List(Ctx, &clusters)).To(Succeed())
	var visible strings.Builder
	visible.WriteString(OperatorLogs.String())
	families, err := metrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	for _, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				visible.WriteString(l.GetName() + "=" + l.GetValue() + "\n")
			}
		}
	}
	for _, write := range metricsText {
		Expect(write(&visible)).To(Succeed())
	}
	for _, e := range events.Items {
		visible.WriteString(e.Note + "\n" + e.Reason + "\n")
	}
	var tokens implyv1alpha1.AuthTokenList
	Expect(K8sClient.List(Ctx, &tokens)).To(Succeed())
	var roles implyv1alpha1.DruidRoleList
	Expect(K8sClient.List(Ctx, &roles)).To(Succeed())
	var conditions [][]metav1.Condition
	for _, c := range clusters.Items {
		conditions = append(conditions, c.Status.Conditions)
	}
	for _, t := range tokens.Items {
		conditions = append(conditions, t.Status.Conditions)
	}
	for _, r := range roles.Items {
		conditions = append(conditions, r.Status.Conditions)
	}
	for _, conds := range conditions {
		for _, cond := range conds {
			visible.WriteString(cond.Message + "\n")
		}
	}
	text := visible.String()
	Expect(OperatorLogs.String()).NotTo(BeEmpty())
	for _, v := range values {
		Expect(strings.Contains(text, v)).To(BeFalse(), "a generated secret value appears in the operator's logs, events or status")
	}
}
