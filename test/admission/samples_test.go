package admission

import (
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// acceptAndReapply creates the manifest's object in a fresh namespace, checks the server kept every
// field it was given and that the typed API decodes it, then applies the same manifest server-side
// twice: the first apply must leave spec and generation alone, the second must change nothing at
// all. Defaults that differ from what a manifest would hold show up as drift here.
func acceptAndReapply(path string) {
	GinkgoHelper()
	m, err := readManifest(path)
	Expect(err).NotTo(HaveOccurred())
	ns := newNamespace()

	By("creating " + filepath.Base(path))
	created := m.object.DeepCopy()
	created.SetNamespace(ns)
	Expect(k8sClient.Create(ctx, created)).To(Succeed(), "the API server rejected %s", path)
	Expect(created.GetGeneration()).To(Equal(int64(1)))

	By("checking nothing in the manifest was pruned or changed")
	expected := m.object.DeepCopy().UnstructuredContent()
	delete(expected, "metadata")
	actual := created.DeepCopy().UnstructuredContent()
	Expect(subsetMismatch("", expected, actual)).To(BeEmpty(), "%s does not round-trip", path)

	By("decoding it into the typed Go API")
	typed, err := scheme.New(created.GroupVersionKind())
	Expect(err).NotTo(HaveOccurred())
	Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(created), typed.(client.Object))).To(Succeed())

	apply := func() *unstructured.Unstructured {
		GinkgoHelper()
		ac := m.object.DeepCopy()
		ac.SetNamespace(ns)
		Expect(k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(ac), client.ForceOwnership)).To(Succeed())
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(created.GroupVersionKind())
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(created), got)).To(Succeed())
		return got
	}

	By("applying the same manifest server-side: spec and generation stay as created")
	first := apply()
	Expect(first.GetGeneration()).To(Equal(created.GetGeneration()), "server-side apply changed the spec of %s", path)
	Expect(apiequality.Semantic.DeepEqual(first.Object["spec"], created.Object["spec"])).To(BeTrue(),
		"server-side apply changed the spec of %s:\ncreated: %v\napplied: %v", path, created.Object["spec"], first.Object["spec"])
	// Only the bookkeeping of the new field manager may differ.
	Expect(apiequality.Semantic.DeepEqual(withoutBookkeeping(first), withoutBookkeeping(created))).To(BeTrue(),
		"server-side apply changed more than managedFields of %s:\ncreated: %v\napplied: %v", path, created.Object, first.Object)

	By("re-applying it: nothing changes, not even the resourceVersion")
	second := apply()
	GinkgoWriter.Printf("resourceVersion: created %s, applied %s, re-applied %s\n",
		created.GetResourceVersion(), first.GetResourceVersion(), second.GetResourceVersion())
	Expect(second.GetResourceVersion()).To(Equal(first.GetResourceVersion()),
		"re-applying %s changed the object: defaults drift", path)
	Expect(second.GetGeneration()).To(Equal(first.GetGeneration()))
	Expect(apiequality.Semantic.DeepEqual(second.Object, first.Object)).To(BeTrue())
}

var _ = Describe("The samples in config/samples", func() {
	samples, listErr := listYAML(samplesDir)

	It("are found: one per kind and AuthToken type", func() {
		Expect(listErr).NotTo(HaveOccurred())
		Expect(len(samples)).To(BeNumerically(">=", 5), "samples: %v", samples)
	})

	for _, path := range samples {
		It("admits "+filepath.Base(path)+" and re-applies it without drift", func() {
			acceptAndReapply(path)
		})
	}
})

var _ = Describe("The minimal valid manifests in testdata/valid", func() {
	// These are the bases the invalid manifests are cut from: each must be accepted, so that an
	// invalid manifest fails for the one reason it declares.
	bases, listErr := listYAML(filepath.Join("testdata", "valid"))

	It("are found", func() {
		Expect(listErr).NotTo(HaveOccurred())
		Expect(bases).NotTo(BeEmpty())
	})

	for _, path := range bases {
		It("admits "+filepath.Base(path)+" and re-applies it without drift", func() {
			acceptAndReapply(path)
		})
	}
})

// withoutBookkeeping returns the object's content without resourceVersion and managedFields.
func withoutBookkeeping(u *unstructured.Unstructured) map[string]interface{} {
	c := u.DeepCopy()
	c.SetResourceVersion("")
	c.SetManagedFields(nil)
	return c.Object
}
