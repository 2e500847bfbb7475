package chart

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// restrictedNamespace enforces the Pod Security Standards "restricted" level.
const restrictedNamespace = "pss-restricted"

// expectRestrictedPod creates, with server-side dry-run, a Pod from the Deployment's template in a
// namespace that enforces Pod Security "restricted", and expects the apiserver to admit it. As a
// control it also expects the same Pod with privilege escalation allowed to be rejected, so the
// check cannot pass because admission is off.
func expectRestrictedPod(deployment *unstructured.Unstructured) {
	GinkgoHelper()
	ensureNamespace(restrictedNamespace, map[string]string{
		"pod-security.kubernetes.io/enforce":         "restricted",
		"pod-security.kubernetes.io/enforce-version": "latest",
	})
	spec, found, err := unstructured.NestedMap(deployment.Object, "spec", "template", "spec")
	Expect(err).NotTo(HaveOccurred())
	Expect(found).To(BeTrue())
	pod := func(spec map[string]any) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1",
			"kind":       "Pod",
			"metadata":   map[string]any{"generateName": "operator-", "namespace": restrictedNamespace},
			"spec":       spec,
		}}
	}
	Expect(k8sClient.Create(ctx, pod(spec), client.DryRunAll)).To(Succeed(),
		"Pod Security admission rejected the operator Pod of %s", deployment.GetName())

	escalating := pod(runtimeDeepCopy(spec))
	containers, _, _ := unstructured.NestedSlice(escalating.Object, "spec", "containers")
	Expect(unstructured.SetNestedField(containers[0].(map[string]any), true, "securityContext", "allowPrivilegeEscalation")).To(Succeed())
	Expect(unstructured.SetNestedSlice(escalating.Object, containers, "spec", "containers")).To(Succeed())
	err = k8sClient.Create(ctx, escalating, client.DryRunAll)
	Expect(apierrors.IsForbidden(err)).To(BeTrue(), "Pod Security admission is not enforcing: %v", err)
	Expect(err.Error()).To(ContainSubstring("allowPrivilegeEscalation"))
}

// runtimeDeepCopy deep-copies a JSON-like map.
func runtimeDeepCopy(m map[string]any) map[string]any {
	return (&unstructured.Unstructured{Object: m}).DeepCopy().Object
}
