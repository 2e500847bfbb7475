package authtoken

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

var _ = Describe("AuthToken secretTemplate", func() {
	It("puts the template's labels and annotations on the generated Secret and follows changes, keeping the operator's labels", func() {
		ns := newNamespace("iat-template")
		t := agentToken("agents", ns)
		t.Spec.SecretTemplate = &implyv1alpha1.SecretTemplate{
			Labels:      map[string]string{"replicate-to": "clients"},
			Annotations: map[string]string{"reflector.v1.k8s.emberstack.com/reflection-allowed": "true"},
		}
		Expect(k8sClient.Create(testCtx, t)).To(Succeed())
		waitTokenReady(t)
		s := getSecret(ns, "agents-token")
		Expect(s.Labels).To(HaveKeyWithValue("replicate-to", "clients"))
		Expect(s.Labels).To(HaveKeyWithValue(specs.LabelManagedBy, specs.ManagedBy))
		Expect(s.Annotations).To(HaveKeyWithValue("reflector.v1.k8s.emberstack.com/reflection-allowed", "true"))
		Expect(s.Annotations).To(HaveKey(specs.AnnotationGeneratedAt))
		token := string(s.Data[specs.AuthTokenKey])

		By("changing the template: the Secret follows, the token stays")
		patch := client.MergeFrom(t.DeepCopy())
		t.Spec.SecretTemplate.Labels["replicate-to"] = "everyone"
		t.Spec.SecretTemplate.Annotations["example.com/owner"] = "team-a"
		Expect(k8sClient.Patch(testCtx, t, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			var again corev1.Secret
			g.Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(s), &again)).To(Succeed())
			g.Expect(again.Labels).To(HaveKeyWithValue("replicate-to", "everyone"))
			g.Expect(again.Annotations).To(HaveKeyWithValue("example.com/owner", "team-a"))
			g.Expect(string(again.Data[specs.AuthTokenKey])).To(Equal(token))
		}).WithTimeout(settle).Should(Succeed())

		By("refusing a template that would override the operator's labels, naming the field")
		bad := agentToken("bad", ns)
		bad.Spec.SecretTemplate = &implyv1alpha1.SecretTemplate{Labels: map[string]string{specs.LabelManagedBy: "me"}}
		err := k8sClient.Create(testCtx, bad)
		Expect(err).To(MatchError(ContainSubstring("spec.secretTemplate.labels")))
		Expect(err).To(MatchError(ContainSubstring("may not set the operator's own labels")))
		withRef := agentToken("ref", ns, withSecretRef("mine", ""))
		withRef.Spec.SecretTemplate = &implyv1alpha1.SecretTemplate{Labels: map[string]string{"a": "b"}}
		Expect(k8sClient.Create(testCtx, withRef)).To(MatchError(ContainSubstring("spec.secretTemplate")))
	})
})
