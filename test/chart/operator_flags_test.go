package chart

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// schemaError is how helm starts the error of values that values.schema.json rejects.
const schemaError = "values don't meet the specifications of the schema"

// operatorArgsOf renders the chart with helm arguments and returns the operator container's args.
func operatorArgsOf(args ...string) []string {
	GinkgoHelper()
	deployments := ofKind(decode(helmTemplate("imply-operator", "imply-system", args...)), "Deployment")
	Expect(deployments).To(HaveLen(1))
	return stringsOf(managerContainer(deployments[0]), "args")
}

// helmTemplateError renders the chart with helm arguments, expects helm to refuse, and returns its error.
func helmTemplateError(args ...string) string {
	GinkgoHelper()
	_, err := run(nil, helmBinary(), append([]string{"template", "x", chartDir}, args...)...)
	Expect(err).To(HaveOccurred(), "helm template accepted %v", args)
	return err.Error()
}

// expectOperatorParses runs the operator built from main.go with args and -h last: the flag
// package parses every argument before -h and exits 0 only if all of them are defined and valid.
func expectOperatorParses(args []string) {
	GinkgoHelper()
	_, err := run(nil, operatorBinary, append(append([]string{}, args...), "-h")...)
	Expect(err).NotTo(HaveOccurred(), "the operator refused the chart's arguments")
}

var _ = Describe("The chart's operator flags", func() {
	It("render --max-concurrent-reconciles=4 and neither pprof nor a Druid resync period by default", func() {
		args := operatorArgsOf()
		Expect(args).To(ContainElement("--max-concurrent-reconciles=4"))
		Expect(args).NotTo(ContainElement(HavePrefix("--pprof-bind-address")))
		Expect(args).NotTo(ContainElement(HavePrefix("--druid-resync-period")))
		expectOperatorParses(args)
	})

	Context("with maxConcurrentReconciles, druidResyncPeriod and pprof set", func() {
		setValues := []string{
			"--set", "maxConcurrentReconciles=16",
			"--set", "druidResyncPeriod=1h30m",
			"--set", "pprof.enabled=true",
			"--set", "pprof.port=7070",
		}

		It("renders their flags, each once, and main.go accepts them", func() {
			args := operatorArgsOf(setValues...)
			for _, flag := range []string{"--max-concurrent-reconciles=16", "--druid-resync-period=1h30m", "--pprof-bind-address=127.0.0.1:7070"} {
				Expect(args).To(ContainElement(flag))
				name := strings.SplitN(flag, "=", 2)[0]
				n := 0
				for _, a := range args {
					if strings.HasPrefix(a, name+"=") {
						n++
					}
				}
				Expect(n).To(Equal(1), "%s appears %d times in %v", name, n, args)
			}
			expectOperatorParses(args)
			// The control: the same check fails on a value main.go refuses, so it is not vacuous.
			_, err := run(nil, operatorBinary, append(append([]string{}, args...), "--druid-resync-period=soon", "-h")...)
			Expect(err).To(HaveOccurred())
		})

		It("keeps pprof on localhost: no container port and no Service reaches it", func() {
			objs := decode(helmTemplate("imply-operator", "imply-system", setValues...))
			ports, _, err := unstructured.NestedSlice(managerContainer(ofKind(objs, "Deployment")[0]), "ports")
			Expect(err).NotTo(HaveOccurred())
			Expect(ports).NotTo(ContainElement(HaveKeyWithValue("containerPort", BeNumerically("==", 7070))))
			for _, svc := range ofKind(objs, "Service") {
				svcPorts, _, err := unstructured.NestedSlice(svc.Object, "spec", "ports")
				Expect(err).NotTo(HaveOccurred())
				// A named targetPort resolves to one of the container ports checked above.
				for _, p := range svcPorts {
					port := p.(map[string]any)
					Expect(fmt.Sprint(port["port"])).NotTo(Equal("7070"), "Service %s", svc.GetName())
					Expect(fmt.Sprint(port["targetPort"])).NotTo(Equal("7070"), "Service %s", svc.GetName())
				}
			}
		})

		It("is accepted by the apiserver and by Pod Security admission at the restricted level", func() {
			ensureNamespace("imply-system", nil)
			manifests := helmTemplate("imply-operator", "imply-system", setValues...)
			serverSideDryRun(manifests)
			expectRestrictedPod(ofKind(decode(manifests), "Deployment")[0])
		})
	})

	It("rejects maxConcurrentReconciles below 1 in the schema", func() {
		for _, v := range []string{"0", "-1"} {
			msg := helmTemplateError("--set", "maxConcurrentReconciles="+v)
			Expect(msg).To(ContainSubstring(schemaError))
			Expect(msg).To(ContainSubstring("/maxConcurrentReconciles"))
		}
		msg := helmTemplateError("--set-string", "maxConcurrentReconciles=4")
		Expect(msg).To(ContainSubstring(schemaError), "a string is not an integer")
	})

	It("accepts in druidResyncPeriod exactly the non-negative Go durations, and empty", func() {
		for _, d := range []string{"30s", "5m", "1h30m", "1.5h", "500ms", "250µs", "100us", "10ns"} {
			parsed, err := time.ParseDuration(d)
			Expect(err).NotTo(HaveOccurred())
			Expect(parsed).To(BeNumerically(">", 0))
			Expect(operatorArgsOf("--set-string", "druidResyncPeriod="+d)).To(ContainElement("--druid-resync-period=" + d))
		}
		Expect(operatorArgsOf("--set-string", "druidResyncPeriod=")).NotTo(ContainElement(HavePrefix("--druid-resync-period")))
		for _, d := range []string{"10", "5 minutes", "1d", "m", "-5m", "5m "} {
			msg := helmTemplateError("--set-string", "druidResyncPeriod="+d)
			Expect(msg).To(ContainSubstring(schemaError), "%q", d)
			Expect(msg).To(ContainSubstring("/druidResyncPeriod"), "%q", d)
		}
	})

	It("rejects pprof values that cannot work", func() {
		Expect(helmTemplateError("--set", "pprof.port=0")).To(ContainSubstring(schemaError))
		Expect(helmTemplateError("--set", "pprof.bindAddress=0.0.0.0:6060")).To(ContainSubstring(schemaError))
		for _, port := range []int{8443, 8081} {
			Expect(helmTemplateError("--set", "pprof.enabled=true", "--set", "pprof.port="+strconv.Itoa(port))).
				To(ContainSubstring("pprof.port must differ"), "port %d", port)
		}
		// The metrics port is free when metrics are off.
		Expect(operatorArgsOf("--set", "pprof.enabled=true", "--set", "pprof.port=8443", "--set", "metrics.enabled=false")).
			To(ContainElement("--pprof-bind-address=127.0.0.1:8443"))
	})

	It("render the metrics flags main.go accepts: secure by default, a certificate Secret, or plain HTTP", func() {
		args := operatorArgsOf()
		Expect(args).To(ContainElements("--metrics-bind-address=:8443", "--metrics-secure=true"))
		expectOperatorParses(args)

		By("mounting metrics.certSecret and pointing --metrics-cert-dir at it")
		objs := decode(helmTemplate("imply-operator", "imply-system", "--set", "metrics.certSecret=metrics-tls"))
		deployment := ofKind(objs, "Deployment")[0]
		container := managerContainer(deployment)
		args = stringsOf(container, "args")
		Expect(args).To(ContainElement("--metrics-cert-dir=/tmp/k8s-metrics-server/metrics-certs"))
		expectOperatorParses(args)
		mounts, _, err := unstructured.NestedSlice(container, "volumeMounts")
		Expect(err).NotTo(HaveOccurred())
		Expect(mounts).To(ContainElement(And(HaveKeyWithValue("name", "metrics-cert"), HaveKeyWithValue("mountPath", "/tmp/k8s-metrics-server/metrics-certs"))))
		volumes, _, err := unstructured.NestedSlice(deployment.Object, "spec", "template", "spec", "volumes")
		Expect(err).NotTo(HaveOccurred())
		Expect(volumes).To(ContainElement(HaveKeyWithValue("secret", HaveKeyWithValue("secretName", "metrics-tls"))))
		Expect(helmTemplateError("--set", "metrics.certSecret=Not_A_Name")).To(ContainSubstring(schemaError))

		By("serving plain HTTP with metrics.secure=false: no metrics-reader role, an http-metrics port")
		objs = decode(helmTemplate("imply-operator", "imply-system", "--set", "metrics.secure=false", "--set", "metrics.serviceMonitor.enabled=true"))
		args = stringsOf(managerContainer(ofKind(objs, "Deployment")[0]), "args")
		Expect(args).To(ContainElement("--metrics-secure=false"))
		expectOperatorParses(args)
		for _, cr := range ofKind(objs, "ClusterRole") {
			Expect(cr.GetName()).NotTo(HaveSuffix("-metrics-reader"))
		}
		svcPorts, _, err := unstructured.NestedSlice(ofKind(objs, "Service")[0].Object, "spec", "ports")
		Expect(err).NotTo(HaveOccurred())
		Expect(svcPorts).To(ConsistOf(HaveKeyWithValue("name", "http-metrics")))
		endpoints, _, err := unstructured.NestedSlice(ofKind(objs, "ServiceMonitor")[0].Object, "spec", "endpoints")
		Expect(err).NotTo(HaveOccurred())
		Expect(endpoints).To(ConsistOf(And(HaveKeyWithValue("scheme", "http"), Not(HaveKey("bearerTokenFile")))))
	})
})
