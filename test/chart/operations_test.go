package chart

import (
	"os/exec"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

var _ = Describe("The chart's operational objects", func() {
	const release, namespace = "imply-operator", "imply-system"

	It("renders a helm test Pod that probes the metrics Service with the operator binary, under restricted Pod Security", func() {
		var tests []*unstructured.Unstructured
		for _, pod := range ofKind(decode(helmTemplate(release, namespace)), "Pod") {
			if pod.GetAnnotations()["helm.sh/hook"] == "test" {
				tests = append(tests, pod)
			}
		}
		Expect(tests).To(HaveLen(1))
		containers, _, err := unstructured.NestedSlice(tests[0].Object, "spec", "containers")
		Expect(err).NotTo(HaveOccurred())
		Expect(containers).To(HaveLen(1))
		args := stringsOf(containers[0].(map[string]any), "args")
		Expect(args).To(Equal([]string{"--probe-url=https://imply-operator-metrics.imply-system.svc:8443/metrics"}))

		By("the flag is one the operator binary has")
		help, _ := exec.Command(operatorBinary, "--help").CombinedOutput()
		Expect(string(help)).To(ContainSubstring("-probe-url"))
		out, err := exec.Command(operatorBinary, "--probe-url=https://127.0.0.1:1/metrics").CombinedOutput()
		Expect(err).To(HaveOccurred(), "nothing answers there: %s", out)

		By("Pod Security admission at the restricted level accepts it")
		spec, _, err := unstructured.NestedMap(tests[0].Object, "spec")
		Expect(err).NotTo(HaveOccurred())
		asDeployment := &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"name": tests[0].GetName()},
			"spec": map[string]any{"template": map[string]any{"spec": spec}}}}
		expectRestrictedPod(asDeployment)

		Expect(ofKind(decode(helmTemplate(release, namespace, "--set", "metrics.enabled=false")), "Pod")).To(BeEmpty(), "nothing to probe")
	})

	It("adds a PodDisruptionBudget with more than one replica and a NetworkPolicy, both accepted by the apiserver", func() {
		Expect(ofKind(decode(helmTemplate(release, namespace)), "PodDisruptionBudget")).To(BeEmpty(), "one replica needs none")
		manifests := helmTemplate(release, namespace, "--set", "replicaCount=2", "--set", "networkPolicy.enabled=true",
			"--set", "networkPolicy.apiServerCIDRs={10.0.0.1/32}")
		objs := decode(manifests)
		pdbs := ofKind(objs, "PodDisruptionBudget")
		Expect(pdbs).To(HaveLen(1))
		Expect(pdbs[0].Object["spec"]).To(HaveKeyWithValue("minAvailable", BeNumerically("==", 1)))
		policies := ofKind(objs, "NetworkPolicy")
		Expect(policies).To(HaveLen(1))
		text := string(manifests)
		Expect(text).To(ContainSubstring("kubernetes.io/metadata.name: monitoring"))
		for _, port := range []string{"port: 8081", "port: 8281", "port: 6443", "port: 53", "cidr: 10.0.0.1/32"} {
			Expect(strings.Count(text, port)).To(BeNumerically(">=", 1), port)
		}
		ensureNamespace(namespace, nil)
		serverSideDryRun(manifests)
	})
})
