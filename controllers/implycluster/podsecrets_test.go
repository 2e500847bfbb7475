package implycluster

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// editSecret sets key of the user's Secret name to value.
func editSecret(ns, name, key, value string) {
	EventuallyWithOffset(1, func() error {
		var s corev1.Secret
		if err := k8sClient.Get(testCtx, client.ObjectKey{Namespace: ns, Name: name}, &s); err != nil {
			return err
		}
		s.Data[key] = []byte(value)
		return k8sClient.Update(testCtx, &s)
	}).WithTimeout(settle).Should(Succeed())
}

var _ = Describe("Secrets the pods read", func() {
	It("rolls the manager when the license changes, and every node group when the deep-storage credentials change", func() {
		c := readyCluster("ic-podsecrets")
		ns := c.Namespace
		before := templateAnnotations(ns, specs.AnnotationSecretsRevision)
		Expect(before).To(HaveEach(Not(BeEmpty())))

		By("editing the license")
		editSecret(ns, testobj.LicenseSecret, "IMPLY_MANAGER_LICENSE_KEY", "a-new-license")
		Eventually(func() string { return templateAnnotations(ns, specs.AnnotationSecretsRevision)["manager"] }).
			WithTimeout(settle).ShouldNot(Equal(before["manager"]))
		afterLicense := templateAnnotations(ns, specs.AnnotationSecretsRevision)
		for _, group := range []string{"data", "query", "master"} {
			Expect(afterLicense[group]).To(Equal(before[group]), "%s does not read the license", group)
		}
		markStepReady(c, "manager")
		waitQuiet(ns)

		By("editing the deep-storage credentials")
		editSecret(ns, testobj.DeepStorageSecret, "AWS_SECRET_ACCESS_KEY", "rotated")
		for _, group := range []string{"data", "query", "master"} {
			Eventually(func() string { return templateAnnotations(ns, specs.AnnotationSecretsRevision)[group] }).
				WithTimeout(settle).ShouldNot(Equal(before[group]), "%s did not roll", group)
			markStepReady(c, group)
		}
		Expect(templateAnnotations(ns, specs.AnnotationSecretsRevision)["manager"]).To(Equal(afterLicense["manager"]),
			"the manager does not read the deep-storage credentials")
		Expect(podTemplate(workload(ns, "data")).Spec.Containers[0].EnvFrom[0].SecretRef.Name).To(Equal(testobj.DeepStorageSecret))
	})
})
