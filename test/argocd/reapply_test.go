package argocd

import (
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/imply-operator/imply-operator/test/testenv"
)

// argoFieldManager is the field manager of Argo CD's server-side applies.
const argoFieldManager = "argocd-controller"

var _ = Describe("Re-applying a sample with server-side apply while the operator runs", func() {
	samples, err := testenv.Samples()

	It("finds the samples", func() {
		Expect(err).NotTo(HaveOccurred())
		Expect(len(samples)).To(BeNumerically(">=", 5))
	})

	for _, sample := range samples {
		It("changes nothing for "+sample.GetKind()+" "+sample.GetName(), func() {
			ns := newNamespace()
			key := client.ObjectKey{Namespace: ns, Name: sample.GetName()}
			get := func() *unstructured.Unstructured {
				GinkgoHelper()
				live := &unstructured.Unstructured{}
				live.SetGroupVersionKind(sample.GroupVersionKind())
				Expect(k8sClient.Get(ctx, key, live)).To(Succeed())
				return live
			}
			apply := func() *unstructured.Unstructured {
				GinkgoHelper()
				obj := sample.DeepCopy()
				obj.SetNamespace(ns)
				Expect(k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj),
					client.FieldOwner(argoFieldManager), client.ForceOwnership)).To(Succeed())
				return get()
			}

			By("applying it, as a first sync does")
			created := apply()

			By("waiting for the operator to observe it and settle")
			var settled *unstructured.Unstructured
			Eventually(func(g Gomega) {
				settled = get()
				observed, _, _ := unstructured.NestedInt64(settled.Object, "status", "observedGeneration")
				g.Expect(observed).To(Equal(settled.GetGeneration()))
				conditions, _, _ := unstructured.NestedSlice(settled.Object, "status", "conditions")
				g.Expect(conditions).To(ContainElement(HaveKeyWithValue("type", "Ready")))
			}).WithTimeout(30 * time.Second).Should(Succeed())
			Consistently(func() string { return get().GetResourceVersion() }).
				WithTimeout(time.Second).Should(Equal(settled.GetResourceVersion()), "the operator keeps writing")
			Expect(settled.GetGeneration()).To(Equal(created.GetGeneration()), "the operator changed the spec")

			By("applying it again, as every later sync does: nothing changes")
			again := apply()
			Expect(again.GetResourceVersion()).To(Equal(settled.GetResourceVersion()), "re-applying %s changed the object", filepath.Base(sample.GetName()))
			Expect(apiequality.Semantic.DeepEqual(again.Object, settled.Object)).To(BeTrue())
			Consistently(func() string { return get().GetResourceVersion() }).
				WithTimeout(2*time.Second).Should(Equal(settled.GetResourceVersion()), "the re-apply made the operator write")

			By("reporting a health Argo CD understands")
			h, err := runHealthCheck(scripts[sample.GetKind()], again.Object)
			Expect(err).NotTo(HaveOccurred())
			GinkgoWriter.Printf("%s %s: %s: %s\n", sample.GetKind(), sample.GetName(), h.Status, h.Message)
			if sample.GetKind() == "ImplyCluster" {
				// The sample's Secrets are the user's to create; without them it is Degraded.
				Expect(h.Status).To(Equal("Degraded"))
				Expect(h.Message).To(ContainSubstring("does not exist"))
			}
		})
	}
})
