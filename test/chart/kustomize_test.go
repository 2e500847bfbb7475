package chart

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// kustomizeNamespace is the namespace config/default installs into.
const kustomizeNamespace = "imply-operator-system"

// kustomizeDefault renders config/default with the kubectl of the control plane.
func kustomizeDefault() []byte {
	GinkgoHelper()
	out, err := kubectl(nil, "kustomize", "config/default")
	Expect(err).NotTo(HaveOccurred())
	return out
}

var _ = Describe("kubectl kustomize config/default", func() {
	var manifests []byte
	var objs []*unstructured.Unstructured
	BeforeEach(func() {
		manifests = kustomizeDefault()
		objs = decode(manifests)
	})

	It("grants the generated rules with no wildcard, and runs with leader election and restricted security", func() {
		expectNoWildcards(objs)
		var found bool
		for _, cr := range ofKind(objs, "ClusterRole") {
			if cr.GetName() == "imply-operator-manager-role" {
				Expect(rulesOf(cr)).To(Equal(generatedRules()))
				found = true
			}
		}
		Expect(found).To(BeTrue(), "objects: %v", kinds(objs))
		deployments := ofKind(objs, "Deployment")
		Expect(deployments).To(HaveLen(1))
		expectRestrictedContainer(deployments[0])
		Expect(ofKind(objs, "Service")).To(HaveLen(1), "the metrics Service")
		svcPorts, _, err := unstructured.NestedSlice(ofKind(objs, "Service")[0].Object, "spec", "ports")
		Expect(err).NotTo(HaveOccurred())
		Expect(svcPorts).To(ConsistOf(And(HaveKeyWithValue("name", "https-metrics"), HaveKeyWithValue("port", BeNumerically("==", 8443)))))
		Expect(stringsOf(managerContainer(deployments[0]), "args")).To(ContainElements("--metrics-bind-address=:8443", "--metrics-secure=true"))
		var reader bool
		for _, cr := range ofKind(objs, "ClusterRole") {
			if cr.GetName() == "imply-operator-metrics-reader" {
				Expect(rulesOf(cr)).To(Equal([]rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}}))
				reader = true
			}
		}
		Expect(reader).To(BeTrue(), "a metrics-reader ClusterRole in %v", kinds(objs))
		Expect(ofKind(objs, "CustomResourceDefinition")).To(HaveLen(4))
	})

	It("is accepted by the apiserver (server-side dry-run)", func() {
		// The Namespace must exist for the dry-run of what goes into it.
		for _, ns := range ofKind(objs, "Namespace") {
			ensureNamespace(ns.GetName(), ns.GetLabels())
		}
		serverSideDryRun(manifests)
	})

	It("runs a Pod that Pod Security admission accepts at the restricted level", func() {
		expectRestrictedPod(ofKind(objs, "Deployment")[0])
	})
})
