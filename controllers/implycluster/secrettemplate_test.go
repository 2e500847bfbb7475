package implycluster

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

var _ = Describe("ImplyCluster secretTemplate", func() {
	It("labels and annotates the generated Secrets and the CA bundle, follows changes, and keeps the operator's labels", func() {
		ns := newNamespace("template")
		createSecrets(ns)
		c := testobj.ImplyCluster("c", ns)
		c.Spec.Security = &implyv1alpha1.SecuritySpec{
			TLS: &implyv1alpha1.TLSSpec{Enabled: true},
			SecretTemplate: &implyv1alpha1.SecretTemplate{
				Labels:      map[string]string{"trust": "imply-c"},
				Annotations: map[string]string{"reflector.v1.k8s.emberstack.com/reflection-allowed": "true"},
			},
		}
		Expect(k8sClient.Create(testCtx, c)).To(Succeed())
		waitCertificatesReady(c)

		metaOf := func(g Gomega, name string, obj client.Object) (map[string]string, map[string]string) {
			g.Expect(k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: name}, obj)).To(Succeed())
			return obj.GetLabels(), obj.GetAnnotations()
		}
		generated := []string{specs.CASecretName("c"), specs.GroupTLSSecretName("c", "data"), specs.ManagerTLSSecretName("c")}
		Eventually(func(g Gomega) {
			for _, name := range generated {
				labels, annotations := metaOf(g, name, &corev1.Secret{})
				g.Expect(labels).To(HaveKeyWithValue("trust", "imply-c"), name)
				g.Expect(labels).To(HaveKeyWithValue(specs.LabelManagedBy, specs.ManagedBy), name)
				g.Expect(annotations).To(HaveKeyWithValue("reflector.v1.k8s.emberstack.com/reflection-allowed", "true"), name)
			}
			labels, annotations := metaOf(g, specs.CABundleName("c"), &corev1.ConfigMap{})
			g.Expect(labels).To(HaveKeyWithValue("trust", "imply-c"))
			g.Expect(annotations).To(HaveKeyWithValue("reflector.v1.k8s.emberstack.com/reflection-allowed", "true"))
		}).WithTimeout(settle).Should(Succeed())
		caBefore := getSecret(ns, specs.CASecretName("c")).Data

		By("changing the template: every generated object follows, the CA stays the same")
		Expect(k8sClient.Get(testCtx, client.ObjectKeyFromObject(c), c)).To(Succeed())
		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.Security.SecretTemplate.Labels["trust"] = "imply-c-v2"
		Expect(k8sClient.Patch(testCtx, c, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			for _, name := range generated {
				labels, _ := metaOf(g, name, &corev1.Secret{})
				g.Expect(labels).To(HaveKeyWithValue("trust", "imply-c-v2"), name)
			}
			labels, _ := metaOf(g, specs.CABundleName("c"), &corev1.ConfigMap{})
			g.Expect(labels).To(HaveKeyWithValue("trust", "imply-c-v2"))
		}).WithTimeout(settle).Should(Succeed())
		Expect(getSecret(ns, specs.CASecretName("c")).Data).To(Equal(caBefore))

		By("refusing a template that sets the operator's labels or annotations, naming the field")
		bad := testobj.ImplyCluster("bad", ns)
		bad.Spec.Security = &implyv1alpha1.SecuritySpec{SecretTemplate: &implyv1alpha1.SecretTemplate{
			Labels: map[string]string{specs.LabelCluster: "other"}, Annotations: map[string]string{"imply.operator.dev/restart": "x"}}}
		err := k8sClient.Create(testCtx, bad)
		Expect(err).To(MatchError(ContainSubstring("spec.security.secretTemplate.labels")))
		Expect(err).To(MatchError(ContainSubstring("spec.security.secretTemplate.annotations")))
	})
})
